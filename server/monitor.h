/* monitor.h - poll every node over RESP and keep the fleet's observations.
 *
 * Runs on a libuv loop (the main thread) with hiredis' async API: every node
 * has its own repeating timer and its own deadline timer, so a node that
 * accepts TCP but never answers (SIGSTOPped) only ever costs its own
 * deadline; nobody waits on it. Each poll is `AUTH` (with node-auth) then
 * `INFO replication`. Results update the fleet under its lock; changes become
 * events; the reconciler then corrects nodes that drifted from the desired
 * topology. Statuses and offsets go to the store on every change and every
 * few seconds, through the writer thread (writer.h): the loop never waits for
 * SQLite. */
#ifndef KVFLEET_CTL_MONITOR_H
#define KVFLEET_CTL_MONITOR_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "fleet.h"
#include "writer.h"

#define MONITOR_HIST_MS 10000

struct mnode;

struct monitor_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t timeouts;
    uint64_t reconcile_actions;
    uint64_t gap_samples;
    double gap_p50_ms, gap_p99_ms, gap_max_ms;
    int nodes;
};

struct monitor {
    uv_loop_t *loop;
    struct fleet *fleet;
    const struct cfg *cfg;
    struct writer *writer;
    uv_async_t wake;
    uv_timer_t flush;
    struct mnode **nodes;
    size_t nnodes, cap;
    int stopping;
    pthread_mutex_t stats_mu;
    uint64_t polls_ok, polls_failed, timeouts, actions;
    uint32_t gap_hist[MONITOR_HIST_MS + 1]; /* 1 ms buckets, last = overflow */
    uint64_t gap_samples;
    double gap_max_ms;
    int nodes_count;
};

int monitor_init(struct monitor *m, uv_loop_t *loop, struct fleet *f, const struct cfg *cfg,
                 struct writer *w);
/* Thread safe: ask the loop to pick up topology changes now. */
void monitor_wake(struct monitor *m);
/* Close every handle (the loop then exits once they are closed). */
void monitor_stop(struct monitor *m);
/* Queue every node's status, offsets and last-seen time for the store. */
void monitor_flush(struct monitor *m);
/* Thread safe: restart the counters and the inter-poll histogram. */
void monitor_stats_reset(struct monitor *m);
/* Thread safe. */
void monitor_stats_get(struct monitor *m, struct monitor_stats *out);

#endif
