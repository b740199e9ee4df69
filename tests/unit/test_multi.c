/* test_multi: MULTI / EXEC / DISCARD / WATCH / UNWATCH through the command
 * dispatcher, reply bytes checked against what redis-server 7.0.15 sends
 * for the same sequence, plus what a transaction propagates to replicas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "multi.h"
#include "reply.h"

#define T0 1700000000000LL

typedef struct mt_env {
    srv *s;
    client *a;
    client *b;
} mt_env;

static int mt_setup(void **state)
{
    mt_env *e = calloc(1, sizeof(*e));
    e->s = h_srv_new();
    e->a = h_client_new(e->s);
    e->b = h_client_new(e->s);
    *state = e;
    return 0;
}

static int mt_teardown(void **state)
{
    mt_env *e = *state;
    h_client_free(e->a);
    h_client_free(e->b);
    h_srv_free(e->s);
    free(e);
    return 0;
}

#define EXPECT(c, cmd, reply) assert_true(h_expect((c), (cmd), (reply)))

static void test_queue_and_exec(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET a 1", "+QUEUED\r\n");
    EXPECT(e->a, "INCR a", "+QUEUED\r\n");
    EXPECT(e->a, "GET a", "+QUEUED\r\n");
    /* Nothing ran yet: another client still sees no key. */
    EXPECT(e->b, "GET a", "$-1\r\n");
    assert_int_equal(e->a->mstate.count, 3);
    EXPECT(e->a, "EXEC", "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n");
    assert_false(e->a->flags & CLIENT_MULTI);
    assert_int_equal(e->a->mstate.count, 0);
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "EXEC", "*0\r\n");
}

/* Errors at run time stay inside the array; the other commands still run. */
static void test_exec_runtime_errors(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "SET s x", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET t 1", "+QUEUED\r\n");
    EXPECT(e->a, "LPUSH s y", "+QUEUED\r\n");
    EXPECT(e->a, "INCR s", "+QUEUED\r\n");
    EXPECT(e->a, "GET s", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC",
           "*4\r\n+OK\r\n"
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
           "-ERR value is not an integer or out of range\r\n"
           "$1\r\nx\r\n");
    EXPECT(e->a, "GET t", "$1\r\n1\r\n");
}

static void test_execabort(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n");
    EXPECT(e->a, "SET a", "-ERR wrong number of arguments for 'set' command\r\n");
    EXPECT(e->a, "SET a b", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    EXPECT(e->a, "GET a", "$-1\r\n");
    EXPECT(e->a, "EXEC", "-ERR EXEC without MULTI\r\n");
}

static void test_state_errors(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "EXEC", "-ERR EXEC without MULTI\r\n");
    EXPECT(e->a, "DISCARD", "-ERR DISCARD without MULTI\r\n");
    EXPECT(e->a, "WATCH", "-ERR wrong number of arguments for 'watch' command\r\n");
    /* Neither a nested MULTI nor WATCH inside MULTI dooms the transaction. */
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "MULTI", "-ERR MULTI calls can not be nested\r\n");
    EXPECT(e->a, "WATCH x", "-ERR WATCH inside MULTI is not allowed\r\n");
    EXPECT(e->a, "SET a b", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+OK\r\n");
}

static void test_exec_abort_helper(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET a b", "+QUEUED\r\n");
    multi_exec_abort(e->a, "ERR wrong number of arguments for 'exec' command");
    char *out = h_output(e->a);
    assert_string_equal(out, "-EXECABORT Transaction discarded because of: wrong number of "
                             "arguments for 'exec' command\r\n");
    free(out);
    assert_false(e->a->flags & CLIENT_MULTI);
    assert_int_equal(e->a->mstate.count, 0);
    EXPECT(e->a, "MULTI", "+OK\r\n");
    multi_exec_abort(e->a, ERR_OOM);
    out = h_output(e->a);
    assert_string_equal(out, "-EXECABORT Transaction discarded because of: OOM command not "
                             "allowed when used memory > 'maxmemory'.\r\n");
    free(out);
}

