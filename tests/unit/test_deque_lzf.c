/* test_deque_lzf: list-compress-depth. A deque whose inner nodes are
 * LZF-compressed must hold exactly what an uncompressed one holds through
 * any mix of pushes, pops, drops, index reads, sets, inserts and removes
 * (a randomised model check against a depth-0 twin, reading elements back
 * between changes, which leaves nodes raw until the next change), keep the
 * end nodes raw, and take less memory for compressible elements. */
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

/* A compressible element: a repeated pattern with the value in it. */
static kstr elem(unsigned v, size_t len)
{
    char buf[512];
    if (len > sizeof(buf))
        len = sizeof(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + (i % 7));
    int n = snprintf(buf, sizeof(buf), "%u:", v);
    buf[n] = 'x';
    return kstr_new(buf, len < (size_t)n + 1 ? (size_t)n + 1 : len);
}

static void assert_same(deque *a, deque *b)
{
    assert_int_equal(deque_len(a), deque_len(b));
    for (size_t i = 0; i < deque_len(a); i++) {
        const char *pa, *pb;
        size_t la, lb;
        assert_true(deque_view(a, i, &pa, &la));
        assert_true(deque_view(b, i, &pb, &lb));
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la);
    }
}

static uint64_t rnd_state = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

/* One random change applied to both deques. */
static void random_op(deque *c, deque *r, unsigned v)
{
    size_t len = deque_len(c);
    size_t sz = 1 + rnd(4) * (rnd(3) ? 20 : 150);
    switch (rnd(10)) {
    case 0: case 1:
        deque_push_head(c, elem(v, sz));
        deque_push_head(r, elem(v, sz));
        break;
    case 2: case 3:
        deque_push_tail(c, elem(v, sz));
        deque_push_tail(r, elem(v, sz));
        break;
    case 4: {
        kstr a = deque_pop_head(c), b = deque_pop_head(r);
        assert_true((a == NULL) == (b == NULL));
        if (a)
            assert_true(kstr_eq_buf(a, b, kstr_len(b)));
        kstr_free(a);
        kstr_free(b);
        break;
    }
    case 5: {
        kstr a = deque_pop_tail(c), b = deque_pop_tail(r);
        assert_true((a == NULL) == (b == NULL));
        if (a)
            assert_true(kstr_eq_buf(a, b, kstr_len(b)));
        kstr_free(a);
        kstr_free(b);
        break;
    }
    case 6:
        if (len) {
            size_t i = rnd((unsigned)len);
            deque_set(c, i, elem(v, sz));
            deque_set(r, i, elem(v, sz));
        }
        break;
    case 7: {
        size_t i = len ? rnd((unsigned)len + 1) : 0;
        deque_insert(c, i, elem(v, sz));
        deque_insert(r, i, elem(v, sz));
        break;
    }
    case 8:
        if (len) {
            size_t i = rnd((unsigned)len);
            deque_remove(c, i);
            deque_remove(r, i);
        }
        break;
    default: {
        size_t k = rnd(3);
        if (rnd(2)) {
            deque_drop_head(c, k);
            deque_drop_head(r, k);
        } else {
            deque_drop_tail(c, k);
            deque_drop_tail(r, k);
        }
        break;
    }
    }
}

static void test_random_model(void **state)
{
    (void)state;
    for (int depth = 1; depth <= 3; depth++) {
        deque_set_default_fill(4);
        deque_set_default_compress(depth);
        deque *c = deque_new();
        deque_set_default_compress(0);
        deque *r = deque_new();
        for (unsigned step = 0; step < 4000; step++) {
            random_op(c, r, step);
            /* Reads decompress inner nodes; the next change compresses them. */
            if (step % 97 == 0)
                assert_same(c, r);
        }
        assert_same(c, r);
        deque_free(c);
        deque_free(r);
    }
    deque_set_default_fill(-2);
}

/* The same elements take less memory compressed; the end nodes stay raw,
 * so pushes and pops at the ends cost what they cost without compression. */
static void test_memory_and_ends(void **state)
{
    (void)state;
    deque_set_default_compress(1);
    deque *c = deque_new();
    deque_set_default_compress(0);
    deque *r = deque_new();
    for (unsigned i = 0; i < 20000; i++) {
        deque_push_tail(c, elem(i, 40));
        deque_push_tail(r, elem(i, 40));
    }
    assert_true(deque_node_count(c) > 10);
    size_t mc = deque_mem(c), mr = deque_mem(r);
    assert_true(mc * 2 < mr);
    /* a full scan leaves nodes raw; the next change compresses them again */
    assert_same(c, r);
    kstr v = deque_pop_head(c);
    kstr_free(v);
    v = deque_pop_head(r);
    kstr_free(v);
    assert_true(deque_mem(c) * 2 < deque_mem(r));
    /* new lists copy their depth from deque_new_like */
    deque *like = deque_new_like(c);
    for (unsigned i = 0; i < 5000; i++)
        deque_push_head(like, elem(i, 40));
    assert_true(deque_mem(like) * 2 < 5000u * 42u);   /* 42 raw bytes an element */
    deque_free(like);
    /* draining from both ends passes through every compressed node */
    for (unsigned i = 0; deque_len(c); i++) {
        kstr a = (i & 1) ? deque_pop_head(c) : deque_pop_tail(c);
        kstr b = (i & 1) ? deque_pop_head(r) : deque_pop_tail(r);
        assert_true(kstr_eq_buf(a, b, kstr_len(b)));
        kstr_free(a);
        kstr_free(b);
    }
    assert_int_equal(deque_len(r), 0);
    deque_free(c);
    deque_free(r);
}

/* Incompressible or tiny nodes stay raw and still read back. */
static void test_incompressible(void **state)
{
    (void)state;
    deque_set_default_compress(2);
    deque_set_default_fill(2);
    deque *c = deque_new();
    deque_set_default_compress(0);
    deque_set_default_fill(-2);
    for (unsigned i = 0; i < 200; i++) {
        char b[64];
        for (size_t k = 0; k < sizeof(b); k++)
            b[k] = (char)((i * 131 + k * 7919 + (k * k) * 31) & 0xff);
        deque_push_tail_buf(c, b, i % 3 ? sizeof(b) : 3);
    }
    assert_int_equal(deque_len(c), 200);
    for (unsigned i = 0; i < 200; i++) {
        const char *p;
        size_t len;
        assert_true(deque_view(c, i, &p, &len));
        assert_int_equal(len, i % 3 ? 64 : 3);
        assert_int_equal((unsigned char)p[1], (unsigned char)((i * 131 + 7919 + 31) & 0xff));
    }
    deque_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_model),
        cmocka_unit_test(test_memory_and_ends),
        cmocka_unit_test(test_incompressible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
