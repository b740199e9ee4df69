/* test_zset: the sorted set container. Ordering by (score, member bytes),
 * score updates, ranks and node-at-rank after many random inserts, updates
 * and deletes checked against a brute-force sorted array, score and lex
 * range lookups, and range deletions (by rank, score, lex) against the same
 * model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kstr.h"
#include "zset.h"

#define NM 400

typedef struct model {
    int in[NM];
    double score[NM];
} model;

static int mname(int k, char *buf)
{
    /* Varying lengths so the prefix rule is exercised ("m1" < "m10"). */
    return snprintf(buf, 32, "m%d", k);
}

static int cmp_members(const model *md, int a, int b)
{
    if (md->score[a] != md->score[b])
        return md->score[a] < md->score[b] ? -1 : 1;
    char ba[32], bb[32];
    int la = mname(a, ba), lb = mname(b, bb);
    int n = la < lb ? la : lb;
    int r = memcmp(ba, bb, (size_t)n);
    if (r)
        return r;
    return la - lb;
}

static const model *sort_md;
static int qcmp(const void *a, const void *b)
{
    return cmp_members(sort_md, *(const int *)a, *(const int *)b);
}

/* Members of the model in set order; returns their number. */
static int model_sorted(const model *md, int *out)
{
    int n = 0;
    for (int k = 0; k < NM; k++)
        if (md->in[k])
            out[n++] = k;
    sort_md = md;
    qsort(out, (size_t)n, sizeof(int), qcmp);
    return n;
}

static void check_against_model(zset *z, const model *md)
{
    /* zset_mem tracks allocations incrementally: empty set -> base size. */
    zset *empty = zset_new();
    assert_true(zset_mem(z) >= zset_mem(empty) + zset_len(z) * 24);
    zset_free(empty);
    int order[NM];
    int n = model_sorted(md, order);
    assert_int_equal(zset_len(z), (size_t)n);
    zset_node *x = zset_first(z);
    char buf[32];
    for (int i = 0; i < n; i++) {
        assert_non_null(x);
        int len = mname(order[i], buf);
        kstr m = zset_node_member(x);
        assert_int_equal(kstr_len(m), (size_t)len);
        assert_memory_equal(m, buf, (size_t)len);
        assert_true(zset_node_score(x) == md->score[order[i]]);
        assert_int_equal(zset_rank(z, buf, (size_t)len, 0), i);
        assert_int_equal(zset_rank(z, buf, (size_t)len, 1), n - 1 - i);
        assert_ptr_equal(zset_at_rank(z, (size_t)i), x);
        assert_int_equal(zset_node_rank(z, x), (size_t)i);
        x = zset_next(x);
    }
    assert_null(x);
    /* Backward links mirror the forward walk. */
    x = zset_last(z);
    for (int i = n - 1; i >= 0; i--) {
        assert_ptr_equal(x, zset_at_rank(z, (size_t)i));
        x = zset_prev(x);
    }
    assert_null(x);
    assert_null(zset_at_rank(z, (size_t)n));
}

static void test_order_and_update(void **state)
{
    (void)state;
    zset *z = zset_new();
    assert_int_equal(zset_add(z, "b", 1, 1.0), 1);
    assert_int_equal(zset_add(z, "a", 1, 1.0), 1);
    assert_int_equal(zset_add(z, "ab", 2, 1.0), 1);
    assert_int_equal(zset_add(z, "z", 1, -INFINITY), 1);
    assert_int_equal(zset_add(z, "y", 1, INFINITY), 1);
    const char *want[] = {"z", "a", "ab", "b", "y"};
    size_t i = 0;
    for (zset_node *x = zset_first(z); x; x = zset_next(x), i++)
        assert_string_equal(zset_node_member(x), want[i]);
    assert_int_equal(i, 5);
    /* Update moves the node; same score is a no-op returning 0. */
    assert_int_equal(zset_add(z, "z", 1, 2.0), 0);
    assert_int_equal(zset_add(z, "z", 1, 2.0), 0);
    double sc;
    assert_true(zset_score(z, "z", 1, &sc));
    assert_true(sc == 2.0);
    assert_int_equal(zset_rank(z, "z", 1, 0), 3);
    assert_false(zset_score(z, "nope", 4, &sc));
    assert_int_equal(zset_rank(z, "nope", 4, 0), -1);
    assert_int_equal(zset_del(z, "a", 1), 1);
    assert_int_equal(zset_del(z, "a", 1), 0);
    assert_int_equal(zset_len(z), 4);
    assert_string_equal(zset_node_member(zset_first(z)), "ab");
    zset_free(z);
}

static void test_random_model(void **state)
{
    (void)state;
    model md;
    memset(&md, 0, sizeof(md));
    zset *z = zset_new();
    char buf[32];
    srandom(7);
    for (int step = 0; step < 30000; step++) {
        int k = (int)(random() % NM);
        int len = mname(k, buf);
        if (random() % 4) {
            /* Few distinct scores, so member order decides often. */
            double s = (double)(random() % 20) / 2.0;
            assert_int_equal(zset_add(z, buf, (size_t)len, s), !md.in[k]);
            md.in[k] = 1;
            md.score[k] = s;
        } else {
            assert_int_equal(zset_del(z, buf, (size_t)len), md.in[k]);
            md.in[k] = 0;
        }
        if (step % 3000 == 0)
            check_against_model(z, &md);
    }
    check_against_model(z, &md);
    zset_free(z);
}

