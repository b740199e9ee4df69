/* listpack: Redis' listpack blobs, the compact encoding Redis 7.0 writes
 * into RDB files for small hashes, sorted sets and the nodes of a list (RDB
 * types 16, 17, 18) and keeps in memory for stream nodes. The checked
 * iterator (lp_iter_*) is for blobs from outside (a file, RESTORE); the
 * encoders (lp_encode_*) write elements exactly as Redis does, for the RDB
 * writer and the stream nodes; lp_elem_* walk blobs already validated.
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

/* ---- encoding (bytes identical to Redis' listpack.c) ---- */

#define LP_HDR_SIZE 6
#define LP_EOF_BYTE 0xFF
#define LP_COUNT_UNKNOWN_VAL 65535
/* The most bytes an integer element takes (encoding, 8 bytes, backlen). */
#define LP_INT_MAX_BYTES 10

/* Bytes lp_encode_int / lp_encode_str would write. */
size_t lp_int_size(long long v);
size_t lp_str_size(const void *s, size_t len);
/* Write one element (encoding byte(s), data, backlen) at out; returns the
 * bytes written. A string that is a canonical int64 (as Redis'
 * lpStringToInt64 sees it) takes the smallest integer encoding. */
size_t lp_encode_int(unsigned char *out, long long v);
size_t lp_encode_str(unsigned char *out, const void *s, size_t len);
/* Header fields: total bytes and element count (saturating at 65535,
 * Redis' "unknown"). */
void lp_set_header(unsigned char *lp, size_t total, size_t count);
uint32_t lp_total_bytes(const unsigned char *lp);
unsigned lp_header_count(const unsigned char *lp);

/* ---- trusted walking (blobs we built or validated) ---- */

/* The whole size of the element at p (encoding, data and backlen). */
size_t lp_elem_size(const unsigned char *p);
/* Decode the element at p. */
void lp_elem_get(const unsigned char *p, lp_entry *e);
/* The element at p as an integer (a string element is parsed; 0 if it is
 * not a number). */
long long lp_elem_int(const unsigned char *p);

#endif
