/* test_t_hll: PFADD / PFCOUNT / PFMERGE through the command harness,
 * compared byte for byte (embedded NULs included) with what redis-server
 * 7.0.15 answered to the same script. Then larger sets: estimates and
 * string sizes (sparse vs dense) as Redis reports them, the
 * hll-sparse-max-bytes limit, dirty counting of the PFCOUNT cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

typedef struct hll_case {
    const char *cmd;
    const char *reply;
    size_t len;
} hll_case;

#define C(cmd, reply) {cmd, reply, sizeof(reply) - 1}

/* Like h_run, but keeps the reply length (replies hold NUL bytes). */
static char *run_bin(client *c, const char *line, size_t *len)
{
    size_t n = strlen(line);
    char *scratch = malloc(n + 1);
    resp_arg argv[256];
    int argc = resp_split_inline(line, n, scratch, argv, 256);
    assert_true(argc > 0);
    srv_update_time(c->srv);
    client_set_argv(c, argc, argv);
    c->srv->current_client = c;
    cmd_process(c);
    c->srv->current_client = NULL;
    c->argc = 0;
    c->argv = NULL;
    *len = 0;
    for (reply_block *b = c->reply_head; b; b = b->next)
        *len += b->used;
    free(scratch);
    return h_output(c);
}

