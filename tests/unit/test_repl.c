/* test_repl: replies of the replication commands on a master without
 * replicas, byte for byte as redis-server 7.0.15 gives them (ROLE, REPLCONF,
 * WAIT, REPLICAOF, FAILOVER errors), the INFO replication layout, and that
 * writes do not move the offset before any replica attached. The protocol
 * paths with real sockets are covered by tests/e2e/test_repl_*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "harness.h"
#include "repl.h"

/* Module hooks (guards, crons) are process-wide: one server for the file. */
static srv *T;
static client *C;

static int setup(void **state)
{
    (void)state;
    char err[256];
    T = h_srv_new();
    assert_int_equal(repl_module_init(T, err, sizeof(err)), 0);
    assert_int_equal(repl_module_init(T, err, sizeof(err)), 0);   /* idempotent */
    C = h_client_new(T);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_client_free(C);
    repl_module_release(T);
    h_srv_free(T);
    return 0;
}

static void expect(const char *cmd, const char *reply)
{
    char *got = h_run(C, cmd);
    assert_string_equal(got, reply);
    free(got);
}

static void test_role_master(void **state)
{
    (void)state;
    expect("ROLE", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
}

static void test_replconf(void **state)
{
    (void)state;
    expect("REPLCONF listening-port 6380", "+OK\r\n");
    expect("REPLCONF capa eof capa psync2", "+OK\r\n");
    expect("REPLCONF foo bar", "-ERR Unrecognized REPLCONF option: foo\r\n");
    expect("REPLCONF listening-port", "-ERR syntax error\r\n");
    expect("REPLCONF listening-port x", "-ERR value is not an integer or out of range\r\n");
    /* ACK and GETACK from a client that is no replica / no master: silence */
    expect("REPLCONF ACK 5", "");
    expect("REPLCONF GETACK *", "");
}

static void test_wait(void **state)
{
    (void)state;
    expect("WAIT 0 0", ":0\r\n");
    expect("WAIT a 0", "-ERR value is not an integer or out of range\r\n");
    expect("WAIT 0 x", "-ERR timeout is not an integer or out of range\r\n");
    expect("WAIT 0 -1", "-ERR timeout is negative\r\n");
}

static void test_replicaof_errors(void **state)
{
    (void)state;
    expect("REPLICAOF 127.0.0.1 abc", "-ERR Invalid master port\r\n");
    expect("REPLICAOF 127.0.0.1 70000", "-ERR Invalid master port\r\n");
    expect("REPLICAOF NO ONE", "+OK\r\n");
    expect("SLAVEOF no one", "+OK\r\n");
}

static void test_failover_errors(void **state)
{
    (void)state;
    expect("FAILOVER", "-ERR FAILOVER requires connected replicas.\r\n");
    expect("FAILOVER ABORT", "-ERR No failover in progress.\r\n");
    expect("FAILOVER foo", "-ERR syntax error\r\n");
    expect("FAILOVER TIMEOUT 0", "-ERR FAILOVER timeout must be greater than 0\r\n");
    expect("FAILOVER TIMEOUT x", "-ERR value is not an integer or out of range\r\n");
    expect("FAILOVER TO h x", "-ERR value is not an integer or out of range\r\n");
}

static void test_info_and_offset(void **state)
{
    (void)state;
    free(h_run(C, "SET k v"));
    kstr info = srv_info(T, "replication", kstr_empty(256));
    assert_non_null(strstr(info, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
                                 "master_failover_state:no-failover\r\nmaster_replid:"));
    /* No backlog before the first replica: writes are not counted. */
    assert_non_null(strstr(info, "\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
                                 "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n"
                                 "repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
                                 "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n"));
    /* Without `controller` the section is redis-server's, no kvfleet fence fields. */
    assert_null(strstr(info, "kvfleet_"));
    kstr_free(info);
    char id[41];
    long long off = -1;
    assert_int_equal(repl_current_position(T, id, &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(strlen(id), 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_master),
        cmocka_unit_test(test_replconf),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_replicaof_errors),
        cmocka_unit_test(test_failover_errors),
        cmocka_unit_test(test_info_and_offset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
