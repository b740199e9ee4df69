/* test_deque: the list container. Checks both ends against a plain array
 * model, growth and shrink, middle insert/remove, and the packed nodes:
 * where list-max-listpack-size cuts them (both signs), splits and merges at
 * the limits, huge elements alone in a node, index seeks from both ends and
 * from the remembered position, and a randomised model check. */
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


/* ---- packed nodes ------------------------------------------------------- */

static kstr ten_bytes(long v)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "e%09ld", v);
    return kstr_new(buf, 10);
}

static deque *new_with_fill(long long fill)
{
    deque_set_default_fill(fill);
    deque *q = deque_new();
    deque_set_default_fill(-2);
    return q;
}

static void assert_nodes(deque *q, size_t nodes, const size_t *entries)
{
    assert_int_equal(deque_node_count(q), nodes);
    for (size_t i = 0; i < nodes; i++)
        assert_int_equal(deque_node_entries(q, i), entries[i]);
}

/* A positive fill caps entries per node; the node limit applies to the
 * end that receives the push. */
static void test_fill_positive(void **state)
{
    (void)state;
    deque *q = new_with_fill(5);
    for (long i = 0; i < 12; i++)
        deque_push_tail(q, num(i));
    assert_nodes(q, 3, (size_t[]){5, 5, 2});
    deque_push_head(q, num(-1));
    assert_nodes(q, 4, (size_t[]){1, 5, 5, 2});
    for (long i = 0; i < 13; i++)
        assert_elem(q, (size_t)i, i - 1);
    deque_free(q);
    /* fill 0 behaves as Redis': one entry per node */
    q = new_with_fill(0);
    for (long i = 0; i < 3; i++)
        deque_push_tail(q, num(i));
    assert_nodes(q, 3, (size_t[]){1, 1, 1});
    deque_free(q);
    /* a positive fill still stops a node at 8 KB: 100-byte entries (102
     * with their lengths) fit 80 times in 8192 - 7 bytes */
    q = new_with_fill(1000);
    char big[100];
    memset(big, 'b', sizeof(big));
    for (int i = 0; i < 81; i++)
        deque_push_tail_buf(q, big, sizeof(big));
    assert_nodes(q, 2, (size_t[]){80, 1});
    deque_free(q);
}

/* Negative fills cap node bytes at 4 KB << (-fill - 1), counting a
 * listpack's 7 bytes of framing; a 10-byte element takes 12 bytes. */
static void test_fill_negative(void **state)
{
    (void)state;
    static const struct { long long fill; size_t per_node; } cases[] = {
        {-1, (4096 - 7) / 12}, {-2, (8192 - 7) / 12}, {-5, (65536 - 7) / 12}, {-9, (65536 - 7) / 12},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        deque *q = new_with_fill(cases[c].fill);
        size_t per = cases[c].per_node;
        for (size_t i = 0; i < per; i++)
            deque_push_tail(q, ten_bytes((long)i));
        assert_nodes(q, 1, (size_t[]){per});
        deque_push_tail(q, ten_bytes(-1));
        assert_nodes(q, 2, (size_t[]){per, 1});
        deque_push_head(q, ten_bytes(-2));
        assert_nodes(q, 3, (size_t[]){1, per, 1});
        /* the memory is the bytes plus a few nodes, not per-element */
        assert_true(deque_mem(q) < (per + 2) * 12 + 3 * 8192);
        deque_free(q);
    }
}

/* An element bigger than a node's limit lives alone in its own node, and
 * elements of 128 bytes or more (the long length form) round-trip. */
