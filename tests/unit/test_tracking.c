/* test_tracking: CLIENT TRACKING through the command dispatcher, on fake
 * clients (no sockets): the table's bookkeeping, when an invalidation is
 * sent and to whom, held invalidations after the causing command's reply,
 * OPTIN's one-command scope, BCAST batches at before-sleep, one null per
 * flush, and tracking-table-max-keys. Reply bytes are those redis-server
 * 7.0.15 sends (tests/e2e/compat/tracking.txt compares them live). The
 * REDIRECT paths need connected clients: tests/e2e/test_engine_tracking.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "tracking.h"

#define PUSH_KEY(len, k) ">2\r\n$10\r\ninvalidate\r\n*1\r\n$" #len "\r\n" k "\r\n"
#define PUSH_NULL ">2\r\n$10\r\ninvalidate\r\n_\r\n"

typedef struct trk_env {
    srv *s;
    client *a;   /* tracking, RESP3 */
    client *b;   /* makes changes */
} trk_env;

#define EXPECT(c, cmd, reply) assert_true(h_expect((c), (cmd), (reply)))

static int trk_setup(void **state)
{
    trk_env *e = calloc(1, sizeof(*e));
    e->s = h_srv_new();
    e->a = h_client_new(e->s);
    e->b = h_client_new(e->s);
    free(h_run(e->a, "HELLO 3"));
    *state = e;
    return 0;
}

static int trk_teardown(void **state)
{
    trk_env *e = *state;
    h_client_free(e->a);
    h_client_free(e->b);
    h_srv_free(e->s);
    free(e);
    return 0;
}

static void expect_output(client *c, const char *expected)
{
    char *got = h_output(c);
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "    expected: %s\n    got:      %s\n", expected, got);
    assert_string_equal(got, expected);
    free(got);
}

static void test_default_mode(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on", "+OK\r\n");
    assert_int_equal(tracking_clients(e->s), 1);
    EXPECT(e->a, "MGET k nokey", "*2\r\n_\r\n_\r\n");
    assert_int_equal(tracking_total_keys(e->s), 2);
    assert_int_equal(tracking_total_items(e->s), 2);
    EXPECT(e->b, "SET k v", "+OK\r\n");
    expect_output(e->a, PUSH_KEY(1, "k"));
    assert_int_equal(tracking_total_keys(e->s), 1);
    /* Once per read: the key was forgotten. */
    EXPECT(e->b, "SET k v2", "+OK\r\n");
    expect_output(e->a, "");
    /* Writes are not reads. */
    EXPECT(e->a, "SET w 1", "+OK\r\n");
    assert_int_equal(tracking_total_keys(e->s), 1);
}

