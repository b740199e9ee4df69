/* kstr: binary-safe strings for keys and values. The caller holds a plain
 * char* to the bytes; an 8-byte header {len, cap} sits just before them and a
 * NUL always follows the last byte, so text can go straight to libc. Growth
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

typedef struct kstr_hdr {
    uint32_t len;
    uint32_t cap;
} kstr_hdr;

#define KSTR_HDR_SIZE sizeof(kstr_hdr)
#define KSTR_GROW_STEP (1024u * 1024u)

static kstr_hdr *kstr_hdr_of(const kstr s)
{
    return (kstr_hdr *)(void *)(s - KSTR_HDR_SIZE);
}

static void kstr_check_len(size_t len)
{
    if (len > KSTR_MAX_LEN) {
        fprintf(stderr, "kvfleet: string of %zu bytes exceeds the kstr limit\n", len);
        abort();
    }
}

/* Capacity is what the allocator gave us minus header and NUL, capped to
 * what the 32-bit field can hold. */
static uint32_t kstr_usable_cap(void *block)
{
    size_t usable = malloc_usable_size(block) - KSTR_HDR_SIZE - 1;
    return usable > KSTR_MAX_LEN ? KSTR_MAX_LEN : (uint32_t)usable;
}

static kstr kstr_alloc(size_t len, size_t cap)
{
    kstr_check_len(cap);
    kstr_hdr *h = mem_alloc(KSTR_HDR_SIZE + cap + 1);
    h->len = (uint32_t)len;
    h->cap = kstr_usable_cap(h);
    kstr s = (char *)h + KSTR_HDR_SIZE;
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
        mem_free(kstr_hdr_of(s));
}

size_t kstr_len(const kstr s)
{
    return kstr_hdr_of(s)->len;
}

size_t kstr_cap(const kstr s)
{
    return kstr_hdr_of(s)->cap;
}

/* Make room for at least `need` bytes of content (not counting the NUL). */
static kstr kstr_reserve(kstr s, size_t need)
{
    kstr_hdr *h = kstr_hdr_of(s);
    if (need <= h->cap)
        return s;
    kstr_check_len(need);
    size_t newcap = need < KSTR_GROW_STEP ? need * 2 : need + KSTR_GROW_STEP;
    if (newcap > KSTR_MAX_LEN)
        newcap = KSTR_MAX_LEN;
    h = mem_realloc(h, KSTR_HDR_SIZE + newcap + 1);
    h->cap = kstr_usable_cap(h);
    return (char *)h + KSTR_HDR_SIZE;
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
    kstr_hdr *h = kstr_hdr_of(s);
    assert(len <= h->cap);
    h->len = (uint32_t)len;
    s[len] = '\0';
}

kstr kstr_trim_alloc(kstr s)
{
    kstr_hdr *h = kstr_hdr_of(s);
    if (h->cap == h->len)
        return s;
    h = mem_realloc(h, KSTR_HDR_SIZE + h->len + 1);
    h->cap = kstr_usable_cap(h);
    return (char *)h + KSTR_HDR_SIZE;
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
    return malloc_usable_size(kstr_hdr_of(s));
}
