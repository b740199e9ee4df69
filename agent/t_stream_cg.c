/* t_stream_cg: the consumer group commands (XGROUP, XREADGROUP, XACK,
 * XPENDING, XCLAIM, XAUTOCLAIM) on top of agent/stream_cg.c, with Redis
 * 7.0's replies, error texts and propagation:
 *
 *   - XREADGROUP propagates no XREADGROUP: every entry it hands out goes to
 *     replicas and the AOF as "XCLAIM key group consumer 0 id TIME ms
 *     RETRYCOUNT n FORCE JUSTID LASTID last-id" (idempotent, and carrying
 *     the group's new last id); with NOACK only "XGROUP SETID key group id
 *     ENTRIESREAD n" (and XGROUP CREATECONSUMER for a new consumer).
 *   - XCLAIM / XAUTOCLAIM propagate the same XCLAIM form for each entry
 *     claimed or dropped (an entry gone from the stream leaves the PEL, and
 *     its XCLAIM makes the replica drop it too).
 *   - Several propagated commands from one call go out as one MULTI/EXEC
 *     unit (cmd_propagate_during), as 7.0 wraps its also-propagate list.
 *
 * A blocked XREADGROUP (BLOCK with '>') is re-run by agent/blocking.c when
 * a key it waits on gets entries; on that re-run only bstate.serve_key is
 * looked at, and a group destroyed meanwhile answers -NOGROUP, a key gone
 * or no longer a stream -UNBLOCKED, as 7.0 does. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "notify.h"
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

/* Without COUNT, a blocked XREADGROUP served later gets at most this many
 * entries (Redis' XREAD_BLOCKED_DEFAULT_COUNT): a low id must not turn one
 * wake-up into a huge reply. */
#define CG_BLOCKED_DEFAULT_COUNT 1000

/* ---- helpers ------------------------------------------------------------ */

static int arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

/* A long long argument, or reply err (ERR_NOT_INT when NULL) and -1. */
static int cg_arg_ll(client *c, const resp_arg *a, long long *out, const char *err)
{
    if (util_str_to_ll(a->ptr, a->len, out))
        return 0;
    reply_error(c, err ? err : ERR_NOT_INT);
    return -1;
}

