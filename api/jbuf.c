/* jbuf.c - see jbuf.h. */
#include "jbuf.h"
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_init(struct jbuf *b, size_t hint)
{
    b->len = 0;
    b->failed = 0;
    b->cap = hint > 64 ? hint : 64;
    b->buf = malloc(b->cap);
    if (b->buf == NULL)
        b->failed = 1;
}

static int reserve(struct jbuf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap * 2;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->buf, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->buf = p;
    b->cap = cap;
    return 0;
}

static void put(struct jbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

void jb_raw(struct jbuf *b, const char *s) { put(b, s, strlen(s)); }

void jb_str(struct jbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (s == NULL) {
        put(b, "null", 4);
        return;
    }
    size_t n = strlen(s);
    if (reserve(b, n * 6 + 2) != 0)
        return;
    char *o = b->buf + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;   /* UTF-8 passes through */
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->buf);
}

void jb_key(struct jbuf *b, const char *k)
{
    size_t n = strlen(k);
    if (reserve(b, n + 3) != 0)
        return;
    b->buf[b->len++] = '"';
    memcpy(b->buf + b->len, k, n);
    b->len += n;
    b->buf[b->len++] = '"';
    b->buf[b->len++] = ':';
}

void jb_int(struct jbuf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    put(b, tmp, (size_t)n);
}

void jb_int_or_null(struct jbuf *b, int64_t v)
{
    if (v < 0)
        put(b, "null", 4);
    else
        jb_int(b, v);
}

void jb_double(struct jbuf *b, double v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%.3f", v);
    put(b, tmp, (size_t)n);
}

void jb_bool(struct jbuf *b, int v)
{
    if (v)
        put(b, "true", 4);
    else
        put(b, "false", 5);
}

void jb_time(struct jbuf *b, int64_t ms)
{
    if (ms <= 0) {
        put(b, "null", 4);
        return;
    }
    char tmp[48];
    api_time_iso(ms, tmp, sizeof(tmp));
    jb_str(b, tmp);
}

char *jb_finish(struct jbuf *b)
{
    if (b->failed) {
        jb_free(b);
        return NULL;
    }
    b->buf[b->len] = '\0';
    char *out = b->buf;
    b->buf = NULL;
    b->len = b->cap = 0;
    return out;
}

void jb_free(struct jbuf *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}
