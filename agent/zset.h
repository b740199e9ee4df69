/* zset: the sorted set container, a skiplist ordered by (score, member) plus
 * a dict from member to score, as Redis keeps it. */
#ifndef KV_ZSET_H
#define KV_ZSET_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

typedef struct zset zset;
typedef struct zset_node zset_node;

zset *zset_new(void);
void zset_free(zset *z);
size_t zset_len(const zset *z);
/* 1 and *score if the member exists. */
int zset_score(zset *z, const char *m, size_t len, double *score);
/* Insert or update; returns 1 if added, 0 if it existed (score updated). */
int zset_add(zset *z, const char *m, size_t len, double score);
int zset_del(zset *z, const char *m, size_t len);
/* 0-based rank in ascending order (or descending when reverse); -1 if absent. */
long zset_rank(zset *z, const char *m, size_t len, int reverse);

/* Ordered traversal. */
zset_node *zset_first(const zset *z);
zset_node *zset_last(const zset *z);
zset_node *zset_next(const zset_node *n);
zset_node *zset_prev(const zset_node *n);
zset_node *zset_at_rank(const zset *z, size_t rank);  /* 0-based ascending */
kstr zset_node_member(const zset_node *n);
double zset_node_score(const zset_node *n);
size_t zset_mem(const zset *z);
/* Cache warming for members about to be looked up (see dict_prefetch). */
void zset_prefetch(const zset *z, size_t n, const char *const *m, const size_t *lens);

/* Sticky "compact" flag standing in for Redis' listpack encoding: it only
 * decides reply order where Redis' order depends on the encoding (ZSCAN of a
 * small sorted set is returned whole, in order). Cleared for good once the
 * set passes zset_max_listpack_entries or holds a member longer than
 * zset_max_listpack_value, as Redis converts to a skiplist and never back. */
extern size_t zset_max_listpack_entries;
extern size_t zset_max_listpack_value;
int zset_is_compact(const zset *z);
void zset_set_compact(zset *z, int compact);

/* Score interval [min, max], either end open when *ex is set. */
typedef struct zset_range {
    double min, max;
    int minex, maxex;
} zset_range;

/* Lex interval. kind: 0 a string (ptr/len), -1 "-" (below all), 1 "+"
 * (above all). Pointers borrow the caller's bytes. */
typedef struct zset_lex_item {
    const char *ptr;
    size_t len;
    int kind;
    int ex;
} zset_lex_item;
typedef struct zset_lex_range {
    zset_lex_item min, max;
} zset_lex_range;

/* Parse "1.5", "(1.5", "-inf", "+inf" (strtod rules, as Redis) and
 * "[a", "(a", "-", "+". Return 1 on success. */
int zset_parse_range(const char *min, size_t minlen, const char *max, size_t maxlen,
                     zset_range *r);
int zset_parse_lex_range(const char *min, size_t minlen, const char *max, size_t maxlen,
                         zset_lex_range *r);
int zset_range_gte_min(double v, const zset_range *r);
int zset_range_lte_max(double v, const zset_range *r);
int zset_lex_gte_min(const char *m, size_t len, const zset_lex_range *r);
int zset_lex_lte_max(const char *m, size_t len, const zset_lex_range *r);

/* First / last node inside the range, NULL when none. */
zset_node *zset_first_in_range(const zset *z, const zset_range *r);
zset_node *zset_last_in_range(const zset *z, const zset_range *r);
zset_node *zset_first_in_lex_range(const zset *z, const zset_lex_range *r);
zset_node *zset_last_in_lex_range(const zset *z, const zset_lex_range *r);
/* Members in a lex range, counted as Redis does for the encoding. */
size_t zset_lex_count(const zset *z, const zset_lex_range *r);
/* 0-based ascending rank of a node of z. */
size_t zset_node_rank(const zset *z, const zset_node *n);

/* Remove a range; return how many members were removed. Ranks are 0-based
 * and inclusive, already clamped by the caller. */
size_t zset_delete_range_by_score(zset *z, const zset_range *r);
size_t zset_delete_range_by_lex(zset *z, const zset_lex_range *r);
size_t zset_delete_range_by_rank(zset *z, size_t start, size_t end);

/* A random member (bytes valid until z changes); 0 when empty. */
int zset_random(zset *z, const char **m, size_t *len, double *score);
/* Dict SCAN over the members (cursor semantics of dict_scan). */
typedef void zset_scan_fn(void *priv, const char *m, size_t len, double score);
uint64_t zset_scan(zset *z, uint64_t cursor, zset_scan_fn *fn, void *priv);

#endif
