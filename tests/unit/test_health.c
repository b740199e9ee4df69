/* test_health.c - lag and health derivation, INFO replication parsing and
 * its new fields: all pure functions (the reconcile rules moved to the
 * planner, tests/unit/test_planner.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../server/health.h"
#include "../../server/info.h"

static void test_lag_bytes(void **state)
{
    (void)state;
    assert_int_equal(health_lag_bytes(1000, 400), 600);
    assert_int_equal(health_lag_bytes(1000, 1000), 0);
    assert_int_equal(health_lag_bytes(1000, 1200), 0);  /* replica polled later */
    assert_int_equal(health_lag_bytes(-1, 10), -1);
    assert_int_equal(health_lag_bytes(10, -1), -1);
}

static void test_lag_ms(void **state)
{
    (void)state;
    struct offset_ring r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(health_lag_ms(&r, 100, 50, 5000), -1);   /* no history */
    health_ring_push(&r, 1000, 100);
    health_ring_push(&r, 2000, 200);
    health_ring_push(&r, 2000, 200);                          /* duplicate ignored */
    health_ring_push(&r, 3000, 300);
    assert_int_equal(r.count, 3);
    /* Replica at 250: the master passed 250 when it reached 300 at t=3000. */
    assert_int_equal(health_lag_ms(&r, 300, 250, 3500), 500);
    /* Replica at 150: master passed it at t=2000. */
    assert_int_equal(health_lag_ms(&r, 300, 150, 3500), 1500);
    /* Caught up. */
    assert_int_equal(health_lag_ms(&r, 300, 300, 3500), 0);
    /* Older than the history: lower bound = age of the oldest sample. */
    assert_int_equal(health_lag_ms(&r, 300, 10, 3500), 2500);
    /* Offset going back (new replication id) resets the history. */
    health_ring_push(&r, 4000, 5);
    assert_int_equal(r.count, 1);
    /* Ring wraps without growing. */
    for (int i = 0; i < 200; i++)
        health_ring_push(&r, 5000 + i, 1000 + i);
    assert_int_equal(r.count, HEALTH_RING);
}

static struct node_obs obs_up(int role, const char *mhost, int mport, int link, int64_t off)
{
    struct node_obs o;
    health_obs_init(&o);
    o.state = NODE_UP;
    o.role = role;
    if (mhost != NULL)
        snprintf(o.master_host, sizeof(o.master_host), "%s", mhost);
    o.master_port = mport;
    o.link = link;
    o.offset = off;
    return o;
}

static void test_cluster_healthy_and_degraded(void **state)
{
    (void)state;
    struct cluster_settings s;
    health_settings_default(&s);
    struct node_obs mo = obs_up(ROLE_MASTER, NULL, 0, LINK_NONE, 5000);
    health_ring_push(&mo.ring, 1000, 5000);
    struct node_obs r1 = obs_up(ROLE_REPLICA, "10.0.0.1", 6379, LINK_UP, 5000);
    struct node_obs r2 = obs_up(ROLE_REPLICA, "10.0.0.1", 6379, LINK_UP, 4990);
    struct health_member m = { "m", "10.0.0.1", 6379, 0, &mo };
    struct health_member reps[2] = { { "r1", "10.0.0.2", 6379, 0, &r1 },
                                     { "r2", "10.0.0.3", 6379, 0, &r2 } };
    struct health_report rep;
    struct health_replica views[2];
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_int_equal(rep.level, HEALTH_HEALTHY);
    assert_int_equal(rep.nreasons, 0);
    assert_int_equal(views[1].lag_bytes, 10);
    assert_int_equal(views[0].lag_bytes, 0);
    assert_true(views[0].in_sync);

    /* Link down -> degraded with a reason naming the replica. */
    r2.link = LINK_DOWN;
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_int_equal(rep.level, HEALTH_DEGRADED);
    assert_int_equal(rep.nreasons, 1);
    assert_non_null(strstr(rep.reasons[0], "r2"));
    assert_non_null(strstr(rep.reasons[0], "link"));

    /* Wrong master. */
    r2 = obs_up(ROLE_REPLICA, "10.9.9.9", 6379, LINK_UP, 5000);
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_int_equal(rep.level, HEALTH_DEGRADED);
    assert_true(views[1].wrong_master);
    assert_non_null(strstr(rep.reasons[0], "10.9.9.9"));

    /* Lag above the byte threshold. */
    r2 = obs_up(ROLE_REPLICA, "10.0.0.1", 6379, LINK_UP, 100);
    s.lag_threshold_bytes = 1000;
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_int_equal(rep.level, HEALTH_DEGRADED);
    assert_true(views[1].lag_high);
    assert_non_null(strstr(rep.reasons[0], "4900 bytes"));

    /* The same lag on a link that is down is not a lag alert. */
    r2.link = LINK_DOWN;
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_false(views[1].lag_high);
    assert_non_null(strstr(rep.reasons[0], "link"));
    r2.link = LINK_UP;

    /* Replica in maintenance: reported, not degrading. */
    reps[1].maintenance = 1;
    health_cluster_eval(&m, reps, 2, &s, 2000, &rep, views);
    assert_int_equal(rep.level, HEALTH_HEALTHY);
    assert_true(rep.nreasons >= 1);
}

