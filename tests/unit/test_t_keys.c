/* Unit tests for agent/t_keys.c and the keyspace rules of agent/db.c:
 * TTL options, lazy expiry, SCAN, RENAME/MOVE/COPY, via the harness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef h_fixture fixture;
#define setup h_fixture_setup
#define teardown h_fixture_teardown

#define EXPECT(cmd, reply) assert_true(h_expect(f->c, cmd, reply))

static void test_del_exists_type(void **state)
{
    fixture *f = *state;
    EXPECT("MSET a 1 b 2", "+OK\r\n");
    EXPECT("EXISTS a b a nokey", ":3\r\n");
    EXPECT("TYPE a", "+string\r\n");
    EXPECT("TYPE nokey", "+none\r\n");
    EXPECT("RPUSH l x", ":1\r\n");
    EXPECT("TYPE l", "+list\r\n");
    EXPECT("DEL a b c", ":2\r\n");
    EXPECT("UNLINK l", ":1\r\n");
    EXPECT("DBSIZE", ":0\r\n");
}

static void test_expire_options(void **state)
{
    fixture *f = *state;
    EXPECT("SET k v", "+OK\r\n");
    EXPECT("EXPIRE k 100 XX", ":0\r\n");
    EXPECT("EXPIRE k 100 NX", ":1\r\n");
    EXPECT("EXPIRE k 200 NX", ":0\r\n");
    EXPECT("EXPIRE k 50 GT", ":0\r\n");
    EXPECT("EXPIRE k 150 GT", ":1\r\n");
    EXPECT("EXPIRE k 120 LT", ":1\r\n");
    EXPECT("TTL k", ":120\r\n");
    EXPECT("EXPIRE k 10 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
    EXPECT("EXPIRE k 10 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n");
    EXPECT("EXPIRE k 10 FOO", "-ERR Unsupported option FOO\r\n");
    EXPECT("EXPIRE k abc", "-ERR value is not an integer or out of range\r\n");
    EXPECT("EXPIRE nokey 10", ":0\r\n");
    EXPECT("PERSIST k", ":1\r\n");
    EXPECT("PERSIST k", ":0\r\n");
    EXPECT("EXPIRE k 10 GT", ":0\r\n");
    EXPECT("EXPIRE k 10 LT", ":1\r\n");
    EXPECT("PEXPIRE k 1500", ":1\r\n");
    EXPECT("PTTL k", ":1500\r\n");
    EXPECT("EXPIREAT k 1700000100", ":1\r\n");
    EXPECT("EXPIRETIME k", ":1700000100\r\n");
    EXPECT("PEXPIREAT k 1700000100123", ":1\r\n");
    EXPECT("PEXPIRETIME k", ":1700000100123\r\n");
    EXPECT("TTL nokey", ":-2\r\n");
    EXPECT("EXPIRE k 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n");
    /* A time in the past deletes the key at once. */
    EXPECT("EXPIRE k -1", ":1\r\n");
    EXPECT("EXISTS k", ":0\r\n");
}

static void test_lazy_and_active_expiry(void **state)
{
    fixture *f = *state;
    EXPECT("SET a 1 PX 100", "+OK\r\n");
    EXPECT("SET b 2 PX 100", "+OK\r\n");
    EXPECT("SET c 3", "+OK\r\n");
    EXPECT("DBSIZE", ":3\r\n");
    h_set_time(f->s, 1700000000200LL);
    EXPECT("GET a", "$-1\r\n");
    /* b is logically gone but still stored until the cycle or a lookup. */
    assert_int_equal(db_size(&f->s->dbs[0]), 2);
    long long n = db_active_expire_cycle(f->s, 100000);
    assert_int_equal(n, 1);
    EXPECT("DBSIZE", ":1\r\n");
    assert_int_equal(f->s->stats.expired_keys, 2);
}

static void test_replica_does_not_expire(void **state)
{
    fixture *f = *state;
    EXPECT("SET a 1 PX 100", "+OK\r\n");
    f->s->is_replica = 1;
    f->c->flags |= CLIENT_MASTER;   /* writes from the master are allowed */
    h_set_time(f->s, 1700000000200LL);
    EXPECT("GET a", "$-1\r\n");
    assert_int_equal(db_size(&f->s->dbs[0]), 1);
    assert_int_equal(db_active_expire_cycle(f->s, 100000), 0);
    f->c->flags &= ~CLIENT_MASTER;
    EXPECT("SET x y", "-READONLY You can't write against a read only replica.\r\n");
}

