/* kstr: binary-safe strings for keys and values. The caller holds a plain
 * char* to the bytes; a 1, 3 or 9-byte header {len, cap, layout} sits just
 * before them and a NUL always follows the last byte, so text can go straight to libc. Growth
 * doubles small strings and adds 1MB at a time to big ones, so appends are
 * amortised O(1) without doubling a 500MB string. Capacity is widened to what
 * the allocator really handed out, so slack is reusable and counted. */
#include "kstr.h"

#include <assert.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Three header layouts, picked by size, so a short key costs one byte of
 * header instead of eight (a 10-byte key fits a 16-byte allocation). The
 * byte just before the string always says which layout is in use:
 *   tiny:  [flags]                 len < 64 in flags' upper bits, cap == len
 *   small: [len8][cap8][flags]     len, cap < 256
 *   large: [len32][cap32][flags]   everything else
 * Tiny strings have no spare room; growing one moves it to a bigger layout. */
enum { KSTR_TINY = 0, KSTR_SMALL = 1, KSTR_LARGE = 2 };
#define KSTR_TYPE_MASK 3u
#define KSTR_TINY_MAX 63u
#define KSTR_SMALL_MAX 255u
#define KSTR_GROW_STEP (1024u * 1024u)

static unsigned kstr_type(const kstr s)
{
    return (unsigned char)s[-1] & KSTR_TYPE_MASK;
}

static size_t kstr_hdr_size(unsigned type)
{
    return type == KSTR_TINY ? 1 : type == KSTR_SMALL ? 3 : 9;
}

static void *kstr_base(const kstr s)
{
    return s - kstr_hdr_size(kstr_type(s));
}

static uint32_t kstr_load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void kstr_store32(char *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static void kstr_check_len(size_t len)
{
    if (len > KSTR_MAX_LEN) {
        fprintf(stderr, "kvfleet: string of %zu bytes exceeds the kstr limit\n", len);
        abort();
    }
}

/* The smallest layout able to hold cap bytes (tiny only when exact). */
static unsigned kstr_type_for(size_t len, size_t cap)
{
    if (cap == len && cap <= KSTR_TINY_MAX)
        return KSTR_TINY;
    if (cap <= KSTR_SMALL_MAX)
        return KSTR_SMALL;
    return KSTR_LARGE;
}

static void kstr_write_len(kstr s, size_t len)
{
    switch (kstr_type(s)) {
    case KSTR_TINY: s[-1] = (char)((len << 2) | KSTR_TINY); break;
    case KSTR_SMALL: s[-3] = (char)(unsigned char)len; break;
    default: kstr_store32(s - 9, (uint32_t)len); break;
    }
}

static void kstr_write_cap(kstr s, size_t cap)
{
    switch (kstr_type(s)) {
    case KSTR_SMALL: s[-2] = (char)(unsigned char)cap; break;
    case KSTR_LARGE: kstr_store32(s - 5, (uint32_t)cap); break;
    default: break;
    }
}

/* Capacity is what the allocator really gave (minus header and NUL),
 * capped to what the layout can record. */
static size_t kstr_usable_cap(void *block, unsigned type, size_t len)
{
    if (type == KSTR_TINY)
        return len;
    size_t usable = malloc_usable_size(block) - kstr_hdr_size(type) - 1;
    size_t max = type == KSTR_SMALL ? KSTR_SMALL_MAX : KSTR_MAX_LEN;
    return usable > max ? max : usable;
}

static kstr kstr_alloc(size_t len, size_t cap)
{
    kstr_check_len(cap);
    unsigned type = kstr_type_for(len, cap);
    size_t hdr = kstr_hdr_size(type);
    char *block = mem_alloc(hdr + cap + 1);
    kstr s = block + hdr;
    s[-1] = (char)type;
    kstr_write_len(s, len);
    kstr_write_cap(s, kstr_usable_cap(block, type, len));
    s[len] = '\0';
    return s;
}

size_t kstr_embed_size(size_t len)
{
    return 1 + len + 1;   /* tiny header, bytes, NUL */
}

kstr kstr_embed(void *buf, const void *ptr, size_t len)
{
    kstr s = (char *)buf + 1;
    s[-1] = (char)((len << 2) | KSTR_TINY);
    if (len)
        memcpy(s, ptr, len);
    s[len] = '\0';
    return s;
}

kstr kstr_new(const void *ptr, size_t len)
{
    kstr s = kstr_alloc(len, len);
    if (ptr != NULL) {
        if (len)
            memcpy(s, ptr, len);
    } else {
        memset(s, 0, len);
    }
    return s;
}

kstr kstr_from_cstr(const char *s)
{
    return kstr_new(s, strlen(s));
}

kstr kstr_from_ll(long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return kstr_new(buf, (size_t)n);
}

kstr kstr_empty(size_t capacity)
{
    return kstr_alloc(0, capacity);
}

kstr kstr_dup(const kstr s)
{
    if (s == NULL)
        return NULL;
    return kstr_new(s, kstr_len(s));
}

void kstr_free(kstr s)
{
    if (s != NULL)
        mem_free(kstr_base(s));
}

size_t kstr_cap(const kstr s)
{
    switch (kstr_type(s)) {
    case KSTR_TINY: return (unsigned char)s[-1] >> 2;
    case KSTR_SMALL: return (unsigned char)s[-2];
    default: return kstr_load32(s - 5);
    }
}

/* Move s into a fresh allocation of the layout that fits newcap. */
static kstr kstr_relayout(kstr s, size_t newcap)
{
    size_t len = kstr_len(s);
    kstr n = kstr_alloc(len, newcap);
    memcpy(n, s, len);
    n[len] = '\0';
    kstr_free(s);
    return n;
}

/* Make room for at least `need` bytes of content (not counting the NUL). */
static kstr kstr_reserve(kstr s, size_t need)
{
    if (need <= kstr_cap(s))
        return s;
    kstr_check_len(need);
    size_t newcap = need < KSTR_GROW_STEP ? need * 2 : need + KSTR_GROW_STEP;
    if (newcap > KSTR_MAX_LEN)
        newcap = KSTR_MAX_LEN;
    unsigned type = kstr_type(s);
    if (type == KSTR_TINY || (type == KSTR_SMALL && newcap > KSTR_SMALL_MAX))
        return kstr_relayout(s, newcap);
    size_t hdr = kstr_hdr_size(type);
    char *block = mem_realloc(kstr_base(s), hdr + newcap + 1);
    s = block + hdr;
    kstr_write_cap(s, kstr_usable_cap(block, type, kstr_len(s)));
    return s;
}

kstr kstr_cat(kstr s, const void *ptr, size_t len)
{
    size_t cur = kstr_len(s);
    if (len == 0)
        return s;
    s = kstr_reserve(s, cur + len);
    memcpy(s + cur, ptr, len);
    kstr_set_len(s, cur + len);
    return s;
}

kstr kstr_cat_cstr(kstr s, const char *cstr)
{
    return kstr_cat(s, cstr, strlen(cstr));
}

kstr kstr_catfmt(kstr s, const char *fmt, ...)
{
    size_t cur = kstr_len(s);
    for (;;) {
        size_t room = kstr_cap(s) - cur + 1;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s + cur, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s[cur] = '\0';   /* encoding error: leave the string unchanged */
            return s;
        }
        if ((size_t)n < room) {
            kstr_set_len(s, cur + (size_t)n);
            return s;
        }
        s = kstr_reserve(s, cur + (size_t)n);
    }
}

