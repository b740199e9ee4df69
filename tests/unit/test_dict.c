/* Unit tests for agent/dict.c: correctness while an incremental rehash is in
 * progress, the SCAN guarantee across resizes, safe iteration with deletion,
 * sampling, and value ownership on clear. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "kstr.h"
#include "mem.h"

#define DICT_TEST_FORCE_RATIO 5

static int key_of(char *buf, size_t size, int i)
{
    return snprintf(buf, size, "key:%d", i);
}

static dict *dict_with_keys(int n)
{
    dict *d = dict_create(&dict_type_plain);
    char k[32];
    for (int i = 0; i < n; i++) {
        int len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_add(d, k, (size_t)len, NULL);
        assert_non_null(e);
        e->v.i64 = i;
    }
    return d;
}

static void test_entry_is_24_bytes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(dict_entry), 24);
}

static void test_add_find_delete_100k(void **state)
{
    (void)state;
    const int n = 100000;
    dict *d = dict_create(&dict_type_plain);
    char k[32];
    int saw_rehashing = 0;
    for (int i = 0; i < n; i++) {
        int len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_add(d, k, (size_t)len, NULL);
        assert_non_null(e);
        assert_int_equal(e->v.i64, 0);
        e->v.i64 = i;
        if (dict_is_rehashing(d)) {
            saw_rehashing = 1;
            /* Every key added so far is findable mid-rehash. */
            if (i % 997 == 0) {
                for (int j = 0; j <= i; j += 101) {
                    int l2 = key_of(k, sizeof(k), j);
                    dict_entry *f = dict_find(d, k, (size_t)l2);
                    assert_non_null(f);
                    assert_int_equal(f->v.i64, j);
                }
            }
        }
    }
    assert_true(saw_rehashing);
    assert_int_equal(dict_size(d), n);

    /* Duplicate add reports the existing entry. */
    dict_entry *existing = NULL;
    int len = key_of(k, sizeof(k), 42);
    assert_null(dict_add(d, k, (size_t)len, &existing));
    assert_non_null(existing);
    assert_int_equal(existing->v.i64, 42);

    for (int i = 0; i < n; i++) {
        len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_find(d, k, (size_t)len);
        assert_non_null(e);
        assert_int_equal(e->v.i64, i);
        assert_true(kstr_eq_buf(e->key, k, (size_t)len));
    }
    assert_null(dict_find(d, "missing", 7));

    /* Delete the even keys. */
    for (int i = 0; i < n; i += 2) {
        len = key_of(k, sizeof(k), i);
        assert_int_equal(dict_delete(d, k, (size_t)len), 1);
        assert_int_equal(dict_delete(d, k, (size_t)len), 0);
    }
    assert_int_equal(dict_size(d), n / 2);
    for (int i = 0; i < n; i++) {
        len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_find(d, k, (size_t)len);
        if (i % 2)
            assert_non_null(e);
        else
            assert_null(e);
    }
    dict_free(d);
}

/* Tables of 2^16 buckets or more place moved entries by the hash bits kept
 * in their chain links, not by rehashing their keys: a growth by 8x with
 * deletions mid-way must leave every key findable and no deleted one. */
static void test_wide_growth_by_tags(void **state)
{
    (void)state;
    const int n = 70000;
    dict *d = dict_with_keys(n);
    char k[32];
    while (dict_is_rehashing(d))
        dict_rehash_ms(d, 10);
    assert_true(dict_buckets(d) >= ((size_t)1 << 16));
    dict_expand(d, (size_t)1 << 20);
    assert_true(dict_is_rehashing(d));
    for (int i = 0; i < n; i += 3) {
        int len = key_of(k, sizeof(k), i);
        assert_int_equal(dict_delete(d, k, (size_t)len), 1);
    }
    while (dict_is_rehashing(d))
        dict_rehash_ms(d, 10);
    assert_int_equal(dict_buckets(d), (size_t)1 << 20);
    for (int i = 0; i < n; i++) {
        int len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_find(d, k, (size_t)len);
        if (i % 3 == 0) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->v.i64, i);
        }
    }
    assert_int_equal(dict_size(d), (size_t)(n - (n + 2) / 3));
    dict_free(d);
}

