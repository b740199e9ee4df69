/* dict: hash table keyed by byte strings (kstr), with incremental rehashing
 * so that no single operation pays for a whole resize, a reverse-binary SCAN
 * cursor that survives resizes, and fair-ish random sampling.
 *
 * Keys are owned kstr's (the dict frees them). Lookups take (ptr, len) so no
 * allocation is needed to look a key up. Values are a union; the type's
 * val_free (if set) is called on the pointer value when an entry is removed. */
#ifndef KV_DICT_H
#define KV_DICT_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

typedef struct dict_entry {
    kstr key;
    union {
        void *ptr;
        int64_t i64;
        uint64_t u64;
        double d;
    } v;
    /* The chain link; its top 16 bits hold hash bits 16..31 of the key
     * (see dict.c), so only dict.c reads it. */
    uintptr_t link;
} dict_entry;

typedef struct dict_type {
    void (*val_free)(void *val);   /* NULL: value is not owned */
} dict_type;

typedef struct dict dict;

/* Types shared by several modules. */
extern const dict_type dict_type_plain;   /* value not owned */

dict *dict_create(const dict_type *type);
void dict_free(dict *d);
/* Remove every entry (calling val_free) and release the tables. */
void dict_clear(dict *d);
size_t dict_size(const dict *d);
size_t dict_buckets(const dict *d);  /* total slots of both tables */
int dict_is_rehashing(const dict *d);

dict_entry *dict_find(dict *d, const void *key, size_t len);
/* Cache warming for a batch of lookups about to happen (pipelined commands):
 * issues prefetches for each key's bucket, then its first chained entry and
 * that entry's key, so the misses of n lookups overlap instead of queueing.
 * When values is not NULL the entries' values are pointers: the first
 * chained entry's value is prefetched too and stored in values[i] (NULL for
 * an empty bucket) so the caller can warm what it points to; it may belong
 * to another key of the same bucket. A hint: changes nothing. At most
 * DICT_PREFETCH_MAX keys are used. */
#define DICT_PREFETCH_MAX 64
/* A lookup that changes nothing (no rehash step): for hints such as the
 * prefetcher, which must not alter the table it only looks at. */
const dict_entry *dict_peek(const dict *d, const void *key, size_t len);
void dict_prefetch(const dict *d, size_t n, const char *const *keys, const size_t *lens,
                   const void **values);
/* Adds key (copied) if absent and returns the new entry with v zeroed;
 * returns NULL and sets *existing when the key is already present. */
dict_entry *dict_add(dict *d, const void *key, size_t len, dict_entry **existing);
/* Same, but takes ownership of an existing kstr key (no copy). When the key
 * is already present (NULL returned) the caller still owns key. */
dict_entry *dict_add_kstr(dict *d, kstr key, dict_entry **existing);
/* Deletes and frees key and value. Returns 1 if the key was there. */
int dict_delete(dict *d, const void *key, size_t len);
/* Unlinks without freeing; free later with dict_free_unlinked. */
dict_entry *dict_unlink(dict *d, const void *key, size_t len);
void dict_free_unlinked(dict *d, dict_entry *e);

/* A random entry, or NULL when empty. */
dict_entry *dict_random(dict *d);
/* Up to count entries sampled from consecutive buckets (for eviction and
 * expiry sampling). Returns how many were stored. */
size_t dict_sample(dict *d, dict_entry **out, size_t count);

/* Calls fn for every entry of the bucket(s) at cursor and returns the next
 * cursor (0 when the iteration is complete). Entries present for the whole
 * scan are returned at least once. fn must not modify the dict. */
typedef void dict_scan_fn(void *priv, const dict_entry *e);
uint64_t dict_scan(dict *d, uint64_t cursor, dict_scan_fn *fn, void *priv);

/* Iterator. A safe iterator allows dict_delete of the current entry and
 * pauses rehashing; an unsafe one asserts the dict did not change. */
typedef struct dict_iter {
    dict *d;
    long table;
    long index;
    int safe;
    dict_entry *entry;
    dict_entry *next_entry;
    uint64_t fingerprint;
} dict_iter;
void dict_iter_init(dict *d, dict_iter *it, int safe);
dict_entry *dict_iter_next(dict_iter *it);
void dict_iter_release(dict_iter *it);

/* Do rehash steps for about ms milliseconds (server cron). Returns 1 if
 * rehashing is still in progress. */
int dict_rehash_ms(dict *d, int ms);
/* Grow ahead of a known number of insertions (RDB load, RESIZEDB). */
void dict_expand(dict *d, size_t size);
/* The same for a size a client or a file chose: -1 when the table cannot be
 * allocated (absurd size, out of memory), where dict_expand would abort. */
int dict_try_expand(dict *d, size_t size);
/* While a fork child (BGSAVE, full sync) shares the parent's pages, a resize
 * would copy-on-write the whole table: pass 0 to defer growth until a table
 * is 5x overfull and to skip shrinking, 1 when the child is gone. Global, as
 * in Redis; default 1. */
void dict_set_resize_allowed(int allowed);
/* Shrink when the table is less than 10% full (called from cron). */
void dict_maybe_shrink(dict *d);
/* Bytes used by the table arrays and entries (for MEMORY-style stats). */
size_t dict_mem(const dict *d);

/* Serve entries from a slab pool (the server enables it before creating any
 * dict; tests leave it off so valgrind/ASan see every entry). */
void dict_use_entry_pool(int on);

/* Seeded SipHash-1-3 of a byte string; the seed is set once at start-up. */
uint64_t dict_hash(const void *key, size_t len);
void dict_set_hash_seed(const uint8_t seed[16]);

#endif