static void test_discard(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET a 1", "+QUEUED\r\n");
    EXPECT(e->a, "DISCARD", "+OK\r\n");
    EXPECT(e->a, "GET a", "$-1\r\n");
    EXPECT(e->a, "EXEC", "-ERR EXEC without MULTI\r\n");
    /* DISCARD also forgets WATCHes. */
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "DISCARD", "+OK\r\n");
    EXPECT(e->b, "SET k v", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");
}

static void test_watch_other_client(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "WATCH k other", "+OK\r\n");
    assert_int_equal(e->s->watching_clients, 1);
    EXPECT(e->b, "SET k v", "+OK\r\n");
    assert_true(e->a->flags & CLIENT_DIRTY_CAS);
    /* Dirty: the watches are dropped at once. */
    assert_int_equal(e->s->watching_clients, 0);
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET k mine", "+QUEUED\r\n");
    assert_int_equal(e->a->mstate.count, 0);   /* a doomed transaction keeps nothing */
    EXPECT(e->a, "EXEC", "*-1\r\n");
    EXPECT(e->a, "GET k", "$1\r\nv\r\n");
    assert_false(e->a->flags & CLIENT_DIRTY_CAS);
    /* Untouched watches let EXEC run. */
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "SET unrelated 1", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET k mine", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+OK\r\n");
    assert_int_equal(e->s->watching_clients, 0);
}

static void test_watch_own_write_and_dbs(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->a, "SET k 1", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*-1\r\n");
    /* Same name in another db is another key. */
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "SELECT 1", "+OK\r\n");
    EXPECT(e->b, "SET k 1", "+OK\r\n");
    EXPECT(e->b, "DEL nokey", ":0\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");
}

static void test_unwatch(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "SET k 1", "+OK\r\n");
    EXPECT(e->a, "UNWATCH", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");
    EXPECT(e->a, "WATCH a b c", "+OK\r\n");
    EXPECT(e->a, "WATCH a b", "+OK\r\n");
    assert_int_equal(e->a->mstate.watched_count, 3);
    EXPECT(e->a, "UNWATCH", "+OK\r\n");
    assert_int_equal(e->a->mstate.watched_count, 0);
    assert_int_equal(dict_size(e->s->dbs[0].watched), 0);
}

/* FLUSHALL invalidates watches of keys that existed, not of absent keys. */
static void test_watch_flushall(void **state)
{
    mt_env *e = *state;
    EXPECT(e->a, "WATCH nokey", "+OK\r\n");
    EXPECT(e->b, "FLUSHALL", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");

    EXPECT(e->b, "SET k v", "+OK\r\n");
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "FLUSHALL", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*-1\r\n");
}

/* A key alive at WATCH time that expires before EXEC aborts it, deleted
 * or not. */
static void test_watch_expiry(void **state)
{
    mt_env *e = *state;
    h_set_time(e->s, T0);
    EXPECT(e->b, "SET k v PX 100", "+OK\r\n");
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    h_set_time(e->s, T0 + 200);
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*-1\r\n");

    h_set_time(e->s, T0 + 1000);
    EXPECT(e->b, "SET j v PX 100", "+OK\r\n");
    EXPECT(e->a, "WATCH j", "+OK\r\n");
    h_set_time(e->s, T0 + 1200);
    EXPECT(e->b, "GET j", "$-1\r\n");   /* lazy expiry deletes it */
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*-1\r\n");
}

/* A key already expired at WATCH time: its deletion is no change, a new
 * value is. */
static void test_watch_already_expired(void **state)
{
    mt_env *e = *state;
    h_set_time(e->s, T0);
    EXPECT(e->b, "SET k v PX 50", "+OK\r\n");
    h_set_time(e->s, T0 + 100);
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");

    EXPECT(e->b, "SET k v PX 50", "+OK\r\n");
    h_set_time(e->s, T0 + 200);
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "GET k", "$-1\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n+PONG\r\n");

    EXPECT(e->b, "SET k v PX 50", "+OK\r\n");
    h_set_time(e->s, T0 + 300);
    EXPECT(e->a, "WATCH k", "+OK\r\n");
    EXPECT(e->b, "SET k w", "+OK\r\n");
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "PING", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*-1\r\n");
}

