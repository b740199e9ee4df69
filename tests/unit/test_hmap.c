/* test_hmap: the hash container. Insertion order of small hashes (replace in
 * place, delete closes the gap), conversion to a dict exactly past the
 * entry-count and value-length thresholds, iteration and scan of both
 * encodings, and random picks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "hmap.h"
#include "kstr.h"

static void set_str(hmap *h, const char *f, const char *v)
{
    hmap_set(h, f, strlen(f), v, strlen(v));
}

/* Concatenate "f=v," over an iteration. */
static void dump(hmap *h, char *out, size_t size)
{
    hmap_iter it;
    kstr f, v;
    out[0] = '\0';
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &f, &v)) {
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s=%s,", f, v);
    }
    hmap_iter_release(&it);
}

static void test_small_order(void **state)
{
    (void)state;
    hmap *h = hmap_new();
    char buf[256];
    assert_int_equal(hmap_set(h, "a", 1, "1", 1), 1);
    assert_int_equal(hmap_set(h, "b", 1, "2", 1), 1);
    assert_int_equal(hmap_set(h, "c", 1, "3", 1), 1);
    assert_int_equal(hmap_set(h, "b", 1, "22", 2), 0);
    dump(h, buf, sizeof(buf));
    assert_string_equal(buf, "a=1,b=22,c=3,");
    assert_int_equal(hmap_del(h, "a", 1), 1);
    assert_int_equal(hmap_del(h, "a", 1), 0);
    set_str(h, "a", "4");
    dump(h, buf, sizeof(buf));
    assert_string_equal(buf, "b=22,c=3,a=4,");
    assert_int_equal(hmap_len(h), 3);
    assert_true(hmap_is_small(h));
    assert_string_equal(hmap_get(h, "c", 1), "3");
    assert_null(hmap_get(h, "zz", 2));
    /* binary-safe fields */
    assert_int_equal(hmap_set(h, "x\0y", 3, "", 0), 1);
    assert_null(hmap_get(h, "x", 1));
    assert_int_equal(kstr_len(hmap_get(h, "x\0y", 3)), 0);
    hmap_free(h);
    hmap_free(NULL);
}

static void test_convert_on_entries(void **state)
{
    (void)state;
    hmap *h = hmap_new();
    char f[32];
    for (size_t i = 0; i < hmap_max_small_entries; i++) {
        int n = snprintf(f, sizeof(f), "f%zu", i);
        hmap_set(h, f, (size_t)n, f, (size_t)n);
    }
    assert_true(hmap_is_small(h));
    /* replacing does not grow it */
    set_str(h, "f0", "x");
    assert_true(hmap_is_small(h));
    set_str(h, "new", "x");
    assert_false(hmap_is_small(h));
    assert_int_equal(hmap_len(h), hmap_max_small_entries + 1);
    assert_string_equal(hmap_get(h, "f0", 2), "x");
    assert_string_equal(hmap_get(h, "f7", 2), "f7");
    /* never converts back */
    for (size_t i = 0; i < hmap_max_small_entries; i++) {
        int n = snprintf(f, sizeof(f), "f%zu", i);
        assert_int_equal(hmap_del(h, f, (size_t)n), 1);
    }
    assert_false(hmap_is_small(h));
    assert_int_equal(hmap_len(h), 1);
    hmap_free(h);
}

static void test_convert_on_length(void **state)
{
    (void)state;
    char big[200];
    memset(big, 'v', sizeof(big));
    hmap *h = hmap_new();
    hmap_set(h, "a", 1, big, hmap_max_small_value);
    assert_true(hmap_is_small(h));
    hmap_set(h, "b", 1, big, hmap_max_small_value + 1);
    assert_false(hmap_is_small(h));
    assert_int_equal(kstr_len(hmap_get(h, "b", 1)), hmap_max_small_value + 1);
    assert_int_equal(kstr_len(hmap_get(h, "a", 1)), hmap_max_small_value);
    hmap_free(h);

    h = hmap_new();
    hmap_set(h, big, hmap_max_small_value + 1, "v", 1);
    assert_false(hmap_is_small(h));
    assert_string_equal(hmap_get(h, big, hmap_max_small_value + 1), "v");
    assert_int_equal(hmap_set(h, big, hmap_max_small_value + 1, "w", 1), 0);
    assert_string_equal(hmap_get(h, big, hmap_max_small_value + 1), "w");
    hmap_free(h);
}

static void count_cb(void *priv, kstr field, kstr value)
{
    (void)field;
    (void)value;
    (*(size_t *)priv)++;
}

static void order_cb(void *priv, kstr field, kstr value)
{
    char *out = priv;
    size_t n = strlen(out);
    sprintf(out + n, "%s=%s,", field, value);
}

static void test_scan(void **state)
{
    (void)state;
    hmap *h = hmap_new();
    char buf[256] = "";
    set_str(h, "z", "1");
    set_str(h, "y", "2");
    assert_int_equal(hmap_scan(h, 0, order_cb, buf), 0);
    assert_string_equal(buf, "z=1,y=2,");

    char f[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(f, sizeof(f), "k%d", i);
        hmap_set(h, f, (size_t)n, "v", 1);
    }
    assert_false(hmap_is_small(h));
    size_t seen = 0;
    uint64_t cur = 0;
    int steps = 0;
    do {
        cur = hmap_scan(h, cur, count_cb, &seen);
        steps++;
    } while (cur != 0);
    assert_int_equal(seen, 1002);   /* no rehash during the scan: exact */
    assert_true(steps > 1);

    /* iteration of the large encoding visits everything once */
    hmap_iter it;
    kstr kf, kv;
    size_t n = 0;
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &kf, &kv))
        n++;
    hmap_iter_release(&it);
    assert_int_equal(n, 1002);
    assert_true(hmap_mem(h) > 1000);
    hmap_free(h);
}

static void test_random(void **state)
{
    (void)state;
    hmap *h = hmap_new();
    kstr f, v;
    assert_int_equal(hmap_random(h, &f, &v), 0);
    set_str(h, "a", "1");
    set_str(h, "b", "2");
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(hmap_random(h, &f, &v), 1);
        if (!strcmp(f, "a")) {
            seen_a = 1;
            assert_string_equal(v, "1");
        } else {
            seen_b = 1;
            assert_string_equal(v, "2");
        }
    }
    assert_true(seen_a && seen_b);
    for (size_t i = 0; i < hmap_max_small_entries + 10; i++) {
        char k[32];
        int n = snprintf(k, sizeof(k), "x%zu", i);
        hmap_set(h, k, (size_t)n, k, (size_t)n);
    }
    assert_false(hmap_is_small(h));
    assert_int_equal(hmap_random(h, &f, &v), 1);
    if (f[0] == 'x')
        assert_string_equal(f, v);
    hmap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_order),
        cmocka_unit_test(test_convert_on_entries),
        cmocka_unit_test(test_convert_on_length),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
