/* test_stream_cg: the consumer-group containers of agent/stream_cg.c.
 * The PEL map (a skiplist keyed by 128-bit ids) against a brute-force
 * model through thousands of random inserts and deletes: sizes, lookups,
 * ordered iteration from any id, the last id. Then groups and consumers:
 * name order as Redis' rax gives it, consumer deletion dropping its
 * entries from the group PEL, deep copies (COPY), and the RDB groups
 * record: exact bytes for a small group, a round trip, and refusal of
 * corrupt or truncated records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kstr.h"
#include "mem.h"
#include "rdb.h"
#include "stream.h"
#include "stream_cg.h"

/* ---- idmap against a model ---------------------------------------------- */

/* ids are (ms in 0..MS-1, seq in 0..SEQ-1): a dense space so inserts
 * collide and deletes hit. Model slot = ms * SEQ + seq, so slot order is id
 * order. */
#define MS 40
#define SEQ 25
#define SLOTS (MS * SEQ)

static stream_id slot_id(int slot)
{
    stream_id id = {(uint64_t)(slot / SEQ), (uint64_t)(slot % SEQ)};
    return id;
}

static void *slot_val(int slot)
{
    return (void *)(uintptr_t)(slot + 1);
}

static void check_against_model(idmap *m, const int *in)
{
    size_t count = 0;
    for (int i = 0; i < SLOTS; i++)
        count += (size_t)in[i];
    assert_int_equal(idmap_size(m), count);
    /* full ordered walk */
    idmap_node *n = idmap_seek(m, NULL);
    for (int i = 0; i < SLOTS; i++) {
        if (!in[i])
            continue;
        assert_non_null(n);
        stream_id want = slot_id(i);
        assert_int_equal(stream_id_cmp(idmap_node_id(n), &want), 0);
        assert_ptr_equal(idmap_node_val(n), slot_val(i));
        n = idmap_next(n);
    }
    assert_null(n);
    /* last */
    int last = -1;
    for (int i = 0; i < SLOTS; i++)
        if (in[i])
            last = i;
    if (last < 0) {
        assert_null(idmap_last(m));
    } else {
        stream_id want = slot_id(last);
        assert_int_equal(stream_id_cmp(idmap_node_id(idmap_last(m)), &want), 0);
    }
}

static void test_idmap_random_model(void **state)
{
    (void)state;
    srand(15);
    idmap *m = idmap_new();
    int in[SLOTS] = {0};
    for (int round = 0; round < 20000; round++) {
        int slot = rand() % SLOTS;
        stream_id id = slot_id(slot);
        if (rand() % 3) {
            int inserted = idmap_insert(m, &id, slot_val(slot));
            assert_int_equal(inserted, !in[slot]);
            in[slot] = 1;
        } else {
            void *v = idmap_delete(m, &id);
            assert_ptr_equal(v, in[slot] ? slot_val(slot) : NULL);
            in[slot] = 0;
        }
        /* point lookups and a seek from a random id, every round */
        int probe = rand() % SLOTS;
        stream_id pid = slot_id(probe);
        assert_ptr_equal(idmap_get(m, &pid), in[probe] ? slot_val(probe) : NULL);
        int first_ge = -1;
        for (int i = probe; i < SLOTS && first_ge < 0; i++)
            if (in[i])
                first_ge = i;
        idmap_node *n = idmap_seek(m, &pid);
        if (first_ge < 0) {
            assert_null(n);
        } else {
            stream_id want = slot_id(first_ge);
            assert_non_null(n);
            assert_int_equal(stream_id_cmp(idmap_node_id(n), &want), 0);
        }
        if (round % 500 == 0)
            check_against_model(m, in);
    }
    check_against_model(m, in);
    /* delete everything: the map shrinks back to empty */
    for (int i = 0; i < SLOTS; i++) {
        stream_id id = slot_id(i);
        idmap_delete(m, &id);
        in[i] = 0;
    }
    check_against_model(m, in);
    idmap_free(m, NULL);
}