static zset *build(model *md, int n)
{
    memset(md, 0, sizeof(*md));
    zset *z = zset_new();
    char buf[32];
    for (int k = 0; k < n; k++) {
        int len = mname(k, buf);
        md->in[k] = 1;
        md->score[k] = (double)(k % 10);
        zset_add(z, buf, (size_t)len, md->score[k]);
    }
    return z;
}

static void test_score_ranges(void **state)
{
    (void)state;
    zset_range r;
    assert_true(zset_parse_range("(1.5", 4, "+inf", 4, &r));
    assert_true(r.minex && !r.maxex && r.min == 1.5 && isinf(r.max));
    assert_true(zset_parse_range("-inf", 4, "(3", 2, &r));
    assert_true(zset_parse_range("", 0, "(", 1, &r));   /* strtod: both 0 */
    assert_false(zset_parse_range("nan", 3, "1", 1, &r));
    assert_false(zset_parse_range("1x", 2, "1", 1, &r));
    assert_false(zset_parse_range("1", 1, "((1", 3, &r));

    model md;
    zset *z = build(&md, 100);
    int order[NM];
    int n = model_sorted(&md, order);
    const char *bounds[][2] = {{"2", "4"}, {"(2", "4"}, {"2", "(4"}, {"(2", "(3"}, {"-inf", "+inf"},
                               {"5", "2"}, {"(3", "3"}, {"9", "inf"}, {"(9", "inf"}, {"-1", "-0.5"}};
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        assert_true(zset_parse_range(bounds[b][0], strlen(bounds[b][0]), bounds[b][1],
                                     strlen(bounds[b][1]), &r));
        int first = -1, last = -1;
        for (int i = 0; i < n; i++) {
            double s = md.score[order[i]];
            if (zset_range_gte_min(s, &r) && zset_range_lte_max(s, &r)) {
                if (first < 0)
                    first = i;
                last = i;
            }
        }
        zset_node *f = zset_first_in_range(z, &r), *l = zset_last_in_range(z, &r);
        if (first < 0) {
            assert_null(f);
            assert_null(l);
        } else {
            assert_ptr_equal(f, zset_at_rank(z, (size_t)first));
            assert_ptr_equal(l, zset_at_rank(z, (size_t)last));
        }
    }
    /* Delete by score against the model. */
    assert_true(zset_parse_range("(2", 2, "4", 1, &r));
    size_t expect = 0;
    for (int k = 0; k < 100; k++)
        if (md.score[k] > 2 && md.score[k] <= 4) {
            md.in[k] = 0;
            expect++;
        }
    assert_int_equal(zset_delete_range_by_score(z, &r), expect);
    check_against_model(z, &md);
    zset_free(z);
}

