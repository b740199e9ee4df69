/* test_blocking: blocking list commands with fake clients. A blocks, B
 * pushes, and A's pending output is checked byte for byte (replies as
 * recorded from redis-server 7.0.15). Covers FIFO service, the key that
 * became ready being the one served, BLMOVE waking the next waiter,
 * timeouts through blocking_cron with a frozen clock, MULTI, disconnects
 * and what gets propagated. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "blocking.h"
#include "deque.h"
#include "dict.h"
#include "object.h"

#define T0 1700000000000LL

typedef struct fixture {
    srv *s;
    client *a, *b, *c;
} fixture;

static char prop_log[2048];

static void prop_capture(srv *s, int dbid, int argc, const resp_arg *argv)
{
    (void)s;
    (void)dbid;
    size_t n = strlen(prop_log);
    for (int i = 0; i < argc && n + argv[i].len + 2 < sizeof(prop_log); i++) {
        memcpy(prop_log + n, argv[i].ptr, argv[i].len);
        n += argv[i].len;
        prop_log[n++] = i + 1 < argc ? ' ' : ';';
        prop_log[n] = '\0';
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->s = h_srv_new();
    h_set_time(f->s, T0);
    f->a = h_client_new(f->s);
    f->b = h_client_new(f->s);
    f->c = h_client_new(f->s);
    f->s->propagate = prop_capture;
    prop_log[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->a)
        h_client_free(f->a);
    if (f->b)
        h_client_free(f->b);
    if (f->c)
        h_client_free(f->c);
    h_srv_free(f->s);
    free(f);
    return 0;
}

/* The output a client received since the last check. */
static int out_is(client *c, const char *expected)
{
    char *got = h_output(c);
    int ok = strcmp(got, expected) == 0;
    if (!ok)
        fprintf(stderr, "    expected: %s\n    got:      %s\n", expected, got);
    free(got);
    return ok;
}

static void test_blpop_served_by_push(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(f->a->flags & CLIENT_BLOCKED);
    assert_int_equal(f->s->blocked_clients, 1);
    assert_true(h_expect(f->b, "RPUSH k x", ":1\r\n"));
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n"));
    assert_false(f->a->flags & CLIENT_BLOCKED);
    assert_int_equal(f->s->blocked_clients, 0);
    /* the popped element is gone and the empty list deleted */
    assert_true(h_expect(f->b, "EXISTS k", ":0\r\n"));
    assert_string_equal(prop_log, "RPUSH k x;LPOP k;");
}

static void test_fifo_and_partial_service(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BRPOP k 0", ""));
    assert_true(h_expect(f->c, "BLPOP k 0", ""));
    /* one element: only the first waiter is served */
    assert_true(h_expect(f->b, "LPUSH k 1", ":1\r\n"));
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\n1\r\n"));
    assert_true(out_is(f->c, ""));
    assert_true(f->c->flags & CLIENT_BLOCKED);
    /* two elements, one waiter: the rest stays */
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(h_expect(f->b, "RPUSH k 2 3 4", ":3\r\n"));
    assert_true(out_is(f->c, "*2\r\n$1\r\nk\r\n$1\r\n2\r\n"));
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\n3\r\n"));
    assert_true(h_expect(f->b, "LRANGE k 0 -1", "*1\r\n$1\r\n4\r\n"));
    assert_int_equal(f->s->blocked_clients, 0);
}

/* A waiter on several keys is served from the key that received data. */
static void test_served_from_ready_key(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k1 k2 k3 0", ""));
    assert_true(h_expect(f->b, "RPUSH k2 v", ":1\r\n"));
    assert_true(out_is(f->a, "*2\r\n$2\r\nk2\r\n$1\r\nv\r\n"));
    /* it left every queue: a later push to k1 stays in k1 */
    assert_true(h_expect(f->b, "RPUSH k1 w", ":1\r\n"));
    assert_true(out_is(f->a, ""));
    assert_true(h_expect(f->b, "LLEN k1", ":1\r\n"));
}

static void test_blmove_wakes_next(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLMOVE src dst LEFT RIGHT 0", ""));
    assert_true(h_expect(f->c, "BLPOP dst 0", ""));
    assert_true(h_expect(f->b, "RPUSH src v", ":1\r\n"));
    assert_true(out_is(f->a, "$1\r\nv\r\n"));
    assert_true(out_is(f->c, "*2\r\n$3\r\ndst\r\n$1\r\nv\r\n"));
    assert_true(h_expect(f->b, "EXISTS src dst", ":0\r\n"));
    assert_string_equal(prop_log, "RPUSH src v;LMOVE src dst left right;LPOP dst;");
}

