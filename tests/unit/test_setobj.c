/* test_setobj: the set container. Checks the intset encoding (ascending
 * iteration, canonical-integer rule), both conversions to a dict (a
 * non-integer member, passing the entry limit), and a random add/remove run
 * against a plain membership model, plus random member and scan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kstr.h"
#include "setobj.h"

static int add_str(setobj *s, const char *m)
{
    return setobj_add(s, m, strlen(m));
}

static void test_intset_order(void **state)
{
    (void)state;
    setobj *s = setobj_new();
    assert_int_equal(add_str(s, "5"), 1);
    assert_int_equal(add_str(s, "-3"), 1);
    assert_int_equal(add_str(s, "100"), 1);
    assert_int_equal(add_str(s, "5"), 0);
    assert_int_equal(add_str(s, "9223372036854775807"), 1);
    assert_int_equal(add_str(s, "-9223372036854775808"), 1);
    assert_true(setobj_is_intset(s));
    assert_int_equal(setobj_len(s), 5);
    const char *want[] = {"-9223372036854775808", "-3", "5", "100", "9223372036854775807"};
    setobj_iter it;
    setobj_iter_init(s, &it);
    const char *m;
    size_t len, i = 0;
    while (setobj_iter_next(&it, &m, &len)) {
        assert_true(i < 5);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(m, want[i], len);
        i++;
    }
    setobj_iter_release(&it);
    assert_int_equal(i, 5);
    assert_true(setobj_contains(s, "100", 3));
    assert_false(setobj_contains(s, "101", 3));
    assert_false(setobj_contains(s, "abc", 3));
    assert_int_equal(setobj_remove(s, "-3", 2), 1);
    assert_int_equal(setobj_remove(s, "-3", 2), 0);
    assert_int_equal(setobj_remove(s, "x", 1), 0);
    assert_int_equal(setobj_len(s), 4);
    setobj_free(s);
}

static void test_non_canonical_converts(void **state)
{
    (void)state;
    const char *odd[] = {"007", "+1", " 1", "1.0", "-0", "9223372036854775808", ""};
    for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
        setobj *s = setobj_new();
        add_str(s, "1");
        assert_true(setobj_is_intset(s));
        assert_int_equal(add_str(s, odd[k]), 1);
        assert_false(setobj_is_intset(s));
        assert_true(setobj_contains(s, "1", 1));
        assert_true(setobj_contains(s, odd[k], strlen(odd[k])));
        assert_int_equal(setobj_len(s), 2);
        /* Never converted back, even when only integers remain. */
        assert_int_equal(setobj_remove(s, odd[k], strlen(odd[k])), 1);
        assert_false(setobj_is_intset(s));
        setobj_free(s);
    }
}

static void test_limit_converts(void **state)
{
    (void)state;
    size_t saved = setobj_max_intset_entries;
    setobj_max_intset_entries = 16;
    setobj *s = setobj_new();
    char buf[32];
    for (int i = 0; i < 16; i++) {
        int n = snprintf(buf, sizeof(buf), "%d", i * 7);
        assert_int_equal(setobj_add(s, buf, (size_t)n), 1);
    }
    assert_true(setobj_is_intset(s));
    assert_int_equal(setobj_add(s, "1000", 4), 1);
    assert_false(setobj_is_intset(s));
    assert_int_equal(setobj_len(s), 17);
    for (int i = 0; i < 16; i++) {
        int n = snprintf(buf, sizeof(buf), "%d", i * 7);
        assert_true(setobj_contains(s, buf, (size_t)n));
    }
    setobj_free(s);
    setobj_max_intset_entries = saved;
}

#define MODEL_N 300

/* Members "0".."299" plus "m0".."m299" (the latter force a dict). */
static int member_of(int k, char *buf)
{
    if (k < MODEL_N)
        return snprintf(buf, 32, "%d", k - MODEL_N / 2);
    return snprintf(buf, 32, "m%d", k);
}