static void test_cluster_failing(void **state)
{
    (void)state;
    struct cluster_settings s;
    health_settings_default(&s);
    struct node_obs mo = obs_up(ROLE_MASTER, NULL, 0, LINK_NONE, 100);
    struct node_obs r1 = obs_up(ROLE_REPLICA, "m", 1, LINK_UP, 100);
    struct health_member m = { "m", "m", 1, 0, &mo };
    struct health_member reps[1] = { { "r1", "r", 1, 0, &r1 } };
    struct health_report rep;

    mo.state = NODE_DOWN;
    health_cluster_eval(&m, reps, 1, &s, 0, &rep, NULL);
    assert_int_equal(rep.level, HEALTH_FAILING);
    assert_non_null(strstr(rep.reasons[0], "master m is down"));

    health_cluster_eval(NULL, reps, 1, &s, 0, &rep, NULL);
    assert_int_equal(rep.level, HEALTH_FAILING);

    /* Not enough in-sync replicas for min_replicas_to_write. */
    mo.state = NODE_UP;
    s.min_replicas_to_write = 2;
    health_cluster_eval(&m, reps, 1, &s, 0, &rep, NULL);
    assert_int_equal(rep.level, HEALTH_FAILING);
    assert_non_null(strstr(rep.reasons[rep.nreasons - 1], "only 1 of 2"));

    /* Replica down while master fine: degraded. */
    s.min_replicas_to_write = 0;
    r1.state = NODE_DOWN;
    health_cluster_eval(&m, reps, 1, &s, 0, &rep, NULL);
    assert_int_equal(rep.level, HEALTH_DEGRADED);
    assert_string_equal(health_level_name(rep.level), "degraded");
}

static const char info_master[] =
    "# Replication\r\n"
    "role:master\r\n"
    "connected_slaves:2\r\n"
    "slave0:ip=127.0.0.1,port=7002,state=online,offset=9876,lag=0\r\n"
    "slave1:ip=10.1.2.3,port=7003,state=wait_bgsave,offset=0,lag=1\r\n"
    "master_failover_state:no-failover\r\n"
    "master_replid:e3f2b0c4a1\r\n"
    "master_repl_offset:9876\r\n"
    "second_repl_offset:-1\r\n";

static const char info_replica[] =
    "# Replication\r\n"
    "role:slave\r\n"
    "master_host:127.0.0.1\r\n"
    "master_port:7001\r\n"
    "master_link_status:up\r\n"
    "master_last_io_seconds_ago:1\r\n"
    "master_sync_in_progress:0\r\n"
    "slave_read_repl_offset:9876\r\n"
    "slave_repl_offset:9870\r\n"
    "slave_priority:100\r\n"
    "connected_slaves:0\r\n"
    "master_repl_offset:9876\r\n";

