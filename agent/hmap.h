/* hmap: the hash type's container. Small hashes are a flat array kept in
 * insertion order (as Redis' listpack encoding replies), large ones a dict;
 * conversion happens past hash-max-listpack-entries / -value. */
#ifndef KV_HMAP_H
#define KV_HMAP_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

typedef struct hmap hmap;

/* Thresholds (CONFIG hash-max-listpack-entries / hash-max-listpack-value). */
extern size_t hmap_max_small_entries;
extern size_t hmap_max_small_value;

hmap *hmap_new(void);
void hmap_free(hmap *h);
size_t hmap_len(const hmap *h);
int hmap_is_small(const hmap *h);
/* Borrowed value or NULL. */
kstr hmap_get(hmap *h, const char *field, size_t flen);
/* Returns 1 if the field is new, 0 if its value was replaced. */
int hmap_set(hmap *h, const char *field, size_t flen, const char *val, size_t vlen);
/* Returns 1 if the field was there. */
int hmap_del(hmap *h, const char *field, size_t flen);

/* Iteration: small hashes in insertion order. The hash must not change
 * during an iteration. */
typedef struct hmap_iter {
    hmap *h;
    size_t pos;
    void *di;      /* dict_iter for large hashes */
    int started;
} hmap_iter;
void hmap_iter_init(hmap *h, hmap_iter *it);
int hmap_iter_next(hmap_iter *it, kstr *field, kstr *value);
void hmap_iter_release(hmap_iter *it);

/* HSCAN step: calls fn(field,value) and returns next cursor. Small hashes
 * are returned whole with cursor 0, as Redis does for listpacks. */
typedef void hmap_scan_fn(void *priv, kstr field, kstr value);
uint64_t hmap_scan(hmap *h, uint64_t cursor, hmap_scan_fn *fn, void *priv);
/* A random field (HRANDFIELD); NULL when empty. */
int hmap_random(hmap *h, kstr *field, kstr *value);
size_t hmap_mem(const hmap *h);
/* Cache warming for fields about to be looked up (see dict_prefetch). */
void hmap_prefetch(const hmap *h, size_t n, const char *const *f, const size_t *lens);

#endif
