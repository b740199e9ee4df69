/* test_fuzz_regress: every crash the libFuzzer targets (tests/fuzz/) found
 * in the agent's parsers, replayed as a unit test through the same entry
 * point the fuzzer used, plus the shortest script that reaches the same
 * code. The inputs are the minimized artifacts, written out as C arrays.
 *
 * Some of these bugs are undefined behaviour that only UBSan turns into a
 * failure (a plain x86 build computes the expected answer anyway): run
 * `make asan` to see them fail before their fix and pass after it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "harness.h"
#include "crc64.h"
#include "rdb.h"

/* RESTORE key 0 <payload> REPLACE; payload gets the version 10 + CRC-64
 * footer appended when `add_footer`, as fuzz_dump does for mutated input. */
static char *restore(client *c, const char *key, const unsigned char *body, size_t len,
                     int add_footer)
{
    unsigned char *p = malloc(len + 10);
    memcpy(p, body, len);
    if (add_footer) {
        p[len] = RDB_VERSION;
        p[len + 1] = 0;
        uint64_t crc = crc64_update(0, p, len + 2);
        for (int i = 0; i < 8; i++)
            p[len + 2 + i] = (unsigned char)(crc >> (8 * i));
        len += 10;
    }
    resp_arg argv[5] = {
        { "RESTORE", 7 }, { key, strlen(key) }, { "0", 1 }, { (const char *)p, len }, { "REPLACE", 7 },
    };
    char *r = h_runv(c, 5, argv);
    free(p);
    return r;
}

/* DUMP key, then RESTORE the payload under `to`: must be +OK. */
static void dump_restores(client *c, const char *key, const char *to)
{
    resp_arg argv[2] = { { "DUMP", 4 }, { key, strlen(key) } };
    size_t total = 0;
    client_set_argv(c, 2, argv);
    cmd_process(c);
    c->argc = 0;
    c->argv = NULL;
    for (reply_block *b = c->reply_head; b; b = b->next)
        total += b->used;
    char *r = h_output(c);
    assert_true(total > 4 && r[0] == '$');
    char *body = strstr(r, "\r\n") + 2;
    size_t blen = (size_t)strtoull(r + 1, NULL, 10);
    assert_int_equal((size_t)(body - r) + blen + 2, total);
    char *ok = restore(c, to, (const unsigned char *)body, blen, 0);
    assert_string_equal(ok, "+OK\r\n");
    free(ok);
    free(r);
}

/* fuzz_dump / fuzz_rdb, build/fuzz/artifacts/dump/crash-6e3d5948...:
 * agent/rdb.c w_zset_listpack converted a score to long long before checking
 * its range ("1.32295e+217 is outside the range of representable values of
 * type 'long long'"). Any sorted set small enough for a listpack with a
 * score beyond +-9.2e18 reaches it on DUMP, SAVE, BGSAVE and full sync.
 * Fixed: the range is checked first. SAN=1 builds add gcc's
 * -fsanitize=float-cast-overflow, so make asan catches a regression. */
static void test_zset_listpack_huge_score(void **state)
{
    h_fixture *f = *state;
    assert_true(h_expect(f->c, "ZADD z 1e300 a -1e20 b 1e17 c 9.3e18 d 5 e", ":5\r\n"));
    dump_restores(f->c, "z", "z2");
    char *a = h_run(f->c, "ZRANGE z 0 -1 WITHSCORES");
    char *b = h_run(f->c, "ZRANGE z2 0 -1 WITHSCORES");
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "$23\r\n1.0000000000000001e+300\r\n"));
    free(a);
    free(b);
    assert_true(h_expect(f->c, "FLUSHALL", "+OK\r\n"));
}

/* The minimized artifact itself: a ZSET_2 body whose score's last bytes
 * are the footer (the reader sees the whole payload, as Redis' does). */
static void test_fuzz_dump_crash_zset_score(void **state)
{
    h_fixture *f = *state;
    static const unsigned char body[] = {
        0x05, 0x02, 0x01, 0x00, 0x00, 0x01, 0x04, 0x03, 0x00, 0x03, 0x00,
    };
    char *r = restore(f->c, "k", body, sizeof(body), 1);
    if (strcmp(r, "+OK\r\n") == 0)
        dump_restores(f->c, "k", "k2");
    else
        assert_string_equal(r, "-ERR Bad data format\r\n");
    free(r);
    assert_true(h_expect(f->c, "FLUSHALL", "+OK\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zset_listpack_huge_score, h_fixture_setup, h_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_dump_crash_zset_score, h_fixture_setup, h_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
