/* metrics.h - the controller's own counters for /metrics.
 *
 * The stages count what happened here (the loop: polls and their errors,
 * failovers and their durations, recoveries the planner blocked) and the
 * metrics renderer reads them. Figures that already live elsewhere are read
 * where they live: observations in state.h, the journal queue in writer.h,
 * HTTP requests in api/reqstats.h. Counters only grow (never reset while
 * the process lives), so Prometheus' rate() and increase() hold.
 *
 * Label values come from fixed lists (kinds, results, reasons, failure
 * kinds) plus the cluster name, so the number of series is bounded by the
 * fleet. Thread safe: one mutex. */
#ifndef KVFLEET_CTL_METRICS_H
#define KVFLEET_CTL_METRICS_H

#include <stddef.h>

#include "prom.h"

struct metrics;

/* NULL when out of memory. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* A successful poll and how long it took; a failed one (enum poll_fail). */
void metrics_poll_ok(struct metrics *m, double seconds);
void metrics_poll_failed(struct metrics *m, int fail_kind);
/* An operation ended. kind: "automatic" | "manual" | "switchover"; status:
 * "done" | "failed" | "aborted" | "cancelled". */
void metrics_failover_ended(struct metrics *m, const char *cluster, const char *kind,
                            const char *status, double seconds);
/* A recovery the planner refused (enum plan_block). */
void metrics_recovery_blocked(struct metrics *m, const char *cluster, int reason);
/* A cluster left the fleet: its series go. */
void metrics_forget_cluster(struct metrics *m, const char *cluster);

/* Write the families above. Every cluster in `clusters` gets its counters
 * written even at 0, so increase() sees the first event after a start. */
void metrics_write(struct metrics *m, struct prom *p, const char *const *clusters,
                   size_t nclusters);

#endif