static void test_idmap_extreme_ids(void **state)
{
    (void)state;
    idmap *m = idmap_new();
    stream_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, mid = {1, UINT64_MAX}, mid2 = {2, 0};
    assert_int_equal(idmap_insert(m, &hi, "hi"), 1);
    assert_int_equal(idmap_insert(m, &mid2, "mid2"), 1);
    assert_int_equal(idmap_insert(m, &lo, "lo"), 1);
    assert_int_equal(idmap_insert(m, &mid, "mid"), 1);
    assert_int_equal(idmap_insert(m, &mid, "again"), 0);
    assert_string_equal(idmap_node_val(idmap_seek(m, NULL)), "lo");
    assert_string_equal(idmap_node_val(idmap_seek(m, &mid)), "mid");
    stream_id after_mid = {1, UINT64_MAX};
    after_mid = stream_id_incr(after_mid);
    assert_string_equal(idmap_node_val(idmap_seek(m, &after_mid)), "mid2");
    assert_string_equal(idmap_node_val(idmap_last(m)), "hi");
    assert_true(idmap_memory(m) > 0);
    idmap_free(m, NULL);
}

/* ---- groups and consumers ----------------------------------------------- */

static cg_nack *add_pending(cg_group *g, cg_consumer *c, uint64_t ms, uint64_t seq, int64_t when)
{
    stream_id id = {ms, seq};
    cg_nack *n = cg_nack_new(c, when);
    assert_int_equal(idmap_insert(g->pel, &id, n), 1);
    assert_int_equal(idmap_insert(c->pel, &id, n), 1);
    return n;
}

