/* monitor.h - the observe stage: poll every node over RESP.
 *
 * Connections and polls only. Every node has its own repeating timer and its
 * own deadline timer on the loop (hiredis async API), so a node that accepts
 * TCP but never answers (SIGSTOPped) only ever costs its own deadline. A poll
 * is `AUTH` (with node-auth) then one `INFO server persistence stats
 * replication` (every 5 s with `clients memory keyspace` added, for the node
 * figures of /metrics); its result, parsed, timed and classified (timeout, refused,
 * loading, auth, other), goes to the callback given at init: the monitor
 * never touches the topology, the store or a node's configuration. While a
 * node's polls fail it is polled faster (every 100 ms at most), so a dead
 * master is judged down as soon as its down-after time is up.
 *
 * Loop thread only, except monitor_stats_get/reset (any thread). */
#ifndef KVFLEET_CTL_MONITOR_H
#define KVFLEET_CTL_MONITOR_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "info.h"

#define MONITOR_HIST_MS 10000
#define MONITOR_FAST_MS 100

struct mnode;

struct poll_result {
    int ok;
    struct info_repl info;      /* ok */
    int fail_kind;              /* enum poll_fail (health.h) */
    char why[160];
    int64_t duration_us;        /* send to last reply (ok) */
};

typedef void (*monitor_result_cb)(void *arg, int64_t node_id, const struct poll_result *r);

struct monitor_target {
    int64_t id;
    const char *host;
    int port;
};

struct monitor_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t timeouts;
    uint64_t gap_samples;
    double gap_p50_ms, gap_p99_ms, gap_max_ms;
    double poll_p50_ms, poll_p99_ms;
    int nodes;
};

struct monitor {
    uv_loop_t *loop;
    const struct cfg *cfg;
    monitor_result_cb on_result;
    void *arg;
    struct mnode **nodes;
    size_t nnodes, cap;
    int stopping;
    pthread_mutex_t stats_mu;
    uint64_t polls_ok, polls_failed, timeouts;
    uint32_t gap_hist[MONITOR_HIST_MS + 1]; /* 1 ms buckets, last = overflow */
    uint64_t gap_samples;
    double gap_max_ms;
    uint32_t poll_hist[MONITOR_HIST_MS + 1];
    uint64_t poll_samples;
    int nodes_count;
};

int monitor_init(struct monitor *m, uv_loop_t *loop, const struct cfg *cfg,
                 monitor_result_cb on_result, void *arg);
/* Align the watched set with targets (new nodes start, missing ones stop,
 * moved ones reconnect). */
void monitor_set_targets(struct monitor *m, const struct monitor_target *t, size_t n);
/* Poll these nodes now rather than at their next tick. */
void monitor_poll_all_now(struct monitor *m);
/* Close every handle (the loop then exits once they are closed). */
void monitor_stop(struct monitor *m);
/* Thread safe: restart the counters and the histograms. */
void monitor_stats_reset(struct monitor *m);
/* Thread safe. */
void monitor_stats_get(struct monitor *m, struct monitor_stats *out);

#endif
