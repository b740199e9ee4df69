/* t_set: the set commands (SADD ... SSCAN) over the setobj container, with
 * Redis 7.0.15's replies, errors and reply order. Order is visible to
 * clients in a few places and follows Redis' implementation:
 *   - SINTER/SMEMBERS reply while walking the smallest input set, so an
 *     intset input replies ascending;
 *   - SUNION/SDIFF (and SPOP of the whole set) build the result in a fresh
 *     set and reply by walking it, so an all-integer result of at most
 *     set-max-intset-entries members replies ascending.
 * SPOP is not deterministic, so it reaches replicas as SREMs of the popped
 * members (or DEL when it emptied the set), as Redis propagates it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "setobj.h"
#include "util.h"

#define SPOP_MOVE_STRATEGY_MUL 5
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

#define ARG(i) (c->argv[(i)].ptr)
#define ARGLEN(i) (c->argv[(i)].len)

/* The intset limit is a config value; keep the container's copy current. */
static void set_sync_config(client *c)
{
    long long v = c->srv->config.set_max_intset_entries;
    setobj_max_intset_entries = v < 0 ? 0 : (size_t)v;
}

/* Look key i up; *o is NULL when missing. Replies WRONGTYPE and returns -1
 * when it holds something other than a set. */
static int set_lookup(client *c, int i, int write, obj **o)
{
    *o = write ? db_lookup_write(c->db, ARG(i), ARGLEN(i)) : db_lookup_read(c->db, ARG(i), ARGLEN(i));
    if (*o && (*o)->type != OBJ_SET) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    return 0;
}

static setobj *set_of(obj *o)
{
    return o->v.ptr;
}

/* Integer argument within [min, max]. msg replaces both Redis default texts
 * when set, as getRangeLongFromObjectOrReply does. */
