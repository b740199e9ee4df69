/* stream: the value behind Redis' stream type (XADD, XRANGE, ...), laid out
 * the way Redis 7.0 lays it out so that memory per entry is no more than
 * redis-server's and an RDB record (type 19) comes out byte for byte equal.
 *
 * Entries live in nodes. A node is keyed by its master ID (the ID of the
 * first entry ever inserted in it) and holds one listpack blob in Redis'
 * stream node layout:
 *
 *   master entry: count, deleted, master-fields-count, field..., 0
 *   each entry:   flags, ms-delta, seq-delta,
 *                 value... (flags & SAMEFIELDS)  |  numfields, (field, value)...
 *                 lp-count (elements of this entry, to walk backwards)
 *
 * "count" is the number of live entries, "deleted" the tombstones: XDEL
 * flags an entry deleted in place, a node whose count drops to 0 is freed.
 * The nodes form a sorted vector (appends go at the end; removals are of
 * whole nodes), searched by binary search on the master IDs.
 *
 * Consumer groups hang off `cgroups` and belong to agent/stream_cg.c. */
#ifndef KV_STREAM_H
#define KV_STREAM_H
#include <stddef.h>
#include <stdint.h>
#include "resp.h"

struct client;

typedef struct stream_id { uint64_t ms, seq; } stream_id;
#define STREAM_ID_STR_MAX 44

struct stream_cgroups;                 /* agent/stream_cg.c (s2) */

/* Entry flags in a node, as Redis writes them. */
#define STREAM_ITEM_FLAG_NONE 0
#define STREAM_ITEM_FLAG_DELETED 1
#define STREAM_ITEM_FLAG_SAMEFIELDS 2

typedef struct stream_node {
    stream_id master;      /* ID the deltas of its entries are relative to */
    unsigned char *lp;     /* the listpack: total bytes in its header */
    size_t cap;            /* bytes allocated for lp */
} stream_node;

typedef struct stream {
    stream_node *nodes;    /* sorted by master ID */
    size_t nnodes, nodes_cap;
    uint64_t length;       /* live entries */
    stream_id last_id;     /* greatest ID ever added (or set by XSETID) */
    stream_id first_id;    /* first live entry, 0-0 when empty */
    stream_id max_deleted_id; /* greatest ID removed by XDEL / trimming */
    uint64_t entries_added;   /* every entry ever added */
    struct stream_cgroups *cgroups; /* NULL: no groups */
} stream;

stream *stream_new(void);
void stream_free(stream *s);              /* groups too */
stream *stream_dup(const stream *s);      /* deep copy, groups too (COPY) */
size_t stream_memory(const stream *s);    /* bytes held, for MEMORY USAGE */

int stream_id_cmp(const stream_id *a, const stream_id *b);
size_t stream_id_format(char *buf /* STREAM_ID_STR_MAX */, const stream_id *id);
/* Parses "ms-seq", "ms" (seq = missing_seq), "-" / "+"; strict: replies nothing. 0 ok, -1 invalid. */
int stream_id_parse(const char *s, size_t len, uint64_t missing_seq, stream_id *out);
/* Parse an ID argument or reply "ERR Invalid stream ID specified as stream command argument" and return -1. */
int stream_id_arg(struct client *c, const resp_arg *arg, uint64_t missing_seq, stream_id *out);
stream_id stream_id_incr(stream_id id);   /* next id, saturating */
/* As stream_id_parse but "-" and "+" are refused (Redis' strict parse);
 * seq_given (may be NULL) also accepts XADD's "ms-*", reporting 0 then. */
int stream_id_parse_strict(const char *s, size_t len, uint64_t missing_seq, stream_id *out,
                           int *seq_given);
#define STREAM_ERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"
/* An ID as a bulk string "ms-seq". */
void stream_reply_id(struct client *c, const stream_id *id);
stream_id stream_id_decr(stream_id id);   /* previous id, saturating at 0-0 */

int stream_entry_exists(const stream *s, const stream_id *id);
/* Emit one entry as Redis does ([id, [f1, v1, ...]]); returns 0 (and emits nothing) if the id is not in the stream. */
int stream_reply_entry(struct client *c, const stream *s, const stream_id *id);
/* Emit entries with start <= id <= end (rev: from end down), at most count (0 = no limit), as an array; for each
 * emitted entry call on_entry(ctx, id) if not NULL (s2 adds it to the PEL there). Returns how many. */
size_t stream_reply_range(struct client *c, const stream *s, const stream_id *start, const stream_id *end,
                          size_t count, int rev, void (*on_entry)(void *ctx, const stream_id *id), void *ctx);

/* As stream_reply_range without the enclosing array (XINFO's entries). */
size_t stream_reply_range_raw(struct client *c, const stream *s, const stream_id *start,
                              const stream_id *end, size_t count, int rev,
                              void (*on_entry)(void *ctx, const stream_id *id), void *ctx);