static void test_rehash_completes_and_shrinks(void **state)
{
    (void)state;
    dict *d = dict_with_keys(5000);
    while (dict_rehash_ms(d, 10))
        ;
    assert_false(dict_is_rehashing(d));
    assert_true(dict_buckets(d) >= 5000);
    char k[32];
    for (int i = 100; i < 5000; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_int_equal(dict_delete(d, k, (size_t)len), 1);
    }
    size_t before = dict_buckets(d);
    dict_maybe_shrink(d);
    assert_true(dict_is_rehashing(d));
    while (dict_rehash_ms(d, 10))
        ;
    assert_true(dict_buckets(d) < before);
    assert_true(dict_buckets(d) >= 100);
    for (int i = 0; i < 100; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_non_null(dict_find(d, k, (size_t)len));
    }
    /* Already dense: nothing to do. */
    dict_maybe_shrink(d);
    assert_false(dict_is_rehashing(d));
    dict_free(d);
}

static void test_expand_ahead(void **state)
{
    (void)state;
    dict *d = dict_create(NULL);
    dict_expand(d, 1000);
    assert_int_equal(dict_buckets(d), 1024);
    assert_false(dict_is_rehashing(d));
    char k[32];
    for (int i = 0; i < 1000; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_non_null(dict_add(d, k, (size_t)len, NULL));
    }
    assert_int_equal(dict_buckets(d), 1024);   /* no resize was needed */
    assert_true(dict_mem(d) >= 1024 * sizeof(void *) + 1000 * sizeof(dict_entry));
    dict_free(d);
}

/* Sizes from a client (DEBUG POPULATE) or a file (RESIZEDB) may be absurd:
 * a table whose byte size does not fit a size_t used to wrap to a tiny
 * block with a huge bucket count. Now it is refused, and the dict works. */
static void test_expand_absurd(void **state)
{
    (void)state;
    dict *d = dict_create(NULL);
    assert_int_equal(dict_try_expand(d, SIZE_MAX), -1);
    assert_int_equal(dict_try_expand(d, (size_t)1 << 62), -1);
    dict_expand(d, SIZE_MAX);   /* a refused hint, not a wrapped table */
    assert_int_equal(dict_buckets(d), 0);
    assert_int_equal(dict_try_expand(d, 100), 0);
    assert_int_equal(dict_buckets(d), 128);
    char k[32];
    for (int i = 0; i < 1000; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_non_null(dict_add(d, k, (size_t)len, NULL));
    }
    assert_int_equal(dict_size(d), 1000);
    dict_free(d);
}

static void test_resize_deferred(void **state)
{
    (void)state;
    dict *d = dict_with_keys(8);   /* 8 buckets once the grow completes */
    while (dict_rehash_ms(d, 10))
        ;
    size_t buckets = dict_buckets(d);
    dict_set_resize_allowed(0);
    char k[32];
    int i = 8;
    for (; (size_t)i <= buckets * DICT_TEST_FORCE_RATIO; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_non_null(dict_add(d, k, (size_t)len, NULL));
    }
    assert_false(dict_is_rehashing(d));
    assert_int_equal(dict_buckets(d), buckets);
    for (; !dict_is_rehashing(d); i++) {   /* past 5x: grows anyway */
        int len = key_of(k, sizeof(k), i);
        assert_non_null(dict_add(d, k, (size_t)len, NULL));
    }
    while (dict_rehash_ms(d, 10))
        ;
    for (int j = 1; j < i; j++) {   /* keep only key:0 */
        int len = key_of(k, sizeof(k), j);
        assert_int_equal(dict_delete(d, k, (size_t)len), 1);
    }
    dict_maybe_shrink(d);   /* deferred too */
    assert_false(dict_is_rehashing(d));
    dict_set_resize_allowed(1);
    dict_maybe_shrink(d);
    assert_true(dict_is_rehashing(d));
    dict_free(d);
}

/* ---- scan ---- */

typedef struct scan_seen {
    unsigned char *seen;
    int n;
    long calls;
} scan_seen;

static void scan_mark(void *priv, const dict_entry *e)
{
    scan_seen *s = priv;
    int i = atoi(e->key + 4);
    assert_true(i >= 0 && i < s->n);
    s->seen[i] = 1;
    s->calls++;
}