static void test_brpoplpush_and_blmpop(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BRPOPLPUSH src dst 0", ""));
    assert_true(h_expect(f->c, "BLMPOP 0 2 nokey src RIGHT COUNT 2", ""));
    assert_true(h_expect(f->b, "RPUSH src a b c", ":3\r\n"));
    assert_true(out_is(f->a, "$1\r\nc\r\n"));
    assert_true(out_is(f->c, "*2\r\n$3\r\nsrc\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n"));
    assert_true(h_expect(f->b, "LRANGE dst 0 -1", "*1\r\n$1\r\nc\r\n"));
    assert_string_equal(prop_log, "RPUSH src a b c;RPOPLPUSH src dst;RPOP src 2;");
}

static void test_timeout(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 1.5", ""));
    assert_true(h_expect(f->c, "BLMOVE k d LEFT LEFT 0.5", ""));
    assert_true(h_expect(f->b, "BLPOP k 0", ""));
    assert_int_equal(f->s->blocked_clients, 3);
    h_set_time(f->s, T0 + 499);
    blocking_cron(f->s);
    assert_true(out_is(f->c, ""));
    h_set_time(f->s, T0 + 500);
    blocking_cron(f->s);
    assert_true(out_is(f->c, "*-1\r\n"));
    assert_true(out_is(f->a, ""));
    h_set_time(f->s, T0 + 1500);
    blocking_cron(f->s);
    assert_true(out_is(f->a, "*-1\r\n"));
    assert_false(f->a->flags & CLIENT_BLOCKED);
    /* timeout 0 waits forever */
    h_set_time(f->s, T0 + 1000000000LL);
    blocking_cron(f->s);
    assert_true(out_is(f->b, ""));
    assert_int_equal(f->s->blocked_clients, 1);
    /* a tiny timeout rounds up to 1 ms (redis 7.0.15 answers *-1 for
     * BLPOP k 0.0001), it does not mean forever */
    assert_true(h_expect(f->a, "BLPOP k 0.0001", ""));
    assert_int_equal(f->a->bstate.timeout_ms, f->s->mstime + 1);
    assert_int_equal(f->s->blocked_clients, 2);
    h_set_time(f->s, f->s->mstime + 1);
    blocking_cron(f->s);
    assert_true(out_is(f->a, "*-1\r\n"));
}

