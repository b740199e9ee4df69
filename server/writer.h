/* writer.h - the monitor's asynchronous journal writer.
 *
 * The monitor runs on the event loop and must never wait for the disk or for
 * an SQLite lock held by someone else (up to the busy timeout). It hands its
 * events and status snapshots to this writer, a thread that batches whatever
 * is queued into one transaction. When the database is unavailable the batch
 * is retried; the queue is bounded (status snapshots are dropped first,
 * they are rewritten every few seconds anyway). writer_stop() drains. */
#ifndef KVFLEET_CTL_WRITER_H
#define KVFLEET_CTL_WRITER_H

#include <stdint.h>

#include "health.h"
#include "store.h"

struct writer;

int writer_start(struct writer **out, struct store *st);
/* Drain what is queued (bounded retries) and join the thread. */
void writer_stop(struct writer *w);

void writer_event(struct writer *w, int64_t ts, const char *cluster, const char *node,
                  const char *kind, const char *actor, const char *msg);
/* last_seen 0: leave nodes.last_seen alone. */
void writer_status(struct writer *w, int64_t node_id, const struct node_obs *o, int64_t last_seen);
/* Thread safe: for /metrics. */
struct writer_stats {
    uint64_t queued;           /* items waiting for the next batch */
    uint64_t dropped;          /* status snapshots dropped on a full queue */
    uint64_t write_errors;     /* batches the database refused (each retried) */
};
void writer_stats_get(struct writer *w, struct writer_stats *out);
/* Block until everything queued so far is written or dropped (tests). */
void writer_sync(struct writer *w);

#endif
