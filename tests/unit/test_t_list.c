/* test_t_list: the list commands, byte for byte. The table below was
 * recorded from a real redis-server 7.0.15 (run in order on an empty db);
 * each command is replayed through the harness and its RESP reply compared
 * exactly. Blocking behaviour lives in test_blocking.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef struct list_case {
    const char *cmd;
    const char *expected;
} list_case;

static const list_case list_cases[] = {
    /* pushes and length */
    {"LPUSH l a b c", ":3\r\n"},
    {"RPUSH l d e", ":5\r\n"},
    {"LLEN l", ":5\r\n"},
    {"LRANGE l 0 -1", "*5\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"},
    {"LPUSHX nokey a", ":0\r\n"},
    {"RPUSHX nokey a", ":0\r\n"},
    {"LPUSHX l x", ":6\r\n"},
    {"RPUSHX l y z", ":8\r\n"},
    {"LRANGE l 0 -1", "*8\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$1\r\nz\r\n"},
    {"LLEN nokey", ":0\r\n"},
    {"EXISTS nokey", ":0\r\n"},
    {"SET s v", "+OK\r\n"},
    {"LPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"RPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LLEN s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LPUSH", "-ERR wrong number of arguments for 'lpush' command\r\n"},
    {"LPUSH l", "-ERR wrong number of arguments for 'lpush' command\r\n"},
    /* LRANGE edge cases */
    {"LRANGE l 0 0", "*1\r\n$1\r\nx\r\n"},
    {"LRANGE l -3 -1", "*3\r\n$1\r\ne\r\n$1\r\ny\r\n$1\r\nz\r\n"},
    {"LRANGE l -100 100", "*8\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$1\r\nz\r\n"},
    {"LRANGE l 5 2", "*0\r\n"},
    {"LRANGE l 100 200", "*0\r\n"},
    {"LRANGE l -1 -100", "*0\r\n"},
    {"LRANGE l x 1", "-ERR value is not an integer or out of range\r\n"},
    {"LRANGE l 0 y", "-ERR value is not an integer or out of range\r\n"},
    {"LRANGE nokey 0 -1", "*0\r\n"},
    {"LRANGE s 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LRANGE nokey x 1", "-ERR value is not an integer or out of range\r\n"},
    /* LINDEX */
    {"LINDEX l 0", "$1\r\nx\r\n"},
    {"LINDEX l -1", "$1\r\nz\r\n"},
    {"LINDEX l 100", "$-1\r\n"},
    {"LINDEX l -100", "$-1\r\n"},
    {"LINDEX l x", "-ERR value is not an integer or out of range\r\n"},
    {"LINDEX nokey x", "$-1\r\n"},
    {"LINDEX nokey 0", "$-1\r\n"},
    {"LINDEX s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    /* LSET */
    {"LSET l 0 first", "+OK\r\n"},
    {"LSET l -1 last", "+OK\r\n"},
    {"LSET l 100 v", "-ERR index out of range\r\n"},
    {"LSET l -100 v", "-ERR index out of range\r\n"},
    {"LSET l x v", "-ERR value is not an integer or out of range\r\n"},
    {"LSET nokey 0 v", "-ERR no such key\r\n"},
    {"LSET nokey x v", "-ERR no such key\r\n"},
    {"LSET s 0 v", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LRANGE l 0 -1", "*8\r\n$5\r\nfirst\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$4\r\nlast\r\n"},
    /* pops */
    {"LPOP l", "$5\r\nfirst\r\n"},
    {"RPOP l", "$4\r\nlast\r\n"},
    {"LPOP l 0", "*0\r\n"},
    {"LPOP l 2", "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"},
    {"RPOP l 2", "*2\r\n$1\r\ny\r\n$1\r\ne\r\n"},
    {"LPOP l -1", "-ERR value is out of range, must be positive\r\n"},
    {"LPOP l x", "-ERR value is out of range, must be positive\r\n"},
    {"LPOP nokey", "$-1\r\n"},
    {"LPOP nokey 0", "*-1\r\n"},
    {"LPOP nokey 3", "*-1\r\n"},
    {"LPOP nokey x", "-ERR value is out of range, must be positive\r\n"},
    {"LPOP s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LPOP s 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LPOP a b c", "-ERR wrong number of arguments for 'lpop' command\r\n"},
    {"RPUSH p 1", ":1\r\n"},
    {"RPOP p 5", "*1\r\n$1\r\n1\r\n"},
    {"EXISTS p", ":0\r\n"},
    {"RPUSH p 1 2", ":2\r\n"},
    {"LPOP p 9223372036854775807", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
    {"EXISTS p", ":0\r\n"},
    {"LPOP p 9223372036854775808", "-ERR value is out of range, must be positive\r\n"},
    /* LINSERT */
    {"RPUSH i a b c", ":3\r\n"},
    {"LINSERT i BEFORE b x", ":4\r\n"},
    {"LINSERT i after c y", ":5\r\n"},
    {"LINSERT i AFTER zz y", ":-1\r\n"},
    {"LINSERT i middle a b", "-ERR syntax error\r\n"},
    {"LINSERT nokey BEFORE a b", ":0\r\n"},
    {"LINSERT nokey middle a b", "-ERR syntax error\r\n"},
    {"LINSERT s BEFORE a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LRANGE i 0 -1", "*5\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\ny\r\n"},
    /* LREM */
    {"RPUSH r a b a c a b a", ":7\r\n"},
    {"LREM r 2 a", ":2\r\n"},
    {"LRANGE r 0 -1", "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n"},
    {"LREM r -1 a", ":1\r\n"},
    {"LRANGE r 0 -1", "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"},
    {"LREM r 0 b", ":2\r\n"},
    {"LRANGE r 0 -1", "*2\r\n$1\r\nc\r\n$1\r\na\r\n"},
    {"LREM r 0 zz", ":0\r\n"},
    {"LREM r x a", "-ERR value is not an integer or out of range\r\n"},
    {"LREM nokey 0 a", ":0\r\n"},
    {"LREM nokey x a", "-ERR value is not an integer or out of range\r\n"},
    {"LREM s 0 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LREM r 0 a", ":1\r\n"},
    {"LREM r 0 c", ":1\r\n"},
    {"EXISTS r", ":0\r\n"},
    /* LTRIM */
    {"RPUSH t 1 2 3 4 5 6", ":6\r\n"},
    {"LTRIM t 1 -2", "+OK\r\n"},
    {"LRANGE t 0 -1", "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
    {"LTRIM t -100 100", "+OK\r\n"},
    {"LRANGE t 0 -1", "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
    {"LTRIM t 2 1", "+OK\r\n"},
    {"EXISTS t", ":0\r\n"},
    {"RPUSH t 1 2 3", ":3\r\n"},
    {"LTRIM t 5 10", "+OK\r\n"},
    {"EXISTS t", ":0\r\n"},
    {"LTRIM nokey 0 1", "+OK\r\n"},
    {"LTRIM nokey x 1", "-ERR value is not an integer or out of range\r\n"},
    {"LTRIM s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LTRIM s x 1", "-ERR value is not an integer or out of range\r\n"},
    /* LPOS */
    {"RPUSH q a b c a b c a", ":7\r\n"},
    {"LPOS q a", ":0\r\n"},
    {"LPOS q c", ":2\r\n"},
    {"LPOS q zz", "$-1\r\n"},
    {"LPOS q a RANK 2", ":3\r\n"},
    {"LPOS q a RANK -1", ":6\r\n"},
    {"LPOS q a RANK -2", ":3\r\n"},
    {"LPOS q a RANK 10", "$-1\r\n"},
    {"LPOS q a COUNT 0", "*3\r\n:0\r\n:3\r\n:6\r\n"},
    {"LPOS q a COUNT 2", "*2\r\n:0\r\n:3\r\n"},
    {"LPOS q a COUNT 2 RANK -1", "*2\r\n:6\r\n:3\r\n"},
    {"LPOS q a COUNT 0 RANK 2", "*2\r\n:3\r\n:6\r\n"},
    {"LPOS q a MAXLEN 3", ":0\r\n"},
    {"LPOS q a MAXLEN 1 COUNT 0", "*1\r\n:0\r\n"},
    {"LPOS q c MAXLEN 2", "$-1\r\n"},
    {"LPOS q c MAXLEN 2 COUNT 0", "*0\r\n"},
    {"LPOS q a RANK -1 MAXLEN 1", ":6\r\n"},
    {"LPOS q zz COUNT 5", "*0\r\n"},
    {"LPOS q a RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"},
    {"LPOS q a RANK x", "-ERR value is not an integer or out of range\r\n"},
    {"LPOS q a COUNT -1", "-ERR COUNT can't be negative\r\n"},
    {"LPOS q a COUNT x", "-ERR COUNT can't be negative\r\n"},
    {"LPOS q a MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"},
    {"LPOS q a MAXLEN x", "-ERR MAXLEN can't be negative\r\n"},
    {"LPOS q a FOO", "-ERR syntax error\r\n"},
    {"LPOS q a COUNT", "-ERR syntax error\r\n"},
    {"LPOS q a RANK 1 RANK 3", ":6\r\n"},
    {"LPOS nokey a", "$-1\r\n"},
    {"LPOS nokey a COUNT 1", "*0\r\n"},
    {"LPOS nokey a RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"},
    {"LPOS s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LPOS q a RANK -9223372036854775808", ":6\r\n"},
    {"LPOS q a RANK -9223372036854775808 COUNT 1", "*3\r\n:6\r\n:3\r\n:0\r\n"},
    /* LMOVE / RPOPLPUSH */
    {"RPUSH m1 a b c", ":3\r\n"},
    {"LMOVE m1 m2 LEFT RIGHT", "$1\r\na\r\n"},
    {"LMOVE m1 m2 RIGHT LEFT", "$1\r\nc\r\n"},
    {"LRANGE m1 0 -1", "*1\r\n$1\r\nb\r\n"},
    {"LRANGE m2 0 -1", "*2\r\n$1\r\nc\r\n$1\r\na\r\n"},
    {"LMOVE m1 m1 LEFT RIGHT", "$1\r\nb\r\n"},
    {"LRANGE m1 0 -1", "*1\r\n$1\r\nb\r\n"},
    {"LMOVE m1 m2 left left", "$1\r\nb\r\n"},
    {"EXISTS m1", ":0\r\n"},
    {"LMOVE nokey m2 LEFT LEFT", "$-1\r\n"},
    {"LMOVE m2 m2 UP LEFT", "-ERR syntax error\r\n"},
    {"LMOVE m2 m2 LEFT DOWN", "-ERR syntax error\r\n"},
    {"LMOVE nokey m2 UP LEFT", "-ERR syntax error\r\n"},
    {"LMOVE s m2 LEFT LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LMOVE m2 s LEFT LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LMOVE nokey s LEFT LEFT", "$-1\r\n"},
    {"RPOPLPUSH m2 m3", "$1\r\na\r\n"},
    {"RPOPLPUSH m2 m3", "$1\r\nc\r\n"},
    {"LRANGE m3 0 -1", "*2\r\n$1\r\nc\r\n$1\r\na\r\n"},
    {"RPOPLPUSH nokey m3", "$-1\r\n"},
    {"RPOPLPUSH m2 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"RPOPLPUSH m3 m3", "$1\r\na\r\n"},
    {"LRANGE m3 0 -1", "*2\r\n$1\r\na\r\n$1\r\nc\r\n"},
    /* LMPOP */
    {"RPUSH mp1 a b c", ":3\r\n"},
    {"RPUSH mp2 x y", ":2\r\n"},
    {"LMPOP 2 nokey mp1 LEFT", "*2\r\n$3\r\nmp1\r\n*1\r\n$1\r\na\r\n"},
    {"LMPOP 2 mp2 mp1 RIGHT COUNT 5", "*2\r\n$3\r\nmp2\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n"},
    {"EXISTS mp2", ":0\r\n"},
    {"LMPOP 1 mp1 LEFT COUNT 1", "*2\r\n$3\r\nmp1\r\n*1\r\n$1\r\nb\r\n"},
    {"LMPOP 2 nokey mp2 LEFT", "*-1\r\n"},
    {"LMPOP 0 l LEFT", "-ERR numkeys should be greater than 0\r\n"},
    {"LMPOP -1 l LEFT", "-ERR numkeys should be greater than 0\r\n"},
    {"LMPOP x l LEFT", "-ERR numkeys should be greater than 0\r\n"},
    {"LMPOP 3 l LEFT", "-ERR syntax error\r\n"},
    {"LMPOP 1 l MIDDLE", "-ERR syntax error\r\n"},
    {"LMPOP 1 l LEFT COUNT 0", "-ERR count should be greater than 0\r\n"},
    {"LMPOP 1 l LEFT COUNT -1", "-ERR count should be greater than 0\r\n"},
    {"LMPOP 1 l LEFT COUNT x", "-ERR count should be greater than 0\r\n"},
    {"LMPOP 1 l LEFT COUNT 1 COUNT 1", "-ERR syntax error\r\n"},
    {"LMPOP 1 l LEFT FOO", "-ERR syntax error\r\n"},
    {"LMPOP 1 l LEFT COUNT", "-ERR syntax error\r\n"},
    {"LMPOP 1 s LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LMPOP 2 nokey s LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LMPOP 1 l", "-ERR wrong number of arguments for 'lmpop' command\r\n"},
    /* blocking commands that find data, or errors */
    {"RPUSH b1 x y z", ":3\r\n"},
    {"BLPOP nokey b1 0", "*2\r\n$2\r\nb1\r\n$1\r\nx\r\n"},
    {"BRPOP nokey b1 0", "*2\r\n$2\r\nb1\r\n$1\r\nz\r\n"},
    {"BLPOP b1 abc", "-ERR timeout is not a float or out of range\r\n"},
    {"BLPOP b1 -1", "-ERR timeout is negative\r\n"},
    {"BLPOP b1 1e20", "-ERR timeout is negative\r\n"},
    {"BLPOP b1 inf", "-ERR timeout is negative\r\n"},
    {"BLPOP b1 nan", "-ERR timeout is not a float or out of range\r\n"},
    {"BLPOP s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BLPOP nokey s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BLMPOP 0 1 b1 LEFT", "*2\r\n$2\r\nb1\r\n*1\r\n$1\r\ny\r\n"},
    {"BLMPOP 0 0 b1 LEFT", "-ERR numkeys should be greater than 0\r\n"},
    {"BLMPOP x 1 b1 LEFT", "-ERR timeout is not a float or out of range\r\n"},
    {"BLMPOP 0 1 b1 MIDDLE", "-ERR syntax error\r\n"},
    {"BLMPOP -1 1 b1 LEFT", "-ERR timeout is negative\r\n"},
    {"RPUSH b1 a b", ":2\r\n"},
    {"BLMPOP 0 2 nokey b1 RIGHT COUNT 5", "*2\r\n$2\r\nb1\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
    {"EXISTS b1", ":0\r\n"},
    {"RPUSH b2 v", ":1\r\n"},
    {"BLMOVE b2 b3 LEFT RIGHT 0", "$1\r\nv\r\n"},
    {"BLMOVE b3 b2 UP RIGHT 0", "-ERR syntax error\r\n"},
    {"BLMOVE b3 b2 LEFT RIGHT x", "-ERR timeout is not a float or out of range\r\n"},
    {"BLMOVE b3 b2 LEFT RIGHT -1", "-ERR timeout is negative\r\n"},
    {"BRPOPLPUSH b3 b2 0", "$1\r\nv\r\n"},
    {"BRPOPLPUSH b2 b3 x", "-ERR timeout is not a float or out of range\r\n"},
    {"BRPOPLPUSH s b3 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"LRANGE b2 0 -1", "*1\r\n$1\r\nv\r\n"},
    {"BLPOP", "-ERR wrong number of arguments for 'blpop' command\r\n"},
    {"BLPOP k", "-ERR wrong number of arguments for 'blpop' command\r\n"},
    /* numkeys bounds */
    {"LMPOP 99999999999 l LEFT", "-ERR syntax error\r\n"},
    {"LMPOP 9223372036854775807 l LEFT", "-ERR syntax error\r\n"},
    {"LMPOP 9223372036854775808 l LEFT", "-ERR numkeys should be greater than 0\r\n"},
    {"BLMPOP 0 9223372036854775807 l LEFT", "-ERR syntax error\r\n"},
    {"LMPOP 1 l LEFT COUNT 9223372036854775808", "-ERR count should be greater than 0\r\n"},
    {"LMPOP 2 l LEFT", "-ERR syntax error\r\n"},
    {"LMPOP 1 l", "-ERR wrong number of arguments for 'lmpop' command\r\n"},
};

static void test_list_against_redis(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    int failures = 0;
    for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++)
        failures += !h_expect(c, list_cases[i].cmd, list_cases[i].expected);
    assert_int_equal(failures, 0);
    h_client_free(c);
    h_srv_free(s);
}

/* Writes count one change per element touched (dirty), so replication and
 * SAVE-points see them. */
static void test_list_dirty(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    long long d0 = s->dirty;
    assert_true(h_expect(c, "RPUSH l a b c d", ":4\r\n"));
    assert_int_equal(s->dirty - d0, 4);
    d0 = s->dirty;
    assert_true(h_expect(c, "LPOP l 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"));
    assert_int_equal(s->dirty - d0, 2);
    d0 = s->dirty;
    assert_true(h_expect(c, "LRANGE l 0 -1", "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"));
    assert_true(h_expect(c, "LPOP nokey", "$-1\r\n"));
    assert_int_equal(s->dirty - d0, 0);
    h_client_free(c);
    h_srv_free(s);
}

/* A list large enough to wrap and resize the ring, checked end to end. */
static void test_list_large(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    char cmd[64], exp[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(cmd, sizeof(cmd), "%s l %d", (i % 2) ? "RPUSH" : "LPUSH", i);
        snprintf(exp, sizeof(exp), ":%d\r\n", i + 1);
        assert_true(h_expect(c, cmd, exp));
    }
    assert_true(h_expect(c, "LINDEX l 0", "$3\r\n998\r\n"));
    assert_true(h_expect(c, "LINDEX l -1", "$3\r\n999\r\n"));
    assert_true(h_expect(c, "LINDEX l 500", "$1\r\n1\r\n"));
    assert_true(h_expect(c, "LTRIM l 499 500", "+OK\r\n"));
    assert_true(h_expect(c, "LRANGE l 0 -1", "*2\r\n$1\r\n0\r\n$1\r\n1\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    (void)h_set_time;   /* the harness defines helpers this file does not use */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_against_redis),
        cmocka_unit_test(test_list_dirty),
        cmocka_unit_test(test_list_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
