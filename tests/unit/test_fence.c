/* test_fence: the fence of a master that may have been failed over
 * (agent/fence.c). With `controller` set, a master starts fenced: writes
 * (in MULTI/EXEC too) get the exact -READONLY text, reads work, PSYNC/SYNC
 * get -NOMASTERLINK, FAILOVER is refused, and only REPLICAOF NO ONE or
 * REPLICAOF host port lifts it. A stall (wall time passed, CPU time did not)
 * fences a confirmed master; CPU-bound time does not. Without `controller`
 * nothing changes: no fence, no stall detection, INFO without the fields.
 * The SIGSTOP paths with real sockets are in tests/e2e/test_agent_fence.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>
#include "harness.h"
#include "fence.h"
#include "repl.h"
#include "util.h"

#define CTL "controller http://127.0.0.1:1\n"
#define ERR_FENCED_WRITE "-READONLY You can't write against a fenced master: kvfleet is waiting for its controller to confirm this node as master\r\n"
#define ERR_FENCED_SYNC "-NOMASTERLINK Can't SYNC while fenced: waiting for the kvfleet controller\r\n"

static void expect_on(client *c, const char *cmd, const char *reply)
{
    char *got = h_run(c, cmd);
    assert_string_equal(got, reply);
    free(got);
}

static kstr info_repl(srv *s)
{
    return srv_info(s, "replication", kstr_empty(256));
}

static int64_t cpu_us_now(void)
{
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Pretend the last cron tick was `ago_ms` ago and the process has used
 * `cpu_ms` of CPU since. */
static void move_anchor(srv *s, int64_t ago_ms, int64_t cpu_ms)
{
    s->fence.anchor_ticks = util_ticks() - util_us_to_ticks(ago_ms * 1000);
    s->fence.anchor_cpu_us = cpu_us_now() - cpu_ms * 1000;
}

/* ---- the rule --------------------------------------------------------- */

static void test_stall_rule(void **state)
{
    (void)state;
    assert_true(fence_is_stall(1500000, 0, 600000));        /* stopped 1.5 s */
    assert_true(fence_is_stall(600000, 299999, 600000));    /* ran less than half */
    assert_false(fence_is_stall(599999, 0, 600000));        /* short of the threshold */
    assert_false(fence_is_stall(800000, 700000, 600000));   /* a CPU-bound command */
    assert_false(fence_is_stall(600000, 300000, 600000));   /* exactly half: busy */
    assert_false(fence_is_stall(5000000, 0, 0));            /* detection off */
}

/* ---- without `controller`: nothing changes ---------------------------- */

static void test_no_controller_no_fence(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_int_equal(s->fence.fenced, 0);
    assert_int_equal(s->fence.stall_ticks, 0);
    expect_on(c, "SET k v", "+OK\r\n");
    /* A long gap without CPU is not looked at. */
    move_anchor(s, 5000, 0);
    assert_false(fence_stall_due(&s->fence));
    fence_check_stall(s);
    expect_on(c, "SET k v2", "+OK\r\n");
    kstr info = info_repl(s);
    assert_null(strstr(info, "kvfleet_"));
    size_t n = kstr_len(info);
    const char *tail = "repl_backlog_histlen:0\r\n";
    assert_true(n > strlen(tail));
    assert_string_equal(info + n - strlen(tail), tail);
    kstr_free(info);
    h_client_free(c);
    h_srv_free(s);
}

static void test_config_get_set(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    expect_on(c, "CONFIG GET fence-on-start", "*2\r\n$14\r\nfence-on-start\r\n$3\r\nyes\r\n");
    expect_on(c, "CONFIG GET fence-after-stall-ms", "*2\r\n$20\r\nfence-after-stall-ms\r\n$3\r\n500\r\n");
    expect_on(c, "CONFIG SET fence-on-start no fence-after-stall-ms 250", "+OK\r\n");
    expect_on(c, "CONFIG GET fence-on-start", "*2\r\n$14\r\nfence-on-start\r\n$2\r\nno\r\n");
    expect_on(c, "CONFIG GET fence-after-stall-ms", "*2\r\n$20\r\nfence-after-stall-ms\r\n$3\r\n250\r\n");
    expect_on(c, "CONFIG SET fence-after-stall-ms -1",
              "-ERR CONFIG SET failed (possibly related to argument 'fence-after-stall-ms') - argument must be between 0 and 2147483647 inclusive\r\n");
    expect_on(c, "CONFIG SET fence-on-start maybe",
              "-ERR CONFIG SET failed (possibly related to argument 'fence-on-start') - argument must be 'yes' or 'no'\r\n");
    h_client_free(c);
    h_srv_free(s);
}

