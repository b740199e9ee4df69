/* test_deque: the list container. Checks both ends against a plain array
 * model, wrap-around, growth and shrink, and middle insert/remove from
 * either side of the ring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "deque.h"
#include "kstr.h"
#include "mem.h"

static kstr num(long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld", v);
    return kstr_new(buf, (size_t)n);
}

static void assert_elem(deque *q, size_t idx, long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld", v);
    kstr e = deque_get(q, idx);
    assert_non_null(e);
    assert_true(kstr_eq_buf(e, buf, (size_t)n));
}

static void test_push_pop_ends(void **state)
{
    (void)state;
    deque *q = deque_new();
    assert_int_equal(deque_len(q), 0);
    assert_null(deque_pop_head(q));
    assert_null(deque_pop_tail(q));
    for (long i = 0; i < 10; i++)
        deque_push_tail(q, num(i));
    for (long i = 1; i <= 10; i++)
        deque_push_head(q, num(-i));
    assert_int_equal(deque_len(q), 20);
    for (long i = 0; i < 20; i++)
        assert_elem(q, (size_t)i, i < 10 ? -(10 - i) : i - 10);
    kstr h = deque_pop_head(q);
    assert_string_equal(h, "-10");
    kstr_free(h);
    kstr t = deque_pop_tail(q);
    assert_string_equal(t, "9");
    kstr_free(t);
    assert_int_equal(deque_len(q), 18);
    assert_null(deque_get(q, 18));
    deque_free(q);
}

/* Alternate pushes/pops so head wraps many times around the buffer. */
static void test_wraparound(void **state)
{
    (void)state;
    deque *q = deque_new();
    long next = 0, first = 0;
    for (int round = 0; round < 1000; round++) {
        deque_push_tail(q, num(next++));
        deque_push_tail(q, num(next++));
        kstr v = deque_pop_head(q);
        char buf[32];
        snprintf(buf, sizeof(buf), "%ld", first++);
        assert_string_equal(v, buf);
        kstr_free(v);
    }
    assert_int_equal(deque_len(q), 1000);
    for (size_t i = 0; i < deque_len(q); i++)
        assert_elem(q, i, first + (long)i);
    /* shrink back down to empty */
    while (deque_len(q) > 0)
        kstr_free(deque_pop_tail(q));
    assert_true(deque_mem(q) < 256);
    deque_free(q);
}

static void test_set(void **state)
{
    (void)state;
    deque *q = deque_new();
    for (long i = 0; i < 5; i++)
        deque_push_head(q, num(i));
    deque_set(q, 0, kstr_from_cstr("x"));
    deque_set(q, 4, kstr_from_cstr("y"));
    assert_string_equal(deque_get(q, 0), "x");
    assert_string_equal(deque_get(q, 1), "3");
    assert_string_equal(deque_get(q, 4), "y");
    deque_free(q);
}

/* Model check of insert/remove at every position, with the ring rotated so
 * both shifting directions cross the wrap point. */
static void test_insert_remove_model(void **state)
{
    (void)state;
    for (int rot = 0; rot < 9; rot++) {
        for (size_t pos = 0; pos <= 8; pos++) {
            deque *q = deque_new();
            long model[16];
            size_t n = 0;
            for (int r = 0; r < rot; r++) {
                deque_push_tail(q, num(0));
                kstr_free(deque_pop_head(q));
            }
            for (long i = 0; i < 8; i++) {
                deque_push_tail(q, num(i));
                model[n++] = i;
            }
            deque_insert(q, pos, num(100));
            memmove(&model[pos + 1], &model[pos], (n - pos) * sizeof(long));
            model[pos] = 100;
            n++;
            assert_int_equal(deque_len(q), n);
            for (size_t i = 0; i < n; i++)
                assert_elem(q, i, model[i]);
            size_t rm = (pos * 3) % n;
            deque_remove(q, rm);
            memmove(&model[rm], &model[rm + 1], (n - rm - 1) * sizeof(long));
            n--;
            assert_int_equal(deque_len(q), n);
            for (size_t i = 0; i < n; i++)
                assert_elem(q, i, model[i]);
            deque_free(q);
        }
    }
}

static void test_remove_all_shrinks(void **state)
{
    (void)state;
    deque *q = deque_new();
    for (long i = 0; i < 4096; i++)
        deque_push_tail(q, num(i));
    size_t big = deque_mem(q);
    while (deque_len(q) > 1)
        deque_remove(q, deque_len(q) / 2);
    assert_true(deque_mem(q) < big / 16);
    assert_elem(q, 0, 0);
    deque_free(q);
    deque_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_ends),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_insert_remove_model),
        cmocka_unit_test(test_remove_all_shrinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
