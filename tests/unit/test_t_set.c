/* test_t_set: the set commands through the command harness, compared byte
 * for byte with what redis-server 7.0.15 answered to the same script (the
 * cases table was recorded from a real server; only replies whose order is
 * deterministic in Redis are in it). Then: orders that depend on a dict
 * (checked as sorted sets), SPOP propagation as SREM / DEL, the intset
 * limit from the config, and SSCAN over a large dict-encoded set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef struct set_case {
    const char *cmd;
    const char *reply;
} set_case;

static const set_case recorded[] = {
    {"sadd s 3 1 2",
     ":3\r\n"},
    {"sadd s 2 4",
     ":1\r\n"},
    {"sadd s 2",
     ":0\r\n"},
    {"smembers s",
     "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
    {"scard s",
     ":4\r\n"},
    {"scard nokey",
     ":0\r\n"},
    {"sismember s 4",
     ":1\r\n"},
    {"sismember s 5",
     ":0\r\n"},
    {"sismember nokey 1",
     ":0\r\n"},
    {"smismember s 1 9 2",
     "*3\r\n:1\r\n:0\r\n:1\r\n"},
    {"smismember nokey 1 2",
     "*2\r\n:0\r\n:0\r\n"},
    {"srem s 4 9",
     ":1\r\n"},
    {"srem nokey a",
     ":0\r\n"},
    {"smembers nokey",
     "*0\r\n"},
    {"set str x",
     "+OK\r\n"},
    {"sadd str a",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"smembers str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"scard str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"srem str a",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sadd t 5 4 3 a",
     ":4\r\n"},
    {"srem t a",
     ":1\r\n"},
    {"sadd u 2 3 10",
     ":3\r\n"},
    {"sinter s u",
     "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sinter s nokey",
     "*0\r\n"},
    {"sinter s str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sinter nokey str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sinterstore d s u",
     ":2\r\n"},
    {"smembers d",
     "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sinterstore d s nokey",
     ":0\r\n"},
    {"exists d",
     ":0\r\n"},
    {"sinterstore d s str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sintercard 2 s u",
     ":2\r\n"},
    {"sintercard 2 s u limit 1",
     ":1\r\n"},
    {"sintercard 2 s u limit 0",
     ":2\r\n"},
    {"sintercard 2 s nokey",
     ":0\r\n"},
    {"sintercard 1 str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sintercard 0 s",
     "-ERR numkeys should be greater than 0\r\n"},
    {"sintercard 3 s u",
     "-ERR Number of keys can't be greater than number of args\r\n"},
    {"sintercard 1 s limit -1",
     "-ERR LIMIT can't be negative\r\n"},
    {"sintercard 1 s foo",
     "-ERR syntax error\r\n"},
    {"sunion s u nokey",
     "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"sunionstore d s u",
     ":4\r\n"},
    {"smembers d",
     "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"sunion s str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sdiff u s",
     "*1\r\n$2\r\n10\r\n"},
    {"sdiff s s",
     "*0\r\n"},
    {"sdiff nokey s",
     "*0\r\n"},
    {"sdiffstore d u s",
     ":1\r\n"},
    {"smembers d",
     "*1\r\n$2\r\n10\r\n"},
    {"sdiffstore d nokey",
     ":0\r\n"},
    {"exists d",
     ":0\r\n"},
    {"smove s u 1",
     ":1\r\n"},
    {"smembers s",
     "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"smembers u",
     "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
    {"smove s u 99",
     ":0\r\n"},
    {"smove nokey u 1",
     ":0\r\n"},
    {"smove s str 2",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"smove str s 2",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"smove s s 2",
     ":1\r\n"},
    {"smove s s 77",
     ":0\r\n"},
    {"smove s newk 2",
     ":1\r\n"},
    {"smove s newk 3",
     ":1\r\n"},
    {"exists s",
     ":0\r\n"},
    {"smembers newk",
     "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"spop nokey",
     "$-1\r\n"},
    {"spop nokey 3",
     "*0\r\n"},
    {"spop str",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"spop newk 1 2",
     "-ERR syntax error\r\n"},
    {"spop newk -1",
     "-ERR value is out of range, must be positive\r\n"},
    {"spop newk x",
     "-ERR value is out of range, must be positive\r\n"},
    {"spop newk 0",
     "*0\r\n"},
    {"srandmember nokey",
     "$-1\r\n"},
    {"srandmember nokey 5",
     "*0\r\n"},
    {"srandmember newk 1 2",
     "-ERR syntax error\r\n"},
    {"srandmember newk x",
     "-ERR value is not an integer or out of range\r\n"},
    {"srandmember newk -9223372036854775808",
     "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
    {"srandmember newk 0",
     "*0\r\n"},
    {"sadd bigint 5 4 3 2 1",
     ":5\r\n"},
    {"srandmember bigint 10",
     "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
    {"srandmember bigint 5",
     "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
    {"spop bigint 5",
     "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
    {"exists bigint",
     ":0\r\n"},
    {"sadd sc 1 2 3",
     ":3\r\n"},
    {"sscan sc 0",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sscan sc 0 match 2",
     "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"},
    {"sscan sc 0 match * count 100",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sscan sc x",
     "-ERR invalid cursor\r\n"},
    {"sscan sc 0 count 0",
     "-ERR syntax error\r\n"},
    {"sscan sc 0 count x",
     "-ERR value is not an integer or out of range\r\n"},
    {"sscan sc 0 foo",
     "-ERR syntax error\r\n"},
    {"sscan sc 0 match",
     "-ERR syntax error\r\n"},
    {"sscan nokey 0 count 0",
     "*2\r\n$1\r\n0\r\n*0\r\n"},
    {"sscan str 0",
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
    {"sscan sc -1",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sscan sc \" 1\"",
     "-ERR invalid cursor\r\n"},
    {"sscan sc \"0\\x00junk\"",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sscan sc 00000000000000000000000000000000000000000000000000000000000000000000000000",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sscan sc \"\"",
     "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
    {"sadd",
     "-ERR wrong number of arguments for 'sadd' command\r\n"},
    {"sadd k",
     "-ERR wrong number of arguments for 'sadd' command\r\n"},
    {"sinter",
     "-ERR wrong number of arguments for 'sinter' command\r\n"},
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

/* Propagation capture: every propagated command as "ARG ARG|". */
static char prop_log[4096];

