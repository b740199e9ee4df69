/* test_stream: the stream value (agent/stream.c) and the listpack encoder
 * it shares with the RDB writer (agent/listpack.c). IDs: parsing with
 * Redis' quirks, formatting, ordering, increment/decrement at the limits.
 * Nodes: entries appended with the same XADDs as a redis-server 7.0 run
 * must give the exact listpack bytes that server DUMPed (node boundaries
 * at stream-node-max-entries 3 included); iteration both ways over
 * several nodes; deletion flags in place and frees an emptied node;
 * trimming exact and approximate (whole nodes only) with LIMIT; the
 * loader's deep checks refuse corrupt nodes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "listpack.h"
#include "mem.h"
#include "stream.h"

static stream_id sid(uint64_t ms, uint64_t seq)
{
    stream_id id = {ms, seq};
    return id;
}

static int parse(const char *s, uint64_t missing, stream_id *out)
{
    return stream_id_parse(s, strlen(s), missing, out);
}

static void test_id_parse(void **state)
{
    (void)state;
    stream_id id;
    assert_int_equal(parse("1-2", 0, &id), 0);
    assert_true(id.ms == 1 && id.seq == 2);
    assert_int_equal(parse("5", 7, &id), 0);
    assert_true(id.ms == 5 && id.seq == 7);
    assert_int_equal(parse("-", 0, &id), 0);
    assert_true(id.ms == 0 && id.seq == 0);
    assert_int_equal(parse("+", 0, &id), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    assert_int_equal(parse("18446744073709551615-18446744073709551615", 0, &id), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    /* refused: overflow, negatives, junk, empty parts, "ms-*" outside XADD */
    assert_int_equal(parse("18446744073709551616", 0, &id), -1);
    assert_int_equal(parse("-1", 0, &id), -1);
    assert_int_equal(parse("1-x", 0, &id), -1);
    assert_int_equal(parse("", 0, &id), -1);
    assert_int_equal(parse("1-", 0, &id), -1);
    assert_int_equal(parse("1-*", 0, &id), -1);
    /* strtoull's leniency, which Redis inherits */
    assert_int_equal(parse("+5", 0, &id), 0);
    assert_true(id.ms == 5);
    /* strict: no "-" / "+", and "ms-*" reports the missing sequence */
    int seq_given = -1;
    assert_int_equal(stream_id_parse_strict("-", 1, 0, &id, NULL), -1);
    assert_int_equal(stream_id_parse_strict("+", 1, 0, &id, NULL), -1);
    assert_int_equal(stream_id_parse_strict("7-*", 3, 0, &id, &seq_given), 0);
    assert_int_equal(seq_given, 0);
    assert_true(id.ms == 7);
    assert_int_equal(stream_id_parse_strict("7-1", 3, 0, &id, &seq_given), 0);
    assert_int_equal(seq_given, 1);
    char big[200];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse(big, 0, &id), -1);
}

static void test_id_format_cmp(void **state)
{
    (void)state;
    char buf[STREAM_ID_STR_MAX];
    stream_id a = sid(UINT64_MAX, UINT64_MAX);
    size_t n = stream_id_format(buf, &a);
    assert_int_equal(n, 41);
    assert_string_equal(buf, "18446744073709551615-18446744073709551615");
    a = sid(0, 0);
    stream_id_format(buf, &a);
    assert_string_equal(buf, "0-0");
    stream_id x = sid(1, 5), y = sid(2, 0), z = sid(1, 5);
    assert_true(stream_id_cmp(&x, &y) < 0);
    assert_true(stream_id_cmp(&y, &x) > 0);
    assert_int_equal(stream_id_cmp(&x, &z), 0);
    stream_id i = stream_id_incr(sid(3, UINT64_MAX));
    assert_true(i.ms == 4 && i.seq == 0);
    i = stream_id_incr(sid(UINT64_MAX, UINT64_MAX));
    assert_true(i.ms == UINT64_MAX && i.seq == UINT64_MAX);
    i = stream_id_decr(sid(4, 0));
    assert_true(i.ms == 3 && i.seq == UINT64_MAX);
    i = stream_id_decr(sid(0, 0));
    assert_true(i.ms == 0 && i.seq == 0);
    unsigned char key[16];
    stream_id back;
    a = sid(0x0102030405060708ULL, 0x1112131415161718ULL);
    stream_id_encode_key(key, &a);
    assert_int_equal(key[0], 0x01);
    assert_int_equal(key[15], 0x18);
    stream_id_decode_key(key, &back);
    assert_int_equal(stream_id_cmp(&a, &back), 0);
}

