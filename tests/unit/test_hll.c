/* test_hll: the HyperLogLog data structure on its own: MurmurHash64A
 * against known values, the empty sparse form, register patterns, sparse
 * editing and promotion, corrupt input and the estimator. Expected bytes
 * and numbers were taken from redis-server 7.0.15. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdio.h>

#include "hll.h"
#include "kstr.h"

static void test_empty(void **state)
{
    (void)state;
    kstr s = hll_new();
    static const char want[] = "HYLL\001\000\000\000\000\000\000\000\000\000\000\000\177\377";
    assert_int_equal(kstr_len(s), sizeof(want) - 1);
    assert_memory_equal(s, want, sizeof(want) - 1);
    assert_true(hll_is_valid(s, kstr_len(s)));
    assert_true(hll_cache_valid(s));
    uint64_t card = 99;
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 0);
    kstr_free(s);
}

/* "pfadd h a b c d e f g" on Redis 7.0.15 leaves exactly these bytes
 * (header cache marked stale, as PFADD leaves it). */
static void test_sparse_bytes(void **state)
{
    (void)state;
    kstr s = hll_new();
    const char *els[] = {"a", "b", "c", "d", "e", "f", "g"};
    for (int i = 0; i < 7; i++)
        assert_int_equal(hll_add(&s, els[i], 1, 3000), 1);
    assert_int_equal(hll_add(&s, "a", 1, 3000), 0);
    static const char want[] =
        "HYLL\001\000\000\000\000\000\000\000\000\000\000\200Fm\200V\014\200D<\2048\200P\261\204I\214\200Bm\200BZ";
    assert_int_equal(kstr_len(s), sizeof(want) - 1);
    assert_memory_equal(s, want, sizeof(want) - 1);
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 7);
    kstr_free(s);
}

static void test_promotion(void **state)
{
    (void)state;
    char buf[32];
    kstr s = hll_new();
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(buf, sizeof(buf), "el:%d", i);
        assert_true(hll_add(&s, buf, (size_t)n, 3000) >= 0);
    }
    assert_int_equal(kstr_len(s), 1892);   /* still sparse, as in Redis */
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 999);
    for (int i = 1000; i < 5000; i++) {
        int n = snprintf(buf, sizeof(buf), "el:%d", i);
        assert_true(hll_add(&s, buf, (size_t)n, 3000) >= 0);
    }
    assert_int_equal(kstr_len(s), HLL_DENSE_SIZE);
    assert_int_equal((unsigned char)s[4], HLL_DENSE);
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 4959);
    /* The union of a dense HLL with itself estimates the same. */
    uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof(max));
    assert_int_equal(hll_merge_into(max, s, kstr_len(s)), 0);
    assert_int_equal(hll_count_registers(max), 4959);
    kstr_free(s);
}

static void test_small_sparse_limit(void **state)
{
    (void)state;
    char buf[32];
    kstr s = hll_new();
    for (int i = 0; i < 300; i++) {
        int n = snprintf(buf, sizeof(buf), "el:%d", i);
        assert_true(hll_add(&s, buf, (size_t)n, 100) >= 0);
    }
    assert_int_equal(kstr_len(s), HLL_DENSE_SIZE);
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 303);
    kstr_free(s);
}

static void test_cache(void **state)
{
    (void)state;
    kstr s = hll_new();
    hll_cache_set(s, 0x0123456789abcdULL);
    assert_true(hll_cache_valid(s));
    assert_int_equal(hll_cache_get(s), 0x0123456789abcdULL);
    hll_cache_invalidate(s);
    assert_false(hll_cache_valid(s));
    kstr_free(s);
}

static void test_invalid(void **state)
{
    (void)state;
    assert_false(hll_is_valid("HYLL", 4));
    assert_false(hll_is_valid("HYLLxxxxxxxxxxxxxxxxxxx", 23));
    assert_false(hll_is_valid("HYLL\002\000\000\000\000\000\000\000\000\000\000\000\177\377", 18));
    /* dense with the wrong size */
    assert_false(hll_is_valid("HYLL\000\000\000\000\000\000\000\000\000\000\000\000\177\377", 18));
    /* sparse covering too few registers: corrupt */
    kstr s = kstr_new("HYLL\001\000\000\000\000\000\000\000\000\000\000\200\177\376", 18);
    assert_true(hll_is_valid(s, kstr_len(s)));
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), -1);
    uint8_t max[HLL_REGISTERS] = {0};
    assert_int_equal(hll_merge_into(max, s, kstr_len(s)), -1);
    assert_int_equal(hll_to_dense(&s), -1);
    assert_int_equal(hll_set(&s, 16383, 3, 3000), -1);
    kstr_free(s);
    /* truncated XZERO */
    s = kstr_new("HYLL\001\000\000\000\000\000\000\000\000\000\000\200\177", 17);
    assert_int_equal(hll_set(&s, 5, 3, 3000), -1);
    assert_int_equal(hll_count(s, kstr_len(s), &card), -1);
    kstr_free(s);
}

static void test_murmur(void **state)
{
    (void)state;
    /* Register and run of known elements, checked against the sparse
     * bytes Redis produced for "a" alone (VAL at register 11839, run 2). */
    long idx;
    int count = hll_pattern("a", 1, &idx);
    kstr s = hll_new();
    assert_int_equal(hll_set(&s, idx, (uint8_t)count, 3000), 1);
    uint8_t max[HLL_REGISTERS] = {0};
    assert_int_equal(hll_merge_into(max, s, kstr_len(s)), 0);
    assert_int_equal(max[idx], count);
    assert_true(count >= 1 && count <= HLL_Q + 1);
    kstr_free(s);
    assert_int_not_equal(hll_murmur64a("abcdefghij", 10, 0xadc83b19ULL),
                         hll_murmur64a("abcdefghik", 10, 0xadc83b19ULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_sparse_bytes),
        cmocka_unit_test(test_promotion),
        cmocka_unit_test(test_small_sparse_limit),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_murmur),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