/* The last live entry's ID (0-0 and 0 when empty). */
int stream_last_valid_id(const stream *s, stream_id *id);
/* Recompute first_id from the first live entry. */
void stream_update_first_id(stream *s);
/* Node count of the radix tree Redis would hold for these nodes (XINFO
 * STREAM's radix-tree-nodes). */
size_t stream_rax_nodes(const stream *s);

/* Iteration over live entries with start <= id <= end, ascending or (rev)
 * descending:
 *
 *   stream_iter it;
 *   stream_id id;
 *   size_t nf;
 *   stream_iter_start(&it, s, &start, &end, rev);
 *   while (stream_iter_next(&it, &id, &nf))
 *       for (size_t i = 0; i < nf; i++) {
 *           stream_field f, v;
 *           stream_iter_field(&it, &f, &v);
 *       }
 *   stream_iter_stop(&it);
 *
 * start/end NULL mean 0-0 / UINT64_MAX-UINT64_MAX. The stream must not be
 * changed while an iterator is open, except through stream_iter_delete. */
typedef struct stream_field {
    const unsigned char *p;   /* bytes, or NULL for an integer element */
    size_t len;
    long long ival;
    char buf[24];             /* an integer element formatted, p points here */
} stream_field;

typedef struct stream_iter {
    const stream *s;
    stream_id start, end;
    int rev;
    size_t node;              /* index of the current node in s->nodes */
    int in_node;              /* node loaded (offsets computed) */
    /* offsets of the entries of the current node (start of the flags) */
    uint32_t *offs;
    size_t noffs, offs_cap, pos;
    /* the entry just returned */
    const unsigned char *fp;  /* next field element to read */
    const unsigned char *master_fp; /* next master field (SAMEFIELDS) */
    int samefields;
    size_t fields_left;
    uint32_t cur_off;
} stream_iter;

void stream_iter_start(stream_iter *it, const stream *s, const stream_id *start, const stream_id *end, int rev);
/* 1 with the next entry's id and field count, 0 at the end. */
int stream_iter_next(stream_iter *it, stream_id *id, size_t *numfields);
/* The next field/value pair of the entry last returned. */
void stream_iter_field(stream_iter *it, stream_field *field, stream_field *value);
/* Delete the entry last returned (flag it; may free its node: iteration
 * then continues correctly). The stream must be the iterator's, writable. */
void stream_iter_delete(stream_iter *it);
void stream_iter_stop(stream_iter *it);

/* Redis 7.0's consumer-group lag support: entries_read estimate for a group whose last delivered id is `id`
 * (streamEstimateDistanceFromFirstEverEntry semantics) and whether a range is free of tombstones. */
long long stream_estimate_distance(const stream *s, const stream_id *id);
int stream_range_has_tombstones(const stream *s, const stream_id *start, const stream_id *end);

/* ---- mutation (t_stream.c and the RDB loader) ---- */

/* Append an entry with id > last_id (the caller checked); node limits are
 * Redis' stream-node-max-bytes / -entries (0 = no limit). */
void stream_append(stream *s, const stream_id *id, size_t nfields, const resp_arg *fv,
                   size_t node_max_bytes, long long node_max_entries);
/* Delete one entry; 1 if it existed. */
int stream_delete(stream *s, const stream_id *id);

/* Trimming (XADD / XTRIM MAXLEN|MINID). approx: only whole nodes go, as
 * with '~'; limit caps the entries removed (0 = none; with approx, whole
 * nodes until the next one would pass it). Returns the entries removed. */
enum { STREAM_TRIM_MAXLEN = 0, STREAM_TRIM_MINID = 1 };
typedef struct stream_trim_args {
    int strategy;
    int approx;
    long long limit;
    long long maxlen;
    stream_id minid;
} stream_trim_args;
long long stream_trim(stream *s, const stream_trim_args *args);

/* ---- RDB (type 15 / 19 nodes) ---- */

/* Add a node read from an RDB file (master ID as 16 big-endian bytes and
 * its listpack), after deep validation. Takes ownership of lp on success.
 * Returns 0, or -1 with *err set to a static reason. */
int stream_load_node(stream *s, const stream_id *master, unsigned char *lp, size_t len, const char **err);
/* Check the record's length and last ID against the nodes (after the
 * fields are set). 0 or -1 with *err. */
int stream_load_finish(stream *s, uint64_t length, const char **err);
/* Node's master ID as Redis' rax key: 16 bytes big endian. */
void stream_id_encode_key(unsigned char out[16], const stream_id *id);
void stream_id_decode_key(const unsigned char in[16], stream_id *id);
/* Bytes of a node's listpack. */
size_t stream_node_bytes(const stream_node *n);

#endif
