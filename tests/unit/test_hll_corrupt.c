/* Unit tests for agent/hll.c on damaged sparse HLL strings (difffuzz F21):
 * the opcode walks must find what Redis 7.0 finds (a truncated last XZERO
 * reads its missing byte as 0; a VAL run past the 16384 registers is
 * corrupt even when it starts right at the end) and never read past the
 * string. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"
#include "kstr.h"

/* A fresh sparse HLL holding one element, then `extra` bytes appended. */
static kstr damaged(const char *extra, size_t n)
{
    kstr s = hll_new();
    assert_int_equal(hll_add(&s, "a", 1, 3000), 1);
    return kstr_cat(s, extra, n);
}

static void test_truncated_xzero(void **state)
{
    (void)state;
    kstr s = damaged("a", 1);   /* 0x61: XZERO with its second byte missing */
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), -1);
    uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof(max));
    assert_int_equal(hll_merge_into(max, s, kstr_len(s)), -1);
    assert_int_equal(hll_to_dense(&s), -1);
    assert_int_equal((uint8_t)s[4], HLL_SPARSE);   /* left sparse */
    /* DECODE shows it, run counted with a low byte of 0: 0x21 << 8 + 1. */
    kstr d = hll_sparse_describe(s, kstr_len(s));
    size_t dl = kstr_len(d);
    assert_true(dl > 7 && memcmp(d + dl - 7, " Z:8449", 7) == 0);
    kstr_free(d);
    kstr_free(s);
}

static void test_val_past_the_end(void **state)
{
    (void)state;
    kstr s = damaged("\x80", 1);   /* VAL 1,1 starting at register 16384 */
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), -1);
    assert_int_equal(hll_to_dense(&s), -1);
    kstr_free(s);

    /* Intact: the same HLL converts and counts. */
    s = damaged("", 0);
    assert_int_equal(hll_count(s, kstr_len(s), &card), 0);
    assert_int_equal(card, 1);
    assert_int_equal(hll_to_dense(&s), 0);
    assert_int_equal(kstr_len(s), HLL_DENSE_SIZE);
    kstr_free(s);
}

static void test_add_walks_only_to_its_register(void **state)
{
    (void)state;
    /* Damage after every register is walked around by a set below it... */
    kstr s = damaged("\x00", 1);   /* ZERO 1 past the end */
    assert_true(hll_set(&s, 5, 3, 3000) >= 0);
    uint64_t card;
    assert_int_equal(hll_count(s, kstr_len(s), &card), -1);
    kstr_free(s);
    /* ...while a truncated XZERO covering the register is refused. */
    s = hll_new();
    kstr_set_len(s, HLL_HDR_SIZE + 1);   /* keep only the XZERO's first byte */
    assert_int_equal(hll_set(&s, 100, 3, 3000), -1);
    kstr_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_xzero),
        cmocka_unit_test(test_val_past_the_end),
        cmocka_unit_test(test_add_walks_only_to_its_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
