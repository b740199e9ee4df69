/* kstr: binary-safe byte strings. A kstr points at its bytes, always
 * NUL-terminated, with an 8-byte header (length, capacity) just before them,
 * so it can be passed to C string functions when it holds text. */
#ifndef KV_KSTR_H
#define KV_KSTR_H
#include <stddef.h>
#include <stdint.h>

typedef char *kstr;

#define KSTR_MAX_LEN 0xFFFFFFF0u

kstr kstr_new(const void *ptr, size_t len);
kstr kstr_from_cstr(const char *s);
kstr kstr_from_ll(long long v);
kstr kstr_empty(size_t capacity);
kstr kstr_dup(const kstr s);
void kstr_free(kstr s);
/* Inline: it is on every lookup's path. The layouts are described in
 * kstr.c: the low two bits of the byte before the data say which. */
static inline size_t kstr_len(const kstr s)
{
    unsigned char flags = (unsigned char)s[-1];
    if ((flags & 3u) == 0)
        return flags >> 2;
    if ((flags & 3u) == 1)
        return (unsigned char)s[-3];
    uint32_t len;
    __builtin_memcpy(&len, s - 9, sizeof(len));
    return len;
}
size_t kstr_cap(const kstr s);
/* Functions that may grow the string return the (possibly moved) string. */
kstr kstr_cat(kstr s, const void *ptr, size_t len);
kstr kstr_cat_cstr(kstr s, const char *cstr);
kstr kstr_catfmt(kstr s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* len bytes quoted and escaped as Redis' sdscatrepr: \\ \" \n \r \t \a \b,
 * other bytes outside 0x20..0x7e as \xHH (MONITOR lines, config and AOF
 * manifest values). */
kstr kstr_cat_repr(kstr s, const void *p, size_t len);
/* Grow to newlen, zero-filling the new bytes (SETRANGE past the end). */
kstr kstr_grow_zero(kstr s, size_t newlen);
/* Shrink or set the length after writing into spare capacity. */
void kstr_set_len(kstr s, size_t len);
/* Release spare capacity. */
kstr kstr_trim_alloc(kstr s);
/* memcmp-style order: bytes first, then length. */
int kstr_cmp(const kstr a, const kstr b);
/* Short strings (len <= KSTR_EMBED_MAX) can live inside another allocation
 * (a string object): kstr_embed_size bytes at buf become a kstr with no
 * spare room. Such a kstr must never be freed or grown on its own. */
#define KSTR_EMBED_MAX 63
size_t kstr_embed_size(size_t len);
kstr kstr_embed(void *buf, const void *ptr, size_t len);
int kstr_eq_buf(const kstr s, const void *ptr, size_t len);
size_t kstr_alloc_size(const kstr s);

#endif