static void test_huge_elements(void **state)
{
    (void)state;
    deque *q = new_with_fill(-1);
    size_t hlen = 20000;
    char *huge = mem_alloc(hlen);
    for (size_t i = 0; i < hlen; i++)
        huge[i] = (char)('a' + i % 26);
    for (long i = 0; i < 3; i++)
        deque_push_tail(q, num(i));
    deque_push_tail_buf(q, huge, hlen);
    deque_push_tail(q, num(3));
    assert_nodes(q, 3, (size_t[]){3, 1, 1});
    deque_push_head_buf(q, huge, hlen);
    assert_nodes(q, 4, (size_t[]){1, 3, 1, 1});
    const char *p;
    size_t len;
    assert_true(deque_view(q, 4, &p, &len));
    assert_int_equal(len, hlen);
    assert_memory_equal(p, huge, hlen);
    /* replacing a small element by a huge one splits the node around it */
    deque_set(q, 2, kstr_new(huge, hlen));
    assert_elem(q, 1, 0);
    assert_elem(q, 3, 2);
    kstr g = deque_get(q, 2);
    assert_int_equal(kstr_len(g), hlen);
    assert_memory_equal(g, huge, hlen);
    for (size_t i = 0; i < deque_node_count(q); i++)
        assert_true(deque_node_entries(q, i) >= 1);
    kstr t = deque_pop_head(q);
    assert_int_equal(kstr_len(t), hlen);
    assert_memory_equal(t, huge, hlen);
    kstr_free(t);
    /* 128..255-byte elements use the long form of the length */
    char mid[200];
    memset(mid, 'm', sizeof(mid));
    deque_insert(q, 1, kstr_new(mid, 128));
    deque_insert(q, 1, kstr_new(mid, 127));
    assert_true(deque_view(q, 1, &p, &len));
    assert_int_equal(len, 127);
    assert_true(deque_view(q, 2, &p, &len));
    assert_int_equal(len, 128);
    mem_free(huge);
    deque_free(q);
}

/* Seeks from the head, from the tail and from the remembered position,
 * in both directions, across many nodes. */
static void test_index_seeks(void **state)
{
    (void)state;
    deque *q = new_with_fill(7);
    long n = 5000;
    for (long i = 0; i < n; i++)
        deque_push_tail(q, num(i));
    for (long i = 0; i < n; i++)
        assert_elem(q, (size_t)i, i);
    for (long i = n - 1; i >= 0; i--)
        assert_elem(q, (size_t)i, i);
    unsigned long x = 12345;
    for (int k = 0; k < 5000; k++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        long i = (long)((x >> 33) % (unsigned long)n);
        assert_elem(q, (size_t)i, i);
    }
    const char *p;
    size_t len;
    assert_false(deque_view(q, (size_t)n, &p, &len));
    deque_free(q);
}

/* Insert into a full node splits it, or uses the previous node's room;
 * removals merge neighbours that fit in one node. */
static void test_split_merge(void **state)
{
    (void)state;
    deque *q = new_with_fill(4);
    for (long i = 0; i < 8; i++)
        deque_push_tail(q, num(i));
    assert_nodes(q, 2, (size_t[]){4, 4});
    deque_insert(q, 2, num(100));            /* node 0 would hold 5: split */
    assert_nodes(q, 3, (size_t[]){2, 3, 4});
    deque_insert(q, 5, num(101));            /* before a full node: previous has room */
    assert_nodes(q, 3, (size_t[]){2, 4, 4});
    long want[] = {0, 1, 100, 2, 3, 101, 4, 5, 6, 7};
    for (size_t i = 0; i < 10; i++)
        assert_elem(q, i, want[i]);
    deque_remove(q, 0);                      /* {1},{100,2,3,101},{4..7} */
    assert_nodes(q, 3, (size_t[]){1, 4, 4});
    deque_remove(q, 1);                      /* node 0 + node 1 = 4: merge */
    assert_nodes(q, 2, (size_t[]){4, 4});
    long want2[] = {1, 2, 3, 101, 4, 5, 6, 7};
    for (size_t i = 0; i < 8; i++)
        assert_elem(q, i, want2[i]);
    deque_free(q);
}

/* A view stays valid while other deques change, and a seek after a change
 * of this deque finds the shifted element (the remembered position is
 * dropped on every modification). */
static void test_view_stability(void **state)
{
    (void)state;
    deque *q = new_with_fill(3), *other = new_with_fill(3);
    for (long i = 0; i < 10; i++)
        deque_push_tail(q, num(i));
    const char *p;
    size_t len;
    assert_true(deque_view(q, 5, &p, &len));
    for (long i = 0; i < 100; i++)
        deque_push_head(other, num(i));
    assert_int_equal(len, 1);
    assert_memory_equal(p, "5", 1);
    deque_push_head(q, num(-1));
    assert_elem(q, 5, 4);
    kstr_free(deque_pop_head(q));
    kstr_free(deque_pop_head(q));
    assert_elem(q, 5, 6);
    deque_drop_tail(q, 3);
    assert_int_equal(deque_len(q), 6);
    assert_elem(q, 5, 6);
    deque_drop_head(q, 4);
    assert_elem(q, 0, 5);
    assert_elem(q, 1, 6);
    deque_free(q);
    deque_free(other);
}

