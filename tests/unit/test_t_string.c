/* Unit tests for agent/t_string.c through the command harness: exact reply
 * bytes for every option, error path and propagation rewrite. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef h_fixture fixture;
#define setup h_fixture_setup
#define teardown h_fixture_teardown

static int ldouble_is_native(void)
{
    volatile long double one = 1.0L, tiny = 0x1p-60L;
    return one + tiny != one;
}

#define EXPECT(cmd, reply) assert_true(h_expect(f->c, cmd, reply))

static void test_get_set_basic(void **state)
{
    fixture *f = *state;
    EXPECT("GET k", "$-1\r\n");
    EXPECT("SET k hello", "+OK\r\n");
    EXPECT("GET k", "$5\r\nhello\r\n");
    EXPECT("SET k 12345", "+OK\r\n");
    EXPECT("GET k", "$5\r\n12345\r\n");
    EXPECT("SET k \"\"", "+OK\r\n");
    EXPECT("GET k", "$0\r\n\r\n");
    EXPECT("SET", "-ERR wrong number of arguments for 'set' command\r\n");
    EXPECT("GET a b", "-ERR wrong number of arguments for 'get' command\r\n");
}

static void test_set_options(void **state)
{
    fixture *f = *state;
    EXPECT("SET k v NX", "+OK\r\n");
    EXPECT("SET k v2 NX", "$-1\r\n");
    EXPECT("SET k v3 XX", "+OK\r\n");
    EXPECT("SET nokey v XX", "$-1\r\n");
    EXPECT("SET k v NX XX", "-ERR syntax error\r\n");
    EXPECT("SET k v EX 10 PX 100", "-ERR syntax error\r\n");
    EXPECT("SET k v EX", "-ERR syntax error\r\n");
    EXPECT("SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n");
    EXPECT("SET k v EX -5", "-ERR invalid expire time in 'set' command\r\n");
    EXPECT("SET k v EX abc", "-ERR value is not an integer or out of range\r\n");
    EXPECT("SET k v KEEPTTL EX 5", "-ERR syntax error\r\n");
    EXPECT("SET k v1 EX 100", "+OK\r\n");
    EXPECT("TTL k", ":100\r\n");
    EXPECT("SET k v2 KEEPTTL", "+OK\r\n");
    EXPECT("TTL k", ":100\r\n");
    EXPECT("SET k v3", "+OK\r\n");
    EXPECT("TTL k", ":-1\r\n");
    EXPECT("SET k new GET", "$2\r\nv3\r\n");
    EXPECT("SET fresh x GET", "$-1\r\n");
    EXPECT("LPUSH l a", ":1\r\n");
    EXPECT("SET l x GET", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT("SET k v PX 1500", "+OK\r\n");
    EXPECT("TTL k", ":2\r\n");
}

static void test_set_expire_absolute(void **state)
{
    fixture *f = *state;
    h_set_time(f->s, 1700000000000LL);
    EXPECT("SET k v EXAT 1700000100", "+OK\r\n");
    EXPECT("PTTL k", ":100000\r\n");
    EXPECT("SET k v PXAT 1700000000500", "+OK\r\n");
    EXPECT("PTTL k", ":500\r\n");
    h_set_time(f->s, 1700000001000LL);
    EXPECT("GET k", "$-1\r\n");
    EXPECT("EXISTS k", ":0\r\n");
}

static void test_setnx_setex(void **state)
{
    fixture *f = *state;
    h_set_time(f->s, 1700000000000LL);
    EXPECT("SETNX k a", ":1\r\n");
    EXPECT("SETNX k b", ":0\r\n");
    EXPECT("SETEX k 10 v", "+OK\r\n");
    EXPECT("TTL k", ":10\r\n");
    EXPECT("SETEX k 0 v", "-ERR invalid expire time in 'setex' command\r\n");
    EXPECT("SETEX k x v", "-ERR value is not an integer or out of range\r\n");
    EXPECT("PSETEX k 2000 v", "+OK\r\n");
    EXPECT("PTTL k", ":2000\r\n");
    EXPECT("PSETEX k -1 v", "-ERR invalid expire time in 'psetex' command\r\n");
}

static void test_getset_getdel_getex(void **state)
{
    fixture *f = *state;
    EXPECT("GETSET k a", "$-1\r\n");
    EXPECT("GETSET k b", "$1\r\na\r\n");
    EXPECT("GETDEL k", "$1\r\nb\r\n");
    EXPECT("GETDEL k", "$-1\r\n");
    EXPECT("SET k v", "+OK\r\n");
    EXPECT("GETEX k EX 100", "$1\r\nv\r\n");
    EXPECT("TTL k", ":100\r\n");
    EXPECT("GETEX k PERSIST", "$1\r\nv\r\n");
    EXPECT("TTL k", ":-1\r\n");
    EXPECT("GETEX k EX 10 PERSIST", "-ERR syntax error\r\n");
    EXPECT("GETEX k FOO", "-ERR syntax error\r\n");
    EXPECT("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n");
    EXPECT("GETEX missing EX 10", "$-1\r\n");
}

static void test_mget_mset(void **state)
{
    fixture *f = *state;
    EXPECT("MSET a 1 b 2", "+OK\r\n");
    EXPECT("MGET a b c", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
    EXPECT("MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT("MSETNX a 5 z 6", ":0\r\n");
    EXPECT("EXISTS z", ":0\r\n");
    EXPECT("MSETNX y 5 z 6", ":1\r\n");
    EXPECT("SADD s x", ":1\r\n");
    EXPECT("MGET s y", "*2\r\n$-1\r\n$1\r\n5\r\n");
}

static void test_counters(void **state)
{
    fixture *f = *state;
    EXPECT("INCR n", ":1\r\n");
    EXPECT("INCRBY n 10", ":11\r\n");
    EXPECT("DECR n", ":10\r\n");
    EXPECT("DECRBY n 20", ":-10\r\n");
    EXPECT("SET n 9223372036854775807", "+OK\r\n");
    EXPECT("INCR n", "-ERR increment or decrement would overflow\r\n");
    EXPECT("SET n -9223372036854775808", "+OK\r\n");
    EXPECT("DECR n", "-ERR increment or decrement would overflow\r\n");
    EXPECT("DECRBY n -9223372036854775808", "-ERR decrement would overflow\r\n");
    EXPECT("SET n abc", "+OK\r\n");
    EXPECT("INCR n", "-ERR value is not an integer or out of range\r\n");
    EXPECT("SET n \" 1\"", "+OK\r\n");
    EXPECT("INCR n", "-ERR value is not an integer or out of range\r\n");
    EXPECT("INCRBY n x", "-ERR value is not an integer or out of range\r\n");
    EXPECT("SET f 10.5", "+OK\r\n");
    /* valgrind emulates long double at double precision: skip the digits. */
    if (ldouble_is_native()) {
        EXPECT("INCRBYFLOAT f 0.1", "$4\r\n10.6\r\n");
        EXPECT("INCRBYFLOAT f -5", "$3\r\n5.6\r\n");
    }
    EXPECT("SET f 5.0e3", "+OK\r\n");
    EXPECT("INCRBYFLOAT f 2.0e2", "$4\r\n5200\r\n");
    EXPECT("INCRBYFLOAT f abc", "-ERR value is not a valid float\r\n");
    EXPECT("INCRBYFLOAT newf 3", "$1\r\n3\r\n");
    EXPECT("LPUSH l a", ":1\r\n");
    EXPECT("INCR l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT("SET k 5 EX 100", "+OK\r\n");
    EXPECT("INCR k", ":6\r\n");
    EXPECT("TTL k", ":100\r\n");
}