static void prop_hook(srv *s, int dbid, int argc, const resp_arg *argv)
{
    (void)s;
    (void)dbid;
    for (int i = 0; i < argc; i++) {
        strncat(prop_log, argv[i].ptr, argv[i].len < 64 ? argv[i].len : 64);
        strcat(prop_log, i + 1 < argc ? " " : "|");
    }
}

static int count_char(const char *s, char ch)
{
    int n = 0;
    for (; *s; s++)
        n += *s == ch;
    return n;
}

static void test_spop_propagation(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    s->propagate = prop_hook;
    client *c = h_client_new(s);
    free(h_run(c, "SADD k 1 2 3 4 5 6 7 8 9 10"));
    prop_log[0] = '\0';
    char *r = h_run(c, "SPOP k");
    assert_int_equal(r[0], '$');
    /* "SREM k <member>|" with the member the client got. */
    char want[64];
    char *nl = strstr(r + 1, "\r\n");
    snprintf(want, sizeof(want), "SREM k %.*s|", (int)(strlen(nl + 2) - 2), nl + 2);
    assert_string_equal(prop_log, want);
    free(r);

    prop_log[0] = '\0';
    long long dirty = s->dirty;
    r = h_run(c, "SPOP k 3");
    assert_memory_equal(r, "*3\r\n", 4);
    assert_int_equal(count_char(prop_log, '|'), 3);
    assert_non_null(strstr(prop_log, "SREM k "));
    assert_null(strstr(prop_log, "SPOP"));
    assert_int_equal(s->dirty - dirty, 3);
    free(r);
    assert_true(h_expect(c, "SCARD k", ":6\r\n"));

    /* Popping nearly everything: members kept are picked, the rest replied
     * in set order (ascending for an intset). */
    prop_log[0] = '\0';
    r = h_run(c, "SPOP k 5");
    assert_int_equal(count_char(prop_log, '|'), 5);
    free(r);
    assert_true(h_expect(c, "SCARD k", ":1\r\n"));

    prop_log[0] = '\0';
    free(h_run(c, "SADD k 20 30"));
    prop_log[0] = '\0';
    r = h_run(c, "SPOP k 10");
    assert_memory_equal(r, "*3\r\n", 4);
    assert_string_equal(prop_log, "DEL k|");
    free(r);
    assert_true(h_expect(c, "EXISTS k", ":0\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

static void test_spop_case3_order(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    free(h_run(c, "SADD k 5 4 3 2 1 6 7 8 9 10"));
    char *r = h_run(c, "SPOP k 9");
    /* Ascending: the popped members are replied by walking the intset. */
    long prev = -1;
    char *p = r;
    int n = 0;
    while ((p = strstr(p, "\r\n$")) != NULL) {
        p = strstr(p + 3, "\r\n") + 2;
        long v = strtol(p, NULL, 10);
        assert_true(v > prev);
        prev = v;
        n++;
    }
    assert_int_equal(n, 9);
    free(r);
    h_client_free(c);
    h_srv_free(s);
}

/* Sorted members of a flat array reply, joined with ','. */
static void sorted_members(const char *reply, char *out, size_t outlen)
{
    char items[64][64];
    int n = 0;
    const char *p = reply;
    while ((p = strchr(p, '$')) != NULL && n < 64) {
        long len = strtol(p + 1, NULL, 10);
        p = strstr(p, "\r\n") + 2;
        snprintf(items[n++], 64, "%.*s", (int)len, p);
        p += len;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            char t[64];
            strcpy(t, items[j]);
            strcpy(items[j], items[j - 1]);
            strcpy(items[j - 1], t);
        }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, items[i], outlen - strlen(out) - 2);
        if (i + 1 < n)
            strcat(out, ",");
    }
}

static void test_dict_sets(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    char buf[512];
    free(h_run(c, "SADD a x y 1 2"));
    free(h_run(c, "SADD b y z 2 3"));
    char *r = h_run(c, "SMEMBERS a");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "1,2,x,y");
    free(r);
    r = h_run(c, "SINTER a b");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "2,y");
    free(r);
    r = h_run(c, "SUNION a b");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "1,2,3,x,y,z");
    free(r);
    r = h_run(c, "SDIFF a b");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "1,x");
    free(r);
    /* A union of integers only comes back ascending even from dict sets. */
    free(h_run(c, "SREM a x y"));
    assert_true(h_expect(c, "SUNION a nokey", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"));
    r = h_run(c, "SRANDMEMBER a 2");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "1,2");
    free(r);
    r = h_run(c, "SRANDMEMBER b -10");
    assert_memory_equal(r, "*10\r\n", 5);
    free(r);
    r = h_run(c, "SRANDMEMBER b 3");
    assert_memory_equal(r, "*3\r\n", 4);
    sorted_members(r, buf, sizeof(buf));
    assert_int_equal(count_char(buf, ','), 2);
    free(r);
    h_client_free(c);
    h_srv_free(s);
}

