/* hmap: the hash type's container. A small hash is a flat array of
 * (field, value) kstr pairs in insertion order: replacing a value keeps the
 * pair's position and deleting closes the gap, which is exactly the order in
 * which Redis' listpack encoding answers HGETALL / HKEYS / HSCAN. Lookups
 * there are linear, which is cheap for at most hmap_max_small_entries pairs.
 * Past that size, or once a field or value is longer than
 * hmap_max_small_value, the pairs move into a dict (field -> value kstr) for
 * good: like Redis, a hash never converts back. */
#include <stdlib.h>
#include <string.h>
#include "hmap.h"
#include "dict.h"
#include "mem.h"

/* Redis 7.0's compiled-in defaults (its example redis.conf lowers the
 * entries to 128); t_hash.c keeps these in step with CONFIG. */
size_t hmap_max_small_entries = 512;
size_t hmap_max_small_value = 64;

typedef struct hmap_pair {
    kstr field;
    kstr value;
} hmap_pair;

struct hmap {
    dict *d;            /* non-NULL once converted */
    hmap_pair *pairs;   /* small encoding */
    size_t len;
    size_t cap;
};

static void hmap_val_free(void *v)
{
    kstr_free(v);
}

static const dict_type hmap_dict_type = { hmap_val_free };

hmap *hmap_new(void)
{
    return mem_calloc(sizeof(hmap));
}

void hmap_free(hmap *h)
{
    if (!h)
        return;
    if (h->d)
        dict_free(h->d);
    for (size_t i = 0; i < h->len; i++) {
        kstr_free(h->pairs[i].field);
        kstr_free(h->pairs[i].value);
    }
    mem_free(h->pairs);
    mem_free(h);
}

size_t hmap_len(const hmap *h)
{
    return h->d ? dict_size(h->d) : h->len;
}

int hmap_is_small(const hmap *h)
{
    return h->d == NULL;
}

static long hmap_small_find(const hmap *h, const char *field, size_t flen)
{
    for (size_t i = 0; i < h->len; i++)
        if (kstr_eq_buf(h->pairs[i].field, field, flen))
            return (long)i;
    return -1;
}

/* Move every pair into a dict, in insertion order (the dict takes the field
 * kstr's as keys, so nothing is copied). */
static void hmap_convert(hmap *h)
{
    dict *d = dict_create(&hmap_dict_type);
    dict_expand(d, h->len + 1);
    for (size_t i = 0; i < h->len; i++) {
        dict_entry *existing = NULL;
        dict_entry *e = dict_add_kstr(d, h->pairs[i].field, &existing);
        /* fields of a small hash are unique, so the add cannot fail */
        if (e)
            e->v.ptr = h->pairs[i].value;
    }
    mem_free(h->pairs);
    h->pairs = NULL;
    h->len = h->cap = 0;
    h->d = d;
}

kstr hmap_get(hmap *h, const char *field, size_t flen)
{
    if (h->d) {
        dict_entry *e = dict_find(h->d, field, flen);
        return e ? e->v.ptr : NULL;
    }
    long i = hmap_small_find(h, field, flen);
    return i < 0 ? NULL : h->pairs[i].value;
}

static int hmap_dict_set(hmap *h, const char *field, size_t flen, const char *val, size_t vlen)
{
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(h->d, field, flen, &existing);
    if (e) {
        e->v.ptr = kstr_new(val, vlen);
        return 1;
    }
    kstr_free(existing->v.ptr);
    existing->v.ptr = kstr_new(val, vlen);
    return 0;
}

int hmap_set(hmap *h, const char *field, size_t flen, const char *val, size_t vlen)
{
    if (!h->d && (flen > hmap_max_small_value || vlen > hmap_max_small_value))
        hmap_convert(h);
    if (h->d)
        return hmap_dict_set(h, field, flen, val, vlen);

    long i = hmap_small_find(h, field, flen);
    if (i >= 0) {
        kstr_free(h->pairs[i].value);
        h->pairs[i].value = kstr_new(val, vlen);
        return 0;
    }
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4;
        h->pairs = mem_realloc(h->pairs, h->cap * sizeof(hmap_pair));
    }
    h->pairs[h->len].field = kstr_new(field, flen);
    h->pairs[h->len].value = kstr_new(val, vlen);
    h->len++;
    if (h->len > hmap_max_small_entries)
        hmap_convert(h);
    return 1;
}

