/* t_list: the list commands (LPUSH ... LMPOP) and their blocking variants
 * (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP), on top of the deque container.
 *
 * Conventions shared by every handler, as in Redis:
 * - arguments are validated before the key is looked up when Redis does so
 *   (the order decides which error a client sees);
 * - a list that becomes empty is deleted, so no empty list ever exists;
 * - every push signals the key as ready, which lets blocking.c serve
 *   clients waiting on it after the current command;
 * - a blocking command that finds data behaves exactly like its
 *   non-blocking twin and is propagated as that twin (BLPOP as LPOP key,
 *   BLMPOP as LPOP key count, BLMOVE as LMOVE, BRPOPLPUSH as RPOPLPUSH).
 *
 * A blocked client is served by re-running its command (CLIENT_UNBLOCKED):
 * the handlers then only consider the key that became ready, and when it
 * holds nothing they call blocking_block again, which leaves the client
 * where it was in the queue. */
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "deque.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "util.h"

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

#define ERR_POSITIVE "ERR value is out of range, must be positive"
#define ERR_NUMKEYS "ERR numkeys should be greater than 0"
#define ERR_COUNT_GT0 "ERR count should be greater than 0"
#define ERR_RANK_ZERO "ERR RANK can't be zero: use 1 to start from the first match, " \
                      "2 from the second ... or use negative to start from the end of the list"

/* ---- small helpers ------------------------------------------------------ */

static int arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