static void test_info_parse(void **state)
{
    (void)state;
    struct info_repl in;
    assert_int_equal(info_parse_replication(info_master, strlen(info_master), &in), 0);
    assert_int_equal(in.role, ROLE_MASTER);
    assert_int_equal(in.offset, 9876);
    assert_int_equal(in.connected_slaves, 2);
    assert_int_equal(in.nslaves, 2);
    assert_string_equal(in.slaves[1].ip, "10.1.2.3");
    assert_int_equal(in.slaves[1].port, 7003);
    assert_string_equal(in.slaves[1].state, "wait_bgsave");
    assert_int_equal(in.link, LINK_NONE);

    assert_int_equal(info_parse_replication(info_replica, strlen(info_replica), &in), 0);
    assert_int_equal(in.role, ROLE_REPLICA);
    assert_string_equal(in.master_host, "127.0.0.1");
    assert_int_equal(in.master_port, 7001);
    assert_int_equal(in.link, LINK_UP);
    assert_int_equal(in.offset, 9870);       /* slave_repl_offset wins */

    const char down[] = "role:slave\nmaster_host:h\nmaster_port:1\nmaster_link_status:down\n";
    assert_int_equal(info_parse_replication(down, strlen(down), &in), 0);
    assert_int_equal(in.link, LINK_DOWN);

    const char junk[] = "hello\r\nworld:1\r\n";
    assert_int_equal(info_parse_replication(junk, strlen(junk), &in), -1);
    /* Truncated buffer without final newline. */
    const char cut[] = "role:master\r\nmaster_repl_offset:12";
    assert_int_equal(info_parse_replication(cut, strlen(cut), &in), 0);
    assert_int_equal(in.offset, 12);
}

/* The monitor's one INFO call carries four sections. */
static void test_info_parse_sections(void **state)
{
    (void)state;
    const char text[] =
        "# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789abcdef0123456789abcdef01234567\r\n"
        "uptime_in_seconds:42\r\n\r\n# Persistence\r\nloading:1\r\n\r\n"
        "# Stats\r\nsync_full:3\r\nsync_partial_ok:7\r\n\r\n"
        "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n"
        "master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\n"
        "master_link_down_since_seconds:5\r\nslave_priority:0\r\n"
        "master_failover_state:waiting-for-sync\r\n"
        "master_replid:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        "slave_repl_offset:100\r\nkvfleet_fenced:1\r\nkvfleet_fence_reason:start\r\n";
    struct info_repl in;
    assert_int_equal(info_parse_replication(text, strlen(text), &in), 0);
    assert_string_equal(in.run_id, "0123456789abcdef0123456789abcdef01234567");
    assert_int_equal(in.uptime_s, 42);
    assert_int_equal(in.loading, 1);
    assert_int_equal(in.sync_full, 3);
    assert_int_equal(in.link, LINK_DOWN);
    assert_int_equal(in.link_down_since_s, 5);
    assert_int_equal(in.replica_priority, 0);
    assert_int_equal(in.failover_state, 1);
    assert_string_equal(in.replid, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(in.fence_known, 1);
    assert_int_equal(in.fenced, 1);
    assert_int_equal(in.offset, 100);
    /* A node without the kvfleet fields (redis-server) is not fenced. */
    assert_int_equal(info_parse_replication(info_replica, strlen(info_replica), &in), 0);
    assert_int_equal(in.fence_known, 0);
    assert_int_equal(in.fenced, 0);
    assert_int_equal(in.replica_priority, 100);
    assert_int_equal(in.sync_full, -1);
    assert_string_equal(in.run_id, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_parse_sections),
        cmocka_unit_test(test_lag_bytes),
        cmocka_unit_test(test_lag_ms),
        cmocka_unit_test(test_cluster_healthy_and_degraded),
        cmocka_unit_test(test_cluster_failing),
        cmocka_unit_test(test_info_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