/* Each integer size class and string header size, as Redis encodes them. */
static void test_listpack_encoder(void **state)
{
    (void)state;
    unsigned char out[5000];
    static const struct { long long v; size_t n; unsigned char b0; } ints[] = {
        {0, 2, 0x00}, {127, 2, 0x7f}, {128, 3, 0xc0}, {-1, 3, 0xdf}, {-4096, 3, 0xd0},
        {4096, 4, 0xf1}, {-32768, 4, 0xf1}, {32768, 5, 0xf2}, {8388607, 5, 0xf2},
        {8388608, 6, 0xf3}, {2147483647, 6, 0xf3}, {2147483648LL, 10, 0xf4},
        {INT64_MIN, 10, 0xf4},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        assert_int_equal(lp_int_size(ints[i].v), ints[i].n);
        assert_int_equal(lp_encode_int(out, ints[i].v), ints[i].n);
        assert_int_equal(out[0], ints[i].b0);
        lp_entry e;
        lp_elem_get(out, &e);
        assert_true(e.is_int);
        assert_true(e.ival == ints[i].v);
        assert_int_equal(lp_elem_size(out), ints[i].n);
    }
    /* -300 as 13 bits: 0xde 0xd4, backlen 2 */
    assert_int_equal(lp_encode_int(out, -300), 3);
    assert_memory_equal(out, "\xde\xd4\x02", 3);
    /* canonical numbers in strings become integers; others stay strings */
    assert_int_equal(lp_encode_str(out, "70000", 5), 5);
    assert_memory_equal(out, "\xf2\x70\x11\x01\x04", 5);
    assert_int_equal(lp_encode_str(out, "007", 3), 5);
    assert_memory_equal(out, "\x83" "007\x04", 5);
    assert_int_equal(lp_encode_str(out, "", 0), 2);
    assert_memory_equal(out, "\x80\x01", 2);
    char s[4100];
    memset(s, 'x', sizeof(s));
    /* 63 bytes: 6-bit header; 64: 12-bit header and a 1-byte backlen up to
     * 127, 2 bytes beyond; 4096: 32-bit header */
    assert_int_equal(lp_encode_str(out, s, 63), 1 + 63 + 1);
    assert_int_equal(lp_encode_str(out, s, 64), 2 + 64 + 1);
    assert_int_equal(out[0], 0xe0);
    assert_int_equal(out[1], 64);
    assert_int_equal(lp_encode_str(out, s, 200), 2 + 200 + 2);
    assert_int_equal(out[202], 202 >> 7);
    assert_int_equal(out[203], (202 & 127) | 128);
    assert_int_equal(lp_encode_str(out, s, 4096), 5 + 4096 + 2);
    assert_int_equal(out[0], 0xf0);
    assert_int_equal(lp_elem_size(out), 5 + 4096 + 2);
}

static void add(stream *s, uint64_t ms, uint64_t seq, int n, ...)
{
    resp_arg fv[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < 2 * n; i++) {
        fv[i].ptr = va_arg(ap, const char *);
        fv[i].len = strlen(fv[i].ptr);
    }
    va_end(ap);
    stream_id id = sid(ms, seq);
    stream_append(s, &id, (size_t)n, fv, 4096, 3);
}