static void test_group_order_and_consumers(void **state)
{
    (void)state;
    stream *s = stream_new();
    stream_id zero = {0, 0};
    /* rax order: bytewise, a prefix before its extensions */
    const char *names[] = {"b", "ab", "a", "", "ba"};
    for (size_t i = 0; i < 5; i++)
        assert_non_null(cg_create(s, names[i], strlen(names[i]), &zero, CG_INVALID_ENTRIES_READ));
    assert_null(cg_create(s, "ab", 2, &zero, 0));
    assert_int_equal(stream_cg_count(s->cgroups), 5);
    const char *want[] = {"", "a", "ab", "b", "ba"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(s->cgroups->groups[i]->name, want[i]);
    assert_int_equal(cg_destroy(s, "ab", 2), 1);
    assert_int_equal(cg_destroy(s, "ab", 2), 0);
    assert_null(cg_lookup(s, "ab", 2));
    assert_non_null(cg_lookup(s, "ba", 2));

    cg_group *g = cg_lookup(s, "a", 1);
    cg_consumer *alice = cg_consumer_create(g, "alice", 5, 100);
    cg_consumer *bob = cg_consumer_create(g, "bob", 3, 100);
    assert_null(cg_consumer_create(g, "bob", 3, 100));
    add_pending(g, alice, 1, 0, 10);
    add_pending(g, bob, 2, 0, 10);
    add_pending(g, alice, 3, 0, 10);
    assert_int_equal(idmap_size(g->pel), 3);
    /* deleting alice drops her two entries from the group PEL */
    assert_int_equal(cg_consumer_delete(g, alice), 2);
    assert_int_equal(idmap_size(g->pel), 1);
    assert_null(cg_consumer_lookup(g, "alice", 5));
    stream_id two = {2, 0};
    cg_pel_remove(g, &two);
    assert_int_equal(idmap_size(g->pel), 0);
    assert_int_equal(idmap_size(bob->pel), 0);
    stream_free(s);
}

static void test_dup_is_deep(void **state)
{
    (void)state;
    stream *s = stream_new();
    stream_id last = {7, 1};
    cg_group *g = cg_create(s, "grp", 3, &last, 4);
    cg_consumer *c1 = cg_consumer_create(g, "c1", 2, 5);
    cg_consumer *c2 = cg_consumer_create(g, "c2", 2, 6);
    add_pending(g, c1, 1, 1, 1000)->delivery_count = 3;
    add_pending(g, c2, 1, 2, 2000);
    struct stream_cgroups *copy = stream_cg_dup(s->cgroups);
    assert_int_equal(stream_cg_count(copy), 1);
    cg_group *cg = copy->groups[0];
    assert_ptr_not_equal(cg, g);
    assert_int_equal(cg->entries_read, 4);
    assert_int_equal(stream_id_cmp(&cg->last_id, &last), 0);
    assert_int_equal(cg->nconsumers, 2);
    stream_id id = {1, 1};
    cg_nack *n = idmap_get(cg->pel, &id);
    assert_non_null(n);
    assert_int_equal(n->delivery_count, 3);
    assert_int_equal(n->delivery_time, 1000);
    /* the copy's nack belongs to the copy's consumer, in its PEL */
    assert_ptr_equal(n->consumer, cg->consumers[0]);
    assert_ptr_equal(idmap_get(cg->consumers[0]->pel, &id), n);
    assert_true(stream_cg_memory(copy) > 0);
    stream_cg_free(copy);
    /* the original is untouched */
    assert_int_equal(idmap_size(g->pel), 2);
    stream_free(s);
}

/* ---- RDB ---------------------------------------------------------------- */

static kstr write_groups(const stream *s)
{
    kstr out = kstr_empty(0);
    rdb_writer w;
    rdb_writer_init(&w, rdb_kstr_write, &out, 0, 0);
    assert_int_equal(stream_cg_rdb_write(&w, s), 0);
    assert_int_equal(rdb_write_flush(&w), 0);
    rdb_writer_release(&w);
    return out;
}

static int read_groups(const void *p, size_t len, stream *s, int type)
{
    rdb_reader r;
    rdb_reader_init_mem(&r, p, len);
    int rc = stream_cg_rdb_read(&r, s, type);
    rdb_reader_release(&r);
    return rc;
}

static stream *small_stream_with_group(void)
{
    stream *s = stream_new();
    stream_id last = {5, 1};
    cg_group *g = cg_create(s, "g", 1, &last, 3);
    cg_consumer *c = cg_consumer_create(g, "c", 1, 2000);
    add_pending(g, c, 1, 2, 1000)->delivery_count = 2;
    return s;
}

/* The bytes Redis 7.0's rdbSaveObject writes for this group (type 19):
 * lengths in the 6-bit form, raw big-endian ids, little-endian ms times. */
static const unsigned char small_group_bytes[] = {
    0x01,                                   /* one group */
    0x01, 'g',                              /* name */
    0x05, 0x01,                             /* last id 5-1 */
    0x03,                                   /* entries_read */
    0x01,                                   /* global PEL size */
    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, /* 1-2 */
    0xe8, 0x03, 0, 0, 0, 0, 0, 0,           /* delivered at 1000 */
    0x02,                                   /* twice */
    0x01,                                   /* one consumer */
    0x01, 'c',
    0xd0, 0x07, 0, 0, 0, 0, 0, 0,           /* seen at 2000 */
    0x01,
    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
};

static void test_rdb_exact_bytes_and_round_trip(void **state)
{
    (void)state;
    stream *s = small_stream_with_group();
    kstr bytes = write_groups(s);
    assert_int_equal(kstr_len(bytes), sizeof(small_group_bytes));
    assert_memory_equal(bytes, small_group_bytes, sizeof(small_group_bytes));

    stream *t = stream_new();
    assert_int_equal(read_groups(bytes, kstr_len(bytes), t, RDB_TYPE_STREAM_LISTPACKS_2), 0);
    cg_group *g = cg_lookup(t, "g", 1);
    assert_non_null(g);
    assert_int_equal(g->entries_read, 3);
    stream_id id = {1, 2};
    cg_nack *n = idmap_get(g->pel, &id);
    assert_non_null(n);
    assert_int_equal(n->delivery_time, 1000);
    assert_int_equal(n->delivery_count, 2);
    assert_string_equal(n->consumer->name, "c");
    assert_int_equal(n->consumer->seen_time, 2000);
    kstr again = write_groups(t);
    assert_int_equal(kstr_len(again), kstr_len(bytes));
    assert_memory_equal(again, bytes, kstr_len(bytes));
    kstr_free(again);
    stream_free(t);

    /* no groups: a count of 0 */
    stream *e = stream_new();
    kstr none = write_groups(e);
    assert_int_equal(kstr_len(none), 1);
    assert_int_equal((unsigned char)none[0], 0);
    kstr_free(none);
    stream_free(e);
    kstr_free(bytes);
    stream_free(s);
}

static void test_rdb_type15_estimates_entries_read(void **state)
{
    (void)state;
    /* type 15 has no entries_read: the same bytes minus that field */
    unsigned char v1[sizeof(small_group_bytes) - 1];
    memcpy(v1, small_group_bytes, 5);
    memcpy(v1 + 5, small_group_bytes + 6, sizeof(small_group_bytes) - 6);
    stream *t = stream_new();
    assert_int_equal(read_groups(v1, sizeof(v1), t, RDB_TYPE_STREAM_LISTPACKS), 0);
    cg_group *g = cg_lookup(t, "g", 1);
    assert_non_null(g);
    /* an empty stream that never had entries: distance 0 */
    assert_int_equal(g->entries_read, 0);
    stream_free(t);
}

static void test_rdb_refuses_corrupt(void **state)
{
    (void)state;
    unsigned char bad[sizeof(small_group_bytes)];
    stream *t;
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < sizeof(small_group_bytes); cut++) {
        t = stream_new();
        assert_int_equal(read_groups(small_group_bytes, cut, t, RDB_TYPE_STREAM_LISTPACKS_2), -1);
        assert_null(t->cgroups);
        stream_free(t);
    }
    /* the consumer owns an id the group PEL does not hold */
    memcpy(bad, small_group_bytes, sizeof(bad));
    bad[sizeof(bad) - 1] = 3;
    t = stream_new();
    assert_int_equal(read_groups(bad, sizeof(bad), t, RDB_TYPE_STREAM_LISTPACKS_2), -1);
    assert_null(t->cgroups);
    stream_free(t);
    /* the consumer's PEL is empty: the group PEL entry has no owner */
    memcpy(bad, small_group_bytes, sizeof(bad));
    bad[sizeof(bad) - 17] = 0;
    t = stream_new();
    assert_int_equal(read_groups(bad, sizeof(bad) - 16, t, RDB_TYPE_STREAM_LISTPACKS_2), -1);
    stream_free(t);
    /* two groups of the same name */
    static const unsigned char dup[] = {0x02, 0x01, 'g', 0, 0, 0, 0, 0, 0x01, 'g', 0, 0, 0, 0, 0};
    t = stream_new();
    assert_int_equal(read_groups(dup, sizeof(dup), t, RDB_TYPE_STREAM_LISTPACKS_2), -1);
    stream_free(t);
    /* the same two groups with different names load */
    unsigned char two[sizeof(dup)];
    memcpy(two, dup, sizeof(two));
    two[9] = 'h';
    t = stream_new();
    assert_int_equal(read_groups(two, sizeof(two), t, RDB_TYPE_STREAM_LISTPACKS_2), 0);
    assert_int_equal(stream_cg_count(t->cgroups), 2);
    stream_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idmap_random_model),
        cmocka_unit_test(test_idmap_extreme_ids),
        cmocka_unit_test(test_group_order_and_consumers),
        cmocka_unit_test(test_dup_is_deep),
        cmocka_unit_test(test_rdb_exact_bytes_and_round_trip),
        cmocka_unit_test(test_rdb_type15_estimates_entries_read),
        cmocka_unit_test(test_rdb_refuses_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