/* The stream at key (NULL when missing), or -1 after a WRONGTYPE reply. */
static int cg_stream_lookup(client *c, const resp_arg *key, int write, obj **out)
{
    obj *o = write ? db_lookup_write(c->db, key->ptr, key->len) : db_lookup_read(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_STREAM) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

static stream *stream_of(obj *o)
{
    return o->v.ptr;
}

static int id_is_max(const stream_id *id)
{
    return id->ms == UINT64_MAX && id->seq == UINT64_MAX;
}

/* Redis' strict ID: "-" and "+" are refused; an ID given as ms alone gets
 * missing_seq. With reply, the error is "Invalid stream ID ..."; without,
 * nothing is sent (XCLAIM's id list ends at the first argument that is
 * not an id). */
static int cg_parse_strict_id_seq(client *c, const resp_arg *a, uint64_t missing_seq, stream_id *out, int reply)
{
    int special = a->len == 1 && (a->ptr[0] == '-' || a->ptr[0] == '+');
    if (!special && stream_id_parse(a->ptr, a->len, missing_seq, out) == 0)
        return 0;
    if (reply)
        reply_error(c, "ERR Invalid stream ID specified as stream command argument");
    return -1;
}

static int cg_parse_strict_id(client *c, const resp_arg *a, stream_id *out, int reply)
{
    return cg_parse_strict_id_seq(c, a, 0, out, reply);
}

/* A range bound of XPENDING / XAUTOCLAIM: "(" makes it exclusive. An
 * exclusive end without a sequence ("(5") is 5-max before the decrement,
 * as for an inclusive one, so "(0" is a valid end (0-(max-1)). */
static int cg_parse_interval(client *c, const resp_arg *a, uint64_t missing_seq, int is_start, stream_id *out)
{
    if (a->len > 1 && a->ptr[0] == '(') {
        resp_arg rest = {a->ptr + 1, a->len - 1};
        if (cg_parse_strict_id_seq(c, &rest, missing_seq, out, 1) < 0)
            return -1;
        if (is_start) {
            if (id_is_max(out)) {
                reply_error(c, "ERR invalid start ID for the interval");
                return -1;
            }
            *out = stream_id_incr(*out);
        } else {
            if (out->ms == 0 && out->seq == 0) {
                reply_error(c, "ERR invalid end ID for the interval");
                return -1;
            }
            *out = stream_id_decr(*out);
        }
        return 0;
    }
    return stream_id_arg(c, a, missing_seq, out);
}

static resp_arg cg_arg_str(const char *s)
{
    resp_arg a = {s, strlen(s)};
    return a;
}

/* "XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID
 * LASTID last" for one pending entry (Redis' streamPropagateXCLAIM). */
static void cg_propagate_xclaim(client *c, const resp_arg *key, const resp_arg *group, const cg_group *g,
                                const resp_arg *id, const cg_nack *nack)
{
    char when[32], count[32], last[STREAM_ID_STR_MAX];
    snprintf(when, sizeof(when), "%lld", (long long)nack->delivery_time);
    snprintf(count, sizeof(count), "%llu", (unsigned long long)nack->delivery_count);
    size_t lastlen = stream_id_format(last, &g->last_id);
    resp_arg argv[14] = {
        cg_arg_str("XCLAIM"), *key, *group, {nack->consumer->name, kstr_len(nack->consumer->name)},
        cg_arg_str("0"), *id, cg_arg_str("TIME"), cg_arg_str(when), cg_arg_str("RETRYCOUNT"),
        cg_arg_str(count), cg_arg_str("FORCE"), cg_arg_str("JUSTID"), cg_arg_str("LASTID"), {last, lastlen},
    };
    cmd_propagate_during(c->srv, c->db->id, 14, argv);
}

static void cg_propagate_xclaim_id(client *c, const resp_arg *key, const resp_arg *group, const cg_group *g,
                                   const stream_id *id, const cg_nack *nack)
{
    char buf[STREAM_ID_STR_MAX];
    resp_arg idarg = {buf, stream_id_format(buf, id)};
    cg_propagate_xclaim(c, key, group, g, &idarg, nack);
}

/* "XGROUP SETID key group last-id ENTRIESREAD n" (streamPropagateGroupID). */
static void cg_propagate_setid(client *c, const resp_arg *key, const resp_arg *group, const cg_group *g)
{
    char last[STREAM_ID_STR_MAX], read[32];
    size_t lastlen = stream_id_format(last, &g->last_id);
    snprintf(read, sizeof(read), "%lld", g->entries_read);
    resp_arg argv[7] = {cg_arg_str("XGROUP"), cg_arg_str("SETID"), *key, *group, {last, lastlen},
                        cg_arg_str("ENTRIESREAD"), cg_arg_str(read)};
    cmd_propagate_during(c->srv, c->db->id, 7, argv);
}

static void cg_propagate_createconsumer(client *c, const resp_arg *key, const resp_arg *group,
                                        const resp_arg *consumer)
{
    resp_arg argv[5] = {cg_arg_str("XGROUP"), cg_arg_str("CREATECONSUMER"), *key, *group, *consumer};
    cmd_propagate_during(c->srv, c->db->id, 5, argv);
}

/* The consumer, its seen time refreshed, or a new one (dirty, as Redis'
 * streamCreateConsumer). *created tells which. */
static cg_consumer *cg_consumer_get(client *c, const resp_arg *key, cg_group *g, const resp_arg *name,
                                    int64_t now, int *created)
{
    cg_consumer *cons = cg_consumer_lookup(g, name->ptr, name->len);
    *created = 0;
    if (cons) {
        cons->seen_time = now;
        return cons;
    }
    cons = cg_consumer_create(g, name->ptr, name->len, now);
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-createconsumer", key->ptr, key->len);
    *created = 1;
    return cons;
}

/* ---- XGROUP ------------------------------------------------------------- */

static void cg_reply_subcommand_syntax(client *c)
{
    const resp_arg *sub = &c->argv[1];
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try XGROUP HELP.",
                 (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
}

/* The subcommands and arities of Redis 7.0's XGROUP container: a wrong one
 * is refused the way Redis' command table refuses it. 0 when refused. */
static int xgroup_check_subcommand(client *c)
{
    static const struct { const char *name; int arity; } subs[] = {
        {"create", -5}, {"createconsumer", 5}, {"delconsumer", 5},
        {"destroy", 4}, {"help", 2}, {"setid", -5},
    };
    const resp_arg *sub = &c->argv[1];
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!arg_is(sub, subs[i].name))
            continue;
        int arity = subs[i].arity;
        if ((arity > 0 && c->argc != arity) || (arity < 0 && c->argc < -arity)) {
            char name[64];
            snprintf(name, sizeof(name), "xgroup|%s", subs[i].name);
            reply_error_arity(c, name);
            return 0;
        }
        return 1;
    }
    reply_errorf(c, "ERR unknown subcommand '%.*s'. Try XGROUP HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                 sub->ptr);
    return 0;
}

static void xgroup_help(client *c)
{
    static const char *help[] = {
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        NULL};
    reply_help(c, "XGROUP", help);
}

/* Options after the id of CREATE (MKSTREAM, ENTRIESREAD) and SETID
 * (ENTRIESREAD). -1 after replying. */
static int xgroup_parse_options(client *c, int create, int setid, int *mkstream, long long *entries_read)
{
    for (int i = 5; i < c->argc;) {
        if (create && arg_is(&c->argv[i], "mkstream")) {
            *mkstream = 1;
            i++;
        } else if ((create || setid) && arg_is(&c->argv[i], "entriesread") && i + 1 < c->argc) {
            if (cg_arg_ll(c, &c->argv[i + 1], entries_read, NULL) < 0)
                return -1;
            if (*entries_read < 0 && *entries_read != CG_INVALID_ENTRIES_READ) {
                reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
                return -1;
            }
            i += 2;
        } else {
            cg_reply_subcommand_syntax(c);
            return -1;
        }
    }
    return 0;
}

static void xgroup_create(client *c, obj *o, long long entries_read)
{
    const resp_arg *key = &c->argv[2], *name = &c->argv[3];
    stream_id id = {0, 0};
    if (c->argv[4].len == 1 && c->argv[4].ptr[0] == '$') {
        if (o)
            id = stream_of(o)->last_id;
    } else if (cg_parse_strict_id(c, &c->argv[4], &id, 1) < 0) {
        return;
    }
    if (!o) {
        /* MKSTREAM: created only now that the command can no longer fail */
        o = obj_stream_new();
        db_add(c->db, key->ptr, key->len, o);
        db_signal_modified(c->db, key->ptr, key->len);
    }
    if (!cg_create(stream_of(o), name->ptr, name->len, &id, entries_read)) {
        reply_error(c, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    reply_ok(c);
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-create", key->ptr, key->len);
    c->srv->dirty++;
}

static void xgroup_setid(client *c, stream *s, cg_group *g, long long entries_read)
{
    stream_id id;
    if (c->argv[4].len == 1 && c->argv[4].ptr[0] == '$')
        id = s->last_id;
    else if (stream_id_arg(c, &c->argv[4], 0, &id) < 0)
        return;
    g->last_id = id;
    g->entries_read = entries_read;
    reply_ok(c);
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-setid", c->argv[2].ptr, c->argv[2].len);
    c->srv->dirty++;
}

static void xgroup_destroy(client *c, stream *s)
{
    const resp_arg *key = &c->argv[2], *name = &c->argv[3];
    if (!cg_destroy(s, name->ptr, name->len)) {
        reply_int(c, 0);
        return;
    }
    reply_int(c, 1);
    notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-destroy", key->ptr, key->len);
    c->srv->dirty++;
    /* XREADGROUP clients blocked on this group get -NOGROUP on their re-run */
    blocking_signal_ready(c->db, key->ptr, key->len);
}

static void xgroup_delconsumer(client *c, cg_group *g)
{
    const resp_arg *name = &c->argv[4];
    cg_consumer *cons = cg_consumer_lookup(g, name->ptr, name->len);
    long long pending = 0;
    if (cons) {
        pending = (long long)cg_consumer_delete(g, cons);
        notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-delconsumer", c->argv[2].ptr, c->argv[2].len);
        c->srv->dirty++;
    }
    reply_int(c, pending);
}

static void xgroup_createconsumer(client *c, cg_group *g)
{
    const resp_arg *name = &c->argv[4];
    cg_consumer *cons = cg_consumer_create(g, name->ptr, name->len, util_ms_now());
    if (cons) {
        notify_keyspace_event(c->db, CFG_NOTIFY_STREAM, "xgroup-createconsumer", c->argv[2].ptr, c->argv[2].len);
        c->srv->dirty++;
    }
    reply_int(c, cons ? 1 : 0);
}

static void cmd_xgroup(client *c)
{
    if (!xgroup_check_subcommand(c))
        return;
    const resp_arg *sub = &c->argv[1];
    int create = arg_is(sub, "create"), setid = arg_is(sub, "setid");
    int mkstream = 0;
    long long entries_read = CG_INVALID_ENTRIES_READ;
    obj *o = NULL;
    cg_group *g = NULL;
    /* everything but HELP names a key and a group */
    if (c->argc >= 4) {
        if (xgroup_parse_options(c, create, setid, &mkstream, &entries_read) < 0)
            return;
        if (cg_stream_lookup(c, &c->argv[2], 1, &o) < 0)
            return;
        if (!mkstream) {
            if (!o) {
                reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                               "may want to use the MKSTREAM option to create an empty stream automatically.");
                return;
            }
            g = cg_lookup(stream_of(o), c->argv[3].ptr, c->argv[3].len);
            if (!g && (setid || arg_is(sub, "createconsumer") || arg_is(sub, "delconsumer"))) {
                reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)c->argv[3].len,
                             c->argv[3].ptr, (int)c->argv[2].len, c->argv[2].ptr);
                return;
            }
        }
    }
    if (c->argc == 2 && arg_is(sub, "help"))
        xgroup_help(c);
    else if (create && c->argc >= 5 && c->argc <= 8)
        xgroup_create(c, o, entries_read);
    else if (setid && (c->argc == 5 || c->argc == 7))
        xgroup_setid(c, stream_of(o), g, entries_read);
    else if (arg_is(sub, "destroy") && c->argc == 4)
        xgroup_destroy(c, stream_of(o));
    else if (arg_is(sub, "createconsumer") && c->argc == 5)
        xgroup_createconsumer(c, g);
    else if (arg_is(sub, "delconsumer") && c->argc == 5)
        xgroup_delconsumer(c, g);
    else
        cg_reply_subcommand_syntax(c);
}

