/* test_pubsub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE / PUBLISH / PUBSUB through
 * the command dispatcher. Every expected byte string was taken from
 * redis-server 7.0.15 answering the same sequence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "pubsub.h"

typedef struct ps_env {
    srv *s;
    client *a;
    client *b;
    client *p;   /* publisher */
} ps_env;

static int ps_setup(void **state)
{
    ps_env *e = calloc(1, sizeof(*e));
    e->s = h_srv_new();
    e->a = h_client_new(e->s);
    e->b = h_client_new(e->s);
    e->p = h_client_new(e->s);
    *state = e;
    return 0;
}

static int ps_teardown(void **state)
{
    ps_env *e = *state;
    h_client_free(e->a);
    h_client_free(e->b);
    h_client_free(e->p);
    h_srv_free(e->s);
    free(e);
    return 0;
}

#define EXPECT(c, cmd, reply) assert_true(h_expect((c), (cmd), (reply)))

static void expect_output(client *c, const char *expected)
{
    char *got = h_output(c);
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "    expected: %s\n    got:      %s\n", expected, got);
    assert_string_equal(got, expected);
    free(got);
}

static void test_subscribe_replies(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "SUBSCRIBE a b a",
           "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
           "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
           "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n");
    EXPECT(e->a, "PSUBSCRIBE p* a",
           "*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n"
           "*3\r\n$10\r\npsubscribe\r\n$1\r\na\r\n:4\r\n");
    /* Shard subscriptions are counted on their own. */
    EXPECT(e->a, "SSUBSCRIBE s1 s2",
           "*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n"
           "*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n");
    assert_true(e->a->flags & CLIENT_PUBSUB);
    assert_int_equal(e->s->pubsub_clients, 1);
    assert_int_equal(pubsub_client_count(e->a), 6);
}