static void test_start_rules(void **state)
{
    (void)state;
    /* fence-on-start no: a master starts unfenced, INFO still says so. */
    srv *s = h_srv_new_with(CTL "fence-on-start no\n");
    assert_int_equal(s->fence.fenced, 0);
    assert_int_not_equal(s->fence.stall_ticks, 0);
    kstr info = info_repl(s);
    assert_non_null(strstr(info, "repl_backlog_histlen:0\r\nkvfleet_fenced:0\r\nkvfleet_fence_reason:none\r\n"));
    kstr_free(info);
    h_srv_free(s);
    /* A node configured as a replica is never fenced. */
    s = h_srv_new_with(CTL "replicaof 127.0.0.1 1\n");
    assert_int_equal(s->fence.fenced, 0);
    h_srv_free(s);
    /* fence-after-stall-ms 0: no stall detection. */
    s = h_srv_new_with(CTL "fence-after-stall-ms 0\n");
    assert_int_equal(s->fence.fenced, 1);
    assert_int_equal(s->fence.stall_ticks, 0);
    h_srv_free(s);
}

/* ---- with `controller`: one server with the replication module (its
 * guard and hooks are process-wide, so one for the group) ---------------- */

static srv *T;
static client *C;

static int setup_ctl(void **state)
{
    (void)state;
    char err[256];
    T = h_srv_new_with(CTL);
    assert_int_equal(repl_module_init(T, err, sizeof(err)), 0);
    C = h_client_new(T);
    return 0;
}

static int teardown_ctl(void **state)
{
    (void)state;
    h_client_free(C);
    repl_module_release(T);
    h_srv_free(T);
    return 0;
}

static void expect(const char *cmd, const char *reply)
{
    expect_on(C, cmd, reply);
}

static void expect_info_fields(int fenced, const char *reason)
{
    char want[128];
    snprintf(want, sizeof(want), "repl_backlog_histlen:0\r\nkvfleet_fenced:%d\r\nkvfleet_fence_reason:%s\r\n",
             fenced, reason);
    kstr info = info_repl(T);
    size_t n = kstr_len(info);
    assert_true(n > strlen(want));
    assert_string_equal(info + n - strlen(want), want);   /* the section ends with them */
    kstr_free(info);
    /* INFO (default) carries them too, at the end of # Replication. */
    info = srv_info(T, "default", kstr_empty(1024));
    assert_non_null(strstr(info, want));
    kstr_free(info);
}

static void test_starts_fenced(void **state)
{
    (void)state;
    assert_int_equal(T->fence.fenced, 1);
    assert_int_equal(T->fence.reason, FENCE_REASON_START);
    expect_info_fields(1, "start");
}