/* ---- XREADGROUP ---------------------------------------------------------- */

typedef struct xrg_args {
    long long count;
    int64_t timeout_ms;        /* absolute; -1 no BLOCK, 0 forever */
    int noack;
    int streams_arg, nstreams;
    const resp_arg *group, *consumer;
} xrg_args;

/* BLOCK's milliseconds, as Redis' getTimeoutFromObjectOrReply. */
static int xrg_parse_timeout(client *c, const resp_arg *a, int64_t *abs_ms)
{
    long long ms;
    if (cg_arg_ll(c, a, &ms, "ERR timeout is not an integer or out of range") < 0)
        return -1;
    if (ms < 0) {
        reply_error(c, ERR_TIMEOUT_NEGATIVE);
        return -1;
    }
    if (ms > 0) {
        int64_t now = util_ms_now();
        if (ms > LLONG_MAX - now) {
            reply_error(c, "ERR timeout is out of range");
            return -1;
        }
        ms += now;
    }
    *abs_ms = ms;
    return 0;
}

static int xrg_parse(client *c, xrg_args *a)
{
    memset(a, 0, sizeof(*a));
    a->timeout_ms = -1;
    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        const resp_arg *o = &c->argv[i];
        if (arg_is(o, "block") && more) {
            if (c->flags & CLIENT_SCRIPT) {
                reply_errorf(c, "ERR %.*s command is not allowed with BLOCK option from scripts",
                             (int)c->argv[0].len, c->argv[0].ptr);
                return -1;
            }
            if (xrg_parse_timeout(c, &c->argv[++i], &a->timeout_ms) < 0)
                return -1;
        } else if (arg_is(o, "count") && more) {
            if (cg_arg_ll(c, &c->argv[++i], &a->count, NULL) < 0)
                return -1;
            if (a->count < 0)
                a->count = 0;
        } else if (arg_is(o, "streams") && more) {
            a->streams_arg = i + 1;
            a->nstreams = c->argc - a->streams_arg;
            if (a->nstreams % 2) {
                reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                               "specified.");
                return -1;
            }
            a->nstreams /= 2;
            break;
        } else if (arg_is(o, "group") && more >= 2) {
            a->group = &c->argv[i + 1];
            a->consumer = &c->argv[i + 2];
            i += 2;
        } else if (arg_is(o, "noack")) {
            a->noack = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (!a->streams_arg) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (!a->group) {
        reply_error(c, "ERR Missing GROUP option for XREADGROUP");
        return -1;
    }
    return 0;
}