static void scan_check_all(dict *d, int n, int grow_at, int grow_to, int shrink_at)
{
    scan_seen s = { calloc((size_t)n, 1), n, 0 };
    assert_non_null(s.seen);
    uint64_t cursor = 0;
    int steps = 0;
    char k[32];
    do {
        cursor = dict_scan(d, cursor, scan_mark, &s);
        steps++;
        if (steps == grow_at) {
            /* Grow mid-scan with new keys (not required to be seen). */
            for (int i = n; i < grow_to; i++) {
                int len = key_of(k, sizeof(k), i);
                assert_non_null(dict_add(d, k, (size_t)len, NULL));
            }
            assert_true(dict_is_rehashing(d));
        }
        if (steps == shrink_at) {
            dict_maybe_shrink(d);
            assert_true(dict_is_rehashing(d));
        }
        if (steps % 3 == 0)
            dict_rehash_ms(d, 0);   /* move some buckets between calls */
    } while (cursor != 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(s.seen[i], 1);
    free(s.seen);
}

static void scan_ignore_new(void *priv, const dict_entry *e)
{
    scan_seen *s = priv;
    int i = atoi(e->key + 4);
    if (i < s->n)
        s->seen[i] = 1;
    s->calls++;
}

static void test_scan_plain(void **state)
{
    (void)state;
    dict *d = dict_with_keys(3000);
    while (dict_rehash_ms(d, 10))
        ;
    scan_check_all(d, 3000, -1, 0, -1);
    dict_free(d);

    dict *empty = dict_create(&dict_type_plain);
    scan_seen s = { NULL, 0, 0 };
    assert_int_equal(dict_scan(empty, 0, scan_mark, &s), 0);
    assert_int_equal(s.calls, 0);
    dict_free(empty);
}

static void test_scan_during_rehash(void **state)
{
    (void)state;
    /* 1025 keys: the grow to 2048 buckets has just started. */
    dict *d = dict_with_keys(1025);
    assert_true(dict_is_rehashing(d));
    scan_check_all(d, 1025, -1, 0, -1);
    dict_free(d);
}

static void test_scan_across_grow(void **state)
{
    (void)state;
    const int n = 2000, grow_to = 9000;
    dict *d = dict_with_keys(n);
    while (dict_rehash_ms(d, 10))
        ;
    scan_seen s = { calloc((size_t)grow_to, 1), n, 0 };
    assert_non_null(s.seen);
    uint64_t cursor = 0;
    int steps = 0;
    char k[32];
    do {
        cursor = dict_scan(d, cursor, scan_ignore_new, &s);
        if (++steps == 300) {
            for (int i = n; i < grow_to; i++) {
                int len = key_of(k, sizeof(k), i);
                assert_non_null(dict_add(d, k, (size_t)len, NULL));
            }
        }
        if (steps % 2 == 0)
            dict_rehash_ms(d, 0);
    } while (cursor != 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(s.seen[i], 1);
    free(s.seen);
    dict_free(d);
}

static void test_scan_across_shrink(void **state)
{
    (void)state;
    const int n = 8000;
    dict *d = dict_with_keys(n);
    while (dict_rehash_ms(d, 10))
        ;
    char k[32];
    for (int i = 300; i < n; i++) {
        int len = key_of(k, sizeof(k), i);
        assert_int_equal(dict_delete(d, k, (size_t)len), 1);
    }
    scan_check_all(d, 300, -1, 0, 50);
    dict_free(d);
}

/* ---- iterators ---- */

static void test_safe_iter_delete(void **state)
{
    (void)state;
    const int n = 3000;
    dict *d = dict_with_keys(n);
    assert_true(dict_is_rehashing(d) || dict_size(d) == (size_t)n);
    dict_iter it;
    dict_iter_init(d, &it, 1);
    int seen = 0;
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        seen++;
        if (e->v.i64 % 3 == 0)
            assert_int_equal(dict_delete(d, e->key, kstr_len(e->key)), 1);
    }
    dict_iter_release(&it);
    assert_int_equal(seen, n);
    assert_int_equal(dict_size(d), n - (n + 2) / 3);

    /* Unsafe iteration over an unchanged dict sees every entry once. */
    long sum = 0, count = 0;
    dict_iter_init(d, &it, 0);
    while ((e = dict_iter_next(&it)) != NULL) {
        sum += e->v.i64;
        count++;
    }
    dict_iter_release(&it);
    long expect = 0;
    for (int i = 0; i < n; i++)
        if (i % 3)
            expect += i;
    assert_int_equal(count, (long)dict_size(d));
    assert_int_equal(sum, expect);

    /* An iterator that never started releases cleanly. */
    dict_iter_init(d, &it, 1);
    dict_iter_release(&it);
    dict_free(d);
}

static void test_iter_empty(void **state)
{
    (void)state;
    dict *d = dict_create(&dict_type_plain);
    dict_iter it;
    dict_iter_init(d, &it, 1);
    assert_null(dict_iter_next(&it));
    dict_iter_release(&it);
    dict_iter_init(d, &it, 0);
    assert_null(dict_iter_next(&it));
    dict_iter_release(&it);
    dict_free(d);
}

/* ---- random and sample ---- */

static void test_random_and_sample(void **state)
{
    (void)state;
    dict *d = dict_create(&dict_type_plain);
    dict_entry *out[32];
    assert_null(dict_random(d));
    assert_int_equal(dict_sample(d, out, 10), 0);

    assert_non_null(dict_add(d, "only", 4, NULL));
    dict_entry *r = dict_random(d);
    assert_non_null(r);
    assert_true(kstr_eq_buf(r->key, "only", 4));
    assert_int_equal(dict_sample(d, out, 10), 1);
    dict_free(d);

    const int n = 1000;
    d = dict_with_keys(n);   /* mid-rehash after the last grow */
    unsigned char *hit = calloc((size_t)n, 1);
    assert_non_null(hit);
    int distinct = 0;
    for (int i = 0; i < 20000; i++) {
        r = dict_random(d);
        assert_non_null(r);
        int idx = (int)r->v.i64;
        assert_true(idx >= 0 && idx < n);
        if (!hit[idx]++)
            distinct++;
    }
    assert_true(distinct > n * 9 / 10);
    free(hit);

    size_t got = dict_sample(d, out, 32);
    assert_true(got > 0 && got <= 32);
    for (size_t i = 0; i < got; i++) {
        assert_non_null(out[i]);
        assert_ptr_equal(dict_find(d, out[i]->key, kstr_len(out[i]->key)), out[i]);
    }
    dict_free(d);
}

/* ---- ownership ---- */

static int freed_values;

static void count_free(void *p)
{
    freed_values++;
    mem_free(p);
}

static const dict_type counting_type = { count_free };

static void test_clear_calls_val_free(void **state)
{
    (void)state;
    size_t base = mem_used();
    dict *d = dict_create(&counting_type);
    char k[32];
    for (int i = 0; i < 500; i++) {
        int len = key_of(k, sizeof(k), i);
        dict_entry *e = dict_add(d, k, (size_t)len, NULL);
        e->v.ptr = mem_alloc(16);
    }
    /* A NULL value is not passed to val_free. */
    assert_non_null(dict_add(d, "nullval", 7, NULL));
    freed_values = 0;
    assert_int_equal(dict_delete(d, "key:7", 5), 1);
    assert_int_equal(freed_values, 1);
    dict_entry *e = dict_unlink(d, "key:8", 5);
    assert_non_null(e);
    assert_null(dict_find(d, "key:8", 5));
    assert_int_equal(freed_values, 1);
    dict_free_unlinked(d, e);
    assert_int_equal(freed_values, 2);
    dict_clear(d);
    assert_int_equal(freed_values, 500);
    assert_int_equal(dict_size(d), 0);
    assert_int_equal(dict_buckets(d), 0);
    /* Usable after clear. */
    assert_non_null(dict_add(d, "again", 5, NULL));
    assert_non_null(dict_find(d, "again", 5));
    dict_free(d);
    assert_int_equal(mem_used(), base);
}

static void test_add_kstr(void **state)
{
    (void)state;
    dict *d = dict_create(&dict_type_plain);
    kstr k = kstr_from_cstr("owned");
    dict_entry *e = dict_add_kstr(d, k, NULL);
    assert_non_null(e);
    assert_ptr_equal(e->key, k);
    kstr k2 = kstr_from_cstr("owned");
    dict_entry *existing = NULL;
    assert_null(dict_add_kstr(d, k2, &existing));
    assert_ptr_equal(existing, e);
    kstr_free(k2);   /* not consumed on failure */
    /* Binary keys with NULs. */
    assert_non_null(dict_add(d, "a\0b", 3, NULL));
    assert_non_null(dict_add(d, "a\0c", 3, NULL));
    assert_non_null(dict_find(d, "a\0b", 3));
    assert_null(dict_find(d, "a", 1));
    assert_non_null(dict_add(d, "", 0, NULL));
    assert_non_null(dict_find(d, "", 0));
    dict_free(d);
}

static void test_hash_seed(void **state)
{
    (void)state;
    uint64_t h1 = dict_hash("hello", 5);
    assert_int_equal(h1, dict_hash("hello", 5));
    assert_int_not_equal(h1, dict_hash("hellp", 5));
    /* SipHash-1-3 reference value: key 00..0f, empty message. */
    uint8_t seed[16];
    for (int i = 0; i < 16; i++)
        seed[i] = (uint8_t)i;
    dict_set_hash_seed(seed);
    assert_int_equal(dict_hash("", 0), 0xabac0158050fc4dcULL);
    assert_int_not_equal(dict_hash("hello", 5), h1);
    /* Tables keep working under the new seed. */
    dict *d = dict_with_keys(100);
    assert_non_null(dict_find(d, "key:99", 6));
    dict_free(d);
}

/* dict_peek finds what dict_find finds, mid-rehash too, without moving a
 * bucket; dict_prefetch changes nothing either. */
static void test_peek_and_prefetch_change_nothing(void **state)
{
    (void)state;
    dict *d = dict_create(&dict_type_plain);
    char k[32];
    int n;
    for (n = 0; n < 600 || !dict_is_rehashing(d); n++) {
        int len = key_of(k, sizeof(k), n);
        assert_non_null(dict_add(d, k, (size_t)len, NULL));
        if (n > 100000)
            fail();
    }
    assert_true(dict_is_rehashing(d));
    size_t buckets = dict_buckets(d);
    const char *keys[DICT_PREFETCH_MAX];
    size_t lens[DICT_PREFETCH_MAX];
    char store[DICT_PREFETCH_MAX][32];
    for (int i = 0; i < DICT_PREFETCH_MAX; i++) {
        lens[i] = (size_t)key_of(store[i], sizeof(store[i]), i * 7);
        keys[i] = store[i];
    }
    dict_prefetch(d, DICT_PREFETCH_MAX, keys, lens, NULL);
    const void *values[DICT_PREFETCH_MAX];
    dict_prefetch(d, 1000, keys, lens, values);    /* more than the max is clipped */
    for (int i = 0; i < n; i++) {
        int len = key_of(k, sizeof(k), i);
        const dict_entry *e = dict_peek(d, k, (size_t)len);
        assert_non_null(e);
        assert_memory_equal(e->key, k, (size_t)len);
    }
    assert_null(dict_peek(d, "absent", 6));
    assert_true(dict_is_rehashing(d));
    assert_int_equal(dict_buckets(d), buckets);
    assert_int_equal(dict_size(d), (size_t)n);
    dict_free(d);

    dict *empty = dict_create(&dict_type_plain);
    assert_null(dict_peek(empty, "a", 1));
    values[0] = keys;
    dict_prefetch(empty, 1, keys, lens, values);
    assert_null(values[0]);   /* nothing found, nothing to warm */
    dict_free(empty);

    /* A lone key is its bucket's first entry: its value is handed back. */
    dict *one = dict_create(&dict_type_plain);
    dict_entry *e = dict_add(one, "solo", 4, NULL);
    assert_non_null(e);
    e->v.ptr = &buckets;
    keys[0] = "solo";
    lens[0] = 4;
    dict_prefetch(one, 1, keys, lens, values);
    assert_ptr_equal(values[0], &buckets);
    dict_free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_is_24_bytes),
        cmocka_unit_test(test_add_find_delete_100k),
        cmocka_unit_test(test_rehash_completes_and_shrinks),
        cmocka_unit_test(test_wide_growth_by_tags),
        cmocka_unit_test(test_expand_ahead),
        cmocka_unit_test(test_expand_absurd),
        cmocka_unit_test(test_resize_deferred),
        cmocka_unit_test(test_scan_plain),
        cmocka_unit_test(test_scan_during_rehash),
        cmocka_unit_test(test_scan_across_grow),
        cmocka_unit_test(test_scan_across_shrink),
        cmocka_unit_test(test_safe_iter_delete),
        cmocka_unit_test(test_iter_empty),
        cmocka_unit_test(test_random_and_sample),
        cmocka_unit_test(test_clear_calls_val_free),
        cmocka_unit_test(test_add_kstr),
        cmocka_unit_test(test_hash_seed),
        cmocka_unit_test(test_peek_and_prefetch_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