static void test_ranges(void **state)
{
    fixture *f = *state;
    EXPECT("APPEND k Hello", ":5\r\n");
    EXPECT("APPEND k \" World\"", ":11\r\n");
    EXPECT("STRLEN k", ":11\r\n");
    EXPECT("STRLEN missing", ":0\r\n");
    EXPECT("GETRANGE k 0 4", "$5\r\nHello\r\n");
    EXPECT("GETRANGE k -5 -1", "$5\r\nWorld\r\n");
    EXPECT("GETRANGE k 5 3", "$0\r\n\r\n");
    EXPECT("GETRANGE k -1 -5", "$0\r\n\r\n");
    EXPECT("GETRANGE k 0 100", "$11\r\nHello World\r\n");
    EXPECT("GETRANGE missing 0 1", "$0\r\n\r\n");
    EXPECT("SETRANGE k 6 Redis", ":11\r\n");
    EXPECT("GET k", "$11\r\nHello Redis\r\n");
    EXPECT("SETRANGE z 3 ab", ":5\r\n");
    EXPECT("STRLEN z", ":5\r\n");
    EXPECT("GETRANGE z 3 4", "$2\r\nab\r\n");
    EXPECT("SETRANGE k -1 x", "-ERR offset is out of range\r\n");
    EXPECT("SETRANGE empty 5 \"\"", ":0\r\n");
    EXPECT("EXISTS empty", ":0\r\n");
    EXPECT("SET n 100", "+OK\r\n");
    EXPECT("APPEND n 5", ":4\r\n");
    EXPECT("GET n", "$4\r\n1005\r\n");
    EXPECT("INCR n", ":1006\r\n");
    EXPECT("SETRANGE k 536870912 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
}

/* The propagation seam must see relative expiries as absolute ones. */
static int prop_count;
static char prop_last[512];

static void capture_propagate(srv *s, int dbid, int argc, const resp_arg *argv)
{
    (void)s;
    (void)dbid;
    size_t pos = 0;
    for (int i = 0; i < argc && pos < sizeof(prop_last) - 1; i++)
        pos += (size_t)snprintf(prop_last + pos, sizeof(prop_last) - pos, "%s%.*s", i ? " " : "",
                                (int)argv[i].len, argv[i].ptr);
    prop_count++;
}

static void test_propagation(void **state)
{
    fixture *f = *state;
    f->s->propagate = capture_propagate;
    h_set_time(f->s, 1000000);
    prop_count = 0;
    EXPECT("SET k v EX 10", "+OK\r\n");
    assert_int_equal(prop_count, 1);
    assert_string_equal(prop_last, "SET k v PXAT 1010000");
    EXPECT("GET k", "$1\r\nv\r\n");
    assert_int_equal(prop_count, 1);
    EXPECT("SET k v NX", "$-1\r\n");
    assert_int_equal(prop_count, 1);
    EXPECT("INCRBYFLOAT f 1.5", "$3\r\n1.5\r\n");
    assert_string_equal(prop_last, "SET f 1.5 KEEPTTL");
    EXPECT("GETDEL f", "$3\r\n1.5\r\n");
    assert_string_equal(prop_last, "DEL f");
    EXPECT("EXPIRE k 100", ":1\r\n");
    assert_string_equal(prop_last, "PEXPIREAT k 1100000");
    h_set_time(f->s, 2000000);
    EXPECT("GET k", "$-1\r\n");
    assert_string_equal(prop_last, "DEL k");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_set_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_expire_absolute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setnx_setex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getset_getdel_getex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mget_mset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_propagation, setup, teardown),
    };
    return cmocka_run_group_tests_name("t_string", tests, NULL, NULL);
}
