/* Unit tests for agent/t_server.c: CONFIG GET/SET (multi-pair atomicity),
 * FLUSH/SWAPDB, INFO sections, DEBUG DIGEST/POPULATE, COMMAND. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "harness.h"

typedef h_fixture fixture;
#define setup h_fixture_setup
#define teardown h_fixture_teardown

#define EXPECT(cmd, reply) assert_true(h_expect(f->c, cmd, reply))

static void test_config_set_is_atomic(void **state)
{
    fixture *f = *state;
    EXPECT("CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    EXPECT("CONFIG SET maxmemory 10mb hz abc",
           "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n");
    EXPECT("CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    EXPECT("CONFIG SET maxmemory 10mb hz 20", "+OK\r\n");
    EXPECT("CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n");
    EXPECT("CONFIG SET hz 5 hz 6",
           "-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter\r\n");
    EXPECT("CONFIG SET maxmemory", "-ERR wrong number of arguments for 'config|set' command\r\n");
    EXPECT("CONFIG FOO", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
    /* No AOF: refusing is safer than pretending. */
    EXPECT("CONFIG SET appendonly yes",
           "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly yes is not supported (RDB persistence only)\r\n");
    EXPECT("CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
}

static void test_config_drives_encodings(void **state)
{
    fixture *f = *state;
    EXPECT("CONFIG SET hash-max-listpack-entries 2", "+OK\r\n");
    EXPECT("HSET h a 1 b 2", ":2\r\n");
    EXPECT("OBJECT ENCODING h", "$8\r\nlistpack\r\n");
    EXPECT("HSET h c 3", ":1\r\n");
    EXPECT("OBJECT ENCODING h", "$9\r\nhashtable\r\n");
}

static void test_flush_and_swapdb(void **state)
{
    fixture *f = *state;
    EXPECT("SET a 1", "+OK\r\n");
    EXPECT("SWAPDB 0 1", "+OK\r\n");
    EXPECT("EXISTS a", ":0\r\n");
    EXPECT("SELECT 1", "+OK\r\n");
    EXPECT("GET a", "$1\r\n1\r\n");
    EXPECT("SWAPDB 0 99", "-ERR DB index is out of range\r\n");
    EXPECT("FLUSHDB FOO", "-ERR syntax error\r\n");
    EXPECT("FLUSHDB ASYNC", "+OK\r\n");
    EXPECT("DBSIZE", ":0\r\n");
    EXPECT("SET b 2", "+OK\r\n");
    EXPECT("FLUSHALL", "+OK\r\n");
    EXPECT("DBSIZE", ":0\r\n");
}