kstr kstr_grow_zero(kstr s, size_t newlen)
{
    size_t cur = kstr_len(s);
    if (newlen <= cur)
        return s;
    s = kstr_reserve(s, newlen);
    memset(s + cur, 0, newlen - cur);
    kstr_set_len(s, newlen);
    return s;
}

void kstr_set_len(kstr s, size_t len)
{
    assert(len <= kstr_cap(s));
    kstr_write_len(s, len);
    s[len] = '\0';
}

kstr kstr_trim_alloc(kstr s)
{
    size_t len = kstr_len(s);
    if (kstr_cap(s) == len)
        return s;
    return kstr_relayout(s, len);
}

int kstr_cmp(const kstr a, const kstr b)
{
    size_t la = kstr_len(a), lb = kstr_len(b);
    size_t min = la < lb ? la : lb;
    int c = min ? memcmp(a, b, min) : 0;
    if (c != 0)
        return c;
    return la < lb ? -1 : (la > lb ? 1 : 0);
}

int kstr_eq_buf(const kstr s, const void *ptr, size_t len)
{
    return kstr_len(s) == len && (len == 0 || memcmp(s, ptr, len) == 0);
}

size_t kstr_alloc_size(const kstr s)
{
    return malloc_usable_size(kstr_base(s));
}

kstr kstr_cat_repr(kstr s, const void *p, size_t len)
{
    const unsigned char *b = p;
    s = kstr_cat(s, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = b[i];
        switch (ch) {
        case '\\': s = kstr_cat(s, "\\\\", 2); break;
        case '"': s = kstr_cat(s, "\\\"", 2); break;
        case '\n': s = kstr_cat(s, "\\n", 2); break;
        case '\r': s = kstr_cat(s, "\\r", 2); break;
        case '\t': s = kstr_cat(s, "\\t", 2); break;
        case '\a': s = kstr_cat(s, "\\a", 2); break;
        case '\b': s = kstr_cat(s, "\\b", 2); break;
        default:
            if (ch >= 0x20 && ch < 0x7f)
                s = kstr_cat(s, &b[i], 1);
            else
                s = kstr_catfmt(s, "\\x%02x", ch);
        }
    }
    return kstr_cat(s, "\"", 1);
}
