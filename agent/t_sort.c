/* t_sort: SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0.15
 * has them: numeric or ALPHA order, weights looked up through a BY pattern
 * ("w_*", "h_*->field"), LIMIT, GET patterns ("#" for the element itself),
 * STORE into a list, and "BY <pattern without *>" to skip sorting (the
 * container's own order, which for a list or sorted set honours DESC and
 * LIMIT directly).
 *
 * The elements to sort are copied out of the container first, so looking
 * up patterns (which may touch any key, including the sorted one) never
 * walks a container that could change. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "acl.h"
#include "notify.h"
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "deque.h"
#include "setobj.h"
#include "zset.h"
#include "hmap.h"
#include "util.h"
#include "mem.h"

typedef struct sort_item {
    kstr ele;        /* owned copy of the element */
    double score;    /* numeric weight */
    kstr cmp;        /* ALPHA weight from a BY pattern, owned; NULL if none */
} sort_item;

typedef struct sort_opts {
    int desc, alpha, dontsort;
    long long limit_start, limit_count;
    const resp_arg *by;
    const resp_arg *store;
    const resp_arg **gets;
    int ngets;
} sort_opts;

/* qsort has no context argument: the comparison mode of the sort being
 * run. Commands run one at a time, so a file-level variable is safe. */
static struct {
    int desc, alpha, bypattern, store;
} sort_mode;

static int sort_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* BY with a '*' and GET read keys the command's key list does not name, so
 * ACL key patterns cannot vet them: as Redis 7.0 does, they need a user who
 * may read every key. *full caches the answer (-1: not asked yet). Returns
 * 0, or -1 after replying "<opt> option of SORT denied ...". */
static int sort_pattern_allowed(client *c, const char *opt, int *full)
{
    if (*full < 0)
        *full = acl_full_read_access(c, c->cmd, c->argc, c->argv);
    if (*full)
        return 0;
    reply_errorf(c, "ERR %s option of SORT denied due to insufficient ACL permissions.", opt);
    return -1;
}

