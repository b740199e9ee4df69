/* store.h - durable topology store (SQLite).
 *
 * Holds nodes, clusters (replication groups), the last observed status of each
 * node and an append-only event journal. The schema comes from the numbered
 * migrations/NNNN_*.sql files embedded at build time (store_migrations[]),
 * applied in order, each in its own transaction, and recorded in
 * schema_migrations. A database newer than this binary, or a file that is not
 * a healthy SQLite database, is refused and left untouched.
 *
 * One process per database: store_open() first takes an exclusive lock on
 * <path>.lock (flock, held until store_close() or the process dies, the pid
 * written inside) and refuses with STORE_ELOCKED, naming the holder, when
 * another process has it; nothing is opened or written before that.
 *
 * Two connections, each guarded by its own mutex. Writes use the read-write
 * one: writers call store_begin() (takes its mutex, BEGIN IMMEDIATE), any
 * number of write calls, then store_commit() or store_rollback() (releases
 * it). The read helpers use a read-only connection and mutex of their own,
 * so a read never queues behind a writer waiting out the busy timeout, and
 * WAL lets them read the last committed state while anyone (this process or
 * another) holds the write lock. Reads therefore see committed data only.
 * Every statement is prepared once at open time. WAL mode, foreign keys on,
 * synchronous=NORMAL, busy_timeout 2 s for writes (then 503), 500 ms for
 * reads (they only wait in rare cases, e.g. a WAL recovery). */
#ifndef KVFLEET_CTL_STORE_H
#define KVFLEET_CTL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

enum {
    STORE_OK = 0,
    STORE_ECONSTRAINT = -1, /* unique / check / foreign key violation */
    STORE_EUNAVAIL = -2,    /* cannot write: read-only, full, I/O error, busy */
    STORE_ENOTFOUND = -3,
    STORE_ESCHEMA = -4,     /* schema newer than the binary, or migration failed */
    STORE_ECORRUPT = -5,    /* not a (healthy) kvfleet database */
    STORE_ELOCKED = -6,     /* another process has the database open (store_open) */
};

struct store;

struct store_node {
    int64_t id;
    const char *name;
    const char *host;
    int port;
    int priority;
    int maintenance;
    const char *tags;       /* JSON array text */
    int64_t cluster_id;     /* 0: none */
    int64_t first_seen;
    int64_t last_seen;      /* 0: never */
};

struct store_cluster {
    int64_t id;
    const char *name;
    int64_t master_id;      /* 0: none */
    struct cluster_settings settings;
    int64_t created_at;
};

struct store_event {
    int64_t id;
    int64_t ts;
    const char *cluster;    /* may be NULL */
    const char *node;       /* may be NULL */
    const char *kind;
    const char *message;
    const char *actor;
};

struct store_event_filter {
    const char *cluster;    /* NULL: any */
    const char *node;
    int64_t since_ms;       /* 0: any */
    int64_t before_id;      /* 0: from the newest (cursor) */
    int limit;
};

int store_open(struct store **out, const char *path, char *err, size_t errlen);
int store_open_with(struct store **out, const char *path, const struct store_migration *migs,
                    size_t nmigs, char *err, size_t errlen);
void store_close(struct store *st);
int store_schema_version(struct store *st);
const char *store_path(struct store *st);
/* 0 when the database answers a read (of the read-only connection). */
int store_ping(struct store *st);
/* Test hook: make every write fail (PRAGMA query_only). */
int store_set_query_only(struct store *st, int on);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* 1 between a successful store_begin() and commit/rollback (only meaningful
 * to the thread that called store_begin). */
int store_in_txn(struct store *st);
/* Message of this thread's last store failure. */
const char *store_errmsg(struct store *st);

