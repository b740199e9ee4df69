/* t_zset: the sorted set commands over the zset container, with Redis
 * 7.0.15's replies and error texts. Scores are replied with reply_double
 * (%.17g, "inf"/"-inf"; a RESP3 double). In RESP3 a WITHSCORES reply is an
 * array of [member, score] pairs instead of a flat list (zs_reply_len,
 * zs_reply_pair), as Redis 7.0 sends it. The range commands (ZRANGE and
 * its legacy forms, ZRANGESTORE) share one parser and one emitter that
 * either replies or fills a destination set, as Redis' zrange result
 * handler does, so every form answers the same edge cases the same way.
 *
 * BZPOPMIN/BZPOPMAX/BZMPOP block through blocking.h (re-run when a sorted
 * set appears under a waited key; creating one signals it) and, like every
 * served pop, reach replicas as ZPOPMIN/ZPOPMAX key [count].
 *
 * Order that Redis leaves to the encoding is reproduced where it is
 * observable: ZSCAN of a small ("listpack") set returns everything in order
 * with cursor 0, and ZRANDMEMBER with a count covering the whole set
 * replies in descending order. */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "dict.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "setobj.h"
#include "util.h"
#include "zset.h"

#define ARG(i) (c->argv[(i)].ptr)
#define ARGLEN(i) (c->argv[(i)].len)

#define ERR_MINMAX_FLOAT "ERR min or max is not a float"
#define ERR_MINMAX_LEX "ERR min or max not valid string range item"
#define ERR_NAN_SCORE "ERR resulting score is not a number (NaN)"
#define ZRANDMEMBER_SUB_STRATEGY_MUL 3

/* ---- small helpers ---- */

static void zs_sync_config(client *c)
{
    long long e = c->srv->config.zset_max_listpack_entries;
    long long v = c->srv->config.zset_max_listpack_value;
    zset_max_listpack_entries = e < 0 ? 0 : (size_t)e;
    zset_max_listpack_value = v < 0 ? 0 : (size_t)v;
}

static int zs_lookup(client *c, int i, int write, obj **o)
{
    *o = write ? db_lookup_write(c->db, ARG(i), ARGLEN(i)) : db_lookup_read(c->db, ARG(i), ARGLEN(i));
    if (*o && (*o)->type != OBJ_ZSET) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    return 0;
}

static zset *zs_of(obj *o)
{
    return o->v.ptr;
}

static int zs_arg_long(client *c, int i, long long *out)
{
    if (!util_str_to_ll(ARG(i), ARGLEN(i), out)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    return 0;
}

/* As getRangeLongFromObjectOrReply: msg (when set) replaces both texts. */
static int zs_arg_range(client *c, int i, long long min, long long max, const char *msg,
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

static int zs_arg_double(client *c, int i, const char *msg, double *out)
{
    if (!util_str_to_double(ARG(i), ARGLEN(i), out)) {
        reply_error(c, msg ? msg : ERR_NOT_FLOAT);
        return -1;
    }
    return 0;
}

static int zs_is(client *c, int i, const char *word)
{
    return util_strcasecmp_len(ARG(i), ARGLEN(i), word) == 0;
}

/* Store res under argv[dst] (or delete dst when empty) and reply the size. */
static void zs_store(client *c, int dst, obj *res)
{
    size_t n = zset_len(zs_of(res));
    if (n) {
        db_set(c->db, ARG(dst), ARGLEN(dst), res, 0);
        db_signal_list_ready(c->db, ARG(dst), ARGLEN(dst));   /* wakes BZPOP* waiters */
        reply_int(c, (long long)n);
        /* the event is the command's name: zrangestore, zunionstore... */
        notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, c->cmd->name, ARG(dst), ARGLEN(dst));
        c->srv->dirty++;
    } else {
        obj_free(res);
        reply_int(c, 0);
        if (db_delete(c->db, ARG(dst), ARGLEN(dst))) {
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(dst), ARGLEN(dst));
            c->srv->dirty++;
        }
    }
}

/* ---- ZADD / ZINCRBY ---- */

enum {
    ZADD_NX = 1 << 0,
    ZADD_XX = 1 << 1,
    ZADD_GT = 1 << 2,
    ZADD_LT = 1 << 3,
    ZADD_CH = 1 << 4,
    ZADD_INCR = 1 << 5,
};

enum { ZADD_OUT_NOP, ZADD_OUT_SAME, ZADD_OUT_ADDED, ZADD_OUT_UPDATED, ZADD_OUT_NAN };

/* One score/member pair under the ZADD flags; *newscore is the score the
 * member ends up with when the pair was applied. */
static int zs_add_one(zset *z, double score, const char *m, size_t len, int flags, double *newscore)
{
    double cur;
    if (zset_score(z, m, len, &cur)) {
        if (flags & ZADD_NX)
            return ZADD_OUT_NOP;
        if (flags & ZADD_INCR) {
            score += cur;
            if (isnan(score))
                return ZADD_OUT_NAN;
        }
        if (((flags & ZADD_LT) && score >= cur) || ((flags & ZADD_GT) && score <= cur))
            return ZADD_OUT_NOP;
        *newscore = score;
        if (score != cur) {
            zset_add(z, m, len, score);
            return ZADD_OUT_UPDATED;
        }
        return ZADD_OUT_SAME;   /* applied, but the score did not change */
    }
    if (flags & ZADD_XX)
        return ZADD_OUT_NOP;
    zset_add(z, m, len, score);
    *newscore = score;
    return ZADD_OUT_ADDED;
}

