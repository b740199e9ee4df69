/* test_prom.c - the Prometheus exposition writer, histograms, the
 * controller's counters as text, and the INFO fields /metrics reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "info.h"
#include "metrics.h"
#include "planner.h"
#include "prom.h"

static char *render(void (*fill)(struct prom *p, void *arg), void *arg)
{
    struct prom p;
    prom_init(&p, 16);
    fill(&p, arg);
    size_t len = 0;
    char *text = prom_finish(&p, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    return text;
}

static void fill_samples(struct prom *p, void *arg)
{
    (void)arg;
    prom_family(p, "x_total", "counter", "Help with a \\ backslash\nand a newline.");
    const char *l[] = { "cluster", "a\"b\\c\nd", "node", "n1", NULL };
    prom_sample(p, "x_total", l, 3);
    prom_sample(p, "x_total", NULL, 0.25);
    prom_sample(p, "x_total", NULL, INFINITY);
    prom_sample(p, "x_total", NULL, -INFINITY);
    prom_sample(p, "x_total", NULL, NAN);
    prom_sample_u64(p, "x_total", NULL, UINT64_MAX);
    prom_sample(p, "x_total", NULL, 1e20);
}

static void test_samples_and_escaping(void **state)
{
    (void)state;
    char *t = render(fill_samples, NULL);
    const char *want =
        "# HELP x_total Help with a \\\\ backslash\\nand a newline.\n"
        "# TYPE x_total counter\n"
        "x_total{cluster=\"a\\\"b\\\\c\\nd\",node=\"n1\"} 3\n"
        "x_total 0.25\n"
        "x_total +Inf\n"
        "x_total -Inf\n"
        "x_total NaN\n"
        "x_total 18446744073709551615\n"
        "x_total 1e+20\n";
    assert_string_equal(t, want);
    free(t);
}

static const double bounds[] = { 0.001, 0.01, 0.1 };

static void fill_hist(struct prom *p, void *arg)
{
    struct prom_hist *h = arg;
    const char *l[] = { "kind", "k", NULL };
    prom_hist_write(p, "d_seconds", l, h);
}

static void test_histogram_is_cumulative(void **state)
{
    (void)state;
    struct prom_hist h;
    prom_hist_init(&h, bounds, 3);
    prom_hist_observe(&h, 0.0005);
    prom_hist_observe(&h, 0.001);   /* on the bound: counted in it (le) */
    prom_hist_observe(&h, 0.05);
    prom_hist_observe(&h, 7);
    prom_hist_observe(&h, NAN);     /* ignored */
    char *t = render(fill_hist, &h);
    assert_non_null(strstr(t, "d_seconds_bucket{kind=\"k\",le=\"0.001\"} 2\n"));
    assert_non_null(strstr(t, "d_seconds_bucket{kind=\"k\",le=\"0.01\"} 2\n"));
    assert_non_null(strstr(t, "d_seconds_bucket{kind=\"k\",le=\"0.1\"} 3\n"));
    assert_non_null(strstr(t, "d_seconds_bucket{kind=\"k\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(t, "d_seconds_sum{kind=\"k\"} 7.0515\n"));
    assert_non_null(strstr(t, "d_seconds_count{kind=\"k\"} 4\n"));
    free(t);
}

struct mw {
    struct metrics *m;
    const char *const *clusters;
    size_t n;
};

static void fill_metrics(struct prom *p, void *arg)
{
    struct mw *w = arg;
    metrics_write(w->m, p, w->clusters, w->n);
}

