/* test_api_reqstats.c - the per-route request counters behind /metrics:
 * slots per (route row, method) with HEAD apart, "none" for requests no row
 * took (junk methods folded into "other"), the cap on distinct status codes,
 * cumulative histogram buckets with "le" bounds, and concurrent recording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../api/api.h"
#include "../../api/reqstats.h"

#define MAX_SEEN 64

struct seen {
    int n;
    struct {
        char route[64], method[16];
        int status;
        uint64_t count;
    } rows[MAX_SEEN];
};

static void on_count(void *arg, const char *route, const char *method, int status,
                     uint64_t count)
{
    struct seen *s = arg;
    assert_true(s->n < MAX_SEEN);
    snprintf(s->rows[s->n].route, sizeof(s->rows[0].route), "%s", route);
    snprintf(s->rows[s->n].method, sizeof(s->rows[0].method), "%s", method);
    s->rows[s->n].status = status;
    s->rows[s->n].count = count;
    s->n++;
}

static uint64_t seen_count(const struct seen *s, const char *route, const char *method,
                           int status)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].route, route) == 0 && strcmp(s->rows[i].method, method) == 0 &&
            s->rows[i].status == status)
            return s->rows[i].count;
    return 0;
}

static int row_of(const char *method, const char *path)
{
    struct api_match m;
    api_route_match(method, path, &m);
    assert_int_equal(m.status, 0);
    return m.row;
}

static void test_counts(void **state)
{
    (void)state;
    api_reqstats_record(NULL, 0, "GET", 200, 0.1);      /* no stats object: no-op */
    struct api_reqstats *s = api_reqstats_new();
    assert_non_null(s);
    int node_get = row_of("GET", "/api/v1/nodes/x");
    int node_patch = row_of("PATCH", "/api/v1/nodes/x");
    int file = row_of("GET", "/app.js");
    api_reqstats_record(s, node_get, "GET", 200, 0.001);
    api_reqstats_record(s, node_get, "GET", 200, 0.001);
    api_reqstats_record(s, node_get, "GET", 404, 0.001);
    api_reqstats_record(s, node_get, "HEAD", 200, 0.001);
    api_reqstats_record(s, node_patch, "PATCH", 422, 0.001);
    api_reqstats_record(s, file, "GET", 304, 0.001);
    api_reqstats_record(s, -1, "PUT", 404, 0.001);
    api_reqstats_record(s, -1, "BREW", 405, 0.001);
    api_reqstats_record(s, -1, "COFFEE", 405, 0.001);
    struct seen seen = { 0 };
    api_reqstats_foreach(s, on_count, &seen);
    assert_int_equal(seen.n, 7);
    assert_int_equal(seen_count(&seen, "/api/v1/nodes/{}", "GET", 200), 2);
    assert_int_equal(seen_count(&seen, "/api/v1/nodes/{}", "GET", 404), 1);
    assert_int_equal(seen_count(&seen, "/api/v1/nodes/{}", "HEAD", 200), 1);
    assert_int_equal(seen_count(&seen, "/api/v1/nodes/{}", "PATCH", 422), 1);
    assert_int_equal(seen_count(&seen, "static", "GET", 304), 1);
    assert_int_equal(seen_count(&seen, "none", "PUT", 404), 1);
    assert_int_equal(seen_count(&seen, "none", "other", 405), 2);
    /* Route-table order, statuses ascending within a slot. */
    assert_string_equal(seen.rows[0].route, "/api/v1/nodes/{}");
    assert_int_equal(seen.rows[0].status, 200);
    assert_int_equal(seen.rows[1].status, 404);
    assert_string_equal(seen.rows[seen.n - 1].route, "none");
    api_reqstats_free(s);
    api_reqstats_free(NULL);
}