/* redis-server 7.0.15, stream-node-max-entries 3:
 *   XADD u 1-1 a 1 b 2; XADD u 1-2 a 3 b 4; XADD u 2-0 c -5 d "x y";
 *   XADD u 3-0 a 70000 b -300
 * DUMP u (rdbcompression no) holds these two nodes. */
static const unsigned char node1[] = {
    0x46, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x03, 0x01, 0x00, 0x01, 0x02, 0x01, 0x81, 0x61, 0x02,
    0x81, 0x62, 0x02, 0x00, 0x01, 0x02, 0x01, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01,
    0x05, 0x01, 0x02, 0x01, 0x00, 0x01, 0x01, 0x01, 0x03, 0x01, 0x04, 0x01, 0x05, 0x01, 0x00,
    0x01, 0x01, 0x01, 0xdf, 0xff, 0x02, 0x02, 0x01, 0x81, 0x63, 0x02, 0xdf, 0xfb, 0x02, 0x81,
    0x64, 0x02, 0x83, 0x78, 0x20, 0x79, 0x04, 0x08, 0x01, 0xff,
};
static const unsigned char node2[] = {
    0x25, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x01, 0x00, 0x01, 0x02, 0x01, 0x81, 0x61, 0x02,
    0x81, 0x62, 0x02, 0x00, 0x01, 0x02, 0x01, 0x00, 0x01, 0x00, 0x01, 0xf2, 0x70, 0x11, 0x01,
    0x04, 0xde, 0xd4, 0x02, 0x05, 0x01, 0xff,
};

static stream *redis_sample(void)
{
    stream *s = stream_new();
    add(s, 1, 1, 2, "a", "1", "b", "2");
    add(s, 1, 2, 2, "a", "3", "b", "4");
    add(s, 2, 0, 2, "c", "-5", "d", "x y");
    add(s, 3, 0, 2, "a", "70000", "b", "-300");
    return s;
}

static void test_nodes_match_redis(void **state)
{
    (void)state;
    stream *s = redis_sample();
    assert_int_equal(s->nnodes, 2);
    assert_int_equal(stream_node_bytes(&s->nodes[0]), sizeof(node1));
    assert_memory_equal(s->nodes[0].lp, node1, sizeof(node1));
    assert_int_equal(stream_node_bytes(&s->nodes[1]), sizeof(node2));
    assert_memory_equal(s->nodes[1].lp, node2, sizeof(node2));
    assert_true(s->nodes[1].master.ms == 3 && s->nodes[1].master.seq == 0);
    assert_int_equal(s->length, 4);
    assert_int_equal(s->entries_added, 4);
    assert_true(s->first_id.ms == 1 && s->first_id.seq == 1);
    assert_true(s->last_id.ms == 3 && s->last_id.seq == 0);
    /* as redis-server reported: a compressed prefix, the branch, and per
     * key a compressed tail and its leaf */
    assert_int_equal(stream_rax_nodes(s), 6);
    stream_free(s);
}

/* Walk [start, end] and check the IDs seen (and the fields of 2-0). */
static void expect_walk(const stream *s, const stream_id *start, const stream_id *end, int rev,
                        const uint64_t *ms, const uint64_t *seq, size_t n)
{
    stream_iter it;
    stream_id id;
    size_t nf, i = 0;
    stream_iter_start(&it, s, start, end, rev);
    while (stream_iter_next(&it, &id, &nf)) {
        assert_true(i < n);
        assert_true(id.ms == ms[i] && id.seq == seq[i]);
        if (id.ms == 2) {
            stream_field f, v;
            assert_int_equal(nf, 2);
            stream_iter_field(&it, &f, &v);
            assert_memory_equal(f.p, "c", 1);
            assert_int_equal(v.len, 2);
            assert_memory_equal(v.p, "-5", 2);
            stream_iter_field(&it, &f, &v);
            assert_memory_equal(v.p, "x y", 3);
        }
        i++;
    }
    stream_iter_stop(&it);
    assert_int_equal(i, n);
}