int hmap_del(hmap *h, const char *field, size_t flen)
{
    if (h->d)
        return dict_delete(h->d, field, flen);
    long i = hmap_small_find(h, field, flen);
    if (i < 0)
        return 0;
    kstr_free(h->pairs[i].field);
    kstr_free(h->pairs[i].value);
    memmove(&h->pairs[i], &h->pairs[i + 1], (h->len - (size_t)i - 1) * sizeof(hmap_pair));
    h->len--;
    return 1;
}

void hmap_iter_init(hmap *h, hmap_iter *it)
{
    it->h = h;
    it->pos = 0;
    it->started = 0;
    it->di = NULL;
    if (h->d) {
        dict_iter *di = mem_alloc(sizeof(*di));
        dict_iter_init(h->d, di, 0);
        it->di = di;
    }
}

int hmap_iter_next(hmap_iter *it, kstr *field, kstr *value)
{
    it->started = 1;
    if (it->di) {
        dict_entry *e = dict_iter_next(it->di);
        if (!e)
            return 0;
        *field = e->key;
        *value = e->v.ptr;
        return 1;
    }
    if (it->pos >= it->h->len)
        return 0;
    *field = it->h->pairs[it->pos].field;
    *value = it->h->pairs[it->pos].value;
    it->pos++;
    return 1;
}

void hmap_iter_release(hmap_iter *it)
{
    if (it->di) {
        dict_iter_release(it->di);
        mem_free(it->di);
        it->di = NULL;
    }
}

typedef struct hmap_scan_ctx {
    hmap_scan_fn *fn;
    void *priv;
} hmap_scan_ctx;

static void hmap_scan_entry(void *priv, const dict_entry *e)
{
    hmap_scan_ctx *ctx = priv;
    ctx->fn(ctx->priv, e->key, e->v.ptr);
}

uint64_t hmap_scan(hmap *h, uint64_t cursor, hmap_scan_fn *fn, void *priv)
{
    if (h->d) {
        hmap_scan_ctx ctx = { fn, priv };
        return dict_scan(h->d, cursor, hmap_scan_entry, &ctx);
    }
    for (size_t i = 0; i < h->len; i++)
        fn(priv, h->pairs[i].field, h->pairs[i].value);
    return 0;
}

int hmap_random(hmap *h, kstr *field, kstr *value)
{
    if (h->d) {
        dict_entry *e = dict_random(h->d);
        if (!e)
            return 0;
        *field = e->key;
        *value = e->v.ptr;
        return 1;
    }
    if (h->len == 0)
        return 0;
    size_t i = (size_t)random() % h->len;
    *field = h->pairs[i].field;
    *value = h->pairs[i].value;
    return 1;
}

size_t hmap_mem(const hmap *h)
{
    size_t total = sizeof(*h);
    if (h->d) {
        total += dict_mem(h->d);
        /* dict_mem counts keys; add the values it does not know about */
        dict_iter it;
        dict_iter_init(h->d, &it, 0);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL)
            total += kstr_alloc_size(e->v.ptr);
        dict_iter_release(&it);
        return total;
    }
    total += h->cap * sizeof(hmap_pair);
    for (size_t i = 0; i < h->len; i++)
        total += kstr_alloc_size(h->pairs[i].field) + kstr_alloc_size(h->pairs[i].value);
    return total;
}

void hmap_prefetch(const hmap *h, size_t n, const char *const *f, const size_t *lens)
{
    const void *values[DICT_PREFETCH_MAX];
    if (h->d != NULL)
        dict_prefetch(h->d, n, f, lens, values);
}
