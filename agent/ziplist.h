/* ziplist: read-only access to Redis' older ziplist blobs, which RDB files
 * written before 7.0 (and some 7.0 paths for old data) hold for small
 * lists, hashes and sorted sets (RDB types 10, 12, 13, and the nodes of type
 * 14 quicklists). redis-server 7.0 converts them on load; we do the same by
 * walking the blob once. Layout: total bytes (u32 LE), offset of the last
 * entry (u32 LE), count (u16 LE, 65535 = unknown), entries, 0xFF. An entry
 * is prevlen (1 byte, or 0xFE + u32), encoding, data. Every read is
 * bounds-checked. */
#ifndef KV_ZIPLIST_H
#define KV_ZIPLIST_H
#include <stddef.h>
#include <stdint.h>
#include "listpack.h"

typedef struct zl_iter {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;   /* the 0xFF terminator */
    size_t prev_len;            /* size of the previous entry */
    size_t seen;
    size_t count;               /* SIZE_MAX if unknown */
    size_t tail;                /* header's offset of the last entry */
    size_t last_off;            /* offset of the last entry seen */
    const char *err;
} zl_iter;

/* Entries are reported with the same struct as listpack's. */
int zl_iter_init(zl_iter *it, const void *blob, size_t len);
int zl_iter_next(zl_iter *it, lp_entry *e);
long long zl_validate(const void *blob, size_t len, const char **err);

#endif