/* On a re-run after blocking, only the key that became ready is served. */
static int xrg_skip_key(client *c, const resp_arg *key)
{
    if (!(c->flags & CLIENT_UNBLOCKED) || !c->bstate.serve_key)
        return 0;
    return !(c->bstate.serve_keylen == key->len && memcmp(c->bstate.serve_key, key->ptr, key->len) == 0);
}

/* Resolve every key's group and id ('>' is the max id). -1 after replying. */
static int xrg_resolve(client *c, const xrg_args *a, cg_group **groups, stream_id *ids)
{
    for (int k = 0; k < a->nstreams; k++) {
        const resp_arg *key = &c->argv[a->streams_arg + k];
        const resp_arg *idarg = &c->argv[a->streams_arg + a->nstreams + k];
        groups[k] = NULL;
        if (xrg_skip_key(c, key))
            continue;
        obj *o = db_lookup_read(c->db, key->ptr, key->len);
        int rerun = (c->flags & CLIENT_UNBLOCKED) != 0;
        if (o && o->type != OBJ_STREAM) {
            reply_error(c, rerun ? "UNBLOCKED the stream key no longer exists" : ERR_WRONGTYPE);
            return -1;
        }
        if (!o && rerun) {
            reply_error(c, "UNBLOCKED the stream key no longer exists");
            return -1;
        }
        cg_group *g = o ? cg_lookup(stream_of(o), a->group->ptr, a->group->len) : NULL;
        if (!g) {
            if (rerun)
                reply_error(c, "NOGROUP the consumer group this client was blocked on no longer exists");
            else
                reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP "
                                "option", (int)key->len, key->ptr, (int)a->group->len, a->group->ptr);
            return -1;
        }
        groups[k] = g;
        if (idarg->len == 1 && idarg->ptr[0] == '$') {
            reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                           "history of this consumer by specifying a proper ID, or use the > ID to get new "
                           "messages. The $ ID would just return an empty result set.");
            return -1;
        }
        if (idarg->len == 1 && idarg->ptr[0] == '>') {
            ids[k].ms = ids[k].seq = UINT64_MAX;
            continue;
        }
        if (cg_parse_strict_id(c, idarg, &ids[k], 1) < 0)
            return -1;
    }
    return 0;
}

/* What one delivery of new entries needs to know per entry. */
typedef struct xrg_ctx {
    client *c;
    stream *s;
    cg_group *g;
    cg_consumer *consumer;
    const resp_arg *key, *group;
    int noack;
    int last_id_moved;
    int64_t now;
} xrg_ctx;

/* Called by stream_reply_range for each entry handed out: move the
 * group's position (and read counter, as 7.0 keeps it), then record the
 * entry as pending for this consumer (taking it from another consumer if
 * SETID made it deliverable again) and propagate that as an XCLAIM. */