static void test_lex_ranges(void **state)
{
    (void)state;
    zset_lex_range r;
    assert_false(zset_parse_lex_range("a", 1, "+", 1, &r));
    assert_false(zset_parse_lex_range("", 0, "+", 1, &r));
    assert_false(zset_parse_lex_range("-x", 2, "+", 1, &r));
    assert_true(zset_parse_lex_range("-", 1, "+", 1, &r));

    zset *z = zset_new();
    const char *ms[] = {"a", "aa", "ab", "b", "ba", "c", "d"};
    for (size_t i = 0; i < 7; i++)
        zset_add(z, ms[i], strlen(ms[i]), 0);
    struct {
        const char *min, *max;
        int first, last;
    } cases[] = {
        {"-", "+", 0, 6},    {"[a", "[b", 0, 3},  {"(a", "(b", 1, 2}, {"[aa", "(ba", 1, 3},
        {"(d", "+", -1, -1}, {"-", "(a", -1, -1}, {"[c", "[a", -1, -1}, {"+", "-", -1, -1},
        {"[b", "[b", 3, 3},  {"(b", "[b", -1, -1}, {"-", "[aa", 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(zset_parse_lex_range(cases[i].min, strlen(cases[i].min), cases[i].max,
                                         strlen(cases[i].max), &r));
        zset_node *f = zset_first_in_lex_range(z, &r), *l = zset_last_in_lex_range(z, &r);
        if (cases[i].first < 0) {
            assert_null(f);
            assert_null(l);
        } else {
            assert_int_equal(zset_node_rank(z, f), cases[i].first);
            assert_int_equal(zset_node_rank(z, l), cases[i].last);
        }
    }
    assert_true(zset_parse_lex_range("(a", 2, "[b", 2, &r));
    assert_int_equal(zset_delete_range_by_lex(z, &r), 3);
    assert_int_equal(zset_len(z), 4);
    assert_string_equal(zset_node_member(zset_at_rank(z, 1)), "ba");
    zset_free(z);
}

static void test_delete_by_rank(void **state)
{
    (void)state;
    model md;
    zset *z = build(&md, 200);
    int order[NM];
    int n = model_sorted(&md, order);
    for (int i = 10; i <= 59; i++)
        md.in[order[i]] = 0;
    assert_int_equal(zset_delete_range_by_rank(z, 10, 59), 50);
    check_against_model(z, &md);
    n = model_sorted(&md, order);
    md.in[order[n - 1]] = 0;
    assert_int_equal(zset_delete_range_by_rank(z, (size_t)n - 1, (size_t)n - 1), 1);
    check_against_model(z, &md);
    assert_int_equal(zset_delete_range_by_rank(z, 0, zset_len(z) - 1), (size_t)n - 1);
    assert_int_equal(zset_len(z), 0);
    /* Node accounting returns to the same figure after add + delete and
     * is unchanged by a score update that moves the node. */
    for (int i = 0; i < 50; i++)
        zset_add(z, "base", 4, i);
    size_t before = zset_mem(z);
    zset_add(z, "tmp-member", 10, 3.0);
    assert_true(zset_mem(z) > before);
    zset_add(z, "tmp-member", 10, -7.0);
    zset_del(z, "tmp-member", 10);
    assert_int_equal(zset_mem(z), before);
    zset_del(z, "base", 4);
    assert_null(zset_first(z));
    assert_null(zset_last(z));
    zset_free(z);
}

static void scan_cb(void *priv, const char *m, size_t len, double score)
{
    (void)m;
    (void)len;
    (void)score;
    (*(size_t *)priv)++;
}

static void test_random_scan_compact(void **state)
{
    (void)state;
    model md;
    zset *z = build(&md, 100);
    assert_true(zset_is_compact(z));
    size_t seen = 0;
    uint64_t cur = 0;
    do {
        cur = zset_scan(z, cur, scan_cb, &seen);
    } while (cur);
    assert_int_equal(seen, 100);
    const char *m;
    size_t len;
    double s;
    assert_true(zset_random(z, &m, &len, &s));
    double s2;
    assert_true(zset_score(z, m, len, &s2) && s2 == s);
    char big[100];
    memset(big, 'x', sizeof(big));
    zset_add(z, big, sizeof(big), 1);
    assert_false(zset_is_compact(z));
    zset_free(z);
    z = build(&md, 129);
    assert_false(zset_is_compact(z));
    assert_true(zset_mem(z) > 0);
    zset_free(z);
}

/* zset_del given the node's own member bytes (as range deletion does). */
static void test_delete_with_own_member(void **state)
{
    (void)state;
    zset *z = zset_new();
    zset_add(z, "a", 1, 1);
    zset_add(z, "b", 1, 2);
    zset_node *x = zset_first(z);
    kstr m = zset_node_member(x);
    assert_int_equal(zset_del(z, m, kstr_len(m)), 1);
    assert_int_equal(zset_len(z), 1);
    assert_false(zset_score(z, "a", 1, NULL));
    zset_free(z);
}

/* Lex ranges over unequal scores: a compact set walks linearly (Redis'
 * listpack), so the first member >= min in set order is the start. */
static void test_compact_lex_unequal_scores(void **state)
{
    (void)state;
    zset *z = zset_new();
    zset_add(z, "c", 1, 1);
    zset_add(z, "a", 1, 2);
    zset_add(z, "d", 1, 3);
    zset_add(z, "b", 1, 4);
    zset_lex_range r;
    assert_true(zset_parse_lex_range("[b", 2, "+", 1, &r));
    assert_string_equal(zset_node_member(zset_first_in_lex_range(z, &r)), "c");
    assert_string_equal(zset_node_member(zset_last_in_lex_range(z, &r)), "b");
    assert_int_equal(zset_lex_count(z, &r), 4);   /* c a d b: all <= "+" */
    assert_true(zset_parse_lex_range("-", 1, "[c", 2, &r));
    assert_int_equal(zset_delete_range_by_lex(z, &r), 2);   /* c, a */
    assert_int_equal(zset_len(z), 2);
    assert_string_equal(zset_node_member(zset_first(z)), "d");
    zset_free(z);
}

/* -0 reads back as 0 once the set is compact (listpack text), not before. */
static void test_negative_zero(void **state)
{
    (void)state;
    zset *z = zset_new();
    double s;
    zset_add(z, "a", 1, -0.0);
    assert_true(zset_score(z, "a", 1, &s) && !signbit(s));
    zset_set_compact(z, 0);
    zset_add(z, "b", 1, -0.0);
    assert_true(zset_score(z, "b", 1, &s) && signbit(s));
    zset_set_compact(z, 1);
    assert_true(zset_score(z, "b", 1, &s) && !signbit(s));
    assert_false(signbit(zset_node_score(zset_last(z))));
    zset_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_update),
        cmocka_unit_test(test_random_model),
        cmocka_unit_test(test_score_ranges),
        cmocka_unit_test(test_lex_ranges),
        cmocka_unit_test(test_delete_by_rank),
        cmocka_unit_test(test_random_scan_compact),
        cmocka_unit_test(test_delete_with_own_member),
        cmocka_unit_test(test_compact_lex_unequal_scores),
        cmocka_unit_test(test_negative_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