static void zs_add_generic(client *c, int flags)
{
    int idx = 2;
    for (; idx < c->argc; idx++) {
        if (zs_is(c, idx, "nx"))
            flags |= ZADD_NX;
        else if (zs_is(c, idx, "xx"))
            flags |= ZADD_XX;
        else if (zs_is(c, idx, "ch"))
            flags |= ZADD_CH;
        else if (zs_is(c, idx, "incr"))
            flags |= ZADD_INCR;
        else if (zs_is(c, idx, "gt"))
            flags |= ZADD_GT;
        else if (zs_is(c, idx, "lt"))
            flags |= ZADD_LT;
        else
            break;
    }
    int elements = c->argc - idx;
    if (elements % 2 || elements == 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    if ((flags & ZADD_NX) && (flags & ZADD_XX)) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    int gt = !!(flags & ZADD_GT), lt = !!(flags & ZADD_LT), nx = !!(flags & ZADD_NX);
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if ((flags & ZADD_INCR) && elements > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double *scores = mem_alloc(sizeof(double) * (size_t)elements);
    for (int j = 0; j < elements; j++) {
        if (zs_arg_double(c, idx + 2 * j, NULL, &scores[j]) < 0) {
            mem_free(scores);
            return;
        }
    }
    obj *o;
    if (zs_lookup(c, 1, 1, &o) < 0) {
        mem_free(scores);
        return;
    }
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    zs_sync_config(c);
    if (!o && !(flags & ZADD_XX)) {
        o = obj_zset_new();
        /* Redis 7.0 picks the encoding from the first member alone and
         * converts when a later one passes a limit: the members inserted
         * before that went through the listpack (a -0 score reads back 0). */
        if (zset_max_listpack_entries == 0 || (size_t)ARGLEN(idx + 1) > zset_max_listpack_value)
            zset_set_compact(zs_of(o), 0);
        db_add(c->db, ARG(1), ARGLEN(1), o);
    }
    for (int j = 0; o && j < elements; j++) {
        double newscore = scores[j];
        int r = zs_add_one(zs_of(o), scores[j], ARG(idx + 2 * j + 1), ARGLEN(idx + 2 * j + 1), flags,
                           &newscore);
        if (r == ZADD_OUT_NAN) {
            reply_error(c, ERR_NAN_SCORE);
            goto done;
        }
        added += r == ZADD_OUT_ADDED;
        updated += r == ZADD_OUT_UPDATED;
        processed += r != ZADD_OUT_NOP;
        score = newscore;
    }
    c->srv->dirty += added + updated;
    if (flags & ZADD_INCR) {
        if (processed)
            reply_double(c, score);
        else
            reply_null(c);
    } else {
        reply_int(c, (flags & ZADD_CH) ? added + updated : added);
    }
done:
    mem_free(scores);
    if (added || updated) {
        notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, (flags & ZADD_INCR) ? "zincr" : "zadd", ARG(1), ARGLEN(1));
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
    }
    if (added)
        db_signal_list_ready(c->db, ARG(1), ARGLEN(1));   /* wakes BZPOP* waiters */
}

static void cmd_zadd(client *c)
{
    zs_add_generic(c, 0);
}

static void cmd_zincrby(client *c)
{
    zs_add_generic(c, ZADD_INCR);
}

/* ---- simple reads and removals ---- */

static void cmd_zrem(client *c)
{
    obj *o;
    if (zs_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    long long deleted = 0;
    int key_removed = 0;
    for (int j = 2; j < c->argc; j++) {
        if (zset_del(zs_of(o), ARG(j), ARGLEN(j))) {
            deleted++;
            if (zset_len(zs_of(o)) == 0) {
                db_delete(c->db, ARG(1), ARGLEN(1));
                key_removed = 1;
                break;
            }
        }
    }
    if (deleted) {
        notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, "zrem", ARG(1), ARGLEN(1));
        if (!key_removed)
            db_signal_modified(c->db, ARG(1), ARGLEN(1));
        else
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
        c->srv->dirty += deleted;
    }
    reply_int(c, deleted);
}

static void cmd_zcard(client *c)
{
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)zset_len(zs_of(o)) : 0);
}

static void cmd_zscore(client *c)
{
    obj *o;
    double s;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    if (o && zset_score(zs_of(o), ARG(2), ARGLEN(2), &s))
        reply_double(c, s);
    else
        reply_null(c);
}

static void cmd_zmscore(client *c)
{
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (o && zset_score(zs_of(o), ARG(j), ARGLEN(j), &s))
            reply_double(c, s);
        else
            reply_null(c);
    }
}

static void zs_rank(client *c, int reverse)
{
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    long r = o ? zset_rank(zs_of(o), ARG(2), ARGLEN(2), reverse) : -1;
    if (r < 0)
        reply_null(c);
    else
        reply_int(c, r);
}

static void cmd_zrank(client *c)
{
    zs_rank(c, 0);
}

static void cmd_zrevrank(client *c)
{
    zs_rank(c, 1);
}

static void cmd_zcount(client *c)
{
    zset_range r;
    if (!zset_parse_range(ARG(2), ARGLEN(2), ARG(3), ARGLEN(3), &r)) {
        reply_error(c, ERR_MINMAX_FLOAT);
        return;
    }
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    long long n = 0;
    if (o) {
        zset_node *f = zset_first_in_range(zs_of(o), &r);
        if (f) {
            zset_node *l = zset_last_in_range(zs_of(o), &r);
            n = (long long)(zset_node_rank(zs_of(o), l) - zset_node_rank(zs_of(o), f)) + 1;
        }
    }
    reply_int(c, n);
}

static void cmd_zlexcount(client *c)
{
    zset_lex_range r;
    if (!zset_parse_lex_range(ARG(2), ARGLEN(2), ARG(3), ARGLEN(3), &r)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)zset_lex_count(zs_of(o), &r) : 0);
}

/* ---- range emission: reply or store ---- */

/* The array header for n members: a flat member/score list in RESP2, one
 * [member, score] pair per member in RESP3. */
static void zs_reply_len(client *c, long long n, int withscores)
{
    reply_array(c, withscores && c->resp_version < 3 ? n * 2 : n);
}

static void zs_set_deferred_reply_len(client *c, void *handle, long long n, int withscores)
{
    reply_set_deferred_len(c, handle, withscores && c->resp_version < 3 ? n * 2 : n);
}

static void zs_reply_pair(client *c, const char *m, size_t len, double s, int withscores)
{
    if (withscores && c->resp_version >= 3)
        reply_array(c, 2);
    reply_bulk(c, m, len);
    if (withscores)
        reply_double(c, s);
}

typedef struct zs_out {
    client *c;
    int dst;             /* argv index of the destination, 0 to reply */
    int withscores;
    obj *res;
    void *deferred;
    long long count;
} zs_out;