/* Freeing a client in the middle of MULTI with watches leaves nothing
 * behind (valgrind checks the memory). */
static void test_free_while_watching(void **state)
{
    mt_env *e = *state;
    client *c = h_client_new(e->s);
    EXPECT(c, "WATCH k j", "+OK\r\n");
    EXPECT(c, "MULTI", "+OK\r\n");
    EXPECT(c, "SET k 1", "+QUEUED\r\n");
    assert_int_equal(e->s->watching_clients, 1);
    h_client_free(c);
    assert_int_equal(e->s->watching_clients, 0);
    assert_int_equal(dict_size(e->s->dbs[0].watched), 0);
    EXPECT(e->a, "SET k 2", "+OK\r\n");
}

/* ---- propagation ---- */

static char mt_prop[4096];

static void mt_hook(srv *s, int dbid, int argc, const resp_arg *argv)
{
    (void)s;
    size_t used = strlen(mt_prop);
    used += (size_t)snprintf(mt_prop + used, sizeof(mt_prop) - used, "%d:", dbid);
    for (int i = 0; i < argc && used < sizeof(mt_prop); i++)
        used += (size_t)snprintf(mt_prop + used, sizeof(mt_prop) - used, "%s%.*s",
                                 i ? " " : "", (int)argv[i].len, argv[i].ptr);
    if (used < sizeof(mt_prop) - 1)
        strcat(mt_prop, "|");
}

static void test_propagation(void **state)
{
    mt_env *e = *state;
    e->s->propagate = mt_hook;
    mt_prop[0] = '\0';
    /* One write alone is not wrapped (7.0). */
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET a 1", "+QUEUED\r\n");
    EXPECT(e->a, "GET a", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*2\r\n+OK\r\n$1\r\n1\r\n");
    assert_string_equal(mt_prop, "0:SET a 1|");

    mt_prop[0] = '\0';
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "SET a 1", "+QUEUED\r\n");
    EXPECT(e->a, "SELECT 3", "+QUEUED\r\n");
    EXPECT(e->a, "SET b 2", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*3\r\n+OK\r\n+OK\r\n+OK\r\n");
    assert_string_equal(mt_prop, "0:MULTI|0:SET a 1|3:SET b 2|3:EXEC|");

    /* Reads only: nothing. */
    mt_prop[0] = '\0';
    EXPECT(e->a, "MULTI", "+OK\r\n");
    EXPECT(e->a, "GET a", "+QUEUED\r\n");
    EXPECT(e->a, "EXEC", "*1\r\n$-1\r\n");
    assert_string_equal(mt_prop, "");
    assert_ptr_equal(e->s->propagate, mt_hook);
    e->s->propagate = NULL;
}

static void test_copy_argv(void **state)
{
    (void)state;
    resp_arg in[3] = { { "SET", 3 }, { "k\0x", 3 }, { "", 0 } };
    resp_arg *out = multi_copy_argv(3, in);
    assert_int_equal(out[1].len, 3);
    assert_memory_equal(out[1].ptr, "k\0x", 3);
    assert_int_equal(out[2].len, 0);
    assert_int_equal(out[2].ptr[0], '\0');
    assert_ptr_not_equal(out[0].ptr, in[0].ptr);
    mem_free(out);
    mem_free(multi_copy_argv(0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_and_exec, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_exec_runtime_errors, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_execabort, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_state_errors, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_exec_abort_helper, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_discard, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_other_client, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_own_write_and_dbs, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_unwatch, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_flushall, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_expiry, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_already_expired, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_free_while_watching, mt_setup, mt_teardown),
        cmocka_unit_test_setup_teardown(test_propagation, mt_setup, mt_teardown),
        cmocka_unit_test(test_copy_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