static void test_intset_limit_config(void **state)
{
    (void)state;
    srv *s = h_srv_new_with("set-max-intset-entries 3\n");
    client *c = h_client_new(s);
    free(h_run(c, "SADD a 3 2 1"));
    assert_true(h_expect(c, "SMEMBERS a", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"));
    free(h_run(c, "SADD a 4"));
    char buf[256];
    char *r = h_run(c, "SMEMBERS a");
    sorted_members(r, buf, sizeof(buf));
    assert_string_equal(buf, "1,2,3,4");
    free(r);
    h_client_free(c);
    h_srv_free(s);
}

static void test_sscan_dict(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    char cmd[64];
    for (int i = 0; i < 300; i++) {
        snprintf(cmd, sizeof(cmd), "SADD big m%d", i);
        free(h_run(c, cmd));
    }
    char seen[300] = {0};
    char cursor[32] = "0";
    int rounds = 0;
    do {
        snprintf(cmd, sizeof(cmd), "SSCAN big %s COUNT 20", cursor);
        char *r = h_run(c, cmd);
        /* *2 $n cursor *k ... */
        const char *p = strstr(r, "\r\n$") + 3;
        long clen = strtol(p, NULL, 10);
        p = strstr(p, "\r\n") + 2;
        snprintf(cursor, sizeof(cursor), "%.*s", (int)clen, p);
        while ((p = strstr(p, "$")) != NULL) {
            p = strstr(p, "\r\n") + 2;
            assert_int_equal(p[0], 'm');
            seen[strtol(p + 1, NULL, 10)] = 1;
        }
        free(r);
        rounds++;
    } while (strcmp(cursor, "0") != 0 && rounds < 1000);
    assert_true(rounds > 1);
    for (int i = 0; i < 300; i++)
        assert_int_equal(seen[i], 1);
    {
        char *r = h_run(c, "SSCAN big 0 MATCH m29? COUNT 1000");
        char buf[512];
        sorted_members(strstr(r, "*10") ? strstr(r, "*10") : r, buf, sizeof(buf));
        assert_string_equal(buf, "m290,m291,m292,m293,m294,m295,m296,m297,m298,m299");
        free(r);
    }
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    (void)h_set_time; /* harness helper unused here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_replies),
        cmocka_unit_test(test_spop_propagation),
        cmocka_unit_test(test_spop_case3_order),
        cmocka_unit_test(test_dict_sets),
        cmocka_unit_test(test_intset_limit_config),
        cmocka_unit_test(test_sscan_dict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