static int set_arg_range(client *c, int i, long long min, long long max, const char *msg,
                         long long *out)
{
    long long v;
    if (!util_str_to_ll(ARG(i), ARGLEN(i), &v)) {
        reply_error(c, msg ? msg : ERR_NOT_INT);
        return -1;
    }
    if (v < min || v > max) {
        if (msg)
            reply_error(c, msg);
        else
            reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static void cmd_sadd(client *c)
{
    obj *o;
    if (set_lookup(c, 1, 1, &o) < 0)
        return;
    set_sync_config(c);
    if (!o) {
        o = obj_set_new();
        db_add(c->db, ARG(1), ARGLEN(1), o);
    }
    long long added = 0;
    for (int j = 2; j < c->argc; j++)
        added += setobj_add(set_of(o), ARG(j), ARGLEN(j));
    if (added) {
        notify_keyspace_event(c->db, CFG_NOTIFY_SET, "sadd", ARG(1), ARGLEN(1));
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
        c->srv->dirty += added;
    }
    reply_int(c, added);
}

static void cmd_srem(client *c)
{
    obj *o;
    if (set_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    long long deleted = 0;
    int removed_key = 0;
    for (int j = 2; j < c->argc; j++) {
        if (setobj_remove(set_of(o), ARG(j), ARGLEN(j))) {
            deleted++;
            if (setobj_len(set_of(o)) == 0) {
                db_delete(c->db, ARG(1), ARGLEN(1));
                removed_key = 1;
                break;
            }
        }
    }
    if (deleted) {
        notify_keyspace_event(c->db, CFG_NOTIFY_SET, "srem", ARG(1), ARGLEN(1));
        if (!removed_key)
            db_signal_modified(c->db, ARG(1), ARGLEN(1));
        else
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
        c->srv->dirty += deleted;
    }
    reply_int(c, deleted);
}

static void cmd_smove(client *c)
{
    obj *src = db_lookup_write(c->db, ARG(1), ARGLEN(1));
    obj *dst = db_lookup_write(c->db, ARG(2), ARGLEN(2));
    if (!src) {
        reply_int(c, 0);
        return;
    }
    if (src->type != OBJ_SET || (dst && dst->type != OBJ_SET)) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    const char *m = ARG(3);
    size_t mlen = ARGLEN(3);
    if (src == dst) {
        reply_int(c, setobj_contains(set_of(src), m, mlen));
        return;
    }
    if (!setobj_remove(set_of(src), m, mlen)) {
        reply_int(c, 0);
        return;
    }
    notify_keyspace_event(c->db, CFG_NOTIFY_SET, "srem", ARG(1), ARGLEN(1));
    if (setobj_len(set_of(src)) == 0) {
        db_delete(c->db, ARG(1), ARGLEN(1));
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
    } else {
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
    }
    set_sync_config(c);
    if (!dst) {
        dst = obj_set_new();
        db_add(c->db, ARG(2), ARGLEN(2), dst);
    }
    c->srv->dirty++;
    if (setobj_add(set_of(dst), m, mlen)) {
        c->srv->dirty++;
        notify_keyspace_event(c->db, CFG_NOTIFY_SET, "sadd", ARG(2), ARGLEN(2));
        db_signal_modified(c->db, ARG(2), ARGLEN(2));
    }
    reply_int(c, 1);
}

static void cmd_sismember(client *c)
{
    obj *o;
    if (set_lookup(c, 1, 0, &o) < 0)
        return;
    reply_int(c, o && setobj_contains(set_of(o), ARG(2), ARGLEN(2)));
}

static void cmd_smismember(client *c)
{
    obj *o;
    if (set_lookup(c, 1, 0, &o) < 0)
        return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        reply_int(c, o && setobj_contains(set_of(o), ARG(j), ARGLEN(j)));
}

static void cmd_scard(client *c)
{
    obj *o;
    if (set_lookup(c, 1, 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)setobj_len(set_of(o)) : 0);
}

/* Reply with every member of s in its iteration order: a RESP3 set for
 * the set commands (as_set), an array for SRANDMEMBER. */
static void set_reply_members(client *c, setobj *s, int as_set)
{
    if (as_set)
        reply_set(c, (long long)setobj_len(s));
    else
        reply_array(c, (long long)setobj_len(s));
    setobj_iter it;
    setobj_iter_init(s, &it);
    const char *m;
    size_t len;
    while (setobj_iter_next(&it, &m, &len))
        reply_bulk(c, m, len);
    setobj_iter_release(&it);
}

static void set_propagate_srem(client *c, const char *m, size_t len)
{
    resp_arg argv[3] = {{"SREM", 4}, {ARG(1), ARGLEN(1)}, {m, len}};
    cmd_also_propagate(c, 3, argv);
}

/* SPOP key count. Three strategies as in Redis, which decide reply order:
 * the whole set (ascending when it is a small integer set), random picks,
 * or picking the members to keep and replying with the rest. */
static void set_spop_count(client *c)
{
    long long count;
    if (set_arg_range(c, 2, 0, INT64_MAX, "ERR value is out of range, must be positive", &count) < 0)
        return;
    obj *o;
    if (set_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o || count == 0) {
        reply_set(c, 0);
        return;
    }
    setobj *s = set_of(o);
    size_t size = setobj_len(s);
    set_sync_config(c);
    if ((unsigned long long)count >= size) {
        setobj *copy = setobj_new();
        setobj_iter it;
        setobj_iter_init(s, &it);
        const char *m;
        size_t len;
        while (setobj_iter_next(&it, &m, &len))
            setobj_add(copy, m, len);
        setobj_iter_release(&it);
        set_reply_members(c, copy, 1);
        setobj_free(copy);
        c->srv->dirty += (long long)size;
        resp_arg argv[2] = {{"DEL", 3}, {ARG(1), ARGLEN(1)}};
        cmd_rewrite_argv(c, 2, argv);
        notify_keyspace_event(c->db, CFG_NOTIFY_SET, "spop", ARG(1), ARGLEN(1));
        db_delete(c->db, ARG(1), ARGLEN(1));
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
        return;
    }
    c->srv->dirty += count;
    cmd_rewrite_argv(c, 0, NULL);   /* replicas get the SREMs instead */
    reply_set(c, count);
    size_t remaining = size - (size_t)count;
    if (remaining * SPOP_MOVE_STRATEGY_MUL > (size_t)count) {
        for (long long i = 0; i < count; i++) {
            kstr m = setobj_random(s);
            setobj_remove(s, m, kstr_len(m));
            reply_bulk(c, m, kstr_len(m));
            set_propagate_srem(c, m, kstr_len(m));
            kstr_free(m);
        }
    } else {
        setobj *keep = setobj_new();
        for (size_t i = 0; i < remaining; i++) {
            kstr m = setobj_random(s);
            setobj_add(keep, m, kstr_len(m));
            setobj_remove(s, m, kstr_len(m));
            kstr_free(m);
        }
        setobj_iter it;
        setobj_iter_init(s, &it);
        const char *m;
        size_t len;
        while (setobj_iter_next(&it, &m, &len)) {
            reply_bulk(c, m, len);
            set_propagate_srem(c, m, len);
        }
        setobj_iter_release(&it);
        o->v.ptr = keep;
        setobj_free(s);
    }
    notify_keyspace_event(c->db, CFG_NOTIFY_SET, "spop", ARG(1), ARGLEN(1));
    db_signal_modified(c->db, ARG(1), ARGLEN(1));
}

static void cmd_spop(client *c)
{
    if (c->argc == 3) {
        set_spop_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (set_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o) {
        reply_null(c);
        return;
    }
    kstr m = setobj_random(set_of(o));
    setobj_remove(set_of(o), m, kstr_len(m));
    resp_arg argv[3] = {{"SREM", 4}, {ARG(1), ARGLEN(1)}, {m, kstr_len(m)}};
    cmd_rewrite_argv(c, 3, argv);
    reply_bulk(c, m, kstr_len(m));
    kstr_free(m);
    notify_keyspace_event(c->db, CFG_NOTIFY_SET, "spop", ARG(1), ARGLEN(1));
    if (setobj_len(set_of(o)) == 0) {
        db_delete(c->db, ARG(1), ARGLEN(1));
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
    } else {
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
    }
    c->srv->dirty++;
}

/* Unique random members when count < size: either sample the whole member
 * list (count close to size) or draw until count distinct members. */
static void set_srandmember_unique(client *c, setobj *s, size_t count)
{
    size_t size = setobj_len(s);
    reply_array(c, (long long)count);
    if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
        kstr *all = mem_alloc(size * sizeof(kstr));
        setobj_iter it;
        setobj_iter_init(s, &it);
        const char *m;
        size_t len, n = 0;
        while (setobj_iter_next(&it, &m, &len))
            all[n++] = kstr_new(m, len);
        setobj_iter_release(&it);
        for (size_t i = 0; i < count; i++) {
            size_t j = i + (size_t)random() % (n - i);
            kstr t = all[i];
            all[i] = all[j];
            all[j] = t;
            reply_bulk(c, all[i], kstr_len(all[i]));
        }
        for (size_t i = 0; i < n; i++)
            kstr_free(all[i]);
        mem_free(all);
        return;
    }
    setobj *seen = setobj_new();
    size_t got = 0;
    while (got < count) {
        kstr m = setobj_random(s);
        if (setobj_add(seen, m, kstr_len(m))) {
            reply_bulk(c, m, kstr_len(m));
            got++;
        }
        kstr_free(m);
    }
    setobj_free(seen);
}

static void cmd_srandmember(client *c)
{
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (c->argc == 2) {
        if (set_lookup(c, 1, 0, &o) < 0)
            return;
        if (!o) {
            reply_null(c);
            return;
        }
        kstr m = setobj_random(set_of(o));
        reply_bulk(c, m, kstr_len(m));
        kstr_free(m);
        return;
    }
    long long l;
    if (set_arg_range(c, 2, -INT64_MAX, INT64_MAX, NULL, &l) < 0)
        return;
    int uniq = l >= 0;
    unsigned long long count = l >= 0 ? (unsigned long long)l : (unsigned long long)-l;
    if (set_lookup(c, 1, 0, &o) < 0)
        return;
    if (!o || count == 0) {
        reply_empty_array(c);
        return;
    }
    setobj *s = set_of(o);
    if (!uniq || count == 1) {
        reply_array(c, (long long)count);
        /* count is the client's (up to 2^63-1): stop once the reply
         * cannot be delivered anyway. */
        while (count-- && !reply_is_discarded(c)) {
            kstr m = setobj_random(s);
            reply_bulk(c, m, kstr_len(m));
            kstr_free(m);
        }
        return;
    }
    if (count >= setobj_len(s)) {
        set_reply_members(c, s, 0);
        return;
    }
    set_srandmember_unique(c, s, (size_t)count);
}

/* ---- set algebra ---- */

static int set_cmp_card(const void *a, const void *b)
{
    size_t la = setobj_len(*(setobj *const *)a), lb = setobj_len(*(setobj *const *)b);
    return la < lb ? -1 : (la > lb ? 1 : 0);
}

/* Store result (or delete dst when empty) and reply with its size. */
static void set_store_result(client *c, const char *dst, size_t dlen, obj *res)
{
    size_t n = setobj_len(set_of(res));
    if (n > 0) {
        db_set(c->db, dst, dlen, res, 0);
        reply_int(c, (long long)n);
        /* the event is the command's name: sinterstore, sunionstore, sdiffstore */
        notify_keyspace_event(c->db, CFG_NOTIFY_SET, c->cmd->name, dst, dlen);
        c->srv->dirty++;
    } else {
        obj_free(res);
        reply_int(c, 0);
        if (db_delete(c->db, dst, dlen)) {
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", dst, dlen);
            c->srv->dirty++;
        }
    }
}

/* keys: argv indexes [first, first+n). dst: argv index or 0. card_only:
 * SINTERCARD with its limit (0 none). */
static void set_inter(client *c, int first, int n, int dst, int card_only, long long limit)
{
    setobj **sets = mem_alloc(sizeof(setobj *) * (size_t)n);
    int empty = 0;
    for (int j = 0; j < n; j++) {
        obj *o;
        if (set_lookup(c, first + j, 0, &o) < 0) {
            mem_free(sets);
            return;
        }
        if (!o) {
            empty++;
            sets[j] = NULL;
            continue;
        }
        sets[j] = set_of(o);
    }
    if (empty) {
        mem_free(sets);
        if (dst) {
            if (db_delete(c->db, ARG(dst), ARGLEN(dst))) {
                notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(dst), ARGLEN(dst));
                c->srv->dirty++;
            }
            reply_int(c, 0);
        } else if (card_only) {
            reply_int(c, 0);
        } else {
            reply_set(c, 0);
        }
        return;
    }
    /* Smallest first (stable, as glibc's merge-sort qsort is for Redis). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && set_cmp_card(&sets[j - 1], &sets[j]) > 0; j--) {
            setobj *t = sets[j];
            sets[j] = sets[j - 1];
            sets[j - 1] = t;
        }
    obj *res = NULL;
    void *deferred = NULL;
    if (dst) {
        set_sync_config(c);
        res = obj_set_new();
    } else if (!card_only) {
        deferred = reply_defer_len(c);
    }
    long long card = 0;
    setobj_iter it;
    setobj_iter_init(sets[0], &it);
    const char *m;
    size_t len;
    while (setobj_iter_next(&it, &m, &len)) {
        int j;
        for (j = 1; j < n; j++) {
            if (sets[j] == sets[0])
                continue;
            if (!setobj_contains(sets[j], m, len))
                break;
        }
        if (j < n)
            continue;
        card++;
        if (card_only) {
            if (limit && card >= limit)
                break;
        } else if (dst) {
            setobj_add(set_of(res), m, len);
        } else {
            reply_bulk(c, m, len);
        }
    }
    setobj_iter_release(&it);
    mem_free(sets);
    if (dst)
        set_store_result(c, ARG(dst), ARGLEN(dst), res);
    else if (card_only)
        reply_int(c, card);
    else
        reply_set_deferred_set_len(c, deferred, card);
}

enum { SET_OP_UNION, SET_OP_DIFF };

static void set_union_diff(client *c, int first, int n, int dst, int op)
{
    setobj **sets = mem_alloc(sizeof(setobj *) * (size_t)n);
    for (int j = 0; j < n; j++) {
        obj *o;
        if (set_lookup(c, first + j, 0, &o) < 0) {
            mem_free(sets);
            return;
        }
        sets[j] = o ? set_of(o) : NULL;
    }
    set_sync_config(c);
    obj *res = obj_set_new();
    setobj *r = set_of(res);
    setobj_iter it;
    const char *m;
    size_t len;
    if (op == SET_OP_UNION) {
        for (int j = 0; j < n; j++) {
            if (!sets[j])
                continue;
            setobj_iter_init(sets[j], &it);
            while (setobj_iter_next(&it, &m, &len))
                setobj_add(r, m, len);
            setobj_iter_release(&it);
        }
    } else if (sets[0]) {
        int sameset = 0;
        for (int j = 1; j < n; j++)
            if (sets[j] == sets[0])
                sameset = 1;
        if (!sameset) {
            setobj_iter_init(sets[0], &it);
            while (setobj_iter_next(&it, &m, &len)) {
                int j;
                for (j = 1; j < n; j++)
                    if (sets[j] && setobj_contains(sets[j], m, len))
                        break;
                if (j == n)
                    setobj_add(r, m, len);
            }
            setobj_iter_release(&it);
        }
    }
    mem_free(sets);
    if (dst) {
        set_store_result(c, ARG(dst), ARGLEN(dst), res);
        return;
    }
    set_reply_members(c, r, 1);
    obj_free(res);
}

static void cmd_sinter(client *c)
{
    set_inter(c, 1, c->argc - 1, 0, 0, 0);
}

static void cmd_sinterstore(client *c)
{
    set_inter(c, 2, c->argc - 2, 1, 0, 0);
}

static void cmd_sintercard(client *c)
{
    long long numkeys, limit = 0;
    if (set_arg_range(c, 1, 1, INT64_MAX, "ERR numkeys should be greater than 0", &numkeys) < 0)
        return;
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (util_strcasecmp_len(ARG(j), ARGLEN(j), "limit") == 0 && more) {
            j++;
            if (set_arg_range(c, j, 0, INT64_MAX, "ERR LIMIT can't be negative", &limit) < 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    set_inter(c, 2, (int)numkeys, 0, 1, limit);
}

static void cmd_sunion(client *c)
{
    set_union_diff(c, 1, c->argc - 1, 0, SET_OP_UNION);
}

static void cmd_sunionstore(client *c)
{
    set_union_diff(c, 2, c->argc - 2, 1, SET_OP_UNION);
}

static void cmd_sdiff(client *c)
{
    set_union_diff(c, 1, c->argc - 1, 0, SET_OP_DIFF);
}

static void cmd_sdiffstore(client *c)
{
    set_union_diff(c, 2, c->argc - 2, 1, SET_OP_DIFF);
}

/* ---- SSCAN ---- */

/* Redis' parseScanCursorOrReply: strtoul over the C string, so "-1" wraps
 * and "" is 0, but leading spaces and trailing junk are refused. */
static int set_parse_cursor(client *c, int i, uint64_t *cursor)
{
    if (!util_parse_scan_cursor(ARG(i), ARGLEN(i), cursor)) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    return 0;
}

typedef struct set_scan_acc {
    kstr *items;
    size_t n, cap;
} set_scan_acc;

static void set_scan_collect(void *priv, const char *m, size_t len)
{
    set_scan_acc *a = priv;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->items = mem_realloc(a->items, a->cap * sizeof(kstr));
    }
    a->items[a->n++] = kstr_new(m, len);
}

static void cmd_sscan(client *c)
{
    uint64_t cursor;
    if (set_parse_cursor(c, 2, &cursor) < 0)
        return;
    obj *o;
    if (set_lookup(c, 1, 0, &o) < 0)
        return;
    if (!o) {
        reply_raw(c, "*2\r\n$1\r\n0\r\n*0\r\n", 15);
        return;
    }
    long long count = 10;
    const char *pat = NULL;
    size_t patlen = 0;
    for (int i = 3; i < c->argc; i += 2) {
        int left = c->argc - i;
        if (util_strcasecmp_len(ARG(i), ARGLEN(i), "count") == 0 && left >= 2) {
            if (!util_str_to_ll(ARG(i + 1), ARGLEN(i + 1), &count)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (util_strcasecmp_len(ARG(i), ARGLEN(i), "match") == 0 && left >= 2) {
            pat = ARG(i + 1);
            patlen = ARGLEN(i + 1);
            if (patlen == 1 && pat[0] == '*')
                pat = NULL;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    setobj *s = set_of(o);
    set_scan_acc acc = {NULL, 0, 0};
    if (setobj_is_intset(s)) {
        cursor = setobj_scan(s, 0, set_scan_collect, &acc);
    } else {
        uint64_t maxiter = util_scan_budget(count);
        do {
            cursor = setobj_scan(s, cursor, set_scan_collect, &acc);
        } while (cursor && maxiter-- && acc.n < (size_t)count);
    }
    size_t keep = 0;
    for (size_t i = 0; i < acc.n; i++) {
        if (pat && !util_glob_match(pat, patlen, acc.items[i], kstr_len(acc.items[i]), 0)) {
            kstr_free(acc.items[i]);
            continue;
        }
        acc.items[keep++] = acc.items[i];
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cursor);
    reply_array(c, 2);
    reply_bulk(c, buf, (size_t)n);
    reply_array(c, (long long)keep);
    for (size_t i = 0; i < keep; i++) {
        reply_bulk(c, acc.items[i], kstr_len(acc.items[i]));
        kstr_free(acc.items[i]);
    }
    mem_free(acc.items);
}

const cmd_def t_set_commands[] = {
    {"sadd", cmd_sadd, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @set @fast"},
    {"srem", cmd_srem, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @set @fast"},
    {"smove", cmd_smove, 4, CMD_WRITE | CMD_FAST, 1, 2, 1, "@write @set @fast"},
    {"sismember", cmd_sismember, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @set @fast"},
    {"smismember", cmd_smismember, -3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @set @fast"},
    {"scard", cmd_scard, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @set @fast"},
    {"spop", cmd_spop, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @set @fast"},
    {"srandmember", cmd_srandmember, -2, CMD_READONLY, 1, 1, 1, "@read @set @slow"},
    {"sinter", cmd_sinter, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow"},
    {"sintercard", cmd_sintercard, -3, CMD_READONLY, 0, 0, 0, "@read @set @slow"},
    {"sinterstore", cmd_sinterstore, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @set @slow"},
    {"sunion", cmd_sunion, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow"},
    {"sunionstore", cmd_sunionstore, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @set @slow"},
    {"sdiff", cmd_sdiff, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow"},
    {"sdiffstore", cmd_sdiffstore, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @set @slow"},
    {"smembers", cmd_sinter, 2, CMD_READONLY, 1, 1, 1, "@read @set @slow"},
    {"sscan", cmd_sscan, -3, CMD_READONLY, 1, 1, 1, "@read @set @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