static void test_iterate_both_ways(void **state)
{
    (void)state;
    stream *s = redis_sample();
    const uint64_t ms[] = {1, 1, 2, 3}, seq[] = {1, 2, 0, 0};
    const uint64_t rms[] = {3, 2, 1, 1}, rseq[] = {0, 0, 2, 1};
    expect_walk(s, NULL, NULL, 0, ms, seq, 4);
    expect_walk(s, NULL, NULL, 1, rms, rseq, 4);
    stream_id a = sid(1, 2), b = sid(2, 5);
    expect_walk(s, &a, &b, 0, ms + 1, seq + 1, 2);
    expect_walk(s, &a, &b, 1, rms + 1, rseq + 1, 2);
    stream_id lo = sid(0, 0), hi = sid(0, 9);
    expect_walk(s, &lo, &hi, 0, NULL, NULL, 0);
    expect_walk(s, &lo, &hi, 1, NULL, NULL, 0);
    stream_id after = sid(4, 0);
    expect_walk(s, &after, NULL, 0, NULL, NULL, 0);
    stream_id last;
    assert_int_equal(stream_last_valid_id(s, &last), 1);
    assert_true(last.ms == 3 && last.seq == 0);
    stream_free(s);
}

static void test_delete(void **state)
{
    (void)state;
    stream *s = redis_sample();
    stream_id id = sid(1, 2);
    assert_int_equal(stream_delete(s, &id), 1);
    assert_int_equal(stream_delete(s, &id), 0);
    assert_int_equal(s->length, 3);
    assert_false(stream_entry_exists(s, &id));
    /* flagged in place: same size, count 2, deleted 1, flags 3 (deleted|same) */
    assert_int_equal(stream_node_bytes(&s->nodes[0]), sizeof(node1));
    assert_int_equal(s->nodes[0].lp[6], 2);
    assert_int_equal(s->nodes[0].lp[8], 1);
    const uint64_t ms[] = {1, 2, 3}, seq[] = {1, 0, 0};
    expect_walk(s, NULL, NULL, 0, ms, seq, 3);
    /* the last live entry of a node takes the node with it */
    id = sid(3, 0);
    assert_int_equal(stream_delete(s, &id), 1);
    assert_int_equal(s->nnodes, 1);
    /* deleting while iterating: every entry, forward */
    stream_iter it;
    stream_id got;
    size_t nf;
    stream_iter_start(&it, s, NULL, NULL, 0);
    int n = 0;
    while (stream_iter_next(&it, &got, &nf)) {
        stream_iter_delete(&it);
        n++;
    }
    stream_iter_stop(&it);
    assert_int_equal(n, 2);
    assert_int_equal(s->length, 0);
    assert_int_equal(s->nnodes, 0);
    stream_free(s);
}

static stream *numbered(int n)
{
    stream *s = stream_new();
    for (int i = 1; i <= n; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        add(s, (uint64_t)i, 0, 1, "f", v);
    }
    return s;
}

static void test_trim(void **state)
{
    (void)state;
    /* 10 entries in nodes of 3: [1 2 3] [4 5 6] [7 8 9] [10] */
    stream *s = numbered(10);
    assert_int_equal(s->nnodes, 4);
    stream_trim_args a = {STREAM_TRIM_MAXLEN, 1, 0, 5, {0, 0}};
    assert_int_equal(stream_trim(s, &a), 3);     /* '~': only the first node fits */
    assert_int_equal(s->length, 7);
    assert_true(s->first_id.ms == 4);
    a.limit = 2;                                 /* a node of 3 passes LIMIT 2 */
    a.maxlen = 0;
    assert_int_equal(stream_trim(s, &a), 0);
    a.approx = 0;
    a.limit = 0;
    a.maxlen = 5;
    assert_int_equal(stream_trim(s, &a), 2);     /* exact: flags 4 and 5 */
    assert_int_equal(s->length, 5);
    assert_true(s->first_id.ms == 6);
    stream_trim_args m = {STREAM_TRIM_MINID, 0, 0, 0, {8, 0}};
    assert_int_equal(stream_trim(s, &m), 2);     /* 6 (last of its node) and 7 */
    assert_true(s->first_id.ms == 8);
    m.approx = 1;
    m.minid = sid(100, 0);
    assert_int_equal(stream_trim(s, &m), 3);     /* every node ends before 100 */
    assert_int_equal(s->length, 0);
    assert_int_equal(s->nnodes, 0);
    assert_true(s->first_id.ms == 0 && s->first_id.seq == 0);
    stream_free(s);
}