static void test_fenced_refuses_writes(void **state)
{
    (void)state;
    expect("SET k v", ERR_FENCED_WRITE);
    expect("DEL k", ERR_FENCED_WRITE);
    expect("FLUSHALL", ERR_FENCED_WRITE);
    expect("GET k", "$-1\r\n");
    expect("EXISTS k", ":0\r\n");
    expect("PING", "+PONG\r\n");
    expect("ROLE", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    /* Writes inside MULTI are refused when queued, and EXEC then fails as
     * on a read-only replica. */
    expect("MULTI", "+OK\r\n");
    expect("SET k v", ERR_FENCED_WRITE);
    expect("GET k", "+QUEUED\r\n");
    expect("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    /* A read-only transaction runs. */
    expect("MULTI", "+OK\r\n");
    expect("GET k", "+QUEUED\r\n");
    expect("EXEC", "*1\r\n$-1\r\n");
    /* The refusal is counted as a READONLY error. */
    char *err = h_run(C, "INFO errorstats");
    assert_non_null(strstr(err, "errorstat_READONLY:count="));
    free(err);
}

static void test_fenced_refuses_sync(void **state)
{
    (void)state;
    client *r = h_client_new(T);
    expect_on(r, "REPLCONF listening-port 6390", "+OK\r\n");
    expect_on(r, "PSYNC ? -1", ERR_FENCED_SYNC);
    expect_on(r, "SYNC", ERR_FENCED_SYNC);
    assert_int_equal(T->stats.sync_full, 0);
    h_client_free(r);
    expect("FAILOVER", "-ERR FAILOVER is not valid while this master is fenced: waiting for the kvfleet controller\r\n");
}

static void test_config_set_does_not_unfence(void **state)
{
    (void)state;
    expect("CONFIG SET fence-on-start no", "+OK\r\n");
    expect("CONFIG SET fence-after-stall-ms 0", "+OK\r\n");
    expect("SET k v", ERR_FENCED_WRITE);
    assert_int_equal(T->fence.fenced, 1);
    expect("CONFIG SET fence-on-start yes fence-after-stall-ms 500", "+OK\r\n");
}

static void test_replicaof_no_one_unfences(void **state)
{
    (void)state;
    expect("REPLICAOF NO ONE", "+OK\r\n");
    assert_int_equal(T->fence.fenced, 0);
    expect_info_fields(0, "none");
    expect("SET k v", "+OK\r\n");
    expect("GET k", "$1\r\nv\r\n");
    expect("SLAVEOF NO ONE", "+OK\r\n");   /* confirming an unfenced master: no-op */
    /* SLAVEOF NO ONE confirms too. */
    fence_engage(T, FENCE_REASON_STALL, "test");
    expect("SET k v", ERR_FENCED_WRITE);
    expect("SLAVEOF no one", "+OK\r\n");
    expect("SET k v", "+OK\r\n");
}

/* A transaction queued before the fence and run after it: EXEC itself is
 * refused, as Redis refuses it on a node that turned read-only meanwhile. */
static void test_exec_after_fence(void **state)
{
    (void)state;
    expect("MULTI", "+OK\r\n");
    expect("SET k queued", "+QUEUED\r\n");
    fence_engage(T, FENCE_REASON_STALL, "test");
    expect("EXEC", "-EXECABORT Transaction discarded because of: READONLY You can't write against a fenced "
                   "master: kvfleet is waiting for its controller to confirm this node as master\r\n");
    expect("GET k", "$1\r\nv\r\n");
    expect("REPLICAOF NO ONE", "+OK\r\n");
}

static void test_stall_fences(void **state)
{
    (void)state;
    assert_int_equal(T->fence.fenced, 0);
    assert_int_not_equal(T->fence.stall_ticks, 0);
    /* A recent cron tick: nothing to look at (the read path's cheap test). */
    fence_configure(T);
    assert_false(fence_stall_due(&T->fence));
    /* Two seconds without CPU: a stop. */
    move_anchor(T, 2000, 0);
    assert_true(fence_stall_due(&T->fence));
    fence_check_stall(T);
    assert_int_equal(T->fence.fenced, 1);
    assert_int_equal(T->fence.reason, FENCE_REASON_STALL);
    assert_false(fence_stall_due(&T->fence));   /* re-anchored */
    expect_info_fields(1, "stall");
    expect("SET k v", ERR_FENCED_WRITE);
    expect("REPLICAOF NO ONE", "+OK\r\n");
    expect("SET k v", "+OK\r\n");
}

static void test_busy_is_not_a_stall(void **state)
{
    (void)state;
    /* Two seconds of which 1.9 on the CPU: a long command, not a stop. */
    move_anchor(T, 2000, 1900);
    fence_check_stall(T);
    assert_int_equal(T->fence.fenced, 0);
    /* The cron checks the same way. */
    move_anchor(T, 2000, 0);
    fence_cron(T);
    assert_int_equal(T->fence.fenced, 1);
    expect("REPLICAOF NO ONE", "+OK\r\n");
    /* fence-after-stall-ms 0 turns detection off. */
    expect("CONFIG SET fence-after-stall-ms 0", "+OK\r\n");
    move_anchor(T, 5000, 0);
    assert_false(fence_stall_due(&T->fence));
    fence_cron(T);
    assert_int_equal(T->fence.fenced, 0);
    expect("CONFIG SET fence-after-stall-ms 500", "+OK\r\n");
    assert_int_not_equal(T->fence.stall_ticks, 0);
}

/* Last: leaves the server a replica (then a master again). */
static void test_replicaof_host_unfences(void **state)
{
    (void)state;
    fence_engage(T, FENCE_REASON_STALL, "test");
    expect("REPLICAOF 127.0.0.1 1", "+OK\r\n");
    assert_int_equal(T->is_replica, 1);
    assert_int_equal(T->fence.fenced, 0);
    /* A replica is never fenced, whatever happens to it. */
    fence_engage(T, FENCE_REASON_STALL, "test");
    assert_int_equal(T->fence.fenced, 0);
    move_anchor(T, 2000, 0);
    fence_check_stall(T);
    assert_int_equal(T->fence.fenced, 0);
    kstr info = info_repl(T);
    assert_non_null(strstr(info, "role:slave\r\n"));
    assert_non_null(strstr(info, "kvfleet_fenced:0\r\nkvfleet_fence_reason:none\r\n"));
    kstr_free(info);
    expect("REPLICAOF NO ONE", "+OK\r\n");
    assert_int_equal(T->is_replica, 0);
    assert_int_equal(T->fence.fenced, 0);
    expect("SET k v", "+OK\r\n");
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_stall_rule),
        cmocka_unit_test(test_no_controller_no_fence),
        cmocka_unit_test(test_config_get_set),
        cmocka_unit_test(test_start_rules),
    };
    const struct CMUnitTest with_controller[] = {
        cmocka_unit_test(test_starts_fenced),
        cmocka_unit_test(test_fenced_refuses_writes),
        cmocka_unit_test(test_fenced_refuses_sync),
        cmocka_unit_test(test_config_set_does_not_unfence),
        cmocka_unit_test(test_replicaof_no_one_unfences),
        cmocka_unit_test(test_exec_after_fence),
        cmocka_unit_test(test_stall_fences),
        cmocka_unit_test(test_busy_is_not_a_stall),
        cmocka_unit_test(test_replicaof_host_unfences),
    };
    int failed = cmocka_run_group_tests(plain, NULL, NULL);
    failed += cmocka_run_group_tests(with_controller, setup_ctl, teardown_ctl);
    return failed;
}