/* Writes: only between store_begin() and store_commit(). */
int store_node_insert(struct store *st, const struct store_node *n, int64_t *id);
int store_node_update(struct store *st, const struct store_node *n);
int store_node_delete(struct store *st, int64_t id);
int store_cluster_insert(struct store *st, const struct store_cluster *c, int64_t *id);
int store_cluster_update(struct store *st, const struct store_cluster *c);
int store_cluster_delete(struct store *st, int64_t id);
int store_status_save(struct store *st, int64_t node_id, const struct node_obs *o, int64_t now_ms);
int store_node_touch(struct store *st, int64_t node_id, int64_t last_seen);
int store_event_add(struct store *st, const struct store_event *ev);

/* Stand-alone event append (own transaction). */
int store_event_log(struct store *st, const struct store_event *ev);

typedef int (*store_node_cb)(void *arg, const struct store_node *n);
typedef int (*store_cluster_cb)(void *arg, const struct store_cluster *c);
typedef int (*store_status_cb)(void *arg, int64_t node_id, const struct node_obs *o);
typedef int (*store_event_cb)(void *arg, const struct store_event *ev);

/* Read everything (start-up). A callback returning non-zero stops the load
 * and store_load returns that value. */
int store_load(struct store *st, store_node_cb ncb, store_cluster_cb ccb, store_status_cb scb,
               void *arg);
/* Newest first. */
int store_events_query(struct store *st, const struct store_event_filter *f, store_event_cb cb,
                       void *arg);
int64_t store_events_count(struct store *st);

int64_t store_now_ms(void);

/* One failover or switchover (table failovers). Text fields may be NULL;
 * candidates, steps and replicas are JSON documents owned by the failover
 * engine. Times are wall-clock ms, 0 for none. */
struct store_failover {
    int64_t id;
    const char *cluster;
    const char *kind;          /* automatic | manual | switchover */
    const char *status;        /* scheduled | running | done | failed | aborted | cancelled */
    const char *step;
    const char *reason;
    const char *old_master;
    const char *new_master;
    const char *candidates;
    const char *steps;
    const char *replicas;
    const char *error;
    const char *requested_by;
    int64_t timeout_ms;
    int64_t scheduled_at;
    int64_t created_at;
    int64_t started_at;
    int64_t finished_at;
    int64_t acked_at;
    const char *acked_by;
    const char *ack_comment;
};
typedef int (*store_failover_cb)(void *arg, const struct store_failover *f);

/* Writes (inside store_begin/commit). A second running row for a cluster is
 * STORE_ECONSTRAINT: one recovery per cluster at a time. Update matches the
 * row by id (cluster, kind, requested_by and created_at never change). */
int store_failover_insert(struct store *st, const struct store_failover *f, int64_t *id);
int store_failover_update(struct store *st, const struct store_failover *f);
/* Move row id from status `from` to `to` in its own transaction: the one
 * atomic step between a scheduled switchover's start and its cancellation.
 * STORE_ENOTFOUND when the row is not (or no longer) in `from`;
 * STORE_ECONSTRAINT when `to` is running and another operation runs. */
int store_failover_claim(struct store *st, int64_t id, const char *from, const char *to);
/* Reads: STORE_ENOTFOUND for an unknown id. Not inside a transaction. */
int store_failover_get(struct store *st, int64_t id, store_failover_cb cb, void *arg);
/* Newest first; cluster/status NULL: any; before_id 0: from the newest. */
int store_failovers_query(struct store *st, const char *cluster, const char *status,
                          int64_t before_id, int limit, store_failover_cb cb, void *arg);
/* The same, but STORE_EUNAVAIL at once instead of waiting when another
 * thread is reading (an event loop that must not stall). */
int store_failovers_query_nowait(struct store *st, const char *cluster, const char *status,
                                 int64_t before_id, int limit, store_failover_cb cb, void *arg);
/* The newest row (any kind, any status) of every cluster in the clusters
 * table that has one, ordered by cluster id: per cluster, the row
 * store_failovers_query(cluster, NULL, 0, 1) gives, in one statement (the
 * dashboard asks for all of them every second). Not inside a transaction. */
int store_failovers_latest(struct store *st, store_failover_cb cb, void *arg);

#endif