static void test_status_cap(void **state)
{
    (void)state;
    struct api_reqstats *s = api_reqstats_new();
    assert_non_null(s);
    for (int code = 200; code < 220; code++)            /* 20 distinct codes */
        api_reqstats_record(s, 0, "GET", code, 0.001);
    api_reqstats_record(s, 0, "GET", 219, 0.001);       /* folded again */
    api_reqstats_record(s, 0, "GET", 200, 0.001);       /* known code: its own entry */
    struct seen seen = { 0 };
    api_reqstats_foreach(s, on_count, &seen);
    assert_int_equal(seen.n, API_REQSTATS_MAX_STATUS);
    assert_int_equal(seen.rows[0].status, 0);           /* "other" sorts first */
    assert_int_equal(seen.rows[0].count, 20 - (API_REQSTATS_MAX_STATUS - 1) + 1);
    assert_int_equal(seen_count(&seen, api_route_name(0), "GET", 200), 2);
    uint64_t total = 0;
    for (int i = 0; i < seen.n; i++)
        total += seen.rows[i].count;
    assert_int_equal(total, 22);
    api_reqstats_free(s);
}

struct hist {
    int calls;
    char route[64], method[16];
    uint64_t buckets[API_REQSTATS_NBUCKETS];
    int nbuckets;
    double bounds[API_REQSTATS_NBUCKETS];
    double sum;
    uint64_t count;
};

static void on_hist(void *arg, const char *route, const char *method, const uint64_t *buckets,
                    int nbuckets, const double *bounds, double sum, uint64_t count)
{
    struct hist *h = arg;
    h->calls++;
    snprintf(h->route, sizeof(h->route), "%s", route);
    snprintf(h->method, sizeof(h->method), "%s", method);
    assert_int_equal(nbuckets, API_REQSTATS_NBUCKETS);
    h->nbuckets = nbuckets;
    memcpy(h->buckets, buckets, sizeof(h->buckets));
    memcpy(h->bounds, bounds, sizeof(h->bounds));
    h->sum = sum;
    h->count = count;
}

static void test_histogram(void **state)
{
    (void)state;
    struct api_reqstats *s = api_reqstats_new();
    assert_non_null(s);
    int metrics = row_of("GET", "/metrics");
    api_reqstats_record(s, metrics, "GET", 200, 0.0001);   /* <= 0.0005 */
    api_reqstats_record(s, metrics, "GET", 200, 0.0005);   /* on the bound: le */
    api_reqstats_record(s, metrics, "GET", 200, 0.003);    /* <= 0.005 */
    api_reqstats_record(s, metrics, "GET", 500, 1.0);      /* <= 1 */
    api_reqstats_record(s, metrics, "GET", 200, 30.0);     /* +Inf only */
    api_reqstats_record(s, metrics, "GET", 200, -1.0);     /* clock oddity: 0 */
    struct hist h = { 0 };
    api_reqstats_foreach_hist(s, on_hist, &h);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.route, "/metrics");
    assert_string_equal(h.method, "GET");
    assert_int_equal(h.count, 6);
    assert_true(fabs(h.sum - 31.0036) < 1e-9);
    assert_true(h.bounds[0] == 0.0005);
    assert_true(h.bounds[10] == 1.0);
    assert_true(isinf(h.bounds[API_REQSTATS_NBUCKETS - 1]));
    const uint64_t want[API_REQSTATS_NBUCKETS] = { 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 6 };
    for (int i = 0; i < API_REQSTATS_NBUCKETS; i++)
        assert_int_equal(h.buckets[i], want[i]);       /* cumulative */
    api_reqstats_free(s);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    struct api_reqstats *s = arg;
    for (int i = 0; i < PER_THREAD; i++)
        api_reqstats_record(s, i % 3, i % 2 ? "GET" : "HEAD", 200 + i % 5, 0.001 * (i % 7));
    return NULL;
}

static void add_total(void *arg, const char *route, const char *method, int status,
                      uint64_t count)
{
    (void)route;
    (void)method;
    (void)status;
    *(uint64_t *)arg += count;
}

static void test_concurrent(void **state)
{
    (void)state;
    struct api_reqstats *s = api_reqstats_new();
    assert_non_null(s);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, s), 0);
    uint64_t during = 0;
    api_reqstats_foreach(s, add_total, &during);        /* reading while recording */
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    uint64_t total = 0;
    api_reqstats_foreach(s, add_total, &total);
    assert_true(during <= total);
    assert_int_equal(total, (uint64_t)THREADS * PER_THREAD);
    api_reqstats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_status_cap),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