static void test_subscribed_context(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "SUBSCRIBE a", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    EXPECT(e->a, "GET x",
           "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
           "RESET are allowed in this context\r\n");
    EXPECT(e->a, "PING", "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    EXPECT(e->a, "PING hello", "*2\r\n$4\r\npong\r\n$5\r\nhello\r\n");
    EXPECT(e->a, "UNSUBSCRIBE", "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n");
    assert_false(e->a->flags & CLIENT_PUBSUB);
    assert_int_equal(e->s->pubsub_clients, 0);
    EXPECT(e->a, "PING", "+PONG\r\n");
}

static void test_publish_message(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "SUBSCRIBE news", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    EXPECT(e->b, "PSUBSCRIBE n*", "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n");
    EXPECT(e->p, "PUBLISH news hi", ":2\r\n");
    expect_output(e->a, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    expect_output(e->b, "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    EXPECT(e->p, "PUBLISH other x", ":0\r\n");
    expect_output(e->a, "");
    expect_output(e->b, "");
    /* Subscribed to the channel and a matching pattern: two deliveries. */
    EXPECT(e->a, "PSUBSCRIBE ne?s", "*3\r\n$10\r\npsubscribe\r\n$4\r\nne?s\r\n:2\r\n");
    EXPECT(e->p, "PUBLISH news 2", ":3\r\n");
    char *got = h_output(e->a);
    assert_non_null(strstr(got, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\n2\r\n"));
    assert_non_null(strstr(got, "*4\r\n$8\r\npmessage\r\n$4\r\nne?s\r\n$4\r\nnews\r\n$1\r\n2\r\n"));
    free(got);
    expect_output(e->b, "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$1\r\n2\r\n");
}

static void test_shard_channels(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "SUBSCRIBE news", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    EXPECT(e->b, "SSUBSCRIBE news", "*3\r\n$10\r\nssubscribe\r\n$4\r\nnews\r\n:1\r\n");
    EXPECT(e->p, "SPUBLISH news yo", ":1\r\n");
    expect_output(e->a, "");
    expect_output(e->b, "*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$2\r\nyo\r\n");
    EXPECT(e->p, "PUBLISH news hi", ":1\r\n");
    expect_output(e->b, "");
    expect_output(e->a, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    EXPECT(e->p, "PUBSUB SHARDCHANNELS", "*1\r\n$4\r\nnews\r\n");
    EXPECT(e->p, "PUBSUB SHARDNUMSUB news x", "*4\r\n$4\r\nnews\r\n:1\r\n$1\r\nx\r\n:0\r\n");
    assert_int_equal(pubsub_count_channels(e->s), 1);
    assert_int_equal(pubsub_count_shard_channels(e->s), 1);
    EXPECT(e->a, "UNSUBSCRIBE", "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n");
    assert_int_equal(pubsub_count_channels(e->s), 0);
    EXPECT(e->p, "PUBSUB CHANNELS", "*0\r\n");
    EXPECT(e->p, "PUBSUB SHARDCHANNELS", "*1\r\n$4\r\nnews\r\n");
    /* Shard subscriptions alone keep the subscribed context. */
    EXPECT(e->b, "SUBSCRIBE a", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    EXPECT(e->b, "UNSUBSCRIBE", "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n");
    EXPECT(e->b, "PING", "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    EXPECT(e->b, "SUNSUBSCRIBE", "*3\r\n$12\r\nsunsubscribe\r\n$4\r\nnews\r\n:0\r\n");
    EXPECT(e->b, "PING", "+PONG\r\n");
    assert_int_equal(e->s->pubsub_clients, 0);
}

static void test_unsubscribe_edge_cases(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "UNSUBSCRIBE", "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    EXPECT(e->a, "PUNSUBSCRIBE", "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    EXPECT(e->a, "SUNSUBSCRIBE", "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    EXPECT(e->a, "UNSUBSCRIBE a b",
           "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
           "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n");
    assert_false(e->a->flags & CLIENT_PUBSUB);
    EXPECT(e->a, "SUBSCRIBE a", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    EXPECT(e->a, "PUNSUBSCRIBE", "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:1\r\n");
    EXPECT(e->a, "UNSUBSCRIBE zz", "*3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:1\r\n");
}

/* PUNSUBSCRIBE without arguments goes in subscription order in 7.0. */
static void test_punsubscribe_all_order(void **state)
{
    ps_env *e = *state;
    char *r = h_run(e->a, "PSUBSCRIBE p1 p2 p3 p4 p5 p6 p7 p8 p9 q1 q2 q3 zz aa");
    free(r);
    EXPECT(e->b, "PSUBSCRIBE p1", "*3\r\n$10\r\npsubscribe\r\n$2\r\np1\r\n:1\r\n");
    EXPECT(e->p, "PUBSUB NUMPAT", ":14\r\n");
    const char *names[] = { "p1", "p2", "p3", "p4", "p5", "p6", "p7",
                            "p8", "p9", "q1", "q2", "q3", "zz", "aa" };
    char expected[2048];
    size_t used = 0;
    for (int i = 0; i < 14; i++)
        used += (size_t)snprintf(expected + used, sizeof(expected) - used,
                                 "*3\r\n$12\r\npunsubscribe\r\n$2\r\n%s\r\n:%d\r\n", names[i],
                                 13 - i);
    EXPECT(e->a, "PUNSUBSCRIBE", expected);
    EXPECT(e->p, "PUBSUB NUMPAT", ":1\r\n");
}

static void test_pubsub_introspection(void **state)
{
    ps_env *e = *state;
    EXPECT(e->p, "PUBSUB CHANNELS", "*0\r\n");
    EXPECT(e->p, "PUBSUB NUMSUB", "*0\r\n");
    EXPECT(e->p, "PUBSUB NUMPAT", ":0\r\n");
    EXPECT(e->a, "SUBSCRIBE news sport", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
                                         "*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n");
    EXPECT(e->b, "SUBSCRIBE news", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    EXPECT(e->b, "PSUBSCRIBE n*", "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n");
    EXPECT(e->p, "PUBSUB NUMSUB news sport x",
           "*6\r\n$4\r\nnews\r\n:2\r\n$5\r\nsport\r\n:1\r\n$1\r\nx\r\n:0\r\n");
    EXPECT(e->p, "PUBSUB NUMPAT", ":1\r\n");
    EXPECT(e->p, "PUBSUB CHANNELS n*", "*1\r\n$4\r\nnews\r\n");
    EXPECT(e->p, "PUBSUB channels s[p]ort", "*1\r\n$5\r\nsport\r\n");
    char *all = h_run(e->p, "PUBSUB CHANNELS");
    assert_true(strcmp(all, "*2\r\n$4\r\nnews\r\n$5\r\nsport\r\n") == 0 ||
                strcmp(all, "*2\r\n$5\r\nsport\r\n$4\r\nnews\r\n") == 0);
    free(all);
    assert_int_equal(pubsub_count_patterns(e->s), 1);
    /* A freed subscriber leaves nothing behind. */
    h_client_free(e->b);
    e->b = h_client_new(e->s);
    EXPECT(e->p, "PUBSUB NUMSUB news", "*2\r\n$4\r\nnews\r\n:1\r\n");
    EXPECT(e->p, "PUBSUB NUMPAT", ":0\r\n");
    assert_int_equal(e->s->pubsub_clients, 1);
}

static void test_pubsub_errors_and_help(void **state)
{
    ps_env *e = *state;
    EXPECT(e->p, "PUBSUB", "-ERR wrong number of arguments for 'pubsub' command\r\n");
    EXPECT(e->p, "PUBSUB fOo bar", "-ERR unknown subcommand 'fOo'. Try PUBSUB HELP.\r\n");
    EXPECT(e->p, "PUBSUB NuMpAt x", "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n");
    EXPECT(e->p, "PUBSUB HELP x", "-ERR wrong number of arguments for 'pubsub|help' command\r\n");
    EXPECT(e->p, "PUBSUB channels a b",
           "-ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB "
           "HELP.\r\n");
    EXPECT(e->p, "PUBLISH a", "-ERR wrong number of arguments for 'publish' command\r\n");
    EXPECT(e->p, "SUBSCRIBE", "-ERR wrong number of arguments for 'subscribe' command\r\n");
    EXPECT(e->p, "PUBSUB help",
           "*14\r\n"
           "+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
           "+CHANNELS [<pattern>]\r\n"
           "+    Return the currently active channels matching a <pattern> (default: '*').\r\n"
           "+NUMPAT\r\n"
           "+    Return number of subscriptions to patterns.\r\n"
           "+NUMSUB [<channel> ...]\r\n"
           "+    Return the number of subscribers for the specified channels, excluding\r\n"
           "+    pattern subscriptions(default: no channels).\r\n"
           "+SHARDCHANNELS [<pattern>]\r\n"
           "+    Return the currently active shard level channels matching a <pattern> "
           "(default: '*').\r\n"
           "+SHARDNUMSUB [<shardchannel> ...]\r\n"
           "+    Return the number of subscribers for the specified shard level channel(s)\r\n"
           "+HELP\r\n"
           "+    Prints this help.\r\n");
}

/* Inside EXEC: SUBSCRIBE works (its replies inside the array), SSUBSCRIBE
 * is refused, and a message to oneself lands where it is produced. */
static void test_pubsub_in_multi(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SUBSCRIBE x", "+QUEUED\r\n");
    EXPECT(e->a, "PUBLISH x hello", "+QUEUED\r\n");
    EXPECT(e->a, "SSUBSCRIBE s", "+QUEUED\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC",
           "*4\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n"
           "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$5\r\nhello\r\n:1\r\n"
           "-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
           "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

/* PUBLISH reaches replicas even with no receiver (7.0 forces it). */
static char ps_prop[512];

static void ps_hook(srv *s, int dbid, int argc, const resp_arg *argv)
{
    (void)s;
    size_t used = strlen(ps_prop);
    used += (size_t)snprintf(ps_prop + used, sizeof(ps_prop) - used, "%d:", dbid);
    for (int i = 0; i < argc && used < sizeof(ps_prop); i++)
        used += (size_t)snprintf(ps_prop + used, sizeof(ps_prop) - used, "%s%.*s",
                                 i ? " " : "", (int)argv[i].len, argv[i].ptr);
    if (used < sizeof(ps_prop) - 1)
        strcat(ps_prop, "|");
}

static void test_publish_propagates(void **state)
{
    ps_env *e = *state;
    e->s->propagate = ps_hook;
    ps_prop[0] = '\0';
    EXPECT(e->p, "PUBLISH ch m1", ":0\r\n");
    EXPECT(e->p, "SPUBLISH ch m2", ":0\r\n");
    EXPECT(e->p, "SUBSCRIBE ch", "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_string_equal(ps_prop, "0:PUBLISH ch m1|0:SPUBLISH ch m2|");
    e->s->propagate = NULL;
}

static void test_publish_api(void **state)
{
    ps_env *e = *state;
    EXPECT(e->a, "PSUBSCRIBE __keyspace@0__:*",
           "*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyspace@0__:*\r\n:1\r\n");
    assert_int_equal(pubsub_publish(e->s, "__keyspace@0__:k", 16, "set", 3), 1);
    expect_output(e->a, "*4\r\n$8\r\npmessage\r\n$16\r\n__keyspace@0__:*\r\n"
                        "$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n");
    pubsub_unsubscribe_all(e->a, 1);
    expect_output(e->a, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n"
                        "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
                        "*3\r\n$12\r\npunsubscribe\r\n$16\r\n__keyspace@0__:*\r\n:0\r\n");
    assert_false(e->a->flags & CLIENT_PUBSUB);
}

int main(void)
{
    (void)h_set_time;   /* harness helper this file does not need */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_replies, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_subscribed_context, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_publish_message, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_shard_channels, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_edge_cases, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_punsubscribe_all_order, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_introspection, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_errors_and_help, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_in_multi, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_publish_propagates, ps_setup, ps_teardown),
        cmocka_unit_test_setup_teardown(test_publish_api, ps_setup, ps_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