static void xrg_on_entry(void *ctxp, const stream_id *id)
{
    xrg_ctx *x = ctxp;
    cg_group *g = x->g;
    if (stream_id_cmp(id, &g->last_id) > 0) {
        if (g->entries_read != CG_INVALID_ENTRIES_READ && !stream_range_has_tombstones(x->s, id, NULL))
            g->entries_read++;
        else if (x->s->entries_added)
            g->entries_read = stream_estimate_distance(x->s, id);
        g->last_id = *id;
        x->last_id_moved = 1;
    }
    if (x->noack)
        return;
    cg_nack *nack = idmap_get(g->pel, id);
    if (nack) {
        if (nack->consumer)
            idmap_delete(nack->consumer->pel, id);
        nack->consumer = x->consumer;
        nack->delivery_time = x->now;
        nack->delivery_count = 1;
    } else {
        nack = cg_nack_new(x->consumer, x->now);
        idmap_insert(g->pel, id, nack);
    }
    idmap_insert(x->consumer->pel, id, nack);
    cg_propagate_xclaim_id(x->c, x->key, x->group, g, id, nack);
}

/* History: the consumer's own pending entries with id >= start. An entry
 * deleted from the stream meanwhile is reported as [id, nil]. */
static void xrg_reply_history(client *c, stream *s, cg_consumer *cons, const stream_id *start, long long count,
                              int64_t now)
{
    void *len = reply_defer_len(c);
    long long n = 0;
    for (idmap_node *p = idmap_seek(cons->pel, start); p && (!count || n < count); p = idmap_next(p)) {
        const stream_id *id = idmap_node_id(p);
        if (!stream_reply_entry(c, s, id)) {
            reply_array(c, 2);
            cg_reply_id(c, id);
            reply_null_array(c);
        } else {
            cg_nack *nack = idmap_node_val(p);
            nack->delivery_time = now;
            nack->delivery_count++;
        }
        n++;
    }
    reply_set_deferred_len(c, len, n);
}

/* Does s hold an entry with an id greater than after? */
static int xrg_has_entries_after(const stream *s, const stream_id *after)
{
    if (!s->length || id_is_max(after))
        return 0;
    stream_id start = stream_id_incr(*after), id;
    stream_iter it;
    size_t nf;
    stream_iter_start(&it, s, &start, NULL, 0);
    int found = stream_iter_next(&it, &id, &nf);
    stream_iter_stop(&it);
    return found;
}

/* Serve one stream: [key, entries]. */
static void xrg_serve(client *c, const xrg_args *a, int k, stream *s, cg_group *g, const stream_id *gt,
                      int history, long long count)
{
    const resp_arg *key = &c->argv[a->streams_arg + k];
    int64_t now = util_ms_now();
    if (c->resp_version == 2)
        reply_array(c, 2);
    reply_bulk(c, key->ptr, key->len);
    int created;
    cg_consumer *cons = cg_consumer_get(c, key, g, a->consumer, now, &created);
    if (created && a->noack)
        cg_propagate_createconsumer(c, key, a->group, a->consumer);
    stream_id start = stream_id_incr(*gt);
    if (history) {
        xrg_reply_history(c, s, cons, &start, count, now);
    } else {
        xrg_ctx x = {c, s, g, cons, key, a->group, a->noack, 0, now};
        stream_reply_range(c, s, &start, NULL, (size_t)count, 0, xrg_on_entry, &x);
        if (a->noack && x.last_id_moved)
            cg_propagate_setid(c, key, a->group, g);
    }
    c->srv->dirty++;
}

static void xrg_run(client *c, const xrg_args *a, cg_group **groups, stream_id *ids)
{
    int rerun = (c->flags & CLIENT_UNBLOCKED) != 0;
    long long count = a->count;
    if (rerun && !count)
        count = CG_BLOCKED_DEFAULT_COUNT;
    void *top = NULL;
    long long served = 0;
    for (int k = 0; k < a->nstreams; k++) {
        if (!groups[k])
            continue;
        const resp_arg *key = &c->argv[a->streams_arg + k];
        obj *o = db_lookup_read(c->db, key->ptr, key->len);
        stream *s = stream_of(o);
        stream_id gt = ids[k];
        int history = !id_is_max(&gt);
        if (!history) {
            if (!xrg_has_entries_after(s, &groups[k]->last_id))
                continue;
            gt = groups[k]->last_id;
        }
        if (!top)
            top = reply_defer_len(c);
        served++;
        xrg_serve(c, a, k, s, groups[k], &gt, history, count);
    }
    if (served) {
        if (c->resp_version == 2)
            reply_set_deferred_len(c, top, served);
        else
            reply_set_deferred_map_len(c, top, served);
        return;
    }
    if (a->timeout_ms != -1 && !(c->flags & (CLIENT_MULTI | CLIENT_IN_EXEC))) {
        blocking_block(c, a->nstreams, &c->argv[a->streams_arg], a->timeout_ms);
        return;
    }
    reply_null_array(c);
}

static void cmd_xreadgroup(client *c)
{
    /* what replicas see is the XCLAIM / SETID / CREATECONSUMER it emits */
    cmd_rewrite_argv(c, 0, NULL);
    xrg_args a;
    if (xrg_parse(c, &a) < 0)
        return;
    cg_group **groups = mem_alloc((size_t)a.nstreams * sizeof(*groups) + 1);
    stream_id *ids = mem_alloc((size_t)a.nstreams * sizeof(*ids) + 1);
    if (xrg_resolve(c, &a, groups, ids) == 0)
        xrg_run(c, &a, groups, ids);
    mem_free(groups);
    mem_free(ids);
}