static const hll_case recorded[] = {
    C("pfadd h a b c d e f g",
      ":1\r\n"),
    C("pfadd h a",
      ":0\r\n"),
    C("pfcount h",
      ":7\r\n"),
    C("get h",
      "$38\r\nHYLL\001\000\000\000\007\000\000\000\000\000\000\000Fm\200V\014\200D<\2048\200P\261\204I\214\200Bm\200BZ\r\n"),
    C("pfadd h2 x y z a",
      ":1\r\n"),
    C("pfcount h h2",
      ":10\r\n"),
    C("pfmerge m h h2",
      "+OK\r\n"),
    C("pfcount m",
      ":10\r\n"),
    C("get m",
      "$46\r\nHYLL\001\000\000\000\n\000\000\000\000\000\000\000Fm\200V\014\200D<\2048\200@\217\200P \204H\253\210@\337\200Bm\200BP\204\010\r\n"),
    C("pfadd empty",
      ":1\r\n"),
    C("pfadd empty",
      ":0\r\n"),
    C("get empty",
      "$18\r\nHYLL\001\000\000\000\000\000\000\000\000\000\000\200\177\377\r\n"),
    C("pfcount empty",
      ":0\r\n"),
    C("pfcount missing",
      ":0\r\n"),
    C("pfcount missing h",
      ":7\r\n"),
    C("pfmerge newkey",
      "+OK\r\n"),
    C("get newkey",
      "$18\r\nHYLL\001\000\000\000\000\000\000\000\000\000\000\200\177\377\r\n"),
    C("set s notahll",
      "+OK\r\n"),
    C("pfadd s a",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfcount s",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfmerge s h",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfmerge h s",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfcount h s",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("set n 12345",
      "+OK\r\n"),
    C("pfadd n a",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("lpush l a",
      ":1\r\n"),
    C("pfadd l a",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("pfcount l",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("pfcount h l",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("pfmerge l h",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("pfadd",
      "-ERR wrong number of arguments for 'pfadd' command\r\n"),
    C("pfcount",
      "-ERR wrong number of arguments for 'pfcount' command\r\n"),
    C("pfmerge",
      "-ERR wrong number of arguments for 'pfmerge' command\r\n"),
    C("set fake HYLLxxxxxxxxxxxxxxxxxxx",
      "+OK\r\n"),
    C("pfadd fake a",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfcount fake",
      "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    C("pfadd h3 foo bar baz qux 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
      ":1\r\n"),
    C("pfcount h3",
      ":24\r\n"),
    C("get h3",
      "$88\r\nHYLL\001\000\000\000\030\000\000\000\000\000\000\000A\356\204D\021\200@\337\200C/\200D>\200@\342\200@\365\210B\020\200D\324\200B\205\214B\352\220(\220@\261\200CU\200CQ\214A\020\200A\362\200C0\200@\222\200L\077\200B\327\200B\022\214@\270\200\025\204C\"\r\n"),
    C("pfcount h3 h m",
      ":34\r\n"),
    C("pfmerge h3 h",
      "+OK\r\n"),
    C("get h3",
      "$106\r\nHYLL\001\000\000\000\030\000\000\000\000\000\000\200A\356\204D\021\200@j\200@s\200C/\200D>\200@\342\200@\365\210B\020\200D\324\200B\205\214B\334\200\014\220(\220@\261\200CQ\204\002\2004\200C\033\214A\020\200A\362\200C0\200@\222\200F\310\204Eu\200B\327\200A<\200@\324\214@\270\200\025\204@\306\200BZ\r\n"),
};

static void test_recorded(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    int bad = 0;
    for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
        size_t len;
        char *got = run_bin(c, recorded[i].cmd, &len);
        if (len != recorded[i].len || memcmp(got, recorded[i].reply, len) != 0) {
            fprintf(stderr, "  %s\n    expected: %s\n    got:      %s\n", recorded[i].cmd, recorded[i].reply, got);
            bad++;
        }
        free(got);
    }
    assert_int_equal(bad, 0);
    h_client_free(c);
    h_srv_free(s);
}

static void add_range(client *c, const char *key, int from, int to)
{
    char line[4096];
    for (int i = from; i < to; i += 50) {
        int n = snprintf(line, sizeof(line), "pfadd %s", key);
        for (int j = i; j < to && j < i + 50; j++)
            n += snprintf(line + n, sizeof(line) - (size_t)n, " el:%d", j);
        char *r = h_run(c, line);
        assert_true(r[0] == ':');
        free(r);
    }
}

static void test_sizes(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    static const struct { int n; const char *count, *strlen; } want[] = {
        {10, ":10\r\n", ":48\r\n"},     {100, ":100\r\n", ":289\r\n"},
        {300, ":303\r\n", ":692\r\n"},  {1000, ":999\r\n", ":1892\r\n"},
        {5000, ":4959\r\n", ":12304\r\n"},
    };
    char cmd[64];
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        snprintf(cmd, sizeof(cmd), "big%d", want[i].n);
        add_range(c, cmd, 0, want[i].n);
        snprintf(cmd, sizeof(cmd), "pfcount big%d", want[i].n);
        assert_true(h_expect(c, cmd, want[i].count));
        snprintf(cmd, sizeof(cmd), "strlen big%d", want[i].n);
        assert_true(h_expect(c, cmd, want[i].strlen));
    }
    assert_true(h_expect(c, "pfcount big10 big100 big300 big1000 big5000", ":4959\r\n"));
    assert_true(h_expect(c, "pfmerge all big10 big100 big300 big1000 big5000", "+OK\r\n"));
    assert_true(h_expect(c, "pfcount all", ":4959\r\n"));
    assert_true(h_expect(c, "strlen all", ":12304\r\n"));
    assert_true(h_expect(c, "config set hll-sparse-max-bytes 100", "+OK\r\n"));
    add_range(c, "small", 0, 300);
    assert_true(h_expect(c, "pfcount small", ":303\r\n"));
    assert_true(h_expect(c, "strlen small", ":12304\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

/* PFCOUNT writes the cache (one dirty change) only when it was stale. */
static void test_count_cache_dirty(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "pfadd h a b c", ":1\r\n"));
    long long d0 = s->dirty;
    assert_true(h_expect(c, "pfcount h", ":3\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    assert_true(h_expect(c, "pfcount h", ":3\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    assert_true(h_expect(c, "pfadd h a", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    h_client_free(c);
    h_srv_free(s);
}

/* PFDEBUG and PFSELFTEST, replies as redis-server 7.0.15 gave them. */
static void test_debug(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "pfadd h a b c", ":1\r\n"));
    assert_true(h_expect(c, "pfdebug encoding h", "+sparse\r\n"));
    assert_true(h_expect(c, "pfdebug decode h", "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"));
    assert_true(h_expect(c, "pfdebug getreg nokey", "-ERR The specified key does not exist\r\n"));
    assert_true(h_expect(c, "pfdebug foo h", "-ERR Unknown PFDEBUG subcommand 'foo'\r\n"));
    assert_true(h_expect(c, "pfdebug encoding h x", "-ERR wrong number of arguments for 'pfdebug' command\r\n"));
    long long d0 = s->dirty;
    assert_true(h_expect(c, "pfdebug todense h", ":1\r\n"));
    assert_int_equal(s->dirty, d0 + 1);
    assert_true(h_expect(c, "pfdebug todense h", ":0\r\n"));
    assert_true(h_expect(c, "pfdebug decode h", "-ERR HLL encoding is not sparse\r\n"));
    assert_true(h_expect(c, "pfdebug encoding h", "+dense\r\n"));
    assert_true(h_expect(c, "strlen h", ":12304\r\n"));
    assert_true(h_expect(c, "pfcount h", ":3\r\n"));
    assert_true(h_expect(c, "set s abc", "+OK\r\n"));
    assert_true(h_expect(c, "pfdebug encoding s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"));
    char *r = h_run(c, "pfdebug getreg h");
    assert_int_equal(strncmp(r, "*16384\r\n", 8), 0);
    free(r);
    assert_true(h_expect(c, "pfselftest", "+OK\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_count_cache_dirty),
        cmocka_unit_test(test_debug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
