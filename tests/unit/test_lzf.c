/* test_lzf: LZF round trips over random, repetitive and periodic data of
 * many sizes; the "does not fit" answer; decoding of hand-written streams
 * (literal run, overlapping back-reference, long match); and malformed
 * streams, which must be refused without reading or writing out of
 * bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "lzf.h"

static void fill(unsigned char *p, size_t n, int mode)
{
    for (size_t i = 0; i < n; i++) {
        switch (mode) {
        case 0: p[i] = (unsigned char)rand(); break;
        case 1: p[i] = (unsigned char)('a' + rand() % 3); break;
        case 2: p[i] = 'x'; break;
        default: p[i] = (unsigned char)"hello world, "[i % 13]; break;
        }
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    srand(42);
    for (int t = 0; t < 4000; t++) {
        size_t n = (size_t)(rand() % (t < 3000 ? 600 : 70000)) + 1;
        int mode = t % 4;
        unsigned char *in = malloc(n), *c = malloc(n + 64), *d = malloc(n);
        fill(in, n, mode);
        size_t cl = lzf_compress(in, n, c, n + 64);
        if (mode >= 2 && n > 64)
            assert_true(cl > 0 && cl < n / 2);
        if (cl) {
            assert_int_equal(lzf_decompress(c, cl, d, n), n);
            assert_memory_equal(in, d, n);
            /* One byte less room than needed: refused. */
            if (n > 1)
                assert_int_equal(lzf_decompress(c, cl, d, n - 1), 0);
        }
        free(in);
        free(c);
        free(d);
    }
}

static void test_no_room(void **state)
{
    (void)state;
    unsigned char in[256], out[256];
    srand(1);
    fill(in, sizeof(in), 0);
    /* Random data does not shrink: with less room than the input, 0. */
    assert_int_equal(lzf_compress(in, sizeof(in), out, sizeof(in) - 4), 0);
    assert_int_equal(lzf_compress(in, 0, out, sizeof(out)), 0);
    assert_int_equal(lzf_compress(in, 10, out, 0), 0);
}

static void test_hand_streams(void **state)
{
    (void)state;
    unsigned char out[300];
    /* Literal "abc", then a back-reference of 6 bytes to distance 3. */
    const unsigned char s1[] = {0x02, 'a', 'b', 'c', (4 << 5) | 0, 0x02};
    assert_int_equal(lzf_decompress(s1, sizeof(s1), out, sizeof(out)), 9);
    assert_memory_equal(out, "abcabcabc", 9);
    /* Literal "z", then a long match (7 + 200 + 2 = 209) at distance 1. */
    const unsigned char s2[] = {0x00, 'z', (7 << 5), 200, 0x00};
    assert_int_equal(lzf_decompress(s2, sizeof(s2), out, sizeof(out)), 210);
    for (int i = 0; i < 210; i++)
        assert_int_equal(out[i], 'z');
}

static void test_malformed(void **state)
{
    (void)state;
    unsigned char out[64];
    const struct { const unsigned char *p; size_t n; } bad[] = {
        {(const unsigned char *)"\x05" "ab", 3},          /* literal run past the input */
        {(const unsigned char *)"\x20\x00", 2},           /* reference before the start */
        {(const unsigned char *)"\x00" "a" "\xe0", 3},    /* long match, length byte missing */
        {(const unsigned char *)"\x00" "a" "\x20", 3},    /* distance byte missing */
        {(const unsigned char *)"\x00" "a" "\x20\x05", 4},/* distance beyond output */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(lzf_decompress(bad[i].p, bad[i].n, out, sizeof(out)), 0);
    /* Output too small for a literal run. */
    const unsigned char lit[] = {0x03, 'a', 'b', 'c', 'd'};
    assert_int_equal(lzf_decompress(lit, sizeof(lit), out, 3), 0);
    /* Random garbage: never crashes. */
    srand(3);
    for (int t = 0; t < 20000; t++) {
        unsigned char g[40];
        size_t n = (size_t)(rand() % 40) + 1;
        for (size_t i = 0; i < n; i++)
            g[i] = (unsigned char)rand();
        size_t r = lzf_decompress(g, n, out, sizeof(out));
        assert_true(r <= sizeof(out));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_no_room),
        cmocka_unit_test(test_hand_streams),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