/* ---- XACK ---------------------------------------------------------------- */

static void cmd_xack(client *c)
{
    obj *o;
    if (cg_stream_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    cg_group *g = o ? cg_lookup(stream_of(o), c->argv[2].ptr, c->argv[2].len) : NULL;
    if (!g) {
        reply_int(c, 0);
        return;
    }
    /* all or nothing: every id is parsed before any is acknowledged */
    int n = c->argc - 3;
    stream_id *ids = mem_alloc((size_t)n * sizeof(*ids));
    for (int j = 0; j < n; j++) {
        if (cg_parse_strict_id(c, &c->argv[3 + j], &ids[j], 1) < 0) {
            mem_free(ids);
            return;
        }
    }
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        if (idmap_get(g->pel, &ids[j])) {
            cg_pel_remove(g, &ids[j]);
            acked++;
            c->srv->dirty++;
        }
    }
    mem_free(ids);
    reply_int(c, acked);
}

/* ---- XPENDING ------------------------------------------------------------ */

static void xpending_summary(client *c, const cg_group *g)
{
    reply_array(c, 4);
    reply_int(c, (long long)idmap_size(g->pel));
    if (idmap_size(g->pel) == 0) {
        reply_null(c);
        reply_null(c);
        reply_null_array(c);
        return;
    }
    cg_reply_id(c, idmap_node_id(idmap_seek(g->pel, NULL)));
    cg_reply_id(c, idmap_node_id(idmap_last(g->pel)));
    void *len = reply_defer_len(c);
    long long n = 0;
    for (size_t i = 0; i < g->nconsumers; i++) {
        const cg_consumer *cons = g->consumers[i];
        if (idmap_size(cons->pel) == 0)
            continue;
        reply_array(c, 2);
        reply_bulk(c, cons->name, kstr_len(cons->name));
        reply_bulk_ll(c, (long long)idmap_size(cons->pel));
        n++;
    }
    reply_set_deferred_len(c, len, n);
}

static void xpending_range(client *c, const cg_group *g, const cg_consumer *cons, const stream_id *start,
                           const stream_id *end, long long count, long long minidle)
{
    const idmap *pel = cons ? cons->pel : g->pel;
    int64_t now = util_ms_now();
    void *len = reply_defer_len(c);
    long long n = 0;
    for (idmap_node *p = idmap_seek(pel, start); count && p && stream_id_cmp(idmap_node_id(p), end) <= 0;
         p = idmap_next(p)) {
        const cg_nack *nack = idmap_node_val(p);
        long long idle = now - nack->delivery_time;
        if (minidle && idle < minidle)
            continue;
        n++;
        count--;
        reply_array(c, 4);
        cg_reply_id(c, idmap_node_id(p));
        reply_bulk(c, nack->consumer->name, kstr_len(nack->consumer->name));
        reply_int(c, idle < 0 ? 0 : idle);
        reply_int(c, (long long)nack->delivery_count);
    }
    reply_set_deferred_len(c, len, n);
}

/* The group argv[2] of the stream at argv[1] (*o set to the stream), or
 * NULL after the error: WRONGTYPE, or NOGROUP for a missing key or group. */
static cg_group *cg_group_of_args(client *c, obj **o)
{
    if (cg_stream_lookup(c, &c->argv[1], 0, o) < 0)
        return NULL;
    cg_group *g = *o ? cg_lookup(stream_of(*o), c->argv[2].ptr, c->argv[2].len) : NULL;
    if (!g)
        reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)c->argv[1].len, c->argv[1].ptr,
                     (int)c->argv[2].len, c->argv[2].ptr);
    return g;
}

/* XPENDING key group [[IDLE min-idle] start end count [consumer]] */
static void cmd_xpending(client *c)
{
    int summary = c->argc == 3;
    stream_id start = {0, 0}, end = {0, 0};
    long long count = 0, minidle = 0;
    const resp_arg *consumer = NULL;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    /* the range is parsed first: syntax errors come before NOGROUP */
    if (c->argc >= 6) {
        int at = 3;
        if (arg_is(&c->argv[3], "idle")) {
            if (cg_arg_ll(c, &c->argv[4], &minidle, NULL) < 0)
                return;
            if (c->argc < 8) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            at += 2;
        }
        if (cg_arg_ll(c, &c->argv[at + 2], &count, NULL) < 0)
            return;
        if (count < 0)
            count = 0;
        if (cg_parse_interval(c, &c->argv[at], 0, 1, &start) < 0 ||
            cg_parse_interval(c, &c->argv[at + 1], UINT64_MAX, 0, &end) < 0)
            return;
        if (at + 3 < c->argc)
            consumer = &c->argv[at + 3];
    }
    obj *o;
    cg_group *g = cg_group_of_args(c, &o);
    if (!g)
        return;
    if (summary) {
        xpending_summary(c, g);
        return;
    }
    const cg_consumer *cons = NULL;
    if (consumer) {
        cons = cg_consumer_lookup(g, consumer->ptr, consumer->len);
        if (!cons) {
            reply_array(c, 0);
            return;
        }
    }
    xpending_range(c, g, cons, &start, &end, count, minidle);
}

