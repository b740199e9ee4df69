/* test_t_sort: SORT and SORT_RO through the command harness. The cases
 * table was recorded from redis-server 7.0.15 running the same script (only
 * orders that are deterministic in Redis: lists, integer sets, sorted sets),
 * so replies are compared byte for byte. Then: STORE counts one change per
 * stored element and keeps no TTL on the destination. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef struct rec_case {
    const char *cmd;
    const char *reply;
} rec_case;

static const rec_case recorded[] = {
    {"FLUSHALL",
     "+OK\r\n"},
    {"RPUSH l 3 1 2 10 -5 2.5",
     ":6\r\n"},
    {"SORT l",
     "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"SORT l DESC",
     "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n$1\r\n1\r\n$2\r\n-5\r\n"},
    {"SORT l LIMIT 1 2",
     "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
    {"SORT l LIMIT 1 -1",
     "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"SORT l LIMIT -3 2",
     "*2\r\n$2\r\n-5\r\n$1\r\n1\r\n"},
    {"SORT l LIMIT 10 2",
     "*0\r\n"},
    {"SORT l LIMIT 0 0",
     "*0\r\n"},
    {"SORT l LIMIT a 1",
     "-ERR value is not an integer or out of range\r\n"},
    {"SORT l LIMIT 1",
     "-ERR syntax error\r\n"},
    {"SORT l ALPHA",
     "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"},
    {"SORT l ALPHA DESC LIMIT 0 3",
     "*3\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n"},
    {"MSET w_1 30 w_2 10 w_3 20 o_1 one o_2 two o_3 three w_10 5",
     "+OK\r\n"},
    {"SORT l BY w_*",
     "*6\r\n$2\r\n-5\r\n$3\r\n2.5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n"},
    {"SORT l BY w_* DESC",
     "*6\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n2\r\n$2\r\n10\r\n$3\r\n2.5\r\n$2\r\n-5\r\n"},
    {"SORT l BY w_* GET o_* GET #",
     "*12\r\n$-1\r\n$2\r\n-5\r\n$-1\r\n$3\r\n2.5\r\n$-1\r\n$2\r\n10\r\n$3\r\ntwo\r\n$1\r\n2\r\n$5\r\nthree\r\n$1\r\n3\r\n$3\r\none\r\n$1\r\n1\r\n"},
    {"SORT l BY w_* GET o_* GET # LIMIT 1 2",
     "*4\r\n$-1\r\n$3\r\n2.5\r\n$-1\r\n$2\r\n10\r\n"},
    {"SORT l BY w_* ALPHA",
     "*6\r\n$2\r\n-5\r\n$3\r\n2.5\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n$2\r\n10\r\n"},
    {"SORT l BY nosort",
     "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n2.5\r\n"},
    {"SORT l BY nosort DESC",
     "*6\r\n$3\r\n2.5\r\n$2\r\n-5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n"},
    {"SORT l BY nosort LIMIT 1 2",
     "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
    {"SORT l BY nosort DESC LIMIT 1 2",
     "*2\r\n$2\r\n-5\r\n$2\r\n10\r\n"},
    {"SORT l BY nosort LIMIT 10 2",
     "*0\r\n"},
    {"SORT l BY nosort GET o_*",
     "*6\r\n$5\r\nthree\r\n$3\r\none\r\n$3\r\ntwo\r\n$-1\r\n$-1\r\n$-1\r\n"},
    {"SORT l BY nosort BY w_*",
     "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n2.5\r\n"},
    {"HSET h_1 f 9 g b",
     ":2\r\n"},
    {"HSET h_2 f 7 g a",
     ":2\r\n"},
    {"HSET h_3 f 8 g c",
     ":2\r\n"},
    {"SORT l BY h_*->f GET # GET h_*->g",
     "*12\r\n$2\r\n-5\r\n$-1\r\n$2\r\n10\r\n$-1\r\n$3\r\n2.5\r\n$-1\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\nb\r\n"},
    {"SORT l BY h_*->g ALPHA GET h_*->f",
     "*6\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\n7\r\n$1\r\n9\r\n$1\r\n8\r\n"},
    {"SORT l BY h_*-> GET h_*->",
     "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"},
    {"SORT l GET h_*->nosuch GET o_*",
     "*12\r\n$-1\r\n$-1\r\n$-1\r\n$3\r\none\r\n$-1\r\n$3\r\ntwo\r\n$-1\r\n$-1\r\n$-1\r\n$5\r\nthree\r\n$-1\r\n$-1\r\n"},
    {"SORT l STORE dst",
     ":6\r\n"},
    {"LRANGE dst 0 -1",
     "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"SORT l BY w_* GET o_* STORE dst",
     ":6\r\n"},
    {"LRANGE dst 0 -1",
     "*6\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n$3\r\ntwo\r\n$5\r\nthree\r\n$3\r\none\r\n"},
    {"SORT l LIMIT 0 0 STORE dst",
     ":0\r\n"},
    {"EXISTS dst",
     ":0\r\n"},
    {"SORT_RO l DESC",
     "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n$1\r\n1\r\n$2\r\n-5\r\n"},
    {"SORT_RO l STORE dst",
     "-ERR syntax error\r\n"},
    {"RPUSH bad a b",
     ":2\r\n"},
    {"SORT bad",
     "-ERR One or more scores can't be converted into double\r\n"},
    {"SORT bad ALPHA",
     "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
    {"SORT bad BY nosort",
     "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
    {"SADD s 5 4 6 -1",
     ":4\r\n"},
    {"SORT s",
     "*4\r\n$2\r\n-1\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"},
    {"SORT s DESC LIMIT 0 2",
     "*2\r\n$1\r\n6\r\n$1\r\n5\r\n"},
    {"SORT s BY nosort",
     "*4\r\n$2\r\n-1\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"},
    {"SORT s BY nosort STORE dst",
     ":4\r\n"},
    {"LRANGE dst 0 -1",
     "*4\r\n$2\r\n-1\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"},
    {"ZADD z 1 c 2 b 3 a",
     ":3\r\n"},
    {"SORT z ALPHA",
     "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
    {"SORT z BY nosort",
     "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"},
    {"SORT z BY nosort DESC",
     "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
    {"SORT z BY nosort DESC LIMIT 1 1",
     "*1\r\n$1\r\nb\r\n"},
    {"SORT z BY nosort LIMIT 1 5",
     "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
    {"SORT z",
     "-ERR One or more scores can't be converted into double\r\n"},
    {"SET str v",
     "+OK\r\n"},
    {"SORT str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"HSET hh a 1",
     ":1\r\n"},
    {"SORT hh",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"SORT missing",
     "*0\r\n"},
    {"SORT missing STORE dst",
     ":0\r\n"},
    {"SORT l FOO",
     "-ERR syntax error\r\n"},
    {"SORT l STORE",
     "-ERR syntax error\r\n"},
    {"SORT l GET",
     "-ERR syntax error\r\n"},
    {"SORT l BY",
     "-ERR syntax error\r\n"},
};

static void test_recorded_replies(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    int bad = 0;
    for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++)
        bad += !h_expect(c, recorded[i].cmd, recorded[i].reply);
    assert_int_equal(bad, 0);
    h_client_free(c);
    h_srv_free(s);
}

static void test_store(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "RPUSH l 3 1 2", ":3\r\n"));
    assert_true(h_expect(c, "SET dst x EX 100", "+OK\r\n"));
    long long d0 = s->dirty;
    assert_true(h_expect(c, "SORT l STORE dst", ":3\r\n"));
    assert_int_equal(s->dirty, d0 + 3);
    assert_true(h_expect(c, "TTL dst", ":-1\r\n"));
    assert_true(h_expect(c, "TYPE dst", "+list\r\n"));
    /* Sorting without STORE changes nothing. */
    d0 = s->dirty;
    assert_true(h_expect(c, "SORT l", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"));
    assert_int_equal(s->dirty, d0);
    /* An empty result deletes the destination. */
    assert_true(h_expect(c, "SORT nokey STORE dst", ":0\r\n"));
    assert_true(h_expect(c, "EXISTS dst", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    (void)h_set_time;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_replies),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