static void run_model(int allow_strings)
{
    char in[2 * MODEL_N] = {0};
    setobj *s = setobj_new();
    size_t count = 0;
    char buf[32];
    srandom(42);
    for (int step = 0; step < 20000; step++) {
        int k = (int)(random() % (allow_strings ? 2 * MODEL_N : MODEL_N));
        int n = member_of(k, buf);
        if (random() % 3) {
            assert_int_equal(setobj_add(s, buf, (size_t)n), !in[k]);
            if (!in[k])
                count++;
            in[k] = 1;
        } else {
            assert_int_equal(setobj_remove(s, buf, (size_t)n), in[k]);
            if (in[k])
                count--;
            in[k] = 0;
        }
        assert_int_equal(setobj_len(s), count);
    }
    for (int k = 0; k < 2 * MODEL_N; k++) {
        int n = member_of(k, buf);
        assert_int_equal(setobj_contains(s, buf, (size_t)n), in[k]);
    }
    /* Iteration yields every member once; intsets ascending. */
    setobj_iter it;
    setobj_iter_init(s, &it);
    const char *m;
    size_t len, seen = 0;
    long long prev = 0;
    while (setobj_iter_next(&it, &m, &len)) {
        assert_true(setobj_contains(s, m, len));
        if (setobj_is_intset(s)) {
            long long v = strtoll(m, NULL, 10);
            if (seen)
                assert_true(v > prev);
            prev = v;
        }
        seen++;
    }
    setobj_iter_release(&it);
    assert_int_equal(seen, count);
    setobj_free(s);
}

static void test_model_intset(void **state)
{
    (void)state;
    run_model(0);
}

static void test_model_dict(void **state)
{
    (void)state;
    run_model(1);
}

static void count_cb(void *priv, const char *m, size_t len)
{
    (void)m;
    (void)len;
    (*(size_t *)priv)++;
}

static void test_random_and_scan(void **state)
{
    (void)state;
    setobj *s = setobj_new();
    assert_null(setobj_random(s));
    char buf[32];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(buf, sizeof(buf), "%d", i);
        setobj_add(s, buf, (size_t)n);
    }
    for (int i = 0; i < 100; i++) {
        kstr r = setobj_random(s);
        assert_non_null(r);
        assert_true(setobj_contains(s, r, kstr_len(r)));
        kstr_free(r);
    }
    size_t n = 0;
    assert_int_equal(setobj_scan(s, 0, count_cb, &n), 0);
    assert_int_equal(n, 50);
    add_str(s, "str");
    n = 0;
    uint64_t cur = 0;
    do {
        cur = setobj_scan(s, cur, count_cb, &n);
    } while (cur);
    assert_int_equal(n, 51);
    kstr r = setobj_random(s);
    assert_true(setobj_contains(s, r, kstr_len(r)));
    kstr_free(r);
    assert_true(setobj_mem(s) > 0);
    setobj_free(s);
}

/* Looking members up while walking the same dict-encoded set must not
 * disturb the walk, even while the table is being rehashed. */
static void test_lookup_during_iteration(void **state)
{
    (void)state;
    char buf[32];
    for (int size = 1; size < 1200; size += 37) {
        setobj *s = setobj_new();
        for (int i = 0; i < size; i++) {
            int n = snprintf(buf, sizeof(buf), "m%d", i);
            setobj_add(s, buf, (size_t)n);
        }
        setobj_iter it;
        setobj_iter_init(s, &it);
        const char *m;
        size_t len, seen = 0;
        while (setobj_iter_next(&it, &m, &len)) {
            assert_true(setobj_contains(s, m, len));
            seen++;
        }
        setobj_iter_release(&it);
        assert_int_equal(seen, (size_t)size);
        setobj_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intset_order),
        cmocka_unit_test(test_non_canonical_converts),
        cmocka_unit_test(test_limit_converts),
        cmocka_unit_test(test_model_intset),
        cmocka_unit_test(test_model_dict),
        cmocka_unit_test(test_random_and_scan),
        cmocka_unit_test(test_lookup_during_iteration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
