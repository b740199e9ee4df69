/* test_t_bitmap: the bit commands through the command harness. The cases
 * table was recorded from redis-server 7.0.15 running the same script, so
 * every reply is compared byte for byte. Then: what counts as a write
 * (dirty) and the proto-max-bulk-len bound on offsets. */
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
    {"SETBIT b 7 1",
     ":0\r\n"},
    {"SETBIT b 7 0",
     ":1\r\n"},
    {"SETBIT b 100 1",
     ":0\r\n"},
    {"GETBIT b 100",
     ":1\r\n"},
    {"GETBIT b 101",
     ":0\r\n"},
    {"GETBIT b 9999",
     ":0\r\n"},
    {"GETBIT missing 0",
     ":0\r\n"},
    {"GETBIT b 4294967296",
     "-ERR bit offset is not an integer or out of range\r\n"},
    {"GETBIT b abc",
     "-ERR bit offset is not an integer or out of range\r\n"},
    {"SETBIT b -1 1",
     "-ERR bit offset is not an integer or out of range\r\n"},
    {"SETBIT b 0 2",
     "-ERR bit is not an integer or out of range\r\n"},
    {"SETBIT b 0 x",
     "-ERR bit is not an integer or out of range\r\n"},
    {"SETBIT b 4294967296 1",
     "-ERR bit offset is not an integer or out of range\r\n"},
    {"GET b",
     "$13\r\n\000\000\000\000\000\000\000\000\000\000\000\000\010\r\n"},
    {"STRLEN b",
     ":13\r\n"},
    {"BITCOUNT b",
     ":1\r\n"},
    {"BITCOUNT b 0 0",
     ":0\r\n"},
    {"BITCOUNT b 0 -1 BIT",
     ":1\r\n"},
    {"BITCOUNT b 0 -1 byte",
     ":1\r\n"},
    {"BITCOUNT b 0 -1 foo",
     "-ERR syntax error\r\n"},
    {"BITCOUNT b 0",
     "-ERR syntax error\r\n"},
    {"BITCOUNT b x 1",
     "-ERR value is not an integer or out of range\r\n"},
    {"BITCOUNT b -1 -5",
     ":0\r\n"},
    {"BITCOUNT missing",
     ":0\r\n"},
    {"BITCOUNT missing 0",
     ":0\r\n"},
    {"SET s foobar",
     "+OK\r\n"},
    {"BITCOUNT s",
     ":26\r\n"},
    {"BITCOUNT s 1 1",
     ":6\r\n"},
    {"BITCOUNT s 5 30 BIT",
     ":17\r\n"},
    {"BITCOUNT s -13 -2 BIT",
     ":5\r\n"},
    {"BITCOUNT s 100 200",
     ":0\r\n"},
    {"SET n 12345",
     "+OK\r\n"},
    {"BITCOUNT n",
     ":17\r\n"},
    {"GETBIT n 2",
     ":1\r\n"},
    {"BITPOS s 1",
     ":1\r\n"},
    {"BITPOS s 0",
     ":0\r\n"},
    {"BITPOS s 1 2",
     ":17\r\n"},
    {"BITPOS s 1 2 -1 BYTE",
     ":17\r\n"},
    {"BITPOS s 0 7 15 BIT",
     ":7\r\n"},
    {"BITPOS s 1 7 15 bit",
     ":9\r\n"},
    {"BITPOS s 1 100",
     ":-1\r\n"},
    {"BITPOS s 2",
     "-ERR The bit argument must be 1 or 0.\r\n"},
    {"BITPOS s 1 2 3 BIT x",
     "-ERR syntax error\r\n"},
    {"BITPOS missing 0",
     ":0\r\n"},
    {"BITPOS missing 1",
     ":-1\r\n"},
    {"SET t \"\\xff\\xf0\\x00\"",
     "+OK\r\n"},
    {"BITPOS t 0",
     ":12\r\n"},
    {"SET u \"\\xff\\xff\\xff\"",
     "+OK\r\n"},
    {"BITPOS u 0",
     ":24\r\n"},
    {"BITPOS u 0 0 -1",
     ":-1\r\n"},
    {"BITPOS u 0 0 -1 BIT",
     ":-1\r\n"},
    {"BITPOS u 1 0 -1 BIT",
     ":0\r\n"},
    {"BITOP AND dest s t",
     ":6\r\n"},
    {"GET dest",
     "$6\r\nf`\000\000\000\000\r\n"},
    {"BITOP OR dest s t",
     ":6\r\n"},
    {"GET dest",
     "$6\r\n\377\377obar\r\n"},
    {"BITOP XOR dest s t missing",
     ":6\r\n"},
    {"GET dest",
     "$6\r\n\231\237obar\r\n"},
    {"BITOP NOT dest s",
     ":6\r\n"},
    {"GET dest",
     "$6\r\n\231\220\220\235\236\215\r\n"},
    {"BITOP NOT dest s t",
     "-ERR BITOP NOT must be called with a single source key.\r\n"},
    {"BITOP NOSUCH dest s",
     "-ERR syntax error\r\n"},
    {"BITOP AND dest missing missing2",
     ":0\r\n"},
    {"EXISTS dest",
     ":0\r\n"},
    {"LPUSH l a",
     ":1\r\n"},
    {"SETBIT l 0 1",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"GETBIT l 0",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BITCOUNT l",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BITPOS l 1",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BITOP AND dest l s",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BITFIELD l GET u8 0",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"BITFIELD bf SET u8 0 255 GET u8 0 INCRBY u8 0 10 GET i4 4",
     "*4\r\n:0\r\n:255\r\n:9\r\n:-7\r\n"},
    {"BITFIELD bf OVERFLOW SAT INCRBY u8 0 300 OVERFLOW FAIL INCRBY u8 0 1",
     "*2\r\n:255\r\n$-1\r\n"},
    {"BITFIELD bf OVERFLOW WRAP INCRBY i8 0 100 INCRBY i8 0 100",
     "*2\r\n:99\r\n:-57\r\n"},
    {"BITFIELD bf OVERFLOW SAT SET i8 0 -1000 SET u4 #3 99",
     "*2\r\n:-57\r\n:0\r\n"},
    {"BITFIELD bf GET u64 0",
     "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
    {"BITFIELD bf GET i64 0 GET u63 1 GET i3 #5",
     "*3\r\n:-9219149912204115968\r\n:4222124650659840\r\n:-4\r\n"},
    {"BITFIELD bf GET x8 0",
     "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
    {"BITFIELD bf GET u8 -1",
     "-ERR bit offset is not an integer or out of range\r\n"},
    {"BITFIELD bf SET u8 0 abc",
     "-ERR value is not an integer or out of range\r\n"},
    {"BITFIELD bf OVERFLOW BAD GET u8 0",
     "-ERR Invalid OVERFLOW type specified\r\n"},
    {"BITFIELD bf FOO",
     "-ERR syntax error\r\n"},
    {"BITFIELD bf GET u8",
     "-ERR syntax error\r\n"},
    {"BITFIELD bf",
     "*0\r\n"},
    {"BITFIELD missing GET u8 0 GET i16 100",
     "*2\r\n:0\r\n:0\r\n"},
    {"BITFIELD_RO bf GET u8 0",
     "*1\r\n:128\r\n"},
    {"BITFIELD_RO bf SET u8 0 1",
     "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
    {"BITFIELD_RO bf",
     "*0\r\n"},
    {"GET bf",
     "$2\r\n\200\017\r\n"},
    {"BITFIELD big SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 1 OVERFLOW FAIL INCRBY i64 0 1",
     "*4\r\n:0\r\n:-9223372036854775808\r\n:-9223372036854775807\r\n:-9223372036854775806\r\n"},
    {"BITFIELD big SET u63 64 -1 GET u63 64 INCRBY u63 64 5",
     "*3\r\n:0\r\n:9223372036854775807\r\n:4\r\n"},
    {"BITFIELD big2 INCRBY i64 0 -9223372036854775808 OVERFLOW SAT INCRBY i64 0 -1 OVERFLOW WRAP INCRBY i64 0 -1",
     "*3\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n:9223372036854775807\r\n"},
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

/* A SETBIT that changes nothing is not a write; growing the string is. */
static void test_dirty(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    long long d0 = s->dirty;
    assert_true(h_expect(c, "SETBIT k 3 1", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    assert_true(h_expect(c, "SETBIT k 3 1", ":1\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    assert_true(h_expect(c, "SETBIT k 20 0", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 2);
    assert_true(h_expect(c, "BITFIELD k SET u8 0 16 SET u8 0 16", "*2\r\n:16\r\n:16\r\n"));
    assert_int_equal(s->dirty, d0 + 2);
    assert_true(h_expect(c, "BITFIELD k INCRBY u8 0 1 GET u8 0", "*2\r\n:17\r\n:17\r\n"));
    assert_int_equal(s->dirty, d0 + 3);
    assert_true(h_expect(c, "BITFIELD_RO k GET u8 0", "*1\r\n:17\r\n"));
    assert_true(h_expect(c, "BITOP NOT k2 k", ":3\r\n"));
    assert_int_equal(s->dirty, d0 + 4);
    assert_true(h_expect(c, "BITOP AND k2 nokey", ":0\r\n"));
    assert_true(h_expect(c, "EXISTS k2", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 5);
    h_client_free(c);
    h_srv_free(s);
}

/* Offsets are limited to proto-max-bulk-len bytes, as in Redis. */
static void test_offset_limit(void **state)
{
    (void)state;
    srv *s = h_srv_new_with("proto-max-bulk-len 1mb\n");
    client *c = h_client_new(s);
    const char *err = "-ERR bit offset is not an integer or out of range\r\n";
    assert_true(h_expect(c, "SETBIT k 8388608 1", err));
    assert_true(h_expect(c, "GETBIT k 8388608", err));
    assert_true(h_expect(c, "BITFIELD k SET u8 #1048576 1", err));
    assert_true(h_expect(c, "SETBIT k 8388607 1", ":0\r\n"));
    assert_true(h_expect(c, "STRLEN k", ":1048576\r\n"));
    assert_true(h_expect(c, "BITCOUNT k", ":1\r\n"));
    assert_true(h_expect(c, "BITPOS k 1", ":8388607\r\n"));
    assert_true(h_expect(c, "BITPOS k 1 -1", ":8388607\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    (void)h_set_time;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_replies),
        cmocka_unit_test(test_dirty),
        cmocka_unit_test(test_offset_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
