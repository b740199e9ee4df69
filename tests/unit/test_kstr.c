/* Unit tests for agent/kstr.c: construction, binary safety, growth policy,
 * formatting, comparison and the memory accounting of every path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include <limits.h>
#include <string.h>

#include "kstr.h"
#include "mem.h"

static void test_new_and_nul(void **state)
{
    (void)state;
    kstr s = kstr_new("a\0b", 3);
    assert_int_equal(kstr_len(s), 3);
    assert_true(kstr_cap(s) >= 3);
    assert_int_equal(s[3], '\0');
    assert_memory_equal(s, "a\0b", 3);
    kstr_free(s);

    s = kstr_new(NULL, 5);   /* zero-filled */
    assert_int_equal(kstr_len(s), 5);
    assert_memory_equal(s, "\0\0\0\0\0", 6);
    kstr_free(s);

    s = kstr_from_cstr("");
    assert_int_equal(kstr_len(s), 0);
    assert_string_equal(s, "");
    kstr_free(s);

    s = kstr_empty(100);
    assert_int_equal(kstr_len(s), 0);
    assert_true(kstr_cap(s) >= 100);
    assert_string_equal(s, "");
    kstr_free(s);

    kstr_free(NULL);
}

static void test_from_ll(void **state)
{
    (void)state;
    kstr s = kstr_from_ll(LLONG_MIN);
    assert_string_equal(s, "-9223372036854775808");
    kstr_free(s);
    s = kstr_from_ll(0);
    assert_string_equal(s, "0");
    assert_int_equal(kstr_len(s), 1);
    kstr_free(s);
}

static void test_cat_and_growth(void **state)
{
    (void)state;
    kstr s = kstr_from_cstr("ab");
    s = kstr_cat(s, "cd", 2);
    s = kstr_cat_cstr(s, "ef");
    s = kstr_cat(s, "", 0);
    assert_string_equal(s, "abcdef");
    assert_int_equal(kstr_len(s), 6);
    /* Small strings double: appending one byte at a time stays amortised. */
    size_t reallocs = 0, cap = kstr_cap(s);
    for (int i = 0; i < 10000; i++) {
        s = kstr_cat(s, "x", 1);
        if (kstr_cap(s) != cap) {
            reallocs++;
            cap = kstr_cap(s);
        }
    }
    assert_int_equal(kstr_len(s), 10006);
    assert_true(reallocs < 20);
    assert_int_equal(s[10006], '\0');
    kstr_free(s);

    /* Past 1MB growth is linear: +1MB, not doubling. */
    s = kstr_empty(0);
    s = kstr_grow_zero(s, 3 * 1024 * 1024);
    assert_true(kstr_cap(s) >= 3 * 1024 * 1024);
    assert_true(kstr_cap(s) < 5 * 1024 * 1024);
    kstr_free(s);
}