static void test_keys_scan(void **state)
{
    fixture *f = *state;
    EXPECT("MSET foo 1 fob 2 bar 3", "+OK\r\n");
    char *r = h_run(f->c, "KEYS fo?");
    assert_non_null(strstr(r, "*2\r\n"));
    assert_non_null(strstr(r, "foo"));
    assert_non_null(strstr(r, "fob"));
    free(r);
    EXPECT("KEYS ba*", "*1\r\n$3\r\nbar\r\n");
    EXPECT("SCAN 0 MATCH ba* COUNT 100", "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nbar\r\n");
    EXPECT("SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n");
    EXPECT("SCAN abc", "-ERR invalid cursor\r\n");
    EXPECT("SCAN 0 COUNT 0", "-ERR syntax error\r\n");
    EXPECT("SCAN 0 FOO", "-ERR syntax error\r\n");
    EXPECT("SET \"\" empty", "+OK\r\n");
    r = h_run(f->c, "SCAN 0 MATCH * COUNT 100");
    assert_non_null(strstr(r, "$0\r\n\r\n"));
    free(r);
}

static void test_scan_covers_everything(void **state)
{
    fixture *f = *state;
    char cmd[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(cmd, sizeof(cmd), "SET key:%d v", i);
        free(h_run(f->c, cmd));
    }
    /* Walk the cursor; every key must show up at least once. */
    char seen[1000] = { 0 };
    char cursor[32] = "0";
    int rounds = 0;
    do {
        snprintf(cmd, sizeof(cmd), "SCAN %s COUNT 50", cursor);
        char *r = h_run(f->c, cmd);
        char *p = strstr(r, "\r\n$");
        assert_non_null(p);
        p = strchr(p + 3, '\n') + 1;
        char *end = strchr(p, '\r');
        snprintf(cursor, sizeof(cursor), "%.*s", (int)(end - p), p);
        for (char *k = strstr(p, "key:"); k; k = strstr(k + 4, "key:"))
            seen[atoi(k + 4)] = 1;
        free(r);
        rounds++;
    } while (strcmp(cursor, "0") != 0 && rounds < 10000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
}

static void test_rename_move_copy(void **state)
{
    fixture *f = *state;
    EXPECT("RENAME nokey x", "-ERR no such key\r\n");
    EXPECT("SET a v EX 100", "+OK\r\n");
    EXPECT("RENAME a b", "+OK\r\n");
    EXPECT("TTL b", ":100\r\n");
    EXPECT("EXISTS a", ":0\r\n");
    EXPECT("SET c x", "+OK\r\n");
    EXPECT("RENAMENX b c", ":0\r\n");
    EXPECT("RENAMENX b d", ":1\r\n");
    EXPECT("RENAME d d", "+OK\r\n");
    EXPECT("MOVE d 1", ":1\r\n");
    EXPECT("MOVE d 1", ":0\r\n");
    EXPECT("MOVE c 0", "-ERR source and destination objects are the same\r\n");
    EXPECT("MOVE c 99", "-ERR DB index is out of range\r\n");
    EXPECT("SELECT 1", "+OK\r\n");
    EXPECT("TTL d", ":100\r\n");
    EXPECT("SELECT 0", "+OK\r\n");
    EXPECT("HSET h f v", ":1\r\n");
    EXPECT("COPY h h2", ":1\r\n");
    EXPECT("HGET h2 f", "$1\r\nv\r\n");
    EXPECT("COPY h h2", ":0\r\n");
    EXPECT("COPY h h2 REPLACE", ":1\r\n");
    EXPECT("COPY h h", "-ERR source and destination objects are the same\r\n");
    EXPECT("ZADD z 1 a 2 b", ":2\r\n");
    EXPECT("COPY z z9 DB 2", ":1\r\n");
    EXPECT("SELECT 2", "+OK\r\n");
    EXPECT("ZRANGE z9 0 -1 WITHSCORES", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
}

static void test_dispatch_errors(void **state)
{
    fixture *f = *state;
    EXPECT("NOSUCH a b", "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n");
    EXPECT("get", "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT("OBJECT ENCODING", "-ERR wrong number of arguments for 'object|encoding' command\r\n");
    EXPECT("OBJECT FOO k", "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
    EXPECT("SET n 123", "+OK\r\n");
    EXPECT("OBJECT ENCODING n", "$3\r\nint\r\n");
    EXPECT("SET s abc", "+OK\r\n");
    EXPECT("OBJECT ENCODING s", "$6\r\nembstr\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_del_exists_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_and_active_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replica_does_not_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_covers_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_move_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_errors, setup, teardown),
    };
    return cmocka_run_group_tests_name("t_keys", tests, NULL, NULL);
}