/* The loader's checks: a node from our own writer loads; a changed count,
 * a bad lp-count or an entry out of order is refused. */
static void test_load_validation(void **state)
{
    (void)state;
    const char *err = NULL;
    stream *s = stream_new();
    stream_id m1 = sid(1, 1), m2 = sid(3, 0);
    unsigned char *lp = mem_memdup(node1, sizeof(node1));
    assert_int_equal(stream_load_node(s, &m1, lp, sizeof(node1), &err), 0);
    lp = mem_memdup(node2, sizeof(node2));
    assert_int_equal(stream_load_node(s, &m2, lp, sizeof(node2), &err), 0);
    s->last_id = sid(3, 0);
    assert_int_equal(stream_load_finish(s, 4, &err), 0);
    assert_int_equal(stream_load_finish(s, 5, &err), -1);
    stream_free(s);

    unsigned char bad[sizeof(node1)];
    /* live count 3 -> 2 */
    memcpy(bad, node1, sizeof(bad));
    bad[6] = 2;
    s = stream_new();
    err = NULL;
    assert_int_equal(stream_load_node(s, &m1, bad, sizeof(bad), &err), -1);
    assert_non_null(err);
    /* the first entry's lp-count (offset 30: 3 + 2 values = 5) changed */
    memcpy(bad, node1, sizeof(bad));
    assert_int_equal(bad[30], 0x05);
    bad[30] = 0x06;
    assert_int_equal(stream_load_node(s, &m1, bad, sizeof(bad), &err), -1);
    /* nodes must come in master ID order */
    stream_id late = sid(2, 0);
    assert_int_equal(stream_load_node(s, &late, (unsigned char *)node2, sizeof(node2), &err), 0);
    stream_id early = sid(1, 0);
    assert_int_equal(stream_load_node(s, &early, (unsigned char *)node2, sizeof(node2), &err), -1);
    /* the last ID recorded below the last entry */
    s->last_id = sid(1, 0);
    assert_int_equal(stream_load_finish(s, 1, &err), -1);
    s->nodes[0].lp = mem_memdup(node2, sizeof(node2));   /* loaded nodes are owned */
    stream_free(s);
    /* truncated blob */
    s = stream_new();
    assert_int_equal(stream_load_node(s, &m1, (unsigned char *)node1, sizeof(node1) - 1, &err), -1);
    stream_free(s);
}

/* A stream and its deep copy stay independent. */
static void test_dup(void **state)
{
    (void)state;
    stream *s = redis_sample();
    stream *d = stream_dup(s);
    stream_id id = sid(1, 1);
    assert_int_equal(stream_delete(s, &id), 1);
    assert_true(stream_entry_exists(d, &id));
    assert_int_equal(d->length, 4);
    assert_memory_equal(d->nodes[0].lp, node1, sizeof(node1));
    assert_true(stream_memory(d) > sizeof(node1) + sizeof(node2));
    stream_free(s);
    stream_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_parse),
        cmocka_unit_test(test_id_format_cmp),
        cmocka_unit_test(test_listpack_encoder),
        cmocka_unit_test(test_nodes_match_redis),
        cmocka_unit_test(test_iterate_both_ways),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_load_validation),
        cmocka_unit_test(test_dup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