static void test_disconnect_while_blocked(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(h_expect(f->c, "BLPOP k 0", ""));
    h_client_free(f->a);
    f->a = NULL;
    assert_int_equal(f->s->blocked_clients, 1);
    assert_true(h_expect(f->b, "RPUSH k v", ":1\r\n"));
    assert_true(out_is(f->c, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n"));
    assert_int_equal(f->s->blocked_clients, 0);
}

/* A key turned into another type does not serve its waiters. */
static void test_wrong_type_keeps_waiting(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(h_expect(f->b, "SET k str", "+OK\r\n"));
    assert_true(out_is(f->a, ""));
    assert_true(f->a->flags & CLIENT_BLOCKED);
    assert_true(h_expect(f->b, "DEL k", ":1\r\n"));
    assert_true(h_expect(f->b, "LPUSH k v", ":1\r\n"));
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n"));
}

/* A BLMOVE whose destination turned into another type is answered
 * WRONGTYPE and released; the element stays for the next waiter. */
static void test_blmove_wrongtype_destination(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLMOVE src dst LEFT RIGHT 0", ""));
    assert_true(h_expect(f->c, "BLPOP src 0", ""));
    assert_true(h_expect(f->b, "SET dst str", "+OK\r\n"));
    assert_true(h_expect(f->b, "RPUSH src v", ":1\r\n"));
    assert_true(out_is(f->a, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"));
    assert_true(out_is(f->c, "*2\r\n$3\r\nsrc\r\n$1\r\nv\r\n"));
    assert_int_equal(f->s->blocked_clients, 0);
}

static void test_errors_and_immediate(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k abc", "-ERR timeout is not a float or out of range\r\n"));
    assert_true(h_expect(f->a, "BLPOP k -1", "-ERR timeout is negative\r\n"));
    assert_true(h_expect(f->a, "BLPOP k 1e20", "-ERR timeout is negative\r\n"));
    assert_true(h_expect(f->a, "BLMPOP 0 0 k LEFT", "-ERR numkeys should be greater than 0\r\n"));
    assert_true(h_expect(f->a, "BLMOVE k d UP LEFT 0", "-ERR syntax error\r\n"));
    assert_int_equal(f->s->blocked_clients, 0);
    assert_true(h_expect(f->b, "RPUSH k a", ":1\r\n"));
    assert_true(h_expect(f->a, "BLPOP k 0", "*2\r\n$1\r\nk\r\n$1\r\na\r\n"));
    assert_true(h_expect(f->b, "RPUSH src v w x y z", ":5\r\n"));
    assert_true(h_expect(f->a, "BLMOVE src dst Left RIGHT 0", "$1\r\nv\r\n"));
    assert_true(h_expect(f->a, "BRPOPLPUSH src dst 0", "$1\r\nz\r\n"));
    assert_true(h_expect(f->a, "BLMPOP 0 1 src left", "*2\r\n$3\r\nsrc\r\n*1\r\n$1\r\nw\r\n"));
    assert_true(h_expect(f->a, "LMPOP 1 src right count 9",
                         "*2\r\n$3\r\nsrc\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n"));
    assert_true(h_expect(f->a, "LPOP dst 0", "*0\r\n"));
    /* as recorded in a redis 7.0.15 AOF */
    assert_string_equal(prop_log, "RPUSH k a;LPOP k;RPUSH src v w x y z;LMOVE src dst Left RIGHT;"
                                  "RPOPLPUSH src dst;LPOP src 1;RPOP src 2;");
}

/* Inside MULTI a blocking command answers at once, as on timeout. */
static void test_multi_does_not_block(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "MULTI", "+OK\r\n"));
    assert_true(h_expect(f->a, "BLPOP nokey 0", "+QUEUED\r\n"));
    assert_true(h_expect(f->a, "BLMOVE nokey x LEFT LEFT 0", "+QUEUED\r\n"));
    assert_true(h_expect(f->a, "BRPOPLPUSH nokey x 0", "+QUEUED\r\n"));
    assert_true(h_expect(f->a, "BLMPOP 0 1 nokey LEFT", "+QUEUED\r\n"));
    assert_true(h_expect(f->a, "EXEC", "*4\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n"));
    assert_false(f->a->flags & CLIENT_BLOCKED);
    assert_int_equal(f->s->blocked_clients, 0);
}

/* Pushes inside EXEC wake waiters once the transaction is done. */
static void test_push_in_exec(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(h_expect(f->b, "MULTI", "+OK\r\n"));
    assert_true(h_expect(f->b, "RPUSH k x", "+QUEUED\r\n"));
    assert_true(h_expect(f->b, "RPUSH k y", "+QUEUED\r\n"));
    assert_true(h_expect(f->b, "EXEC", "*2\r\n:1\r\n:2\r\n"));
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n"));
    assert_true(h_expect(f->b, "LRANGE k 0 -1", "*1\r\n$1\r\ny\r\n"));
}

static void test_client_unblock(void **state)
{
    fixture *f = *state;
    assert_int_equal(blocking_client_unblock(f->a, 0), 0);
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    assert_true(h_expect(f->c, "BLMOVE k d LEFT LEFT 0", ""));
    assert_int_equal(blocking_client_unblock(f->a, 0), 1);
    assert_true(out_is(f->a, "*-1\r\n"));
    assert_int_equal(blocking_client_unblock(f->c, 1), 1);
    assert_true(out_is(f->c, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"));
    assert_int_equal(f->s->blocked_clients, 0);
    assert_true(h_expect(f->b, "RPUSH k v", ":1\r\n"));
    assert_true(out_is(f->a, ""));
}

/* SWAPDB-style replacement: a list appears without a push signal. */
static void test_scan_ready(void **state)
{
    fixture *f = *state;
    assert_true(h_expect(f->a, "BLPOP k 0", ""));
    kvdb *db = &f->s->dbs[0];
    obj *o = obj_list_new();
    deque_push_tail(o->v.ptr, kstr_from_cstr("v"));
    dict_entry *e = dict_add(db->keys, "k", 1, NULL);
    assert_non_null(e);
    e->v.ptr = o;
    blocking_scan_ready(db);
    blocking_handle_ready(f->s);
    assert_true(out_is(f->a, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n"));
    assert_true(h_expect(f->b, "EXISTS k", ":0\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blpop_served_by_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_and_partial_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_served_from_ready_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blmove_wakes_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brpoplpush_and_blmpop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_while_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_keeps_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blmove_wrongtype_destination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_immediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_does_not_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_in_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_unblock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_ready, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