static void test_catfmt(void **state)
{
    (void)state;
    kstr s = kstr_from_cstr("n=");
    s = kstr_catfmt(s, "%d,%s", -5, "x");
    assert_string_equal(s, "n=-5,x");
    assert_int_equal(kstr_len(s), 6);
    char big[3000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = kstr_catfmt(s, "[%s]", big);
    assert_int_equal(kstr_len(s), 6 + 2 + 2999);
    assert_int_equal(s[7], 'z');
    assert_int_equal(s[kstr_len(s) - 1], ']');
    kstr_free(s);
}

static void test_grow_zero_set_len_trim(void **state)
{
    (void)state;
    kstr s = kstr_from_cstr("abc");
    s = kstr_grow_zero(s, 2);   /* shorter: no-op */
    assert_int_equal(kstr_len(s), 3);
    s = kstr_grow_zero(s, 8);
    assert_int_equal(kstr_len(s), 8);
    assert_memory_equal(s, "abc\0\0\0\0\0\0", 9);
    kstr_set_len(s, 2);
    assert_string_equal(s, "ab");
    kstr_free(s);

    s = kstr_empty(1000);
    memcpy(s, "hello", 5);
    kstr_set_len(s, 5);
    s = kstr_trim_alloc(s);
    assert_string_equal(s, "hello");
    assert_true(kstr_cap(s) < 100);
    assert_true(kstr_alloc_size(s) >= 1 + 5 + 1);   /* header, bytes, NUL */
    kstr_free(s);
}

static void test_dup_cmp_eq(void **state)
{
    (void)state;
    kstr a = kstr_new("abc", 3);
    kstr b = kstr_dup(a);
    assert_ptr_not_equal(a, b);
    assert_int_equal(kstr_cmp(a, b), 0);
    assert_true(kstr_eq_buf(a, "abc", 3));
    assert_false(kstr_eq_buf(a, "abd", 3));
    assert_false(kstr_eq_buf(a, "ab", 2));
    kstr c = kstr_new("ab", 2);
    assert_true(kstr_cmp(c, a) < 0);   /* prefix sorts first */
    assert_true(kstr_cmp(a, c) > 0);
    kstr d = kstr_new("\xff", 1);      /* bytes compare unsigned */
    assert_true(kstr_cmp(a, d) < 0);
    kstr e = kstr_new("", 0);
    assert_true(kstr_cmp(e, c) < 0);
    assert_true(kstr_eq_buf(e, "", 0));
    assert_null(kstr_dup(NULL));
    kstr_free(a);
    kstr_free(b);
    kstr_free(c);
    kstr_free(d);
    kstr_free(e);
}

static void test_memory_accounting(void **state)
{
    (void)state;
    size_t base = mem_used();
    kstr s = kstr_from_cstr("counted");
    assert_true(mem_used() >= base + 1 + 7 + 1);
    for (int i = 0; i < 100; i++)
        s = kstr_cat(s, "0123456789", 10);
    assert_true(mem_used() >= base + kstr_len(s));
    kstr_free(s);
    assert_int_equal(mem_used(), base);

    char *p = mem_strdup("abc");
    assert_string_equal(p, "abc");
    p = mem_realloc(p, 4096);
    assert_true(mem_used() >= base + 4096);
    mem_free(p);
    void *q = mem_calloc(64);
    assert_memory_equal(q, (char[64]){0}, 64);
    mem_free(q);
    q = mem_memdup("xyz", 3);
    assert_memory_equal(q, "xyz", 3);
    mem_free(q);
    assert_int_equal(mem_used(), base);
    assert_true(mem_rss() > 0);
}

/* Every layout boundary: tiny (<64, exact), small (<256), large; growth
 * across layouts keeps the bytes, and short keys stay small. */
static void test_layouts(void **state)
{
    (void)state;
    static const size_t lens[] = { 0, 1, 10, 63, 64, 65, 255, 256, 257, 70000 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        char *buf = malloc(n + 1);
        for (size_t j = 0; j < n; j++)
            buf[j] = (char)('a' + j % 26);
        kstr s = kstr_new(buf, n);
        assert_int_equal(kstr_len(s), n);
        assert_true(kstr_cap(s) >= n);
        assert_memory_equal(s, buf, n);
        assert_int_equal(s[n], '\0');
        /* Grow one byte at a time across the next boundary. */
        for (int k = 0; k < 300; k++)
            s = kstr_cat(s, "z", 1);
        assert_int_equal(kstr_len(s), n + 300);
        assert_memory_equal(s, buf, n);
        assert_int_equal(s[n + 299], 'z');
        kstr_set_len(s, n);
        assert_int_equal(kstr_len(s), n);
        s = kstr_trim_alloc(s);
        assert_int_equal(kstr_len(s), n);
        assert_memory_equal(s, buf, n);
        kstr_free(s);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_nul),
        cmocka_unit_test(test_from_ll),
        cmocka_unit_test(test_cat_and_growth),
        cmocka_unit_test(test_catfmt),
        cmocka_unit_test(test_grow_zero_set_len_trim),
        cmocka_unit_test(test_dup_cmp_eq),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
