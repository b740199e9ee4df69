/* stream_cg: the consumer groups of a stream (XGROUP, XREADGROUP, XACK,
 * XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS|CONSUMERS), laid out the way
 * Redis 7.0 keeps them so replies, RDB records and replication agree:
 *
 *   groups (ordered by name, as Redis' rax orders them: bytewise)
 *     last_id, entries_read (-1 = unknown)
 *     PEL: id -> nack {delivery time, delivery count, owning consumer}
 *     consumers (ordered by name): seen time, own PEL (id -> the same nack)
 *
 * A PEL may hold millions of entries and XACK removes from anywhere, so
 * both PELs are ordered id maps (idmap below: a skiplist keyed by the
 * 128-bit id) with O(log n) insert, delete and seek.
 *
 * The stream type (agent/stream.c, t_stream.c) calls the functions in the
 * "stream integration" part; the commands live in agent/t_stream_cg.c. */
#ifndef KV_STREAM_CG_H
#define KV_STREAM_CG_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"
#include "resp.h"
#include "stream.h"

struct client;
struct rdb_writer;
struct rdb_reader;

/* ---- ordered id map (the PELs) ------------------------------------------ */

typedef struct idmap idmap;
typedef struct idmap_node idmap_node;

idmap *idmap_new(void);
/* Frees the map; free_val (may be NULL) is called on every value. */
void idmap_free(idmap *m, void (*free_val)(void *));
size_t idmap_size(const idmap *m);
/* 1 when inserted, 0 when the id was already there (nothing changed). */
int idmap_insert(idmap *m, const stream_id *id, void *val);
/* The value of id, or NULL. */
void *idmap_get(const idmap *m, const stream_id *id);
/* Remove id; returns its value, or NULL when absent. */
void *idmap_delete(idmap *m, const stream_id *id);
/* The first node with an id >= from (from NULL: the first node), or NULL. */
idmap_node *idmap_seek(const idmap *m, const stream_id *from);
idmap_node *idmap_next(const idmap_node *n);
/* The node with the greatest id, or NULL when empty. */
idmap_node *idmap_last(const idmap *m);
const stream_id *idmap_node_id(const idmap_node *n);
void *idmap_node_val(const idmap_node *n);
/* Bytes held by the map's own nodes (not the values). */
size_t idmap_memory(const idmap *m);

/* ---- groups, consumers, pending entries (t_stream_cg.c) ---------------- */

#define CG_INVALID_ENTRIES_READ (-1LL)

typedef struct cg_consumer {
    kstr name;                 /* first: the sorted vectors search on it */
    int64_t seen_time;         /* unix ms of its last XREADGROUP/XCLAIM */
    idmap *pel;                /* id -> cg_nack (owned by the group PEL) */
} cg_consumer;

typedef struct cg_nack {
    int64_t delivery_time;     /* unix ms of the last delivery */
    uint64_t delivery_count;
    cg_consumer *consumer;     /* owner; NULL only while XCLAIM FORCE builds it */
} cg_nack;

typedef struct cg_group {
    kstr name;                 /* first: the sorted vectors search on it */
    stream_id last_id;         /* last delivered id */
    long long entries_read;    /* CG_INVALID_ENTRIES_READ when unknown */
    idmap *pel;                /* id -> cg_nack (owns them) */
    cg_consumer **consumers;   /* sorted by name */
    size_t nconsumers, consumers_cap;
} cg_group;

struct stream_cgroups {
    cg_group **groups;         /* sorted by name */
    size_t n, cap;
};

cg_group *cg_lookup(const stream *s, const char *name, size_t len);
/* NULL when a group of that name exists. Creates s->cgroups if needed. */
cg_group *cg_create(stream *s, const char *name, size_t len, const stream_id *last, long long entries_read);
/* 1 when the group existed (and is freed). */
int cg_destroy(stream *s, const char *name, size_t len);
cg_consumer *cg_consumer_lookup(const cg_group *g, const char *name, size_t len);
/* NULL when a consumer of that name exists. */
cg_consumer *cg_consumer_create(cg_group *g, const char *name, size_t len, int64_t now_ms);
/* Delete a consumer and its pending entries (from the group PEL too);
 * returns how many it had. */
size_t cg_consumer_delete(cg_group *g, cg_consumer *c);
/* A nack delivered now, once, to owner (may be NULL). */
cg_nack *cg_nack_new(cg_consumer *owner, int64_t now_ms);
/* Remove id from the group PEL and its owner's PEL (no-op if absent). */
void cg_pel_remove(cg_group *g, const stream_id *id);
/* The "lag" field of XINFO GROUPS / STREAM FULL: an integer or null. */
void cg_reply_lag(struct client *c, const stream *s, const cg_group *g);
/* An id as a bulk string "ms-seq". */
void cg_reply_id(struct client *c, const stream_id *id);

/* ---- stream integration (called by agent/stream.c, t_stream.c, rdb) ---- */

void stream_cg_free(struct stream_cgroups *cg);
struct stream_cgroups *stream_cg_dup(const struct stream_cgroups *cg);
size_t stream_cg_count(const struct stream_cgroups *cg);   /* NULL: 0 */
size_t stream_cg_memory(const struct stream_cgroups *cg);  /* NULL: 0 */
/* The groups part of a type-19 record: the group count, then each group
 * (name, last id ms and seq, entries_read, global PEL with raw 16-byte ids,
 * delivery times and counts, consumers with their seen time and PEL ids).
 * A stream without groups writes a count of 0. 0, or -1 (w->err set). */
int stream_cg_rdb_write(struct rdb_writer *w, const stream *s);
/* Read the groups part of a type 15 or 19 record into s (after the
 * stream's own fields: type 15 has no entries_read, it is estimated from
 * the stream). Everything is validated (duplicate groups, consumers or
 * PEL ids; consumer PEL ids missing from the group PEL; PEL entries
 * nobody owns): 0, or -1 with r->err set and s->cgroups left NULL. */
int stream_cg_rdb_read(struct rdb_reader *r, stream *s, int rdbtype);
/* DEBUG DIGEST: Redis 7.0 digests a stream's entries only, never its
 * groups, so this mixes nothing in; it exists so the rule is written
 * down where the groups live. digest is DIGEST_LEN (20) bytes. */
void stream_cg_digest(const stream *s, unsigned char digest[20]);
/* The value of the "groups" field of XINFO STREAM key FULL [COUNT count]
 * (count 0: every PEL entry). */
void stream_cg_reply_info_full(struct client *c, stream *s, long long count);
/* XINFO GROUPS key / XINFO CONSUMERS key group, for the XINFO command
 * (t_stream.c): the key was looked up and is a stream. key_arg is the key
 * as given (the NOGROUP error names it). */
void stream_cg_xinfo_groups(struct client *c, stream *s);
void stream_cg_xinfo_consumers(struct client *c, stream *s, const resp_arg *key_arg,
                               const resp_arg *group_arg);

#endif