static void test_controller_counters(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    assert_non_null(m);
    metrics_failover_ended(m, "c1", "automatic", "done", 0.8);
    metrics_failover_ended(m, "c1", "automatic", "done", 1.2);
    metrics_failover_ended(m, "c1", "switchover", "aborted", 0.3);
    metrics_failover_ended(m, "c1", "bogus", "done", 1);       /* unknown kind: ignored */
    metrics_failover_ended(m, "gone", "manual", "done", 1);
    metrics_forget_cluster(m, "gone");
    metrics_recovery_blocked(m, "c2", PLAN_BLOCK_COOLDOWN);
    metrics_recovery_blocked(m, "c2", PLAN_BLOCK_NONE);        /* not a reason: ignored */
    metrics_poll_ok(m, 0.0003);
    metrics_poll_failed(m, FAIL_TIMEOUT);
    metrics_poll_failed(m, FAIL_TIMEOUT);
    metrics_poll_failed(m, 99);                                 /* folds into other */
    const char *clusters[] = { "c1", "c2" };
    struct mw w = { m, clusters, 2 };
    char *t = render(fill_metrics, &w);
    assert_non_null(strstr(t, "kvfleet_failovers_total{cluster=\"c1\",kind=\"automatic\",result=\"done\"} 2\n"));
    assert_non_null(strstr(t, "kvfleet_failovers_total{cluster=\"c1\",kind=\"switchover\",result=\"aborted\"} 1\n"));
    /* A cluster with nothing yet still has its series, at 0. */
    assert_non_null(strstr(t, "kvfleet_failovers_total{cluster=\"c2\",kind=\"automatic\",result=\"done\"} 0\n"));
    assert_null(strstr(t, "cluster=\"gone\""));
    assert_non_null(strstr(t, "kvfleet_recoveries_blocked_total{cluster=\"c2\",reason=\"cooldown\"} 1\n"));
    assert_non_null(strstr(t, "kvfleet_recoveries_blocked_total{cluster=\"c1\",reason=\"no_candidate\"} 0\n"));
    assert_non_null(strstr(t, "kvfleet_failover_duration_seconds_count{kind=\"automatic\"} 2\n"));
    assert_non_null(strstr(t, "kvfleet_failover_duration_seconds_bucket{kind=\"automatic\",le=\"1\"} 1\n"));
    /* aborted operations are counted, not timed */
    assert_non_null(strstr(t, "kvfleet_failover_duration_seconds_count{kind=\"switchover\"} 0\n"));
    assert_non_null(strstr(t, "kvfleet_poll_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(t, "kvfleet_poll_errors_total{kind=\"timeout\"} 2\n"));
    assert_non_null(strstr(t, "kvfleet_poll_errors_total{kind=\"other\"} 1\n"));
    assert_non_null(strstr(t, "kvfleet_poll_errors_total{kind=\"refused\"} 0\n"));
    /* every family has exactly one HELP and one TYPE */
    assert_non_null(strstr(t, "# TYPE kvfleet_failovers_total counter\n"));
    assert_non_null(strstr(t, "# TYPE kvfleet_poll_duration_seconds histogram\n"));
    free(t);
    metrics_free(m);
}

static void test_info_stats_sections(void **state)
{
    (void)state;
    const char *text =
        "# Server\r\nredis_version:7.0.15\r\nrun_id:abc\r\n"
        "# Clients\r\nconnected_clients:12\r\n"
        "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n"
        "# Stats\r\ntotal_commands_processed:987654\r\n"
        "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
        "slave0:ip=127.0.0.1,port=6380,state=online,offset=100,lag=0\r\n"
        "master_repl_offset:100\r\n"
        "# Keyspace\r\ndb0:keys=42,expires=1,avg_ttl=0\r\ndb15:keys=7,expires=0,avg_ttl=0\r\n"
        "db99:keys=1,expires=0,avg_ttl=0\r\ndbx:keys=5\r\n";
    struct info_repl in;
    assert_int_equal(info_parse_replication(text, strlen(text), &in), 0);
    assert_string_equal(in.version, "7.0.15");
    assert_int_equal(in.stats.present, 1);
    assert_int_equal(in.stats.connected_clients, 12);
    assert_int_equal(in.stats.used_memory, 1048576);
    assert_int_equal(in.stats.commands_processed, 987654);
    assert_int_equal(in.stats.db_keys[0], 42);
    assert_int_equal(in.stats.db_keys[15], 7);
    assert_int_equal(in.stats.db_keys[1], -1);
    assert_int_equal(in.nslaves, 1);

    /* A poll without the stats sections leaves the kept figures alone. */
    const char *lean = "# Replication\r\nrole:master\r\nmaster_repl_offset:5\r\n";
    struct info_repl in2;
    assert_int_equal(info_parse_replication(lean, strlen(lean), &in2), 0);
    assert_int_equal(in2.stats.present, 0);
    assert_int_equal(in2.stats.used_memory, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_and_escaping),
        cmocka_unit_test(test_histogram_is_cumulative),
        cmocka_unit_test(test_controller_counters),
        cmocka_unit_test(test_info_stats_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
