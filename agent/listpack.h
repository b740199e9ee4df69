/* listpack: read-only access to Redis' listpack blobs, the compact encoding
 * Redis 7.0 writes into RDB files for small hashes, sorted sets and the
 * nodes of a list (RDB types 16, 17, 18). We never keep data in this form;
 * the loader walks a blob once and builds our containers.
 *
 * Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown),
 * entries, 0xFF. Each entry is an encoding byte (+ length/value bytes), the
 * data, and a 1-5 byte "backlen" holding the size of encoding+data. Every
 * read is bounds-checked against the blob, so a corrupt file gives an error,
 * never a read past the buffer. */
#ifndef KV_LISTPACK_H
#define KV_LISTPACK_H
#include <stddef.h>
#include <stdint.h>

/* One element: a string (sval/slen, pointing into the blob) or an integer. */
typedef struct lp_entry {
    const unsigned char *sval;
    size_t slen;
    long long ival;
    int is_int;
} lp_entry;

typedef struct lp_iter {
    const unsigned char *p;     /* next entry */
    const unsigned char *end;   /* the 0xFF terminator */
    size_t seen;
    size_t count;               /* from the header; SIZE_MAX if unknown */
    const char *err;            /* static reason after an error */
} lp_iter;

/* Check the header against len. Returns 0, or -1 with it->err set. */
int lp_iter_init(lp_iter *it, const void *blob, size_t len);
/* Returns 1 with *e filled, 0 at the end (after checking the count matches),
 * -1 on corruption (it->err says what). */
int lp_iter_next(lp_iter *it, lp_entry *e);
/* Walk a whole blob; returns the element count or -1 (and *err). */
long long lp_validate(const void *blob, size_t len, const char **err);

#endif
