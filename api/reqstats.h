/* reqstats.h - HTTP request counters and latency histograms for /metrics.
 *
 * One slot per (route row, method): a route row is one method and one
 * pattern (routes.c); HEAD served by a GET row gets its own slot, and
 * requests no row took (404, 405) go to route "none" under their method,
 * folded to GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or "other". Per
 * slot: a count per status code (at most API_REQSTATS_MAX_STATUS distinct
 * codes, later ones fold into status 0, "other") and a histogram of
 * durations. So the number of series is bounded by the route table, never
 * by what clients send.
 *
 * Thread-safe (one mutex): MHD's threads record, the metrics renderer
 * reads. */
#ifndef KVFLEET_API_REQSTATS_H
#define KVFLEET_API_REQSTATS_H

#include <stdint.h>

#define API_REQSTATS_MAX_STATUS 16
/* Buckets: 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5
 * +Inf seconds (the last bound is INFINITY). */
#define API_REQSTATS_NBUCKETS 14

struct api_reqstats;

/* NULL when out of memory. */
struct api_reqstats *api_reqstats_new(void);
void api_reqstats_free(struct api_reqstats *s);

/* Count one answered request. row: index in the route table, or -1 when
 * no row took it; method: the request's; seconds: from the request's
 * arrival to its response being queued. A NULL s is a no-op. */
void api_reqstats_record(struct api_reqstats *s, int row, const char *method, int status,
                         double seconds);

/* Called once per (route, method, status) with a count > 0. route is the
 * pattern ("/api/v1/nodes/{}"), "static" (dashboard files), or "none". */
typedef void (*api_reqstats_count_cb)(void *arg, const char *route, const char *method,
                                      int status, uint64_t count);

/* Called once per (route, method) with count > 0. bucket_counts are
 * CUMULATIVE (Prometheus "le" semantics): bucket_counts[i] is the number of
 * requests that took at most bounds[i] seconds; bounds[nbuckets - 1] is
 * INFINITY, so bucket_counts[nbuckets - 1] == count. */
typedef void (*api_reqstats_hist_cb)(void *arg, const char *route, const char *method,
                                     const uint64_t *bucket_counts, int nbuckets,
                                     const double *bounds, double sum_seconds, uint64_t count);

/* Iterate in route-table order (then "none"), statuses ascending. The
 * callbacks run under the stats lock: they must not call back into s (and
 * should be quick: requests being answered wait for the lock). */
void api_reqstats_foreach(struct api_reqstats *s, api_reqstats_count_cb cb, void *arg);
void api_reqstats_foreach_hist(struct api_reqstats *s, api_reqstats_hist_cb cb, void *arg);

#endif