/* Random operations against an array of kstr, for several fills. */
static void test_model_random(void **state)
{
    (void)state;
    static const long long fills[] = {1, 3, 16, 0, -1, -5};
    enum { MAXN = 600 };
    char buf[300];
    for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
        deque *q = new_with_fill(fills[f]);
        kstr model[MAXN];
        size_t n = 0;
        unsigned long x = 42 + f;
        for (int step = 0; step < 4000; step++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            unsigned r = (unsigned)(x >> 33);
            size_t len = (r >> 8) % 7 == 0 ? 130 + (r >> 12) % 150 : (r >> 12) % 20;
            memset(buf, 'a' + (int)(r % 26), len);
            unsigned op = r % 8;
            if (n >= MAXN - 1)
                op = 4;
            if (op <= 1) {
                kstr v = kstr_new(buf, len);
                memmove(&model[op == 0 ? 1 : 0], &model[0], op == 0 ? n * sizeof(kstr) : 0);
                model[op == 0 ? 0 : n] = kstr_dup(v);
                n++;
                if (op == 0)
                    deque_push_head(q, v);
                else
                    deque_push_tail(q, v);
            } else if (op == 2 || op == 3) {
                size_t at = n ? (r >> 5) % (n + 1) : 0;
                memmove(&model[at + 1], &model[at], (n - at) * sizeof(kstr));
                model[at] = kstr_new(buf, len);
                n++;
                deque_insert(q, at, kstr_new(buf, len));
            } else if (op == 4 && n) {
                int tail = (r >> 4) & 1;
                kstr v = tail ? deque_pop_tail(q) : deque_pop_head(q);
                kstr m = model[tail ? n - 1 : 0];
                assert_int_equal(kstr_len(v), kstr_len(m));
                assert_memory_equal(v, m, kstr_len(m));
                if (!tail)
                    memmove(&model[0], &model[1], (n - 1) * sizeof(kstr));
                n--;
                kstr_free(v);
                kstr_free(m);
            } else if (op == 5 && n) {
                size_t at = (r >> 5) % n;
                kstr_free(model[at]);
                memmove(&model[at], &model[at + 1], (n - at - 1) * sizeof(kstr));
                n--;
                deque_remove(q, at);
            } else if (op == 6 && n) {
                size_t at = (r >> 5) % n;
                kstr_free(model[at]);
                model[at] = kstr_new(buf, len);
                deque_set(q, at, kstr_new(buf, len));
            } else if (op == 7 && n) {
                size_t k = (r >> 5) % 4;
                if (k > n)
                    k = n;
                int tail = (r >> 4) & 1;
                for (size_t i = 0; i < k; i++)
                    kstr_free(model[tail ? n - 1 - i : i]);
                if (!tail)
                    memmove(&model[0], &model[k], (n - k) * sizeof(kstr));
                n -= k;
                if (tail)
                    deque_drop_tail(q, k);
                else
                    deque_drop_head(q, k);
            }
            assert_int_equal(deque_len(q), n);
            if (step % 50 == 0 || step > 3950) {
                for (size_t i = 0; i < n; i++) {
                    const char *p;
                    size_t l;
                    assert_true(deque_view(q, i, &p, &l));
                    assert_int_equal(l, kstr_len(model[i]));
                    assert_memory_equal(p, model[i], l);
                }
            }
        }
        for (size_t i = 0; i < n; i++)
            kstr_free(model[i]);
        deque_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_ends),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_insert_remove_model),
        cmocka_unit_test(test_remove_all_shrinks),
        cmocka_unit_test(test_fill_positive),
        cmocka_unit_test(test_fill_negative),
        cmocka_unit_test(test_huge_elements),
        cmocka_unit_test(test_index_seeks),
        cmocka_unit_test(test_split_merge),
        cmocka_unit_test(test_view_stability),
        cmocka_unit_test(test_model_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