/* len: number of elements when known, -1 otherwise. */
static void zs_out_begin(zs_out *h, long long len)
{
    h->count = 0;
    if (h->dst) {
        client *c = h->c;
        zs_sync_config(c);
        h->res = obj_zset_new();
        /* Redis sizes the destination from the length when it is known;
         * an unknown length starts as a listpack. */
        if (len >= 0 && (size_t)len > zset_max_listpack_entries)
            zset_set_compact(zs_of(h->res), 0);
        return;
    }
    if (len >= 0)
        zs_reply_len(h->c, len, h->withscores);
    else
        h->deferred = reply_defer_len(h->c);
}

static void zs_out_emit(zs_out *h, const char *m, size_t len, double score)
{
    h->count++;
    if (h->dst) {
        zset_add(zs_of(h->res), m, len, score);
        return;
    }
    zs_reply_pair(h->c, m, len, score, h->withscores);
}

static void zs_out_end(zs_out *h)
{
    if (h->dst) {
        zs_store(h->c, h->dst, h->res);
        h->res = NULL;
        return;
    }
    if (h->deferred)
        zs_set_deferred_reply_len(h->c, h->deferred, h->count, h->withscores);
}

static void zs_out_node(zs_out *h, zset_node *n)
{
    kstr m = zset_node_member(n);
    zs_out_emit(h, m, kstr_len(m), zset_node_score(n));
}

/* The next node of a walk in either direction. */
static zset_node *zs_step(const zset_node *x, int reverse)
{
    return reverse ? zset_prev(x) : zset_next(x);
}

static void zs_range_rank(zs_out *h, zset *z, long long start, long long end, int reverse)
{
    long long llen = (long long)zset_len(z);
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        zs_out_begin(h, 0);
        zs_out_end(h);
        return;
    }
    if (end >= llen)
        end = llen - 1;
    long long n = end - start + 1;
    zs_out_begin(h, n);
    zset_node *x = reverse ? zset_at_rank(z, (size_t)(llen - 1 - start)) : zset_at_rank(z, (size_t)start);
    while (n-- && x) {
        zs_out_node(h, x);
        x = zs_step(x, reverse);
    }
    zs_out_end(h);
}

/* LIMIT's offset and count as Redis' range walk uses them, without its
 * overflow: a negative offset never counts down to 0, so the walk goes off
 * the end and nothing is returned (*skip_all); a negative count means no
 * limit. Both arrive as any 64-bit value, LLONG_MIN included. */
static void zs_limit_normalize(long long offset, long long *limit, int *skip_all)
{
    *skip_all = offset < 0;
    if (*limit < 0)
        *limit = LLONG_MAX;
}

static void zs_range_score(zs_out *h, zset *z, const zset_range *r, long long offset, long long limit,
                           int reverse)
{
    int skip_all;
    zs_limit_normalize(offset, &limit, &skip_all);
    if (skip_all || (offset > 0 && offset >= (long long)zset_len(z))) {
        zs_out_begin(h, 0);
        zs_out_end(h);
        return;
    }
    zs_out_begin(h, -1);
    zset_node *x = reverse ? zset_last_in_range(z, r) : zset_first_in_range(z, r);
    while (x && offset--)
        x = zs_step(x, reverse);
    while (x && limit--) {
        double s = zset_node_score(x);
        if (reverse ? !zset_range_gte_min(s, r) : !zset_range_lte_max(s, r))
            break;
        zs_out_node(h, x);
        x = zs_step(x, reverse);
    }
    zs_out_end(h);
}

static void zs_range_lex(zs_out *h, zset *z, const zset_lex_range *r, long long offset, long long limit,
                         int reverse)
{
    int skip_all;
    zs_limit_normalize(offset, &limit, &skip_all);
    if (skip_all || (offset > 0 && offset >= (long long)zset_len(z))) {
        zs_out_begin(h, 0);
        zs_out_end(h);
        return;
    }
    zs_out_begin(h, -1);
    zset_node *x = reverse ? zset_last_in_lex_range(z, r) : zset_first_in_lex_range(z, r);
    while (x && offset--)
        x = zs_step(x, reverse);
    while (x && limit--) {
        kstr m = zset_node_member(x);
        if (reverse ? !zset_lex_gte_min(m, kstr_len(m), r) : !zset_lex_lte_max(m, kstr_len(m), r))
            break;
        zs_out_node(h, x);
        x = zs_step(x, reverse);
    }
    zs_out_end(h);
}

enum { ZR_AUTO, ZR_RANK, ZR_SCORE, ZR_LEX };
enum { ZD_AUTO, ZD_FORWARD, ZD_REVERSE };

/* The shared body of ZRANGE, ZRANGESTORE and the legacy range commands.
 * start: argv index of the source key; store: ZRANGESTORE (dst at 1). */