/* Parses the options after the key. Returns 0, or -1 after replying. */
static int sort_parse(client *c, int readonly, sort_opts *o)
{
    int full = -1;
    memset(o, 0, sizeof(*o));
    o->limit_count = -1;
    o->gets = mem_alloc(sizeof(*o->gets) * (size_t)c->argc);
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const resp_arg *a = &c->argv[j];
        if (sort_arg_is(a, "asc")) {
            o->desc = 0;
        } else if (sort_arg_is(a, "desc")) {
            o->desc = 1;
        } else if (sort_arg_is(a, "alpha")) {
            o->alpha = 1;
        } else if (sort_arg_is(a, "limit") && left >= 2) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &o->limit_start) ||
                !util_str_to_ll(c->argv[j + 2].ptr, c->argv[j + 2].len, &o->limit_count)) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            j += 2;
        } else if (!readonly && sort_arg_is(a, "store") && left >= 1) {
            o->store = &c->argv[++j];
        } else if (sort_arg_is(a, "by") && left >= 1) {
            o->by = &c->argv[++j];
            /* A pattern without '*' names no per-element key: no sorting.
             * As in Redis, a later BY with a '*' does not undo it. */
            if (!memchr(o->by->ptr, '*', o->by->len))
                o->dontsort = 1;
            else if (sort_pattern_allowed(c, "BY", &full) != 0)
                return -1;
        } else if (sort_arg_is(a, "get") && left >= 1) {
            /* Even "#": Redis refuses every GET. */
            if (sort_pattern_allowed(c, "GET", &full) != 0)
                return -1;
            o->gets[o->ngets++] = &c->argv[++j];
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* The value a pattern names for one element: "#" is the element itself,
 * "pre*post" a string key, "pre*post->field" a hash field. Returns a new
 * kstr, or NULL when the key, field or '*' is missing or of another type. */
static kstr sort_lookup_pattern(client *c, const resp_arg *pat, const kstr ele)
{
    if (pat->len == 1 && pat->ptr[0] == '#')
        return kstr_dup(ele);
    const char *star = memchr(pat->ptr, '*', pat->len);
    if (!star)
        return NULL;
    const char *end = pat->ptr + pat->len;
    const char *field = NULL;
    size_t flen = 0;
    for (const char *f = star + 1; f + 1 < end; f++) {
        if (f[0] == '-' && f[1] == '>') {
            if (f + 2 < end) {
                field = f + 2;
                flen = (size_t)(end - field);
            }
            break;
        }
    }
    size_t prefix = (size_t)(star - pat->ptr);
    size_t postfix = (size_t)(end - star - 1) - (field ? flen + 2 : 0);
    kstr key = kstr_empty(prefix + kstr_len(ele) + postfix);
    key = kstr_cat(key, pat->ptr, prefix);
    key = kstr_cat(key, ele, kstr_len(ele));
    key = kstr_cat(key, star + 1, postfix);
    obj *o = db_lookup_read(c->db, key, kstr_len(key));
    kstr_free(key);
    if (!o)
        return NULL;
    if (field) {
        if (o->type != OBJ_HASH)
            return NULL;
        kstr v = hmap_get(o->v.ptr, field, flen);
        return v ? kstr_dup(v) : NULL;
    }
    if (o->type != OBJ_STRING)
        return NULL;
    char buf[32];
    size_t len;
    const char *p = obj_string_ptr(o, buf, &len);
    return kstr_new(p, len);
}

/* Binary order (Redis' compareStringObjects). */
static int sort_cmp_binary(const kstr a, const kstr b)
{
    return kstr_cmp(a, b);
}

static int sort_compare(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    int cmp;
    if (!sort_mode.alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else /* equal weights: order by the elements, so SORT is deterministic */
            cmp = sort_cmp_binary(a->ele, b->ele);
    } else if (sort_mode.bypattern) {
        if (!a->cmp || !b->cmp)
            cmp = a->cmp == b->cmp ? 0 : (a->cmp ? 1 : -1);
        else if (sort_mode.store)
            cmp = sort_cmp_binary(a->cmp, b->cmp);
        else
            cmp = strcoll(a->cmp, b->cmp);
    } else {
        cmp = sort_mode.store ? sort_cmp_binary(a->ele, b->ele) : strcoll(a->ele, b->ele);
    }
    return sort_mode.desc ? -cmp : cmp;
}

static size_t sort_value_len(const obj *o)
{
    if (!o)
        return 0;
    switch (o->type) {
    case OBJ_LIST: return deque_len(o->v.ptr);
    case OBJ_SET: return setobj_len(o->v.ptr);
    default: return zset_len(o->v.ptr);
    }
}

/* Copies the elements to sort into items. For a list or sorted set that is
 * not sorted, only the [start, end] window is taken, walking from the tail
 * for DESC; *start / *end are then rebased on the window. Returns the count. */
static size_t sort_load(obj *o, const sort_opts *opt, long long *start, long long *end, sort_item *items)
{
    size_t n = 0;
    if (!o)
        return 0;
    int window = opt->dontsort && o->type != OBJ_SET;
    if (window && *end < *start)
        return 0;
    if (o->type == OBJ_LIST) {
        deque *q = o->v.ptr;
        size_t len = deque_len(q);
        if (window) {
            for (long long i = *start; i <= *end; i++) {
                size_t idx = opt->desc ? len - 1 - (size_t)i : (size_t)i;
                items[n++].ele = kstr_dup(deque_get(q, idx));
            }
        } else {
            for (size_t i = 0; i < len; i++)
                items[n++].ele = kstr_dup(deque_get(q, i));
        }
    } else if (o->type == OBJ_SET) {
        setobj_iter it;
        const char *m;
        size_t mlen;
        setobj_iter_init(o->v.ptr, &it);
        while (setobj_iter_next(&it, &m, &mlen))
            items[n++].ele = kstr_new(m, mlen);
        setobj_iter_release(&it);
    } else {
        zset *z = o->v.ptr;
        size_t len = zset_len(z);
        if (window) {
            zset_node *x = zset_at_rank(z, opt->desc ? len - 1 - (size_t)*start : (size_t)*start);
            for (long long i = *start; i <= *end && x; i++) {
                items[n++].ele = kstr_dup(zset_node_member(x));
                x = opt->desc ? zset_prev(x) : zset_next(x);
            }
        } else {
            for (zset_node *x = zset_first(z); x; x = zset_next(x))
                items[n++].ele = kstr_dup(zset_node_member(x));
        }
    }
    if (window) {
        *end -= *start;
        *start = 0;
    }
    return n;
}

/* Fills in the weights. Returns -1 when a numeric weight is not a number. */
static int sort_weigh(client *c, const sort_opts *opt, sort_item *items, size_t n)
{
    int bad = 0;
    for (size_t j = 0; j < n; j++) {
        kstr w = NULL;
        const char *by = items[j].ele;
        if (opt->by) {
            w = sort_lookup_pattern(c, opt->by, items[j].ele);
            if (!w)
                continue;
            by = w;
        }
        if (opt->alpha) {
            items[j].cmp = w;
            continue;
        }
        /* strtod as Redis: leading spaces, hex and "inf" pass, trailing
         * bytes, overflow and NaN do not. */
        char *eptr;
        errno = 0;
        items[j].score = strtod(by, &eptr);
        if (eptr[0] != '\0' || errno == ERANGE || isnan(items[j].score))
            bad = 1;
        kstr_free(w);
    }
    return bad ? -1 : 0;
}

static void sort_reply(client *c, const sort_opts *opt, sort_item *items, long long start, long long end)
{
    long long count = end - start + 1;
    reply_array(c, opt->ngets ? count * opt->ngets : count);
    for (long long j = start; j <= end; j++) {
        if (!opt->ngets)
            reply_bulk_kstr(c, items[j].ele);
        for (int g = 0; g < opt->ngets; g++) {
            kstr v = sort_lookup_pattern(c, opt->gets[g], items[j].ele);
            if (v) {
                reply_bulk_kstr(c, v);
                kstr_free(v);
            } else {
                reply_null(c);
            }
        }
    }
}

static void sort_store(client *c, const sort_opts *opt, sort_item *items, long long start, long long end)
{
    obj *list = obj_list_new();
    long long count = 0;
    for (long long j = start; j <= end; j++) {
        if (!opt->ngets) {
            deque_push_tail(list->v.ptr, kstr_dup(items[j].ele));
            count++;
        }
        for (int g = 0; g < opt->ngets; g++) {
            kstr v = sort_lookup_pattern(c, opt->gets[g], items[j].ele);
            deque_push_tail(list->v.ptr, v ? v : kstr_empty(0));
            count++;
        }
    }
    const resp_arg *dst = opt->store;
    if (count) {
        db_set(c->db, dst->ptr, dst->len, list, 0);
        notify_keyspace_event(c->db, CFG_NOTIFY_LIST, "sortstore", dst->ptr, dst->len);
        c->srv->dirty += count;
    } else {
        obj_free(list);
        if (db_delete(c->db, dst->ptr, dst->len)) {
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", dst->ptr, dst->len);
            c->srv->dirty++;
        }
    }
    reply_int(c, count);
}

static void sort_generic(client *c, int readonly)
{
    sort_opts opt;
    if (sort_parse(c, readonly, &opt) != 0) {
        mem_free(opt.gets);
        return;
    }
    obj *o = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (o && o->type != OBJ_SET && o->type != OBJ_LIST && o->type != OBJ_ZSET) {
        reply_error(c, ERR_WRONGTYPE);
        mem_free(opt.gets);
        return;
    }
    /* Redis 7.0 converts a listpack sorted set to a skiplist for SORT, for
     * good (visible in OBJECT ENCODING). */
    if (o && o->type == OBJ_ZSET)
        zset_set_compact(o->v.ptr, 0);
    /* An unsorted set would come out in hash order: when it is stored, or
     * read by a script (whose effects must not depend on it), Redis sorts
     * it (ALPHA) so the result is the same everywhere. */
    if (opt.dontsort && o && o->type == OBJ_SET && (opt.store || (c->flags & CLIENT_SCRIPT))) {
        opt.dontsort = 0;
        opt.alpha = 1;
        opt.by = NULL;
    }
    long long len = (long long)sort_value_len(o);
    /* Redis' LIMIT clamping; the count is capped first so that huge
     * LIMIT arguments cannot overflow. */
    long long start = opt.limit_start < 0 ? 0 : opt.limit_start, end;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    } else {
        long long count = opt.limit_count < 0 || opt.limit_count > len ? len : opt.limit_count;
        end = start + count - 1;
        if (end >= len)
            end = len - 1;
    }

    sort_item *items = mem_calloc(sizeof(sort_item) * (size_t)(len ? len : 1));
    size_t n = sort_load(o, &opt, &start, &end, items);
    int bad = 0;
    if (!opt.dontsort) {
        bad = sort_weigh(c, &opt, items, n) != 0;
        sort_mode.desc = opt.desc;
        sort_mode.alpha = opt.alpha;
        sort_mode.bypattern = opt.by != NULL;
        sort_mode.store = opt.store != NULL;
        qsort(items, n, sizeof(*items), sort_compare);
    }
    if (bad)
        reply_error(c, "ERR One or more scores can't be converted into double");
    else if (!opt.store)
        sort_reply(c, &opt, items, start, end);
    else
        sort_store(c, &opt, items, start, end);
    for (size_t j = 0; j < n; j++) {
        kstr_free(items[j].ele);
        kstr_free(items[j].cmp);
    }
    mem_free(items);
    mem_free(opt.gets);
}

static void cmd_sort(client *c) { sort_generic(c, 0); }
static void cmd_sort_ro(client *c) { sort_generic(c, 1); }

const cmd_def t_sort_commands[] = {
    { "sort", cmd_sort, -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @set @sortedset @list @slow @dangerous" },
    { "sort_ro", cmd_sort_ro, -2, CMD_READONLY, 1, 1, 1, "@read @set @sortedset @list @slow @dangerous" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
