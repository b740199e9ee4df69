/* setobj: the set type's container. Sets of integers stay a sorted int64
 * array (Redis' intset: same reply order for small integer sets) up to
 * set-max-intset-entries, otherwise a dict of members. */
#ifndef KV_SETOBJ_H
#define KV_SETOBJ_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

typedef struct setobj setobj;

extern size_t setobj_max_intset_entries;

setobj *setobj_new(void);
void setobj_free(setobj *s);
size_t setobj_len(const setobj *s);
int setobj_is_intset(const setobj *s);
int setobj_add(setobj *s, const char *m, size_t len);      /* 1 if added */
int setobj_remove(setobj *s, const char *m, size_t len);   /* 1 if removed */
int setobj_contains(setobj *s, const char *m, size_t len);

/* Iteration; *m points at iterator-owned or set-owned bytes valid until the
 * next call. The set must not change meanwhile, but lookups
 * (setobj_contains) on it are allowed. */
typedef struct setobj_iter {
    setobj *s;
    size_t pos;
    void *di;
    char buf[32];
} setobj_iter;
void setobj_iter_init(setobj *s, setobj_iter *it);
int setobj_iter_next(setobj_iter *it, const char **m, size_t *len);
void setobj_iter_release(setobj_iter *it);

/* A random member copied out as a new kstr; NULL when empty. */
kstr setobj_random(setobj *s);
typedef void setobj_scan_fn(void *priv, const char *m, size_t len);
uint64_t setobj_scan(setobj *s, uint64_t cursor, setobj_scan_fn *fn, void *priv);
size_t setobj_mem(const setobj *s);
/* Cache warming for members about to be looked up (see dict_prefetch). */
void setobj_prefetch(const setobj *s, size_t n, const char *const *m, const size_t *lens);

#endif