static void test_own_change_follows_reply(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on", "+OK\r\n");
    EXPECT(e->a, "GET k", "_\r\n");
    EXPECT(e->a, "SET k v", "+OK\r\n" PUSH_KEY(1, "k"));
    EXPECT(e->a, "GET t", "_\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "INCR t", "+QUEUED\r\n");
    EXPECT(e->a, "GET t", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*2\r\n:1\r\n$1\r\n1\r\n" PUSH_KEY(1, "t"));
}

static void test_noloop(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on NOLOOP", "+OK\r\n");
    EXPECT(e->a, "MGET x y", "*2\r\n_\r\n_\r\n");
    EXPECT(e->a, "SET x 1", "+OK\r\n");
    /* Skipped, but forgotten all the same. */
    assert_int_equal(tracking_total_keys(e->s), 1);
    EXPECT(e->b, "SET x 2", "+OK\r\n");
    EXPECT(e->b, "SET y 2", "+OK\r\n");
    expect_output(e->a, PUSH_KEY(1, "y"));
}

static void test_optin_scope(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on OPTIN", "+OK\r\n");
    EXPECT(e->a, "GET k1", "_\r\n");
    assert_int_equal(tracking_total_keys(e->s), 0);
    EXPECT(e->a, "CLIENT CACHING yes", "+OK\r\n");
    /* CLIENT's own subcommands do not use the flag up. */
    EXPECT(e->a, "CLIENT GETREDIR", ":0\r\n");
    EXPECT(e->a, "GET k2", "_\r\n");
    EXPECT(e->a, "GET k3", "_\r\n");
    assert_int_equal(tracking_total_keys(e->s), 1);
    EXPECT(e->b, "MSET k1 a k2 b k3 c", "+OK\r\n");
    expect_output(e->a, PUSH_KEY(2, "k2"));
}

static void test_resp2_without_redirect_gets_nothing(void **state)
{
    trk_env *e = *state;
    EXPECT(e->b, "CLIENT TRACKING on", "+OK\r\n");
    EXPECT(e->b, "GET k", "$-1\r\n");
    EXPECT(e->a, "SET k v", "+OK\r\n");
    expect_output(e->b, "");
    assert_int_equal(tracking_total_keys(e->s), 0);
}

static void test_bcast_batches(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on BCAST PREFIX u: PREFIX i:", "+OK\r\n");
    assert_int_equal(tracking_total_prefixes(e->s), 2);
    EXPECT(e->b, "MSET u:2 x u:1 y other z", "+OK\r\n");
    EXPECT(e->b, "SET i:1 x", "+OK\r\n");
    expect_output(e->a, "");
    tracking_before_sleep(e->s);
    expect_output(e->a, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\ni:1\r\n"
                        ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nu:1\r\n$3\r\nu:2\r\n");
    tracking_before_sleep(e->s);
    expect_output(e->a, "");
    EXPECT(e->a, "CLIENT TRACKING off", "+OK\r\n");
    assert_int_equal(tracking_total_prefixes(e->s), 0);
}

static void test_flush_is_one_null(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on", "+OK\r\n");
    EXPECT(e->a, "GET k", "_\r\n");
    /* FLUSHALL empties every db: still one message. */
    EXPECT(e->b, "FLUSHALL", "+OK\r\n");
    expect_output(e->a, PUSH_NULL);
    assert_int_equal(tracking_total_keys(e->s), 0);
    EXPECT(e->b, "FLUSHDB", "+OK\r\n");
    expect_output(e->a, PUSH_NULL);
    EXPECT(e->a, "FLUSHDB", "+OK\r\n" PUSH_NULL);
}

static void test_table_limit(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on", "+OK\r\n");
    EXPECT(e->a, "MGET k1 k2 k3 k4", "*4\r\n_\r\n_\r\n_\r\n_\r\n");
    EXPECT(e->b, "CONFIG SET tracking-table-max-keys 2", "+OK\r\n");
    /* Checked before each command, as Redis does. */
    EXPECT(e->b, "PING", "+PONG\r\n");
    assert_int_equal(tracking_total_keys(e->s), 2);
    char *got = h_output(e->a);
    int pushes = 0;
    for (const char *p = got; (p = strstr(p, "invalidate")) != NULL; p++)
        pushes++;
    free(got);
    assert_int_equal(pushes, 2);
    EXPECT(e->b, "CONFIG SET tracking-table-max-keys 0", "+OK\r\n");
}

static void test_off_reset_and_free(void **state)
{
    trk_env *e = *state;
    EXPECT(e->a, "CLIENT TRACKING on BCAST", "+OK\r\n");
    EXPECT(e->a, "RESET", "+RESET\r\n");
    assert_int_equal(tracking_clients(e->s), 0);
    assert_int_equal(tracking_total_prefixes(e->s), 0);
    EXPECT(e->b, "CLIENT TRACKING on", "+OK\r\n");
    EXPECT(e->b, "GET k", "$-1\r\n");
    client *gone = e->b;
    e->b = h_client_new(e->s);
    h_client_free(gone);
    assert_int_equal(tracking_clients(e->s), 0);
    /* The table keeps the id (no clean-up per client); the next change
     * skips it. */
    EXPECT(e->a, "SET k v", "+OK\r\n");
    assert_int_equal(tracking_total_keys(e->s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_mode, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_own_change_follows_reply, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_noloop, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_optin_scope, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_resp2_without_redirect_gets_nothing, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_bcast_batches, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_flush_is_one_null, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_table_limit, trk_setup, trk_teardown),
        cmocka_unit_test_setup_teardown(test_off_reset_and_free, trk_setup, trk_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