/* ---- XCLAIM -------------------------------------------------------------- */

typedef struct xclaim_opts {
    int64_t delivery_time;     /* -1: now */
    long long retrycount;      /* -1: not given */
    int force, justid;
    stream_id last_id;
} xclaim_opts;

/* Options after the ids (from argv[j]). -1 after replying. */
static int xclaim_parse_options(client *c, int j, int64_t now, xclaim_opts *o)
{
    o->delivery_time = -1;
    o->retrycount = -1;
    o->force = o->justid = 0;
    o->last_id.ms = o->last_id.seq = 0;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const resp_arg *opt = &c->argv[j];
        long long v;
        if (arg_is(opt, "force")) {
            o->force = 1;
        } else if (arg_is(opt, "justid")) {
            o->justid = 1;
        } else if (arg_is(opt, "idle") && more) {
            if (cg_arg_ll(c, &c->argv[++j], &v, "ERR Invalid IDLE option argument for XCLAIM") < 0)
                return -1;
            o->delivery_time = now - v;
        } else if (arg_is(opt, "time") && more) {
            if (cg_arg_ll(c, &c->argv[++j], &v, "ERR Invalid TIME option argument for XCLAIM") < 0)
                return -1;
            o->delivery_time = v;
        } else if (arg_is(opt, "retrycount") && more) {
            if (cg_arg_ll(c, &c->argv[++j], &o->retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM") < 0)
                return -1;
        } else if (arg_is(opt, "lastid") && more) {
            if (cg_parse_strict_id(c, &c->argv[++j], &o->last_id, 1) < 0)
                return -1;
        } else {
            reply_errorf(c, "ERR Unrecognized XCLAIM option '%.*s'", (int)opt->len, opt->ptr);
            return -1;
        }
    }
    /* A bogus time is not an error (clients compute it from their own
     * clocks); it becomes now, as in Redis. */
    if (o->delivery_time < 0 || o->delivery_time > now)
        o->delivery_time = now;
    return 0;
}

/* Move nack (id) to cons, with the new delivery time and count, as XCLAIM
 * and XAUTOCLAIM do. */
static void cg_claim_to(cg_nack *nack, const stream_id *id, cg_consumer *cons, int64_t when)
{
    if (nack->consumer != cons) {
        if (nack->consumer)
            idmap_delete(nack->consumer->pel, id);
        idmap_insert(cons->pel, id, nack);
        nack->consumer = cons;
    }
    nack->delivery_time = when;
}

/* One id of XCLAIM: returns 1 when claimed (and replied), 0 otherwise. */
static int xclaim_one(client *c, stream *s, cg_group *g, const stream_id *id, const resp_arg *idarg,
                      const xclaim_opts *o, long long minidle, int64_t now, cg_consumer **cons)
{
    cg_nack *nack = idmap_get(g->pel, id);
    if (!stream_entry_exists(s, id)) {
        /* gone from the stream: drop it from the PEL, and tell replicas */
        if (nack) {
            cg_propagate_xclaim(c, &c->argv[1], &c->argv[2], g, idarg, nack);
            c->srv->dirty++;
            cg_pel_remove(g, id);
        }
        return 0;
    }
    if (o->force && !nack) {
        nack = cg_nack_new(NULL, now);
        idmap_insert(g->pel, id, nack);
    }
    if (!nack)
        return 0;
    /* a nack FORCE just made has no owner and no idle time to check */
    if (nack->consumer && minidle && now - nack->delivery_time < minidle)
        return 0;
    if (!*cons) {
        int created;
        *cons = cg_consumer_get(c, &c->argv[1], g, &c->argv[3], now, &created);
    }
    cg_claim_to(nack, id, *cons, o->delivery_time);
    if (o->retrycount >= 0)
        nack->delivery_count = (uint64_t)o->retrycount;
    else if (!o->justid)
        nack->delivery_count++;
    if (o->justid)
        cg_reply_id(c, id);
    else
        stream_reply_entry(c, s, id);
    cg_propagate_xclaim(c, &c->argv[1], &c->argv[2], g, idarg, nack);
    c->srv->dirty++;
    return 1;
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
 * [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id] */
static void cmd_xclaim(client *c)
{
    cmd_rewrite_argv(c, 0, NULL);
    obj *o;
    cg_group *g = cg_group_of_args(c, &o);
    if (!g)
        return;
    long long minidle;
    if (cg_arg_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XCLAIM") < 0)
        return;
    if (minidle < 0)
        minidle = 0;
    /* the ids run until the first argument that is not one: the options */
    int nids = c->argc - 5;
    stream_id *ids = mem_alloc((size_t)nids * sizeof(*ids) + 1);
    int j = 5;
    while (j < c->argc && cg_parse_strict_id(c, &c->argv[j], &ids[j - 5], 0) == 0)
        j++;
    int last_id_arg = j - 1;
    int64_t now = util_ms_now();
    xclaim_opts opts;
    if (xclaim_parse_options(c, j, now, &opts) < 0) {
        mem_free(ids);
        return;
    }
    int propagate_last_id = 0;
    if (stream_id_cmp(&opts.last_id, &g->last_id) > 0) {
        g->last_id = opts.last_id;
        propagate_last_id = 1;
    }
    cg_consumer *cons = NULL;
    void *len = reply_defer_len(c);
    long long claimed = 0;
    long long dirty_before = c->srv->dirty;
    for (int k = 5; k <= last_id_arg; k++)
        claimed += xclaim_one(c, stream_of(o), g, &ids[k - 5], &c->argv[k], &opts, minidle, now, &cons);
    /* an XCLAIM sent above carries LASTID already */
    if (c->srv->dirty != dirty_before)
        propagate_last_id = 0;
    if (propagate_last_id) {
        cg_propagate_setid(c, &c->argv[1], &c->argv[2], g);
        c->srv->dirty++;
    }
    reply_set_deferred_len(c, len, claimed);
    mem_free(ids);
}

/* ---- XAUTOCLAIM ---------------------------------------------------------- */

/* The claiming walk of XAUTOCLAIM over the group PEL from start: at most
 * count entries claimed or found deleted, at most count * 10 looked at.
 * The reply is [next start id (0-0 at the end), claimed, deleted ids];
 * it is built after the walk since the cursor comes first. */
static void xautoclaim_run(client *c, stream *s, cg_group *g, const stream_id *start, long long count,
                           long long minidle, int justid)
{
    long long attempts = count * 10;
    int64_t now = util_ms_now();
    cg_consumer *cons = NULL;
    /* both lists hold at most count ids, and never more than the PEL has */
    size_t cap = idmap_size(g->pel) < (size_t)count ? idmap_size(g->pel) : (size_t)count;
    stream_id *claimed = mem_alloc(cap * sizeof(*claimed) + 1);
    stream_id *deleted = mem_alloc(cap * sizeof(*deleted) + 1);
    size_t nclaimed = 0, ndeleted = 0;
    idmap_node *p = idmap_seek(g->pel, start);
    while (attempts-- && count && p) {
        stream_id id = *idmap_node_id(p);
        cg_nack *nack = idmap_node_val(p);
        if (!stream_entry_exists(s, &id)) {
            /* gone from the stream: drop it from the PEL, and tell replicas */
            cg_propagate_xclaim_id(c, &c->argv[1], &c->argv[2], g, &id, nack);
            c->srv->dirty++;
            cg_pel_remove(g, &id);
            deleted[ndeleted++] = id;
            count--;
            p = idmap_seek(g->pel, &id);
            continue;
        }
        if (minidle && now - nack->delivery_time < minidle) {
            p = idmap_next(p);
            continue;
        }
        if (!cons) {
            int created;
            cons = cg_consumer_get(c, &c->argv[1], g, &c->argv[3], now, &created);
        }
        cg_claim_to(nack, &id, cons, now);
        if (!justid)
            nack->delivery_count++;
        claimed[nclaimed++] = id;
        count--;
        cg_propagate_xclaim_id(c, &c->argv[1], &c->argv[2], g, &id, nack);
        c->srv->dirty++;
        p = idmap_next(p);
    }
    stream_id next = {0, 0};
    if (p)
        next = *idmap_node_id(p);
    reply_array(c, 3);
    cg_reply_id(c, &next);
    reply_array(c, (long long)nclaimed);
    for (size_t i = 0; i < nclaimed; i++) {
        if (justid)
            cg_reply_id(c, &claimed[i]);
        else
            stream_reply_entry(c, s, &claimed[i]);
    }
    reply_array(c, (long long)ndeleted);
    for (size_t i = 0; i < ndeleted; i++)
        cg_reply_id(c, &deleted[i]);
    mem_free(claimed);
    mem_free(deleted);
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
static void cmd_xautoclaim(client *c)
{
    cmd_rewrite_argv(c, 0, NULL);
    long long minidle, count = 100;
    int justid = 0;
    stream_id start;
    if (cg_arg_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM") < 0)
        return;
    if (minidle < 0)
        minidle = 0;
    if (cg_parse_interval(c, &c->argv[5], 0, 1, &start) < 0)
        return;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "count") && more) {
            /* attempts are count * 10: the bound keeps that product in range */
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &count) || count < 1 ||
                count > LONG_MAX / 10) {
                reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            j++;
        } else if (arg_is(&c->argv[j], "justid")) {
            justid = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    obj *o;
    cg_group *g = cg_group_of_args(c, &o);
    if (!g)
        return;
    xautoclaim_run(c, stream_of(o), g, &start, count, minidle, justid);
}

const cmd_def t_stream_cg_commands[] = {
    {"xgroup", cmd_xgroup, -2, CMD_WRITE | CMD_DENYOOM, 2, 2, 1, "@write @stream @slow"},
    {"xreadgroup", cmd_xreadgroup, -7, CMD_WRITE | CMD_BLOCKING, 0, 0, 0, "@write @stream @slow @blocking"},
    {"xack", cmd_xack, -4, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    {"xpending", cmd_xpending, -3, CMD_READONLY, 1, 1, 1, "@read @stream @slow"},
    {"xclaim", cmd_xclaim, -6, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    {"xautoclaim", cmd_xautoclaim, -6, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