static void zs_range_generic(client *c, int start, int store, int type, int dir)
{
    int minidx = start + 1, maxidx = start + 2;
    long long opt_start = 0, opt_end = 0, offset = 0, limit = -1;
    int withscores = 0, has_limit = 0;

    for (int j = start + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (!store && zs_is(c, j, "withscores")) {
            withscores = 1;
        } else if (zs_is(c, j, "limit") && left >= 2) {
            if (zs_arg_long(c, j + 1, &offset) < 0 || zs_arg_long(c, j + 2, &limit) < 0)
                return;
            has_limit = 1;
            j += 2;
        } else if (dir == ZD_AUTO && zs_is(c, j, "rev")) {
            dir = ZD_REVERSE;
        } else if (type == ZR_AUTO && zs_is(c, j, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && zs_is(c, j, "byscore")) {
            type = ZR_SCORE;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (dir == ZD_AUTO)
        dir = ZD_FORWARD;
    if (type == ZR_AUTO)
        type = ZR_RANK;
    /* Redis tests "limit != -1", so LIMIT 0 -1 passes with a rank range. */
    if (has_limit && limit != -1 && type == ZR_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZR_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int reverse = dir == ZD_REVERSE;
    if (reverse && type != ZR_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    zset_range sr;
    zset_lex_range lr;
    if (type == ZR_RANK) {
        if (zs_arg_long(c, minidx, &opt_start) < 0 || zs_arg_long(c, maxidx, &opt_end) < 0)
            return;
    } else if (type == ZR_SCORE) {
        if (!zset_parse_range(ARG(minidx), ARGLEN(minidx), ARG(maxidx), ARGLEN(maxidx), &sr)) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!zset_parse_lex_range(ARG(minidx), ARGLEN(minidx), ARG(maxidx), ARGLEN(maxidx), &lr)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }

    zs_out h = {c, store ? 1 : 0, withscores, NULL, NULL, 0};
    obj *o;
    if (zs_lookup(c, start, 0, &o) < 0)
        return;
    if (!o) {
        if (store) {
            zs_out_begin(&h, -1);
            zs_out_end(&h);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    zset *z = zs_of(o);
    if (type == ZR_RANK)
        zs_range_rank(&h, z, opt_start, opt_end, reverse);
    else if (type == ZR_SCORE)
        zs_range_score(&h, z, &sr, offset, limit, reverse);
    else
        zs_range_lex(&h, z, &lr, offset, limit, reverse);
}

static void cmd_zrange(client *c)
{
    zs_range_generic(c, 1, 0, ZR_AUTO, ZD_AUTO);
}

static void cmd_zrangestore(client *c)
{
    zs_range_generic(c, 2, 1, ZR_AUTO, ZD_AUTO);
}

static void cmd_zrevrange(client *c)
{
    zs_range_generic(c, 1, 0, ZR_RANK, ZD_REVERSE);
}

static void cmd_zrangebyscore(client *c)
{
    zs_range_generic(c, 1, 0, ZR_SCORE, ZD_FORWARD);
}

static void cmd_zrevrangebyscore(client *c)
{
    zs_range_generic(c, 1, 0, ZR_SCORE, ZD_REVERSE);
}

static void cmd_zrangebylex(client *c)
{
    zs_range_generic(c, 1, 0, ZR_LEX, ZD_FORWARD);
}

static void cmd_zrevrangebylex(client *c)
{
    zs_range_generic(c, 1, 0, ZR_LEX, ZD_REVERSE);
}

/* ---- ZREMRANGEBY* ---- */

static void zs_remrange(client *c, int type)
{
    long long start = 0, end = 0;
    zset_range sr;
    zset_lex_range lr;
    if (type == ZR_RANK) {
        if (zs_arg_long(c, 2, &start) < 0 || zs_arg_long(c, 3, &end) < 0)
            return;
    } else if (type == ZR_SCORE) {
        if (!zset_parse_range(ARG(2), ARGLEN(2), ARG(3), ARGLEN(3), &sr)) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!zset_parse_lex_range(ARG(2), ARGLEN(2), ARG(3), ARGLEN(3), &lr)) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    obj *o;
    if (zs_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    zset *z = zs_of(o);
    size_t deleted;
    if (type == ZR_RANK) {
        long long llen = (long long)zset_len(z);
        if (start < 0)
            start = llen + start;
        if (end < 0)
            end = llen + end;
        if (start < 0)
            start = 0;
        if (start > end || start >= llen) {
            reply_int(c, 0);
            return;
        }
        if (end >= llen)
            end = llen - 1;
        deleted = zset_delete_range_by_rank(z, (size_t)start, (size_t)end);
    } else if (type == ZR_SCORE) {
        deleted = zset_delete_range_by_score(z, &sr);
    } else {
        deleted = zset_delete_range_by_lex(z, &lr);
    }
    if (deleted) {
        static const char *const events[] = {
            [ZR_RANK] = "zremrangebyrank", [ZR_SCORE] = "zremrangebyscore", [ZR_LEX] = "zremrangebylex"};
        notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, events[type], ARG(1), ARGLEN(1));
        if (zset_len(z) == 0) {
            db_delete(c->db, ARG(1), ARGLEN(1));
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", ARG(1), ARGLEN(1));
        } else {
            db_signal_modified(c->db, ARG(1), ARGLEN(1));
        }
    }
    c->srv->dirty += (long long)deleted;
    reply_int(c, (long long)deleted);
}

static void cmd_zremrangebyrank(client *c)
{
    zs_remrange(c, ZR_RANK);
}

static void cmd_zremrangebyscore(client *c)
{
    zs_remrange(c, ZR_SCORE);
}

static void cmd_zremrangebylex(client *c)
{
    zs_remrange(c, ZR_LEX);
}

/* ---- ZPOPMIN / ZPOPMAX, BZPOPMIN / BZPOPMAX, ZMPOP / BZMPOP ---- */

/* Reply shapes: ZPOPMIN's flat member/score list, BZPOPMIN's key + one
 * pair, ZMPOP's key + nested pairs, and ZPOPMIN with a count in RESP3: the
 * nested pairs without the key. */
enum { ZPOP_FLAT, ZPOP_KEYED, ZPOP_NESTED, ZPOP_PAIRS };

/* Pop up to count members of the non-empty set o under key, reply in the
 * given shape, delete the key once empty. */
static void zs_pop_from(client *c, const resp_arg *key, obj *o, int max, long long count, int shape)
{
    zset *z = zs_of(o);
    long long n = (long long)zset_len(z) < count ? (long long)zset_len(z) : count;
    if (shape == ZPOP_FLAT) {
        reply_array(c, n * 2);
    } else if (shape == ZPOP_KEYED) {
        reply_array(c, 1 + n * 2);
        reply_bulk(c, key->ptr, key->len);
    } else if (shape == ZPOP_PAIRS) {
        reply_array(c, n);
    } else {
        reply_array(c, 2);
        reply_bulk(c, key->ptr, key->len);
        reply_array(c, n);
    }
    for (long long i = 0; i < n; i++) {
        zset_node *x = max ? zset_last(z) : zset_first(z);
        kstr m = kstr_dup(zset_node_member(x));
        double s = zset_node_score(x);
        zset_del(z, m, kstr_len(m));
        if (shape == ZPOP_NESTED || shape == ZPOP_PAIRS)
            reply_array(c, 2);
        reply_bulk(c, m, kstr_len(m));
        reply_double(c, s);
        kstr_free(m);
    }
    notify_keyspace_event(c->db, CFG_NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", key->ptr, key->len);
    if (zset_len(z) == 0) {
        db_delete(c->db, key->ptr, key->len);
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
    } else {
        db_signal_modified(c->db, key->ptr, key->len);
    }
    c->srv->dirty += n;
}

static void zs_pop(client *c, int max)
{
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    long long count = 1;
    if (c->argc == 3 &&
        zs_arg_range(c, 2, 0, INT64_MAX, "ERR value is out of range, must be positive", &count) < 0)
        return;
    obj *o;
    if (zs_lookup(c, 1, 1, &o) < 0)
        return;
    if (!o || count == 0) {
        reply_empty_array(c);
        return;
    }
    /* RESP3 nests the pairs once a count is given, even a count of 1. */
    int shape = c->argc == 3 && c->resp_version >= 3 ? ZPOP_PAIRS : ZPOP_FLAT;
    zs_pop_from(c, &c->argv[1], o, max, count, shape);
}

static void cmd_zpopmin(client *c)
{
    zs_pop(c, 0);
}

static void cmd_zpopmax(client *c)
{
    zs_pop(c, 1);
}

/* While re-run for a key that became ready, look at that key only. */
static int zs_skip_key(client *c, const resp_arg *key)
{
    if (!(c->flags & CLIENT_UNBLOCKED) || !c->bstate.serve_key)
        return 0;
    return !(c->bstate.serve_keylen == key->len &&
             memcmp(c->bstate.serve_key, key->ptr, key->len) == 0);
}

/* Inside MULTI/EXEC a blocking pop answers as if it timed out. */
static int zs_cannot_block(client *c)
{
    return (c->flags & (CLIENT_MULTI | CLIENT_IN_EXEC)) != 0;
}

/* Replicas get ZPOPMIN/ZPOPMAX key [count] for every served pop. */
static void zs_rewrite_pop(client *c, const resp_arg *key, int max, long long count)
{
    char buf[32];
    resp_arg argv[3] = {{max ? "ZPOPMAX" : "ZPOPMIN", 7}, *key, {buf, 0}};
    int argc = 2;
    if (count > 0) {
        argv[2].len = (size_t)snprintf(buf, sizeof(buf), "%lld", count);
        argc = 3;
    }
    cmd_rewrite_argv(c, argc, argv);
}

/* Pop from the first non-empty key of argv[first .. first+n). Returns 1
 * when served, 0 when every key is missing, -1 after an error reply.
 * count < 0: BZPOPMIN's single keyed pair. */
static int zs_pop_first_key(client *c, int first, int n, int max, long long count)
{
    for (int j = first; j < first + n; j++) {
        const resp_arg *key = &c->argv[j];
        if (zs_skip_key(c, key))
            continue;
        obj *o;
        if (zs_lookup(c, j, 1, &o) < 0)
            return -1;
        if (!o)
            continue;
        if (count < 0) {
            zs_pop_from(c, key, o, max, 1, ZPOP_KEYED);
            zs_rewrite_pop(c, key, max, -1);
        } else {
            /* Replicas get the count actually popped, as Redis sends it. */
            long long size = (long long)zset_len(zs_of(o));
            long long popped = size < count ? size : count;
            zs_pop_from(c, key, o, max, count, ZPOP_NESTED);
            zs_rewrite_pop(c, key, max, popped);
        }
        return 1;
    }
    return 0;
}

static void zs_bpop(client *c, int max)
{
    int64_t timeout;
    if (blocking_parse_timeout(c, &c->argv[c->argc - 1], &timeout) < 0)
        return;
    int nkeys = c->argc - 2;
    int r = zs_pop_first_key(c, 1, nkeys, max, -1);
    if (r != 0)
        return;
    if (zs_cannot_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, nkeys, &c->argv[1], timeout);
}

static void cmd_bzpopmin(client *c)
{
    zs_bpop(c, 0);
}

static void cmd_bzpopmax(client *c)
{
    zs_bpop(c, 1);
}

/* numkeys key [key ...] MIN|MAX [COUNT count], numkeys at argv[idx]. */
static int zs_mpop_parse(client *c, int idx, long long *numkeys, int *max, long long *count)
{
    if (zs_arg_range(c, idx, 1, INT64_MAX, "ERR numkeys should be greater than 0", numkeys) < 0)
        return -1;
    /* More keys than arguments is a syntax error; tested before the sum
     * below, which a numkeys near LLONG_MAX would overflow. */
    if (*numkeys > (long long)c->argc - idx - 2) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    long long where = idx + *numkeys + 1;
    if (where >= c->argc) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (zs_is(c, (int)where, "min")) {
        *max = 0;
    } else if (zs_is(c, (int)where, "max")) {
        *max = 1;
    } else {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    *count = -1;
    for (int j = (int)where + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (*count == -1 && zs_is(c, j, "count") && more) {
            j++;
            if (zs_arg_range(c, j, 1, INT64_MAX, "ERR count should be greater than 0", count) < 0)
                return -1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1)
        *count = 1;
    return 0;
}

static void cmd_zmpop(client *c)
{
    long long numkeys, count;
    int max;
    if (zs_mpop_parse(c, 1, &numkeys, &max, &count) < 0)
        return;
    if (zs_pop_first_key(c, 2, (int)numkeys, max, count) == 0)
        reply_null_array(c);
}

/* BZMPOP timeout numkeys ...: Redis checks the other arguments first. */
static void cmd_bzmpop(client *c)
{
    long long numkeys, count;
    int max;
    int64_t timeout;
    if (zs_mpop_parse(c, 2, &numkeys, &max, &count) < 0)
        return;
    if (blocking_parse_timeout(c, &c->argv[1], &timeout) < 0)
        return;
    int r = zs_pop_first_key(c, 3, (int)numkeys, max, count);
    if (r != 0)
        return;
    if (zs_cannot_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, (int)numkeys, &c->argv[3], timeout);
}

/* ---- ZRANDMEMBER ---- */

/* count distinct members out of a larger set. */
static void zs_randmember_unique(client *c, zset *z, size_t count, int withscores)
{
    size_t size = zset_len(z);
    zs_reply_len(c, (long long)count, withscores);
    if (count * ZRANDMEMBER_SUB_STRATEGY_MUL > size) {
        zset_node **all = mem_alloc(size * sizeof(zset_node *));
        size_t n = 0;
        for (zset_node *x = zset_first(z); x; x = zset_next(x))
            all[n++] = x;
        for (size_t i = 0; i < count; i++) {
            size_t j = i + (size_t)random() % (n - i);
            zset_node *t = all[i];
            all[i] = all[j];
            all[j] = t;
            kstr m = zset_node_member(all[i]);
            zs_reply_pair(c, m, kstr_len(m), zset_node_score(all[i]), withscores);
        }
        mem_free(all);
        return;
    }
    dict *seen = dict_create(&dict_type_plain);
    size_t got = 0;
    while (got < count) {
        const char *m;
        size_t len;
        double s;
        zset_random(z, &m, &len, &s);
        dict_entry *existing = NULL;
        if (dict_add(seen, m, len, &existing)) {
            zs_reply_pair(c, m, len, s, withscores);
            got++;
        }
    }
    dict_free(seen);
}

static void cmd_zrandmember(client *c)
{
    obj *o;
    if (c->argc == 2) {
        if (zs_lookup(c, 1, 0, &o) < 0)
            return;
        const char *m;
        size_t len;
        double s;
        if (!o || !zset_random(zs_of(o), &m, &len, &s))
            reply_null(c);
        else
            reply_bulk(c, m, len);
        return;
    }
    long long l;
    int withscores = 0;
    if (zs_arg_range(c, 2, -INT64_MAX, INT64_MAX, NULL, &l) < 0)
        return;
    if (c->argc > 4 || (c->argc == 4 && !zs_is(c, 3, "withscores"))) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc == 4) {
        withscores = 1;
        if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) {
            reply_error(c, "ERR value is out of range");
            return;
        }
    }
    if (zs_lookup(c, 1, 0, &o) < 0)
        return;
    if (!o || l == 0) {
        reply_empty_array(c);
        return;
    }
    zset *z = zs_of(o);
    int uniq = l > 0;
    unsigned long long count = l > 0 ? (unsigned long long)l : (unsigned long long)-l;
    if (!uniq || count == 1) {
        zs_reply_len(c, (long long)count, withscores);
        /* count is the client's (up to 2^63-1): stop once the reply
         * cannot be delivered anyway. */
        while (count-- && !reply_is_discarded(c)) {
            const char *m;
            size_t len;
            double s;
            zset_random(z, &m, &len, &s);
            zs_reply_pair(c, m, len, s, withscores);
        }
        return;
    }
    if (count >= zset_len(z)) {
        zs_out h = {c, 0, withscores, NULL, NULL, 0};
        zs_range_rank(&h, z, 0, -1, 1);
        return;
    }
    zs_randmember_unique(c, z, (size_t)count, withscores);
}

/* ---- ZUNION / ZINTER / ZDIFF and their STORE / CARD forms ---- */

/* An input: a sorted set, or a plain set whose members score 1. */
typedef struct zs_src {
    obj *o;
    double weight;
} zs_src;

static size_t zs_src_len(const zs_src *s)
{
    if (!s->o)
        return 0;
    return s->o->type == OBJ_SET ? setobj_len(s->o->v.ptr) : zset_len(s->o->v.ptr);
}

static int zs_src_find(const zs_src *s, const char *m, size_t len, double *score)
{
    if (!s->o)
        return 0;
    if (s->o->type == OBJ_SET) {
        *score = 1.0;
        return setobj_contains(s->o->v.ptr, m, len);
    }
    return zset_score(s->o->v.ptr, m, len, score);
}

typedef void zs_visit_fn(void *priv, const char *m, size_t len, double score);

/* Visit every member of s; returns early when fn sets *stop. */
static void zs_src_each(const zs_src *s, zs_visit_fn *fn, void *priv, const int *stop)
{
    if (!s->o)
        return;
    if (s->o->type == OBJ_SET) {
        setobj_iter it;
        setobj_iter_init(s->o->v.ptr, &it);
        const char *m;
        size_t len;
        while ((!stop || !*stop) && setobj_iter_next(&it, &m, &len))
            fn(priv, m, len, 1.0);
        setobj_iter_release(&it);
        return;
    }
    for (zset_node *x = zset_first(s->o->v.ptr); x && (!stop || !*stop); x = zset_next(x)) {
        kstr m = zset_node_member(x);
        fn(priv, m, kstr_len(m), zset_node_score(x));
    }
}

enum { ZAGG_SUM, ZAGG_MIN, ZAGG_MAX };
enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF };

static void zs_aggregate(double *target, double v, int agg)
{
    if (agg == ZAGG_SUM) {
        *target += v;
        /* inf + -inf: Redis' convention is 0. */
        if (isnan(*target))
            *target = 0.0;
    } else if (agg == ZAGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

typedef struct zs_setop {
    zs_src *src;
    int n;
    int agg;
    int card_only;
    long long limit;
    long long card;
    int stop;
    zset *res;
    dict *acc;
    double weight;       /* weight of the input being visited (union) */
    size_t maxlen;
} zs_setop;

static void zs_note_len(zs_setop *op, size_t len)
{
    if (len > op->maxlen)
        op->maxlen = len;
}

static void zs_inter_visit(void *priv, const char *m, size_t len, double score)
{
    zs_setop *op = priv;
    double total = op->src[0].weight * score, v;
    if (isnan(total))
        total = 0;
    for (int j = 1; j < op->n; j++) {
        if (op->src[j].o == op->src[0].o) {
            v = score * op->src[j].weight;
        } else if (zs_src_find(&op->src[j], m, len, &v)) {
            v *= op->src[j].weight;
        } else {
            return;
        }
        zs_aggregate(&total, v, op->agg);
    }
    if (op->card_only) {
        op->card++;
        if (op->limit && op->card >= op->limit)
            op->stop = 1;
        return;
    }
    zset_add(op->res, m, len, total);
    zs_note_len(op, len);
}

static void zs_union_visit(void *priv, const char *m, size_t len, double score)
{
    zs_setop *op = priv;
    double v = op->weight * score;
    if (isnan(v))
        v = 0;
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(op->acc, m, len, &existing);
    if (e) {
        e->v.d = v;
        zs_note_len(op, len);
    } else {
        zs_aggregate(&existing->v.d, v, op->agg);
    }
}

static void zs_diff_visit(void *priv, const char *m, size_t len, double score)
{
    zs_setop *op = priv;
    double v;
    for (int j = 1; j < op->n; j++)
        if (zs_src_find(&op->src[j], m, len, &v))
            return;
    zset_add(op->res, m, len, score);
    zs_note_len(op, len);
}

/* Stable sort by cardinality, smallest first (Redis qsorts the inputs). */
static void zs_sort_sources(zs_src *src, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && zs_src_len(&src[j - 1]) > zs_src_len(&src[j]); j--) {
            zs_src t = src[j];
            src[j] = src[j - 1];
            src[j - 1] = t;
        }
}

/* Parse WEIGHTS / AGGREGATE / WITHSCORES / LIMIT after the keys. Returns -1
 * after replying with an error. */
static int zs_setop_options(client *c, int j, int opkind, int dst, zs_setop *op, int *withscores)
{
    int remaining = c->argc - j;
    while (remaining) {
        if (opkind != ZOP_DIFF && !op->card_only && remaining >= op->n + 1 && zs_is(c, j, "weights")) {
            j++;
            remaining--;
            for (int i = 0; i < op->n; i++, j++, remaining--)
                if (zs_arg_double(c, j, "ERR weight value is not a float", &op->src[i].weight) < 0)
                    return -1;
        } else if (opkind != ZOP_DIFF && !op->card_only && remaining >= 2 && zs_is(c, j, "aggregate")) {
            j++;
            if (zs_is(c, j, "sum")) {
                op->agg = ZAGG_SUM;
            } else if (zs_is(c, j, "min")) {
                op->agg = ZAGG_MIN;
            } else if (zs_is(c, j, "max")) {
                op->agg = ZAGG_MAX;
            } else {
                reply_error(c, ERR_SYNTAX);
                return -1;
            }
            j++;
            remaining -= 2;
        } else if (remaining >= 1 && !dst && !op->card_only && zs_is(c, j, "withscores")) {
            j++;
            remaining--;
            *withscores = 1;
        } else if (op->card_only && remaining >= 2 && zs_is(c, j, "limit")) {
            if (zs_arg_range(c, j + 1, 0, INT64_MAX, "ERR LIMIT can't be negative", &op->limit) < 0)
                return -1;
            j += 2;
            remaining -= 2;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

static void zs_setop_compute(zs_setop *op, int opkind)
{
    if (opkind == ZOP_INTER) {
        if (zs_src_len(&op->src[0]) > 0)
            zs_src_each(&op->src[0], zs_inter_visit, op, &op->stop);
    } else if (opkind == ZOP_UNION) {
        op->acc = dict_create(&dict_type_plain);
        for (int i = 0; i < op->n; i++) {
            op->weight = op->src[i].weight;
            zs_src_each(&op->src[i], zs_union_visit, op, NULL);
        }
        dict_iter it;
        dict_iter_init(op->acc, &it, 0);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL)
            zset_add(op->res, e->key, kstr_len(e->key), e->v.d);
        dict_iter_release(&it);
        dict_free(op->acc);
        op->acc = NULL;
    } else if (op->src[0].o) {
        zs_src_each(&op->src[0], zs_diff_visit, op, NULL);
    }
}

/* numkeys_idx: argv index of numkeys; dst: argv index of the destination or
 * 0; card_only: ZINTERCARD. */
static void zs_setop_generic(client *c, int dst, int numkeys_idx, int opkind, int card_only)
{
    long long setnum;
    if (zs_arg_long(c, numkeys_idx, &setnum) < 0)
        return;
    if (setnum < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->name);
        return;
    }
    if (setnum > c->argc - (numkeys_idx + 1)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    zs_setop op;
    memset(&op, 0, sizeof(op));
    op.n = (int)setnum;
    op.card_only = card_only;
    op.src = mem_calloc(sizeof(zs_src) * (size_t)setnum);
    int j = numkeys_idx + 1;
    for (int i = 0; i < op.n; i++, j++) {
        obj *o = db_lookup_read(c->db, ARG(j), ARGLEN(j));
        if (o && o->type != OBJ_ZSET && o->type != OBJ_SET) {
            mem_free(op.src);
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        op.src[i].o = o;
        op.src[i].weight = 1.0;
    }
    int withscores = 0;
    if (zs_setop_options(c, j, opkind, dst, &op, &withscores) < 0) {
        mem_free(op.src);
        return;
    }
    if (opkind != ZOP_DIFF)
        zs_sort_sources(op.src, op.n);
    zs_sync_config(c);
    obj *res = obj_zset_new();
    op.res = zs_of(res);
    zset_set_compact(op.res, 0);   /* Redis computes into a skiplist */
    zs_setop_compute(&op, opkind);
    mem_free(op.src);
    if (dst) {
        /* Redis converts a small stored result to a listpack. */
        zset_set_compact(op.res, zset_len(op.res) <= zset_max_listpack_entries &&
                                     op.maxlen <= zset_max_listpack_value);
        zs_store(c, dst, res);
        return;
    }
    if (card_only) {
        reply_int(c, op.card);
    } else {
        zset *z = op.res;
        zs_reply_len(c, (long long)zset_len(z), withscores);
        for (zset_node *x = zset_first(z); x; x = zset_next(x)) {
            kstr m = zset_node_member(x);
            zs_reply_pair(c, m, kstr_len(m), zset_node_score(x), withscores);
        }
    }
    obj_free(res);
}

static void cmd_zunionstore(client *c)
{
    zs_setop_generic(c, 1, 2, ZOP_UNION, 0);
}

static void cmd_zinterstore(client *c)
{
    zs_setop_generic(c, 1, 2, ZOP_INTER, 0);
}

static void cmd_zdiffstore(client *c)
{
    zs_setop_generic(c, 1, 2, ZOP_DIFF, 0);
}

static void cmd_zunion(client *c)
{
    zs_setop_generic(c, 0, 1, ZOP_UNION, 0);
}

static void cmd_zinter(client *c)
{
    zs_setop_generic(c, 0, 1, ZOP_INTER, 0);
}

static void cmd_zdiff(client *c)
{
    zs_setop_generic(c, 0, 1, ZOP_DIFF, 0);
}

static void cmd_zintercard(client *c)
{
    zs_setop_generic(c, 0, 1, ZOP_INTER, 1);
}

/* ---- ZSCAN ---- */

/* Redis' d2string: how a listpack holds a score, and so how ZSCAN of a
 * small set prints it (integral values up to LLONG_MAX/2 without exponent). */
static int zs_d2string(char *buf, size_t size, double v)
{
    if (isnan(v))
        return snprintf(buf, size, "nan");
    if (isinf(v))
        return snprintf(buf, size, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return snprintf(buf, size, 1.0 / v < 0 ? "-0" : "0");
    if (v >= (double)(-LLONG_MAX / 2) && v <= (double)(LLONG_MAX / 2) && v == (double)(long long)v)
        return snprintf(buf, size, "%lld", (long long)v);
    return snprintf(buf, size, "%.17g", v);
}

static int zs_parse_cursor(client *c, int i, uint64_t *cursor)
{
    if (!util_parse_scan_cursor(ARG(i), ARGLEN(i), cursor)) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    return 0;
}

typedef struct zs_scan_acc {
    kstr *items;     /* member, score, member, score ... */
    size_t n, cap;
} zs_scan_acc;

static void zs_scan_push(zs_scan_acc *a, kstr s)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->items = mem_realloc(a->items, a->cap * sizeof(kstr));
    }
    a->items[a->n++] = s;
}

static void zs_scan_collect(void *priv, const char *m, size_t len, double score)
{
    zs_scan_acc *a = priv;
    char buf[64];
    int n = zs_d2string(buf, sizeof(buf), score);
    zs_scan_push(a, kstr_new(m, len));
    zs_scan_push(a, kstr_new(buf, (size_t)n));
}

static void cmd_zscan(client *c)
{
    uint64_t cursor;
    if (zs_parse_cursor(c, 2, &cursor) < 0)
        return;
    obj *o;
    if (zs_lookup(c, 1, 0, &o) < 0)
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
        if (zs_is(c, i, "count") && left >= 2) {
            if (zs_arg_long(c, i + 1, &count) < 0)
                return;
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (zs_is(c, i, "match") && left >= 2) {
            pat = ARG(i + 1);
            patlen = ARGLEN(i + 1);
            if (patlen == 1 && pat[0] == '*')
                pat = NULL;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    zset *z = zs_of(o);
    zs_scan_acc acc = {NULL, 0, 0};
    if (zset_is_compact(z)) {
        for (zset_node *x = zset_first(z); x; x = zset_next(x)) {
            kstr m = zset_node_member(x);
            zs_scan_collect(&acc, m, kstr_len(m), zset_node_score(x));
        }
        cursor = 0;
    } else {
        uint64_t maxiter = util_scan_budget(count);
        do {
            cursor = zset_scan(z, cursor, zs_scan_collect, &acc);
        } while (cursor && maxiter-- && acc.n < (size_t)count);
    }
    size_t keep = 0;
    for (size_t i = 0; i < acc.n; i += 2) {
        if (pat && !util_glob_match(pat, patlen, acc.items[i], kstr_len(acc.items[i]), 0)) {
            kstr_free(acc.items[i]);
            kstr_free(acc.items[i + 1]);
            continue;
        }
        acc.items[keep++] = acc.items[i];
        acc.items[keep++] = acc.items[i + 1];
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

#define ZW (CMD_WRITE)
#define ZR (CMD_READONLY)

const cmd_def t_zset_commands[] = {
    {"zadd", cmd_zadd, -4, ZW | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @sortedset @fast"},
    {"zincrby", cmd_zincrby, 4, ZW | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @sortedset @fast"},
    {"zrem", cmd_zrem, -3, ZW | CMD_FAST, 1, 1, 1, "@write @sortedset @fast"},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, ZW, 1, 1, 1, "@write @sortedset @slow"},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, ZW, 1, 1, 1, "@write @sortedset @slow"},
    {"zremrangebylex", cmd_zremrangebylex, 4, ZW, 1, 1, 1, "@write @sortedset @slow"},
    {"zunionstore", cmd_zunionstore, -4, ZW | CMD_DENYOOM, 1, 1, 1, "@write @sortedset @slow"},
    {"zinterstore", cmd_zinterstore, -4, ZW | CMD_DENYOOM, 1, 1, 1, "@write @sortedset @slow"},
    {"zdiffstore", cmd_zdiffstore, -4, ZW | CMD_DENYOOM, 1, 1, 1, "@write @sortedset @slow"},
    {"zunion", cmd_zunion, -3, ZR, 0, 0, 0, "@read @sortedset @slow"},
    {"zinter", cmd_zinter, -3, ZR, 0, 0, 0, "@read @sortedset @slow"},
    {"zdiff", cmd_zdiff, -3, ZR, 0, 0, 0, "@read @sortedset @slow"},
    {"zintercard", cmd_zintercard, -3, ZR, 0, 0, 0, "@read @sortedset @slow"},
    {"zrange", cmd_zrange, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zrangestore", cmd_zrangestore, -5, ZW | CMD_DENYOOM, 1, 2, 1, "@write @sortedset @slow"},
    {"zrangebyscore", cmd_zrangebyscore, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zrangebylex", cmd_zrangebylex, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zcount", cmd_zcount, 4, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zlexcount", cmd_zlexcount, 4, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zrevrange", cmd_zrevrange, -4, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zcard", cmd_zcard, 2, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zscore", cmd_zscore, 3, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zmscore", cmd_zmscore, -3, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zrank", cmd_zrank, 3, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zrevrank", cmd_zrevrank, 3, ZR | CMD_FAST, 1, 1, 1, "@read @sortedset @fast"},
    {"zscan", cmd_zscan, -3, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"zpopmin", cmd_zpopmin, -2, ZW | CMD_FAST, 1, 1, 1, "@write @sortedset @fast"},
    {"zpopmax", cmd_zpopmax, -2, ZW | CMD_FAST, 1, 1, 1, "@write @sortedset @fast"},
    {"zrandmember", cmd_zrandmember, -2, ZR, 1, 1, 1, "@read @sortedset @slow"},
    {"bzpopmin", cmd_bzpopmin, -3, ZW | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, 1, -2, 1,
     "@write @sortedset @fast @blocking"},
    {"bzpopmax", cmd_bzpopmax, -3, ZW | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, 1, -2, 1,
     "@write @sortedset @fast @blocking"},
    {"zmpop", cmd_zmpop, -4, ZW, 0, 0, 0, "@write @sortedset @slow"},
    {"bzmpop", cmd_bzmpop, -5, ZW | CMD_BLOCKING, 0, 0, 0, "@write @sortedset @slow @blocking"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