static int arg_to_ll(client *c, const resp_arg *a, long long *out)
{
    if (!util_str_to_ll(a->ptr, a->len, out)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    return 0;
}

/* An integer >= 0, with a caller-chosen error text (Redis'
 * getPositiveLongFromObjectOrReply). */
static int arg_to_positive(client *c, const resp_arg *a, long long *out, const char *err)
{
    if (!util_str_to_ll(a->ptr, a->len, out) || *out < 0) {
        reply_error(c, err);
        return -1;
    }
    return 0;
}

/* LEFT / RIGHT; returns -1 after replying a syntax error. */
static int arg_to_where(client *c, const resp_arg *a)
{
    if (arg_is(a, "left"))
        return LIST_HEAD;
    if (arg_is(a, "right"))
        return LIST_TAIL;
    reply_error(c, ERR_SYNTAX);
    return -1;
}

/* Look a list up. Returns 0 with *out (NULL when missing), or -1 after
 * replying WRONGTYPE. */
static int list_lookup(client *c, const resp_arg *key, int write, obj **out)
{
    obj *o = write ? db_lookup_write(c->db, key->ptr, key->len)
                   : db_lookup_read(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_LIST) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

static deque *list_of(obj *o)
{
    return o->v.ptr;
}

static void list_push(deque *q, int where, const char *p, size_t len)
{
    if (where == LIST_HEAD)
        deque_push_head_buf(q, p, len);
    else
        deque_push_tail_buf(q, p, len);
}

static kstr list_pop(deque *q, int where)
{
    return where == LIST_HEAD ? deque_pop_head(q) : deque_pop_tail(q);
}

/* Element i, in place (valid until the list changes). */
static void list_view(deque *q, size_t i, const char **p, size_t *len)
{
    if (!deque_view(q, i, p, len)) {
        *p = "";
        *len = 0;
    }
}

static int list_elem_eq(deque *q, size_t i, const resp_arg *a)
{
    const char *p;
    size_t len;
    list_view(q, i, &p, &len);
    return len == a->len && memcmp(p, a->ptr, len) == 0;
}

/* Reply the element at an end as a bulk string and drop it: no copy of
 * the element beyond the reply's own. */
static void list_pop_reply(client *c, deque *q, int where)
{
    const char *p;
    size_t len;
    list_view(q, where == LIST_HEAD ? 0 : deque_len(q) - 1, &p, &len);
    reply_bulk(c, p, len);
    if (where == LIST_HEAD)
        deque_drop_head(q, 1);
    else
        deque_drop_tail(q, 1);
}

/* After removing elements: the command's event, then delete the key when
 * empty (and say `del`), else signal it. */
static void list_after_remove(client *c, const resp_arg *key, obj *o, const char *event)
{
    notify_keyspace_event(c->db, CFG_NOTIFY_LIST, event, key->ptr, key->len);
    if (deque_len(list_of(o)) == 0) {
        db_delete(c->db, key->ptr, key->len);
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
    } else {
        db_signal_modified(c->db, key->ptr, key->len);
    }
}

static const char *list_pop_event(int where)
{
    return where == LIST_HEAD ? "lpop" : "rpop";
}

/* The list at key, created when missing (the caller checked the type). */
static obj *list_get_or_create(client *c, const resp_arg *key, obj *o)
{
    if (o)
        return o;
    /* node size and compression depth for the new list, read when it is
     * created as Redis does */
    deque_set_default_fill(c->srv->config.list_max_listpack_size);
    deque_set_default_compress(c->srv->config.list_compress_depth);
    o = obj_list_new();
    db_add(c->db, key->ptr, key->len, o);
    return o;
}

static void list_rewrite(client *c, const char *cmd, const resp_arg *key, long long count)
{
    char num[32];
    resp_arg argv[3];
    argv[0].ptr = cmd;
    argv[0].len = strlen(cmd);
    argv[1] = *key;
    int argc = 2;
    if (count >= 0) {
        argv[2].ptr = num;
        argv[2].len = (size_t)util_ll_to_str(num, sizeof(num), count);
        argc = 3;
    }
    cmd_rewrite_argv(c, argc, argv);
}

/* While a blocked client is re-run, only the key that became ready counts:
 * Redis serves a waiter from the key that received data, not from the first
 * of its keys that happens to be non-empty. */
static int list_skip_key(client *c, const resp_arg *key)
{
    if (!(c->flags & CLIENT_UNBLOCKED) || !c->bstate.serve_key)
        return 0;
    return !(c->bstate.serve_keylen == key->len &&
             memcmp(c->bstate.serve_key, key->ptr, key->len) == 0);
}

/* Blocking commands inside MULTI/EXEC cannot wait: they answer as if the
 * timeout had expired. */
static int list_cannot_block(client *c)
{
    return (c->flags & (CLIENT_MULTI | CLIENT_IN_EXEC)) != 0;
}

/* ---- pushes ------------------------------------------------------------- */

static void push_generic(client *c, int where, int xx)
{
    const resp_arg *key = &c->argv[1];
    obj *o;
    if (list_lookup(c, key, 1, &o) < 0)
        return;
    if (!o && xx) {
        reply_int(c, 0);
        return;
    }
    o = list_get_or_create(c, key, o);
    deque *q = list_of(o);
    for (int j = 2; j < c->argc; j++)
        list_push(q, where, c->argv[j].ptr, c->argv[j].len);
    reply_int(c, (long long)deque_len(q));
    notify_keyspace_event(c->db, CFG_NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush", key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
    db_signal_list_ready(c->db, key->ptr, key->len);
    c->srv->dirty += c->argc - 2;
}

static void cmd_lpush(client *c) { push_generic(c, LIST_HEAD, 0); }
static void cmd_rpush(client *c) { push_generic(c, LIST_TAIL, 0); }
static void cmd_lpushx(client *c) { push_generic(c, LIST_HEAD, 1); }
static void cmd_rpushx(client *c) { push_generic(c, LIST_TAIL, 1); }

static void cmd_linsert(client *c)
{
    int after;
    if (arg_is(&c->argv[2], "after")) {
        after = 1;
    } else if (arg_is(&c->argv[2], "before")) {
        after = 0;
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (list_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    deque *q = list_of(o);
    size_t n = deque_len(q);
    for (size_t i = 0; i < n; i++) {
        if (list_elem_eq(q, i, &c->argv[3])) {
            deque_insert(q, after ? i + 1 : i, kstr_new(c->argv[4].ptr, c->argv[4].len));
            notify_keyspace_event(c->db, CFG_NOTIFY_LIST, "linsert", c->argv[1].ptr, c->argv[1].len);
            db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
            c->srv->dirty++;
            reply_int(c, (long long)deque_len(q));
            return;
        }
    }
    reply_int(c, -1);
}

/* ---- reads -------------------------------------------------------------- */

static void cmd_llen(client *c)
{
    obj *o;
    if (list_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)deque_len(list_of(o)) : 0);
}

static void cmd_lindex(client *c)
{
    obj *o;
    long long idx;
    if (list_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o) {
        reply_null(c);
        return;
    }
    if (arg_to_ll(c, &c->argv[2], &idx) < 0)
        return;
    long long n = (long long)deque_len(list_of(o));
    if (idx < 0)
        idx += n;
    if (idx < 0 || idx >= n) {
        reply_null(c);
        return;
    }
    const char *p;
    size_t len;
    list_view(list_of(o), (size_t)idx, &p, &len);
    reply_bulk(c, p, len);
}

static void cmd_lrange(client *c)
{
    long long start, end;
    obj *o;
    if (arg_to_ll(c, &c->argv[2], &start) < 0 || arg_to_ll(c, &c->argv[3], &end) < 0)
        return;
    if (list_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o) {
        reply_empty_array(c);
        return;
    }
    deque *q = list_of(o);
    long long n = (long long)deque_len(q);
    if (start < 0)
        start += n;
    if (end < 0)
        end += n;
    if (start < 0)
        start = 0;
    if (start > end || start >= n) {
        reply_empty_array(c);
        return;
    }
    if (end >= n)
        end = n - 1;
    reply_array(c, end - start + 1);
    for (long long i = start; i <= end; i++) {
        const char *p;
        size_t len;
        list_view(q, (size_t)i, &p, &len);
        reply_bulk(c, p, len);
    }
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
static void cmd_lpos(client *c)
{
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (more && arg_is(&c->argv[j], "rank")) {
            if (arg_to_ll(c, &c->argv[++j], &rank) < 0)
                return;
            if (rank == 0) {
                reply_error(c, ERR_RANK_ZERO);
                return;
            }
        } else if (more && arg_is(&c->argv[j], "count")) {
            if (arg_to_positive(c, &c->argv[++j], &count, "ERR COUNT can't be negative") < 0)
                return;
        } else if (more && arg_is(&c->argv[j], "maxlen")) {
            if (arg_to_positive(c, &c->argv[++j], &maxlen, "ERR MAXLEN can't be negative") < 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    obj *o;
    if (list_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o) {
        if (count != -1)
            reply_empty_array(c);
        else
            reply_null(c);
        return;
    }

    /* RANK's magnitude as unsigned so -LLONG_MIN is representable. Redis
     * 7.0 overflows there: every match from the tail qualifies and COUNT is
     * never reached, so it answers the last match, or all of them. */
    int from_tail = rank < 0;
    unsigned long long want = from_tail ? 0ULL - (unsigned long long)rank : (unsigned long long)rank;
    int huge_rank = rank == LLONG_MIN;
    deque *q = list_of(o);
    size_t n = deque_len(q);
    const resp_arg *ele = &c->argv[2];
    void *len_handle = count != -1 ? reply_defer_len(c) : NULL;
    unsigned long long matches = 0;
    long long emitted = 0;
    for (size_t i = 0; i < n && (maxlen == 0 || (long long)i < maxlen); i++) {
        size_t pos = from_tail ? n - 1 - i : i;
        if (!list_elem_eq(q, pos, ele))
            continue;
        matches++;
        if (!huge_rank && matches < want)
            continue;
        if (!len_handle) {
            reply_int(c, (long long)pos);
            return;
        }
        reply_int(c, (long long)pos);
        emitted++;
        if (count && !huge_rank && emitted >= count)
            break;
    }
    if (len_handle)
        reply_set_deferred_len(c, len_handle, emitted);
    else
        reply_null(c);
}

/* ---- in-place writes ---------------------------------------------------- */

static void cmd_lset(client *c)
{
    obj *o = db_lookup_write(c->db, c->argv[1].ptr, c->argv[1].len);
    long long idx;
    if (!o) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    if (o->type != OBJ_LIST) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    if (arg_to_ll(c, &c->argv[2], &idx) < 0)
        return;
    deque *q = list_of(o);
    long long n = (long long)deque_len(q);
    if (idx < 0)
        idx += n;
    if (idx < 0 || idx >= n) {
        reply_error(c, ERR_OUT_OF_RANGE);
        return;
    }
    deque_set(q, (size_t)idx, kstr_new(c->argv[3].ptr, c->argv[3].len));
    reply_ok(c);
    notify_keyspace_event(c->db, CFG_NOTIFY_LIST, "lset", c->argv[1].ptr, c->argv[1].len);
    db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty++;
}

static void cmd_ltrim(client *c)
{
    long long start, end;
    obj *o;
    if (arg_to_ll(c, &c->argv[2], &start) < 0 || arg_to_ll(c, &c->argv[3], &end) < 0)
        return;
    if (list_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_ok(c);
        return;
    }
    deque *q = list_of(o);
    long long n = (long long)deque_len(q);
    long long ltrim, rtrim;
    if (start < 0)
        start += n;
    if (end < 0)
        end += n;
    if (start < 0)
        start = 0;
    if (start > end || start >= n) {
        ltrim = n;
        rtrim = 0;
    } else {
        if (end >= n)
            end = n - 1;
        ltrim = start;
        rtrim = n - end - 1;
    }
    deque_drop_head(q, (size_t)ltrim);
    deque_drop_tail(q, (size_t)rtrim);
    list_after_remove(c, &c->argv[1], o, "ltrim");
    c->srv->dirty += ltrim + rtrim;
    reply_ok(c);
}

static void cmd_lrem(client *c)
{
    long long toremove;
    obj *o;
    if (arg_to_ll(c, &c->argv[2], &toremove) < 0)
        return;
    if (list_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    deque *q = list_of(o);
    const resp_arg *ele = &c->argv[3];
    /* Copy the survivors into a fresh list in one pass, which keeps LREM
     * O(n) however many elements go (removing in place would move bytes
     * and re-seek once per match). From the tail for a negative count. */
    int from_tail = toremove < 0;
    unsigned long long limit = from_tail ? 0ULL - (unsigned long long)toremove
                                         : (unsigned long long)toremove;
    long long removed = 0;
    size_t n = deque_len(q);
    deque *kept = deque_new_like(q);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t len;
        list_view(q, from_tail ? n - 1 - i : i, &p, &len);
        if ((limit == 0 || (unsigned long long)removed < limit) &&
            len == ele->len && memcmp(p, ele->ptr, len) == 0) {
            removed++;
        } else if (from_tail) {
            deque_push_head_buf(kept, p, len);
        } else {
            deque_push_tail_buf(kept, p, len);
        }
    }
    if (removed) {
        o->v.ptr = kept;
        deque_free(q);
        list_after_remove(c, &c->argv[1], o, "lrem");
        c->srv->dirty += removed;
    } else {
        deque_free(kept);
    }
    reply_int(c, removed);
}

/* ---- pops --------------------------------------------------------------- */

/* Pop up to count elements of the list at key and reply them as an array;
 * with_key wraps the reply as [key, [elements]] (LMPOP). Rewrites the
 * command as [LR]POP key n for propagation when rewrite is set. */
static void pop_range_reply(client *c, const resp_arg *key, obj *o, int where,
                            long long count, int with_key, int rewrite)
{
    deque *q = list_of(o);
    long long n = (long long)deque_len(q);
    if (count > n)
        count = n;
    if (with_key) {
        reply_array(c, 2);
        reply_bulk(c, key->ptr, key->len);
    }
    reply_array(c, count);
    for (long long i = 0; i < count; i++)
        list_pop_reply(c, q, where);
    if (rewrite)
        list_rewrite(c, where == LIST_HEAD ? "LPOP" : "RPOP", key, count);
    list_after_remove(c, key, o, list_pop_event(where));
    c->srv->dirty += count;
}

static void pop_generic(client *c, int where)
{
    long long count = -1;
    if (c->argc > 3) {
        cmd_reply_arity(c);
        return;
    }
    if (c->argc == 3 && arg_to_positive(c, &c->argv[2], &count, ERR_POSITIVE) < 0)
        return;
    obj *o;
    if (list_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        if (count == -1)
            reply_null(c);
        else
            reply_null_array(c);
        return;
    }
    if (count == -1) {
        list_pop_reply(c, list_of(o), where);
        list_after_remove(c, &c->argv[1], o, list_pop_event(where));
        c->srv->dirty++;
        return;
    }
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    pop_range_reply(c, &c->argv[1], o, where, count, 0, 0);
}

static void cmd_lpop(client *c) { pop_generic(c, LIST_HEAD); }
static void cmd_rpop(client *c) { pop_generic(c, LIST_TAIL); }

/* Shared parser of LMPOP / BLMPOP after the timeout:
 *   numkeys key [key ...] LEFT|RIGHT [COUNT count]
 * idx points at numkeys. Returns -1 after replying an error. */
static int mpop_parse(client *c, int idx, long long *numkeys, int *where, long long *count)
{
    if (!util_str_to_ll(c->argv[idx].ptr, c->argv[idx].len, numkeys) || *numkeys <= 0) {
        reply_error(c, ERR_NUMKEYS);
        return -1;
    }
    /* the keys and the direction must fit in what is left of argv */
    if (*numkeys > (long long)c->argc - idx - 2) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    long long where_idx = idx + 1 + *numkeys;
    if ((*where = arg_to_where(c, &c->argv[where_idx])) < 0)
        return -1;
    *count = -1;
    for (long long j = where_idx + 1; j < c->argc; j++) {
        if (*count == -1 && j + 1 < c->argc && arg_is(&c->argv[j], "count")) {
            j++;
            if (!util_str_to_ll(c->argv[j].ptr, c->argv[j].len, count) || *count <= 0) {
                reply_error(c, ERR_COUNT_GT0);
                return -1;
            }
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1)
        *count = 1;
    return 0;
}

/* Try each key in order; serve the first non-empty list. Returns 1 when
 * served, 0 when every list is empty, -1 after an error reply. */
static int mpop_try(client *c, int first, long long numkeys, int where, long long count)
{
    for (long long j = first; j < first + numkeys; j++) {
        const resp_arg *key = &c->argv[j];
        if (list_skip_key(c, key))
            continue;
        obj *o;
        if (list_lookup(c, key, 1, &o) < 0)
            return -1;
        if (!o)
            continue;
        pop_range_reply(c, key, o, where, count, 1, 1);
        return 1;
    }
    return 0;
}

static void cmd_lmpop(client *c)
{
    long long numkeys, count;
    int where;
    if (mpop_parse(c, 1, &numkeys, &where, &count) < 0)
        return;
    if (mpop_try(c, 2, numkeys, where, count) == 0)
        reply_null_array(c);
}

/* ---- moves -------------------------------------------------------------- */

/* Pop from src and push into dst. Replies the element, or $-1 when src is
 * missing (*served = 0). Returns -1 after an error reply. */
static int move_generic(client *c, const resp_arg *src, const resp_arg *dst,
                        int wherefrom, int whereto, int *served)
{
    obj *so, *dobj;
    *served = 0;
    if (list_lookup(c, src, 1, &so) < 0)
        return -1;
    if (!so)
        return 0;
    if (list_lookup(c, dst, 1, &dobj) < 0)
        return -1;
    kstr v = list_pop(list_of(so), wherefrom);
    /* push first: with src == dst the list must not be deleted between the
     * pop and the push */
    dobj = list_get_or_create(c, dst, dobj);
    reply_bulk_kstr(c, v);
    list_push(list_of(dobj), whereto, v, kstr_len(v));
    kstr_free(v);
    notify_keyspace_event(c->db, CFG_NOTIFY_LIST, whereto == LIST_HEAD ? "lpush" : "rpush", dst->ptr, dst->len);
    db_signal_modified(c->db, dst->ptr, dst->len);
    db_signal_list_ready(c->db, dst->ptr, dst->len);
    list_after_remove(c, src, so, list_pop_event(wherefrom));
    c->srv->dirty++;
    *served = 1;
    return 0;
}

static void cmd_lmove(client *c)
{
    int from = arg_to_where(c, &c->argv[3]);
    if (from < 0)
        return;
    int to = arg_to_where(c, &c->argv[4]);
    if (to < 0)
        return;
    int served;
    if (move_generic(c, &c->argv[1], &c->argv[2], from, to, &served) == 0 && !served)
        reply_null(c);
}

static void cmd_rpoplpush(client *c)
{
    int served;
    if (move_generic(c, &c->argv[1], &c->argv[2], LIST_TAIL, LIST_HEAD, &served) == 0 && !served)
        reply_null(c);
}

/* ---- blocking variants -------------------------------------------------- */

/* BLPOP / BRPOP key [key ...] timeout */
static void bpop_generic(client *c, int where)
{
    int64_t timeout;
    if (blocking_parse_timeout(c, &c->argv[c->argc - 1], &timeout) < 0)
        return;
    int nkeys = c->argc - 2;
    for (int j = 1; j <= nkeys; j++) {
        const resp_arg *key = &c->argv[j];
        if (list_skip_key(c, key))
            continue;
        obj *o;
        if (list_lookup(c, key, 1, &o) < 0)
            return;
        if (!o)
            continue;
        reply_array(c, 2);
        reply_bulk(c, key->ptr, key->len);
        list_pop_reply(c, list_of(o), where);
        list_rewrite(c, where == LIST_HEAD ? "LPOP" : "RPOP", key, -1);
        list_after_remove(c, key, o, list_pop_event(where));
        c->srv->dirty++;
        return;
    }
    if (list_cannot_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, nkeys, &c->argv[1], timeout);
}

static void cmd_blpop(client *c) { bpop_generic(c, LIST_HEAD); }
static void cmd_brpop(client *c) { bpop_generic(c, LIST_TAIL); }

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static void cmd_blmpop(client *c)
{
    int64_t timeout;
    long long numkeys, count;
    int where;
    /* Redis checks numkeys, the direction and COUNT before the timeout. */
    if (mpop_parse(c, 2, &numkeys, &where, &count) < 0)
        return;
    if (blocking_parse_timeout(c, &c->argv[1], &timeout) < 0)
        return;
    int r = mpop_try(c, 3, numkeys, where, count);
    if (r != 0)
        return;
    if (list_cannot_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, (int)numkeys, &c->argv[3], timeout);
}

static void bmove_generic(client *c, const resp_arg *timeout_arg, int from, int to,
                          const char *twin)
{
    int64_t timeout;
    if (blocking_parse_timeout(c, timeout_arg, &timeout) < 0)
        return;
    int served;
    if (move_generic(c, &c->argv[1], &c->argv[2], from, to, &served) < 0)
        return;
    if (served) {
        /* propagate as the non-blocking twin: same argv minus the timeout */
        resp_arg argv[5];
        int argc = c->argc - 1;
        argv[0].ptr = twin;
        argv[0].len = strlen(twin);
        for (int j = 1; j < argc; j++)
            argv[j] = c->argv[j];
        /* Redis 7.0 spells the directions in lower case when it serves a
         * waiting BLMOVE, and as typed when the data was already there */
        if (argc == 5 && (c->flags & CLIENT_UNBLOCKED)) {
            argv[3].ptr = from == LIST_HEAD ? "left" : "right";
            argv[3].len = strlen(argv[3].ptr);
            argv[4].ptr = to == LIST_HEAD ? "left" : "right";
            argv[4].len = strlen(argv[4].ptr);
        }
        cmd_rewrite_argv(c, argc, argv);
        return;
    }
    if (list_cannot_block(c)) {
        reply_null(c);
        return;
    }
    blocking_block(c, 1, &c->argv[1], timeout);
}

static void cmd_blmove(client *c)
{
    int from = arg_to_where(c, &c->argv[3]);
    if (from < 0)
        return;
    int to = arg_to_where(c, &c->argv[4]);
    if (to < 0)
        return;
    bmove_generic(c, &c->argv[5], from, to, "LMOVE");
}

static void cmd_brpoplpush(client *c)
{
    bmove_generic(c, &c->argv[3], LIST_TAIL, LIST_HEAD, "RPOPLPUSH");
}

const cmd_def t_list_commands[] = {
    {"lpush", cmd_lpush, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"rpush", cmd_rpush, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"lpushx", cmd_lpushx, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"rpushx", cmd_rpushx, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"linsert", cmd_linsert, 5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @list @slow"},
    {"lpop", cmd_lpop, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"rpop", cmd_rpop, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @list @fast"},
    {"llen", cmd_llen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @list @fast"},
    {"lindex", cmd_lindex, 3, CMD_READONLY, 1, 1, 1, "@read @list @slow"},
    {"lset", cmd_lset, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @list @slow"},
    {"lrange", cmd_lrange, 4, CMD_READONLY, 1, 1, 1, "@read @list @slow"},
    {"ltrim", cmd_ltrim, 4, CMD_WRITE, 1, 1, 1, "@write @list @slow"},
    {"lpos", cmd_lpos, -3, CMD_READONLY, 1, 1, 1, "@read @list @slow"},
    {"lrem", cmd_lrem, 4, CMD_WRITE, 1, 1, 1, "@write @list @slow"},
    {"rpoplpush", cmd_rpoplpush, 3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@write @list @slow"},
    {"lmove", cmd_lmove, 5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@write @list @slow"},
    /* LMPOP / BLMPOP keys come after numkeys: no fixed key range */
    {"lmpop", cmd_lmpop, -4, CMD_WRITE, 0, 0, 0, "@write @list @slow"},
    {"blpop", cmd_blpop, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1,
     "@write @list @slow @blocking"},
    {"brpop", cmd_brpop, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1,
     "@write @list @slow @blocking"},
    {"brpoplpush", cmd_brpoplpush, 4, CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, 1, 2, 1,
     "@write @list @slow @blocking"},
    {"blmove", cmd_blmove, 6, CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, 1, 2, 1,
     "@write @list @slow @blocking"},
    {"blmpop", cmd_blmpop, -5, CMD_WRITE | CMD_BLOCKING, 0, 0, 0, "@write @list @slow @blocking"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
