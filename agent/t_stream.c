/* t_stream: the stream commands that do not involve consumer groups (XADD,
 * XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD, XINFO), with Redis
 * 7.0's replies, error texts and propagation: XADD goes to replicas with
 * the ID it generated, and an approximate ('~') trim with the exact bound
 * it reached, so a replica ends up with the same entries whatever its node
 * boundaries. The data structure is agent/stream.c; groups are
 * agent/stream_cg.c and t_stream_cg.c. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "notify.h"
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "stream.h"
#include "stream_cg.h"
#include "util.h"

/* Without COUNT, a blocked XREAD is served at most this many entries per
 * stream, as Redis does (a too-low ID must not flood the client). */
#define XREAD_BLOCKED_DEFAULT_COUNT 1000

/* ---- helpers ------------------------------------------------------------ */

static int st_arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

static int st_arg_is_exact(const resp_arg *a, const char *s)
{
    return a->len == strlen(s) && memcmp(a->ptr, s, a->len) == 0;
}

static int st_arg_ll(client *c, const resp_arg *a, long long *v)
{
    if (!util_str_to_ll(a->ptr, a->len, v)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    return 0;
}

/* Look a stream up. 0 with *out (NULL when missing), or -1 after a
 * WRONGTYPE reply. */
static int st_lookup(client *c, const resp_arg *key, int write, obj **out)
{
    obj *o = write ? db_lookup_write(c->db, key->ptr, key->len)
                   : db_lookup_read(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_STREAM) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

static int st_strict_id(client *c, const resp_arg *a, uint64_t missing_seq, stream_id *id, int *seq_given)
{
    if (stream_id_parse_strict(a->ptr, a->len, missing_seq, id, seq_given) == 0)
        return 0;
    reply_error(c, STREAM_ERR_INVALID_ID);
    return -1;
}

/* ---- XADD / XTRIM options ---------------------------------------------- */

typedef struct add_trim_args {
    stream_trim_args trim;
    int has_trim;
    int trim_arg_idx;        /* the MAXLEN count / MINID id argument */
    int nomkstream;
    int id_given, seq_given;
    stream_id id;
} add_trim_args;

/* The MAXLEN / MINID clause at argv[i]: optional '~' or '=', then the
 * bound. Returns the index of the bound, or -1 after replying. */
static int parse_trim_clause(client *c, int i, int strategy, add_trim_args *a)
{
    int moreargs = c->argc - 1 - i;
    if (a->has_trim) {
        reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
    }
    a->trim.approx = 0;
    const resp_arg *next = &c->argv[i + 1];
    if (moreargs >= 2 && st_arg_is_exact(next, "~")) {
        a->trim.approx = 1;
        i++;
    } else if (moreargs >= 2 && st_arg_is_exact(next, "=")) {
        i++;
    }
    if (strategy == STREAM_TRIM_MAXLEN) {
        if (st_arg_ll(c, &c->argv[i + 1], &a->trim.maxlen) < 0)
            return -1;
        if (a->trim.maxlen < 0) {
            reply_error(c, "ERR The MAXLEN argument must be >= 0.");
            return -1;
        }
    } else if (st_strict_id(c, &c->argv[i + 1], 0, &a->trim.minid, NULL) < 0) {
        return -1;
    }
    i++;
    a->trim.strategy = strategy;
    a->has_trim = 1;
    a->trim_arg_idx = i;
    return i;
}

/* Options of XADD (xadd = 1: stops at the ID, returned) or XTRIM (returns
 * argc). -1 after replying an error. */
static int parse_add_trim(client *c, add_trim_args *a, int xadd)
{
    int i = 2, limit_given = 0;
    memset(a, 0, sizeof(*a));
    for (; i < c->argc; i++) {
        int moreargs = c->argc - 1 - i;
        const resp_arg *opt = &c->argv[i];
        if (xadd && st_arg_is_exact(opt, "*")) {
            break;
        } else if (st_arg_is(opt, "maxlen") && moreargs) {
            if ((i = parse_trim_clause(c, i, STREAM_TRIM_MAXLEN, a)) < 0)
                return -1;
        } else if (st_arg_is(opt, "minid") && moreargs) {
            if ((i = parse_trim_clause(c, i, STREAM_TRIM_MINID, a)) < 0)
                return -1;
        } else if (st_arg_is(opt, "limit") && moreargs) {
            if (st_arg_ll(c, &c->argv[i + 1], &a->trim.limit) < 0)
                return -1;
            if (a->trim.limit < 0) {
                reply_error(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && st_arg_is(opt, "nomkstream")) {
            a->nomkstream = 1;
        } else if (xadd) {
            if (st_strict_id(c, opt, 0, &a->id, &a->seq_given) < 0)
                return -1;
            a->id_given = 1;
            break;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->trim.limit && !a->has_trim) {
        reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && !a->has_trim) {
        reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if ((c->flags & CLIENT_MASTER) || c->srv->loading) {
        /* Our master (or the AOF) rewrote the bound to what it reached,
         * `=` with the client's LIMIT kept: obey it fully. */
        a->trim.limit = 0;
    } else if (limit_given) {
        if (!a->trim.approx) {
            reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->trim.approx) {
        a->trim.limit = 100 * c->srv->config.stream_node_max_entries;
        if (a->trim.limit <= 0 || a->trim.limit > 1000000)
            a->trim.limit = a->trim.limit <= 0 ? 10000 : 1000000;
    } else {
        a->trim.limit = 0;
    }
    return i;
}

/* After an approximate trim, replicas and the AOF get the exact bound the
 * trim reached ('=' and the stream's length, or its first ID), so they
 * remove the same entries whatever their node boundaries. LIMIT stays in
 * the command; a replica ignores it. */
static void rewrite_trim_args(const stream *s, const add_trim_args *a, resp_arg *argv, char *buf)
{
    argv[a->trim_arg_idx - 1].ptr = "=";
    argv[a->trim_arg_idx - 1].len = 1;
    size_t n;
    if (a->trim.strategy == STREAM_TRIM_MAXLEN)
        n = (size_t)util_ll_to_str(buf, STREAM_ID_STR_MAX, (long long)s->length);
    else
        n = stream_id_format(buf, &s->first_id);
    argv[a->trim_arg_idx].ptr = buf;
    argv[a->trim_arg_idx].len = n;
}

/* ---- XADD --------------------------------------------------------------- */

/* The ID of a new entry: explicit, "ms-*" or "*". -1 when it is not past
 * the top item. */
static int xadd_pick_id(client *c, const stream *s, const add_trim_args *a, stream_id *id)
{
    if (a->id_given && a->seq_given) {
        *id = a->id;
    } else if (a->id_given) {
        if (s->last_id.ms == a->id.ms) {
            if (s->last_id.seq == UINT64_MAX)
                return -1;
            *id = s->last_id;
            id->seq++;
        } else {
            *id = a->id;
        }
    } else {
        uint64_t ms = (uint64_t)c->srv->mstime;
        if (ms > s->last_id.ms) {
            id->ms = ms;
            id->seq = 0;
        } else {
            *id = stream_id_incr(s->last_id);
        }
    }
    return stream_id_cmp(id, &s->last_id) > 0 ? 0 : -1;
}

/* A change to the stream at argv[1]: its keyspace event, the modification
 * signal, and n more changes for the save points. */
static void st_changed(client *c, const char *event, long long n)
{
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, event, c->argv[1].ptr, c->argv[1].len);
    db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty += n;
}

static void cmd_xadd(client *c)
{
    add_trim_args a;
    int idpos = parse_add_trim(c, &a, 1);
    if (idpos < 0)
        return;
    int field_pos = idpos + 1;
    if (c->argc - field_pos < 2 || (c->argc - field_pos) % 2 == 1) {
        reply_error_arity(c, "xadd");
        return;
    }
    if (a.id_given && a.seq_given && a.id.ms == 0 && a.id.seq == 0) {
        reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    const resp_arg *key = &c->argv[1];
    obj *o;
    if (st_lookup(c, key, 1, &o) < 0)
        return;
    if (!o && a.nomkstream) {
        reply_null(c);
        return;
    }
    stream *s = o ? o->v.ptr : NULL;
    if (s && s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    stream_id id;
    stream empty = {0};
    if (xadd_pick_id(c, s ? s : &empty, &a, &id) < 0) {
        reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        return;
    }
    if (!o) {
        o = obj_stream_new();
        db_add(c->db, key->ptr, key->len, o);
        s = o->v.ptr;
    }
    stream_append(s, &id, (size_t)(c->argc - field_pos) / 2, &c->argv[field_pos],
                  (size_t)c->srv->config.stream_node_max_bytes, c->srv->config.stream_node_max_entries);
    stream_reply_id(c, &id);
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xadd", key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
    db_signal_list_ready(c->db, key->ptr, key->len);
    c->srv->dirty++;

    /* Propagate the ID actually used and, after '~', the exact bound. */
    int rewrite = !a.id_given || !a.seq_given;
    if (a.has_trim) {
        if (stream_trim(s, &a.trim) > 0)
            notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xtrim", key->ptr, key->len);
        rewrite |= a.trim.approx;
    }
    if (!rewrite)
        return;
    resp_arg *argv = mem_alloc((size_t)c->argc * sizeof(resp_arg));
    memcpy(argv, c->argv, (size_t)c->argc * sizeof(resp_arg));
    char idbuf[STREAM_ID_STR_MAX], trimbuf[STREAM_ID_STR_MAX];
    argv[idpos].ptr = idbuf;
    argv[idpos].len = stream_id_format(idbuf, &id);
    if (a.has_trim && a.trim.approx)
        rewrite_trim_args(s, &a, argv, trimbuf);
    cmd_rewrite_argv(c, c->argc, argv);
    mem_free(argv);
}

/* ---- XTRIM / XDEL / XLEN / XSETID -------------------------------------- */

static void cmd_xtrim(client *c)
{
    add_trim_args a;
    if (parse_add_trim(c, &a, 0) < 0)
        return;
    obj *o;
    if (st_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    stream *s = o->v.ptr;
    long long removed = a.has_trim ? stream_trim(s, &a.trim) : 0;
    if (removed) {
        if (a.trim.approx) {
            resp_arg *argv = mem_alloc((size_t)c->argc * sizeof(resp_arg));
            char trimbuf[STREAM_ID_STR_MAX];
            memcpy(argv, c->argv, (size_t)c->argc * sizeof(resp_arg));
            rewrite_trim_args(s, &a, argv, trimbuf);
            cmd_rewrite_argv(c, c->argc, argv);
            mem_free(argv);
        }
        st_changed(c, "xtrim", removed);
    }
    reply_int(c, removed);
}

static void cmd_xdel(client *c)
{
    obj *o;
    if (st_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    /* Every ID is checked before anything is deleted. */
    int n = c->argc - 2;
    stream_id *ids = mem_alloc((size_t)n * sizeof(stream_id));
    for (int j = 0; j < n; j++) {
        if (st_strict_id(c, &c->argv[j + 2], 0, &ids[j], NULL) < 0) {
            mem_free(ids);
            return;
        }
    }
    stream *s = o->v.ptr;
    long long deleted = 0;
    int first_gone = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_delete(s, &ids[j]))
            continue;
        if (stream_id_cmp(&ids[j], &s->first_id) == 0)
            first_gone = 1;
        if (stream_id_cmp(&ids[j], &s->max_deleted_id) > 0)
            s->max_deleted_id = ids[j];
        deleted++;
    }
    mem_free(ids);
    if (deleted) {
        if (s->length == 0)
            s->first_id.ms = s->first_id.seq = 0;
        else if (first_gone)
            stream_update_first_id(s);
        st_changed(c, "xdel", deleted);
    }
    reply_int(c, deleted);
}

static void cmd_xlen(client *c)
{
    obj *o;
    if (st_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)((stream *)o->v.ptr)->length : 0);
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
static void cmd_xsetid(client *c)
{
    stream_id id, max_xdel = {0, 0};
    long long entries_added = -1;
    if (st_strict_id(c, &c->argv[2], 0, &id, NULL) < 0)
        return;
    for (int i = 3; i < c->argc; i += 2) {
        int moreargs = c->argc - 1 - i;
        if (st_arg_is(&c->argv[i], "entriesadded") && moreargs) {
            if (st_arg_ll(c, &c->argv[i + 1], &entries_added) < 0)
                return;
            if (entries_added < 0) {
                reply_error(c, "ERR entries_added must be positive");
                return;
            }
        } else if (st_arg_is(&c->argv[i], "maxdeletedid") && moreargs) {
            if (st_strict_id(c, &c->argv[i + 1], 0, &max_xdel, NULL) < 0)
                return;
            if (stream_id_cmp(&id, &max_xdel) < 0) {
                reply_error(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    obj *o;
    if (st_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    stream *s = o->v.ptr;
    if (s->length > 0) {
        stream_id maxid;
        stream_last_valid_id(s, &maxid);
        if (stream_id_cmp(&id, &maxid) < 0) {
            reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (entries_added != -1 && s->length > (uint64_t)entries_added) {
            reply_error(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (entries_added != -1)
        s->entries_added = (uint64_t)entries_added;
    if (max_xdel.ms || max_xdel.seq)
        s->max_deleted_id = max_xdel;
    reply_ok(c);
    /* Redis 7.0's XSETID does not signal the key as modified: a WATCH on
     * it survives, client-side caches are not invalidated. */
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xsetid", c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty++;
}

/* ---- XRANGE / XREVRANGE ------------------------------------------------- */

/* A range bound: "-", "+", an ID, an incomplete ID, or "(" and an ID
 * (exclusive). */
static int parse_interval_id(client *c, const resp_arg *a, uint64_t missing_seq, stream_id *id, int *exclusive)
{
    *exclusive = a->len > 1 && a->ptr[0] == '(';
    if (*exclusive) {
        resp_arg t = {a->ptr + 1, a->len - 1};
        return st_strict_id(c, &t, missing_seq, id, NULL);
    }
    return stream_id_arg(c, a, missing_seq, id);
}

static void xrange_generic(client *c, int rev)
{
    const resp_arg *startarg = rev ? &c->argv[3] : &c->argv[2];
    const resp_arg *endarg = rev ? &c->argv[2] : &c->argv[3];
    stream_id start, end;
    int startex, endex;
    long long count = -1;
    if (parse_interval_id(c, startarg, 0, &start, &startex) < 0)
        return;
    if (startex) {
        if (start.ms == UINT64_MAX && start.seq == UINT64_MAX) {
            reply_error(c, "ERR invalid start ID for the interval");
            return;
        }
        start = stream_id_incr(start);
    }
    if (parse_interval_id(c, endarg, UINT64_MAX, &end, &endex) < 0)
        return;
    if (endex) {
        if (end.ms == 0 && end.seq == 0) {
            reply_error(c, "ERR invalid end ID for the interval");
            return;
        }
        end = stream_id_decr(end);
    }
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (st_arg_is(&c->argv[j], "count") && additional >= 1) {
            if (st_arg_ll(c, &c->argv[j + 1], &count) < 0)
                return;
            if (count < 0)
                count = 0;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    obj *o;
    if (st_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o) {
        reply_empty_array(c);
        return;
    }
    if (count == 0) {
        reply_null_array(c);
        return;
    }
    stream_reply_range(c, o->v.ptr, &start, &end, count == -1 ? 0 : (size_t)count, rev, NULL, NULL);
}

static void cmd_xrange(client *c) { xrange_generic(c, 0); }
static void cmd_xrevrange(client *c) { xrange_generic(c, 1); }

/* ---- XREAD -------------------------------------------------------------- */

typedef struct xread_args {
    long long timeout;       /* -1: no BLOCK */
    long long count;         /* 0: no limit */
    int streams_arg;         /* first key */
    int nstreams;
} xread_args;

static int xread_parse(client *c, xread_args *x)
{
    x->timeout = -1;
    x->count = 0;
    x->streams_arg = 0;
    x->nstreams = 0;
    for (int i = 1; i < c->argc; i++) {
        int moreargs = c->argc - i - 1;
        const resp_arg *o = &c->argv[i];
        if (st_arg_is(o, "block") && moreargs) {
            if (c->flags & CLIENT_SCRIPT) {
                reply_errorf(c, "ERR %.*s command is not allowed with BLOCK option from scripts",
                             (int)c->argv[0].len, c->argv[0].ptr);
                return -1;
            }
            i++;
            long long ms;
            if (!util_str_to_ll(c->argv[i].ptr, c->argv[i].len, &ms)) {
                reply_error(c, "ERR timeout is not an integer or out of range");
                return -1;
            }
            if (ms < 0) {
                reply_error(c, "ERR timeout is negative");
                return -1;
            }
            if (ms > 0 && ms > LLONG_MAX - c->srv->mstime) {
                reply_error(c, "ERR timeout is out of range");
                return -1;
            }
            x->timeout = ms;
        } else if (st_arg_is(o, "count") && moreargs) {
            i++;
            if (st_arg_ll(c, &c->argv[i], &x->count) < 0)
                return -1;
            if (x->count < 0)
                x->count = 0;
        } else if (st_arg_is(o, "streams") && moreargs) {
            x->streams_arg = i + 1;
            int n = c->argc - x->streams_arg;
            if (n % 2 != 0) {
                reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return -1;
            }
            x->nstreams = n / 2;
            break;
        } else if (st_arg_is(o, "group") && moreargs >= 2) {
            reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            return -1;
        } else if (st_arg_is(o, "noack")) {
            reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            return -1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (x->streams_arg == 0) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* While a blocked XREAD is re-run, only the stream that became ready is
 * served (as Redis serves a waiter from the key that received data). */
static int xread_skip_key(client *c, const resp_arg *key)
{
    if (!(c->flags & CLIENT_UNBLOCKED) || !c->bstate.serve_key)
        return 0;
    return !(c->bstate.serve_keylen == key->len && memcmp(c->bstate.serve_key, key->ptr, key->len) == 0);
}

/* Block with '$' replaced by each stream's last ID in the saved command,
 * so the re-run asks for what arrived after the moment it blocked. */
static void xread_block(client *c, const xread_args *x, const stream_id *ids, int64_t timeout_abs)
{
    resp_arg *saved = c->argv;
    resp_arg *argv = mem_alloc((size_t)c->argc * sizeof(resp_arg));
    char (*bufs)[STREAM_ID_STR_MAX] = mem_alloc((size_t)x->nstreams * STREAM_ID_STR_MAX);
    memcpy(argv, c->argv, (size_t)c->argc * sizeof(resp_arg));
    for (int i = 0; i < x->nstreams; i++) {
        resp_arg *a = &argv[x->streams_arg + x->nstreams + i];
        if (st_arg_is_exact(a, "$")) {
            a->len = stream_id_format(bufs[i], &ids[i]);
            a->ptr = bufs[i];
        }
    }
    c->argv = argv;
    blocking_block(c, x->nstreams, &argv[x->streams_arg], timeout_abs);
    c->argv = saved;
    mem_free(bufs);
    mem_free(argv);
}

static void cmd_xread(client *c)
{
    xread_args x;
    if (xread_parse(c, &x) < 0)
        return;
    stream_id *ids = mem_alloc((size_t)(x.nstreams ? x.nstreams : 1) * sizeof(stream_id));
    for (int i = 0; i < x.nstreams; i++) {
        const resp_arg *key = &c->argv[x.streams_arg + i];
        const resp_arg *ida = &c->argv[x.streams_arg + x.nstreams + i];
        obj *o = db_lookup_read(c->db, key->ptr, key->len);
        if (o && o->type != OBJ_STREAM) {
            reply_error(c, ERR_WRONGTYPE);
            goto done;
        }
        if (st_arg_is_exact(ida, "$")) {
            ids[i] = o ? ((stream *)o->v.ptr)->last_id : (stream_id){0, 0};
            continue;
        }
        if (st_arg_is_exact(ida, ">")) {
            reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            goto done;
        }
        if (st_strict_id(c, ida, 0, &ids[i], NULL) < 0)
            goto done;
    }
    long long count = x.count;
    if ((c->flags & CLIENT_UNBLOCKED) && count == 0)
        count = XREAD_BLOCKED_DEFAULT_COUNT;
    size_t served = 0;
    void *h = NULL;
    for (int i = 0; i < x.nstreams; i++) {
        const resp_arg *key = &c->argv[x.streams_arg + i];
        if (xread_skip_key(c, key))
            continue;
        obj *o = db_lookup_read(c->db, key->ptr, key->len);
        if (!o || o->type != OBJ_STREAM)
            continue;
        stream *s = o->v.ptr;
        stream_id maxid;
        if (!s->length || !stream_last_valid_id(s, &maxid) || stream_id_cmp(&maxid, &ids[i]) <= 0)
            continue;
        if (served++ == 0)
            h = reply_defer_len(c);
        stream_id start = stream_id_incr(ids[i]);
        /* RESP3: a map of key -> entries; RESP2: [key, entries] pairs */
        if (c->resp_version == 2)
            reply_array(c, 2);
        reply_bulk(c, key->ptr, key->len);
        stream_reply_range(c, s, &start, NULL, (size_t)count, 0, NULL, NULL);
        if (c->flags & CLIENT_UNBLOCKED)
            break;          /* a woken waiter is served from one stream */
    }
    if (served) {
        if (c->resp_version == 2)
            reply_set_deferred_len(c, h, (long long)served);
        else
            reply_set_deferred_map_len(c, h, (long long)served);
        goto done;
    }
    if (x.timeout != -1) {
        if (c->flags & (CLIENT_MULTI | CLIENT_IN_EXEC)) {
            reply_null_array(c);
            goto done;
        }
        xread_block(c, &x, ids, x.timeout ? c->srv->mstime + x.timeout : 0);
        goto done;
    }
    reply_null_array(c);
done:
    mem_free(ids);
}

/* ---- XINFO -------------------------------------------------------------- */

static void xinfo_subcommand_error(client *c)
{
    const resp_arg *sub = &c->argv[1];
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try XINFO HELP.",
                 (int)(sub->len < 128 ? sub->len : 128), sub->ptr);
}

/* The head fields common to both forms of XINFO STREAM. */
static void xinfo_stream_head(client *c, const stream *s)
{
    reply_bulk_cstr(c, "length");
    reply_int(c, (long long)s->length);
    reply_bulk_cstr(c, "radix-tree-keys");
    reply_int(c, (long long)s->nnodes);
    reply_bulk_cstr(c, "radix-tree-nodes");
    reply_int(c, (long long)stream_rax_nodes(s));
    reply_bulk_cstr(c, "last-generated-id");
    stream_reply_id(c, &s->last_id);
    reply_bulk_cstr(c, "max-deleted-entry-id");
    stream_reply_id(c, &s->max_deleted_id);
    reply_bulk_cstr(c, "entries-added");
    reply_int(c, (long long)s->entries_added);
    reply_bulk_cstr(c, "recorded-first-entry-id");
    stream_reply_id(c, &s->first_id);
}

static void xinfo_stream(client *c, stream *s)
{
    int full = 0;
    long long count = 10;
    int optc = c->argc - 3;
    if (optc > 0) {
        if ((optc != 1 && optc != 3) || !st_arg_is(&c->argv[3], "full")) {
            xinfo_subcommand_error(c);
            return;
        }
        full = 1;
        if (optc == 3) {
            if (!st_arg_is(&c->argv[4], "count")) {
                xinfo_subcommand_error(c);
                return;
            }
            if (st_arg_ll(c, &c->argv[5], &count) < 0)
                return;
            if (count < 0)
                count = 10;
        }
    }
    reply_map(c, full ? 9 : 10);
    xinfo_stream_head(c, s);
    if (full) {
        reply_bulk_cstr(c, "entries");
        stream_reply_range(c, s, NULL, NULL, (size_t)count, 0, NULL, NULL);
        reply_bulk_cstr(c, "groups");
        stream_cg_reply_info_full(c, s, count);
        return;
    }
    reply_bulk_cstr(c, "groups");
    reply_int(c, (long long)stream_cg_count(s->cgroups));
    reply_bulk_cstr(c, "first-entry");
    if (!stream_reply_range_raw(c, s, NULL, NULL, 1, 0, NULL, NULL))
        reply_null(c);
    reply_bulk_cstr(c, "last-entry");
    if (!stream_reply_range_raw(c, s, NULL, NULL, 1, 1, NULL, NULL))
        reply_null(c);
}

static void cmd_xinfo(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (st_arg_is(sub, "help")) {
        if (c->argc != 2) {
            reply_error_arity(c, "xinfo|help");
            return;
        }
        static const char *help[] = {
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            NULL,
        };
        reply_help(c, "XINFO", help);
        return;
    }
    int known = st_arg_is(sub, "stream") || st_arg_is(sub, "groups") || st_arg_is(sub, "consumers");
    if (!known) {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try XINFO HELP.", (int)sub->len, sub->ptr);
        return;
    }
    int min = st_arg_is(sub, "consumers") ? 4 : 3;
    int exact = !st_arg_is(sub, "stream");
    if (c->argc < min || (exact && c->argc != min)) {
        char name[64];
        snprintf(name, sizeof(name), "xinfo|%.*s", (int)(sub->len < 20 ? sub->len : 20), sub->ptr);
        for (char *p = name; *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        reply_error_arity(c, name);
        return;
    }
    obj *o;
    if (st_lookup(c, &c->argv[2], 0, &o) < 0)
        return;
    if (!o) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    stream *s = o->v.ptr;
    if (st_arg_is(sub, "consumers"))
        stream_cg_xinfo_consumers(c, s, &c->argv[2], &c->argv[3]);
    else if (st_arg_is(sub, "groups"))
        stream_cg_xinfo_groups(c, s);
    else
        xinfo_stream(c, s);
}

const cmd_def t_stream_commands[] = {
    {"xadd", cmd_xadd, -5, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    {"xrange", cmd_xrange, -4, CMD_READONLY, 1, 1, 1, "@read @stream @slow"},
    {"xrevrange", cmd_xrevrange, -4, CMD_READONLY, 1, 1, 1, "@read @stream @slow"},
    {"xlen", cmd_xlen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @stream @fast"},
    {"xdel", cmd_xdel, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    {"xtrim", cmd_xtrim, -4, CMD_WRITE, 1, 1, 1, "@write @stream @slow"},
    {"xsetid", cmd_xsetid, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    /* XREAD's keys follow STREAMS: no fixed key range */
    {"xread", cmd_xread, -4, CMD_READONLY | CMD_BLOCKING, 0, 0, 0, "@read @stream @slow @blocking"},
    {"xinfo", cmd_xinfo, -2, CMD_READONLY, 2, 2, 1, "@read @stream @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