static void test_info_sections(void **state)
{
    fixture *f = *state;
    EXPECT("SET k v", "+OK\r\n");
    char *r = h_run(f->c, "INFO keyspace");
    assert_non_null(strstr(r, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
    free(r);
    r = h_run(f->c, "INFO");
    assert_non_null(strstr(r, "# Server\r\n"));
    assert_non_null(strstr(r, "redis_version:7.0.15\r\n"));
    assert_non_null(strstr(r, "# Memory\r\nused_memory:"));
    assert_non_null(strstr(r, "# Stats\r\n"));
    assert_null(strstr(r, "# Commandstats"));
    free(r);
    r = h_run(f->c, "INFO commandstats");
    assert_non_null(strstr(r, "cmdstat_set:calls=1,"));
    free(r);
    EXPECT("INFO nosuchsection", "$0\r\n\r\n");
}

static void test_debug_digest_populate(void **state)
{
    fixture *f = *state;
    EXPECT("DEBUG DIGEST", "+0000000000000000000000000000000000000000\r\n");
    EXPECT("DEBUG POPULATE 100 key 10", "+OK\r\n");
    EXPECT("DBSIZE", ":100\r\n");
    EXPECT("STRLEN key:7", ":10\r\n");
    char *d1 = h_run(f->c, "DEBUG DIGEST");
    /* Same content built in another order, in a process-wide table with
     * another hash seed, gives the same digest. */
    uint8_t seed[16] = { 7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    dict_set_hash_seed(seed);
    srv *s2 = h_srv_new();
    client *c2 = h_client_new(s2);
    for (int i = 99; i >= 0; i--) {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "SET key:%d value:%d", i, i);
        free(h_run(c2, cmd));
        snprintf(cmd, sizeof(cmd), "SETRANGE key:%d 9 \"\\x00\"", i);
        free(h_run(c2, cmd));
    }
    char *d2 = h_run(c2, "DEBUG DIGEST");
    assert_string_equal(d1, d2);
    free(h_run(c2, "SET key:0 changed"));
    char *d3 = h_run(c2, "DEBUG DIGEST");
    assert_string_not_equal(d1, d3);
    free(d1);
    free(d2);
    free(d3);
    h_client_free(c2);
    h_srv_free(s2);
}

static void test_command_introspection(void **state)
{
    fixture *f = *state;
    EXPECT("COMMAND GETKEYS SET a b", "*1\r\n$1\r\na\r\n");
    EXPECT("COMMAND GETKEYS MSET a 1 b 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    /* Redis 7.0: COMMAND GETKEYS needs the command and one argument. */
    EXPECT("COMMAND GETKEYS PING", "-ERR wrong number of arguments for 'command|getkeys' command\r\n");
    EXPECT("COMMAND GETKEYS PING x", "-ERR The command has no key arguments\r\n");
    EXPECT("COMMAND GETKEYS NOPE x", "-ERR Invalid command specified\r\n");
    EXPECT("COMMAND GETKEYS ZUNIONSTORE d 2 a b", "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n");
    char *r = h_run(f->c, "COMMAND INFO get nosuch");
    assert_true(strncmp(r, "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n", 22) == 0);
    /* An unknown name is a null bulk in Redis 7.0's RESP2 reply. */
    assert_non_null(strstr(r, "$-1\r\n"));
    free(r);
}

static void test_slowlog(void **state)
{
    fixture *f = *state;
    EXPECT("SLOWLOG RESET", "+OK\r\n");
    EXPECT("SLOWLOG LEN", ":0\r\n");
    EXPECT("CONFIG SET slowlog-log-slower-than 0", "+OK\r\n");
    EXPECT("SET slowkey v", "+OK\r\n");
    char *r = h_run(f->c, "SLOWLOG GET 1");
    /* [id, time, duration, [args...], addr, name]: the SET is the newest. */
    assert_true(strncmp(r, "*1\r\n*6\r\n:", 9) == 0);
    assert_non_null(strstr(r, "*3\r\n$3\r\nSET\r\n$7\r\nslowkey\r\n$1\r\nv\r\n"));
    free(r);
    EXPECT("SLOWLOG GET abc", "-ERR count should be greater than or equal to -1\r\n");
    EXPECT("SLOWLOG GET 1 x", "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n");
    EXPECT("SLOWLOG FOO", "-ERR unknown subcommand 'FOO'. Try SLOWLOG HELP.\r\n");
    EXPECT("CONFIG SET slowlog-log-slower-than -1", "+OK\r\n");
    EXPECT("SLOWLOG RESET", "+OK\r\n");
    EXPECT("SET other v", "+OK\r\n");
    EXPECT("SLOWLOG LEN", ":0\r\n");
}

/* DEBUG OBJECT's ql_compressed for list-compress-depth: a list keeps the
 * depth it was created with (CONFIG SET applies to new lists), COPY keeps
 * its source's, and a compressed list takes less memory. */
static int debug_object_has(client *c, const char *key, const char *field)
{
    char line[128];
    snprintf(line, sizeof(line), "DEBUG OBJECT %s", key);
    char *r = h_run(c, line);
    int found = r != NULL && strstr(r, field) != NULL;
    free(r);
    return found;
}

static long long memory_usage(client *c, const char *key)
{
    char line[128];
    snprintf(line, sizeof(line), "MEMORY USAGE %s", key);
    char *r = h_run(c, line);
    long long n = r != NULL && r[0] == ':' ? atoll(r + 1) : -1;
    free(r);
    return n;
}

static void push_compressible(client *c, const char *key)
{
    char line[128];
    for (int i = 0; i < 64; i++) {
        snprintf(line, sizeof(line), "RPUSH %s compressible-compressible-compressible-%03d", key, i);
        free(h_run(c, line));
    }
}

static void test_list_compress_depth(void **state)
{
    fixture *f = *state;
    EXPECT("CONFIG SET list-max-listpack-size 4", "+OK\r\n");
    push_compressible(f->c, "raw");
    assert_true(debug_object_has(f->c, "raw", " ql_compressed:0 "));
    EXPECT("CONFIG SET list-compress-depth 1", "+OK\r\n");
    EXPECT("CONFIG GET list-compress-depth", "*2\r\n$19\r\nlist-compress-depth\r\n$1\r\n1\r\n");
    push_compressible(f->c, "packed");
    assert_true(debug_object_has(f->c, "packed", " ql_compressed:1 "));
    assert_true(debug_object_has(f->c, "raw", " ql_compressed:0 "));
    assert_true(memory_usage(f->c, "packed") < memory_usage(f->c, "raw"));
    EXPECT("CONFIG SET list-compress-depth 0", "+OK\r\n");
    assert_true(debug_object_has(f->c, "packed", " ql_compressed:1 "));
    EXPECT("COPY packed copied", ":1\r\n");
    assert_true(debug_object_has(f->c, "copied", " ql_compressed:1 "));
    EXPECT("RPUSH fresh a", ":1\r\n");
    assert_true(debug_object_has(f->c, "fresh", " ql_compressed:0 "));
    EXPECT("LINDEX packed 30", "$42\r\ncompressible-compressible-compressible-030\r\n");
    EXPECT("CONFIG SET list-compress-depth -1",
           "-ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - argument must be between 0 and 2147483647 inclusive\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_set_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_drives_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_swapdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_digest_populate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_introspection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slowlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_compress_depth, setup, teardown),
    };
    return cmocka_run_group_tests_name("t_server", tests, NULL, NULL);
}
