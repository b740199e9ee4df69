/* t_server: server-wide commands: INFO DBSIZE FLUSHDB FLUSHALL SWAPDB
 * CONFIG TIME SHUTDOWN DEBUG COMMAND SLOWLOG MEMORY, and the table entries
 * of MONITOR (monitor.c) and LATENCY (latency.c). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "command.h"
#include "acl_int.h"
#include "aof.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "util.h"
#include "mem.h"
#include "log.h"
#include "multi.h"
#include "blocking.h"
#include "dict.h"
#include "deque.h"
#include "hmap.h"
#include "setobj.h"
#include "zset.h"
#include "digest.h"
#include "monitor.h"
#include "latency.h"
#include "rdb.h"
#include "repl_int.h"
#include "objclock.h"
#include "script_lua.h"
#include "script.h"
#include "db.h"

static int srvcmd_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static void srvcmd_sub_arity(client *c, const char *container, const resp_arg *sub)
{
    char name[96];
    snprintf(name, sizeof(name), "%s|%.*s", container, (int)(sub->len > 40 ? 40 : sub->len), sub->ptr);
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    reply_error_arity(c, name);
}

static void srvcmd_unknown_sub(client *c, const char *container)
{
    const resp_arg *sub = &c->argv[1];
    reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(sub->len > 128 ? 128 : sub->len), sub->ptr, container);
}

static void cmd_info(client *c)
{
    kstr out = kstr_empty(4096);
    if (c->argc == 1) {
        out = srv_info(c->srv, "default", out);
    } else {
        int n = c->argc - 1;
        char **names = mem_alloc(sizeof(char *) * (size_t)n);
        for (int j = 0; j < n; j++) {
            const resp_arg *a = &c->argv[j + 1];
            names[j] = mem_alloc(a->len + 1);
            memcpy(names[j], a->ptr, a->len);
            names[j][a->len] = '\0';
        }
        out = srv_info_multi(c->srv, n, (const char *const *)names, out);
        for (int j = 0; j < n; j++)
            mem_free(names[j]);
        mem_free(names);
    }
    reply_verbatim(c, out, kstr_len(out), "txt");
    kstr_free(out);
}

static void cmd_dbsize(client *c)
{
    reply_int(c, (long long)db_size(c->db));
}

static int srvcmd_flush_flags(client *c)
{
    if (c->argc > 2) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (c->argc == 2 && !srvcmd_arg_is(&c->argv[1], "sync") && !srvcmd_arg_is(&c->argv[1], "async")) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* ASYNC, or no flag under lazyfree-lazy-user-flush: Redis frees in its
 * lazyfree thread (counted in INFO lazyfreed_objects). */
static int srvcmd_flush_is_lazy(client *c)
{
    if (c->argc == 2)
        return srvcmd_arg_is(&c->argv[1], "async");
    return c->srv->config.lazyfree_lazy_user_flush;
}

static void cmd_flushdb(client *c)
{
    if (srvcmd_flush_flags(c) != 0)
        return;
    c->srv->dirty += db_flush_lazy(c->db, srvcmd_flush_is_lazy(c));
    c->srv->dirty++;
    reply_ok(c);
}

static void cmd_flushall(client *c)
{
    if (srvcmd_flush_flags(c) != 0)
        return;
    srv *s = c->srv;
    int lazy = srvcmd_flush_is_lazy(c);
    for (int i = 0; i < s->dbnum; i++)
        s->dirty += db_flush_lazy(&s->dbs[i], lazy);
    /* With save points, FLUSHALL leaves an empty snapshot behind (Redis). */
    if (s->persist_has_save_points && s->persist_has_save_points(s) && s->persist_save) {
        char err[256];
        s->persist_save(s, err, sizeof(err));
    }
    s->dirty++;
    reply_ok(c);
}

static void cmd_swapdb(client *c)
{
    /* As Redis' getIntFromObjectOrReply with a message: not an integer
     * and outside int's range get the same text, naming the argument. */
    long long a, b;
    if (!util_str_to_ll(c->argv[1].ptr, c->argv[1].len, &a) || a < INT_MIN || a > INT_MAX) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &b) || b < INT_MIN || b > INT_MAX) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    srv *s = c->srv;
    if (a < 0 || a >= s->dbnum || b < 0 || b >= s->dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    if (a != b) {
        kvdb *x = &s->dbs[a], *y = &s->dbs[b];
        multi_touch_swapdb(x, y);
        dict *k = x->keys, *e = x->expires;
        x->keys = y->keys;
        x->expires = y->expires;
        y->keys = k;
        y->expires = e;
        x->expire_cursor = y->expire_cursor = 0;
        /* Clients blocked on a key that now exists in the swapped db wake. */
        blocking_scan_ready(x);
        blocking_scan_ready(y);
    }
    s->dirty++;
    reply_ok(c);
}

static void cmd_time(client *c)
{
    int64_t us = util_us_now();
    reply_array(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}

static void cmd_lastsave_default(client *c)
{
    reply_int(c, c->srv->start_time_ms / 1000);
}

static void cmd_shutdown(client *c)
{
    int flags = SHUTDOWN_DEFAULT;
    for (int j = 1; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        if (srvcmd_arg_is(a, "nosave")) flags |= SHUTDOWN_NOSAVE;
        else if (srvcmd_arg_is(a, "save")) flags |= SHUTDOWN_SAVE;
        else if (srvcmd_arg_is(a, "now") || srvcmd_arg_is(a, "force")) continue;
        else if (srvcmd_arg_is(a, "abort")) {
            reply_error(c, "ERR No shutdown in progress.");
            return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    log_msg(LOG_WARNING, "User requested shutdown...");
    char err[256];
    if (srv_prepare_shutdown(c->srv, flags, err, sizeof(err)) != 0) {
        reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* No reply on success: the connection just closes, as with Redis. */
    srv_request_shutdown(c->srv, flags | SHUTDOWN_NOSAVE);
}

/* ---- CONFIG ---------------------------------------------------------- */

typedef struct config_get_ctx {
    client *c;
    long long n;
    kstr seen;     /* names already emitted, '\n' separated */
} config_get_ctx;

static void config_get_emit(void *priv, const char *name, const char *value)
{
    config_get_ctx *ctx = priv;
    size_t nl = strlen(name);
    /* Several patterns may match one name, also one name spelled in two
     * letter cases (Redis keeps its matches in a case-insensitive dict):
     * emit it once, as first spelled. */
    for (const char *p = ctx->seen; *p;) {
        const char *end = strchr(p, '\n');
        if ((size_t)(end - p) == nl && strncasecmp(p, name, nl) == 0)
            return;
        p = end + 1;
    }
    ctx->seen = kstr_cat(ctx->seen, name, nl);
    ctx->seen = kstr_cat(ctx->seen, "\n", 1);
    reply_bulk(ctx->c, name, nl);
    reply_bulk_cstr(ctx->c, value);
    ctx->n++;
}

static void config_get(client *c)
{
    config_get_ctx ctx = { c, 0, kstr_empty(64) };
    void *h = reply_defer_len(c);
    for (int j = 2; j < c->argc; j++)
        cfg_get(&c->srv->config, c->argv[j].ptr, c->argv[j].len, config_get_emit, &ctx);
    reply_set_deferred_map_len(c, h, ctx.n);
    kstr_free(ctx.seen);
}

typedef struct config_old_ctx {
    char *value;
} config_old_ctx;

static void config_old_capture(void *priv, const char *name, const char *value)
{
    (void)name;
    config_old_ctx *oc = priv;
    if (!oc->value)
        oc->value = mem_strdup(value ? value : "");
}

static void config_count_match(void *priv, const char *name, const char *value)
{
    (void)name;
    (void)value;
    (*(int *)priv)++;
}

/* A parameter name CONFIG SET can look up: an exact name (no glob
 * characters, any letter case) that CONFIG GET would answer. */
static int config_name_known(client *c, const resp_arg *name)
{
    if (memchr(name->ptr, '*', name->len) || memchr(name->ptr, '?', name->len) ||
        memchr(name->ptr, '[', name->len) || name->len == 0)
        return 0;
    int matches = 0;
    cfg_get(&c->srv->config, name->ptr, name->len, config_count_match, &matches);
    return matches > 0;
}

/* A known name (config_name_known) that CONFIG SET may never change. */
static int config_name_immutable(const resp_arg *name)
{
    char buf[128];
    if (name->len >= sizeof(buf))
        return 0;
    memcpy(buf, name->ptr, name->len);
    buf[name->len] = '\0';
    return cfg_is_mutable(buf) == 2;
}

static void config_set(client *c)
{
    if ((c->argc - 2) % 2 != 0) {
        srvcmd_sub_arity(c, "config", &c->argv[1]);
        return;
    }
    /* Redis 7 checks every name before any value, in argument order: the
     * first unknown, immutable or repeated name is the error. */
    for (int j = 2; j < c->argc; j += 2) {
        if (!config_name_known(c, &c->argv[j])) {
            reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                         (int)(c->argv[j].len > 128 ? 128 : c->argv[j].len), c->argv[j].ptr);
            return;
        }
        if (config_name_immutable(&c->argv[j])) {
            reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - can't set immutable config",
                         (int)c->argv[j].len, c->argv[j].ptr);
            return;
        }
        for (int k = 2; k < j; k += 2) {
            if (c->argv[j].len == c->argv[k].len &&
                strncasecmp(c->argv[j].ptr, c->argv[k].ptr, c->argv[j].len) == 0) {
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - duplicate parameter",
                             (int)c->argv[j].len, c->argv[j].ptr);
                return;
            }
        }
    }
    /* Apply in order, remembering old values; on a failure restore the
     * ones already applied so the command is all-or-nothing, as in Redis 7. */
    int npairs = (c->argc - 2) / 2;
    char **olds = mem_calloc(sizeof(char *) * (size_t)npairs);
    char err[512];
    int failed = -1;
    for (int i = 0; i < npairs && failed < 0; i++) {
        const resp_arg *n = &c->argv[2 + 2 * i], *v = &c->argv[3 + 2 * i];
        char name[128];
        size_t nl = n->len < sizeof(name) - 1 ? n->len : sizeof(name) - 1;
        memcpy(name, n->ptr, nl);
        name[nl] = '\0';
        config_old_ctx oc = { NULL };
        cfg_get(&c->srv->config, name, nl, config_old_capture, &oc);
        olds[i] = oc.value;
        char *value = mem_alloc(v->len + 1);
        memcpy(value, v->ptr, v->len);
        value[v->len] = '\0';
        if (cfg_set(&c->srv->config, name, value, v->len, err, sizeof(err)) != 0)
            failed = i;
        mem_free(value);
    }
    for (int i = failed - 1; i >= 0; i--) {
        const resp_arg *n = &c->argv[2 + 2 * i];
        char name[128], ignored[512];
        size_t nl = n->len < sizeof(name) - 1 ? n->len : sizeof(name) - 1;
        memcpy(name, n->ptr, nl);
        name[nl] = '\0';
        if (olds[i])
            cfg_set(&c->srv->config, name, olds[i], strlen(olds[i]), ignored, sizeof(ignored));
    }
    for (int i = 0; i < npairs; i++)
        mem_free(olds[i]);
    mem_free(olds);
    if (failed >= 0)
        reply_error(c, err);
    else
        reply_ok(c);
}

static void cmd_config(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (srvcmd_arg_is(sub, "get")) {
        if (c->argc < 3) { srvcmd_sub_arity(c, "config", sub); return; }
        config_get(c);
    } else if (srvcmd_arg_is(sub, "set")) {
        if (c->argc < 4) { srvcmd_sub_arity(c, "config", sub); return; }
        config_set(c);
    } else if (srvcmd_arg_is(sub, "resetstat")) {
        if (c->argc != 2) { srvcmd_sub_arity(c, "config", sub); return; }
        srv *s = c->srv;
        long long sf = s->stats.sync_full, spo = s->stats.sync_partial_ok, spe = s->stats.sync_partial_err;
        memset(&s->stats, 0, sizeof(s->stats));
        (void)sf; (void)spo; (void)spe;
        s->stats.reset_time_ms = s->mstime;
        cmd_reset_stats();
        srv_reset_error_stats(s);
        reply_ok(c);
    } else if (srvcmd_arg_is(sub, "rewrite")) {
        if (c->argc != 2) { srvcmd_sub_arity(c, "config", sub); return; }
        if (!c->srv->config.config_file)
            reply_error(c, "ERR The server is running without a config file");
        else
            reply_error(c, "ERR Rewriting config file: operation not supported by kvfleet-agent");
    } else if (srvcmd_arg_is(sub, "help") && c->argc != 2) {
        srvcmd_sub_arity(c, "config", sub);
    } else if (srvcmd_arg_is(sub, "help")) {
        static const char *help[] = {
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            NULL };
        reply_help(c, "CONFIG", help);
    } else {
        srvcmd_unknown_sub(c, "CONFIG");
    }
}

/* ---- DEBUG -------------------------------------------------------------- */

/* DEBUG DIGEST: Redis 7.0's dataset digest (agent/digest.c), so an agent
 * can be proven equal to another agent or to a redis-server. */
static void debug_digest(client *c)
{
    unsigned char d[DIGEST_LEN];
    char hex[2 * DIGEST_LEN + 1];
    digest_dataset(c->srv, d);
    digest_to_hex(d, hex);
    reply_simple(c, hex);
}

/* DEBUG DIGEST-VALUE key...: one digest per key (its value, type and TTL
 * marker); a missing key reads as all zeros. */
static void debug_digest_value(client *c)
{
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char d[DIGEST_LEN];
        char hex[2 * DIGEST_LEN + 1];
        digest_value(c->db, c->argv[j].ptr, c->argv[j].len, d);
        digest_to_hex(d, hex);
        reply_simple(c, hex);
    }
}

/* DEBUG POPULATE count [prefix] [size]: keys prefix:N with "value:N"
 * padded with zero bytes to size, skipping keys that exist (as Redis). */
static void debug_populate(client *c)
{
    long long count, size = 0;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &count) || count < 0) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    const char *prefix = "key";
    size_t plen = 3;
    if (c->argc >= 4) {
        prefix = c->argv[3].ptr;
        plen = c->argv[3].len;
    }
    if (c->argc >= 5 && (!util_str_to_ll(c->argv[4].ptr, c->argv[4].len, &size) || size < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    /* Both numbers are the client's: a value no string can hold, or a
     * keyspace table that cannot be allocated, gets an error (Redis' reply
     * for the table) instead of the abort mem and kstr reserve for real
     * memory exhaustion. */
    if ((unsigned long long)size > cmd_string_limit(c)) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    if ((unsigned long long)count > SIZE_MAX - db_size(c->db) ||
        dict_try_expand(c->db->keys, db_size(c->db) + (size_t)count) != 0) {
        reply_error(c, "ERR OOM in dictTryExpand");
        return;
    }
    char key[512], val[64];
    for (long long j = 0; j < count; j++) {
        int kl = snprintf(key, sizeof(key), "%.*s:%lld", (int)(plen > 400 ? 400 : plen), prefix, j);
        if (db_lookup_write(c->db, key, (size_t)kl))
            continue;
        int vl = snprintf(val, sizeof(val), "value:%lld", j);
        obj *o;
        if (size > 0) {
            kstr v = kstr_grow_zero(kstr_empty((size_t)size), (size_t)size);
            memcpy(v, val, (size_t)vl < (size_t)size ? (size_t)vl : (size_t)size);
            o = obj_string_from_kstr(v);
        } else {
            o = obj_string_new(val, (size_t)vl);
        }
        db_add(c->db, key, (size_t)kl, o);
    }
    reply_ok(c);
}

/* The encoding name OBJECT ENCODING reports (t_keys.c has the same
 * rule for OBJECT ENCODING). */
static const char *debug_encoding_name(const obj *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == OBJ_ENC_INT)
            return "int";
        return o->enc == OBJ_ENC_EMBSTR ? "embstr" : "raw";
    case OBJ_LIST: return "quicklist";
    case OBJ_SET: return setobj_is_intset(o->v.ptr) ? "intset" : "hashtable";
    case OBJ_HASH: return hmap_is_small(o->v.ptr) ? "listpack" : "hashtable";
    case OBJ_ZSET: return zset_is_compact(o->v.ptr) ? "listpack" : "skiplist";
    case OBJ_STREAM: return "stream";
    }
    return "unknown";
}

/* The value as DUMP / the RDB writes it (type byte first), with or
 * without LZF, at the server's encoding thresholds. NULL on failure. */
static kstr debug_serialize(srv *s, const obj *o, int compress)
{
    return rdb_serialize_value(s, o, compress);
}

/* One RDB length at *p (6, 14, 32 or 64 bits); -1 past the end. */
static long long debug_rdb_len(const unsigned char *b, size_t n, size_t *p)
{
    if (*p >= n)
        return -1;
    unsigned char t = b[*p];
    int kind = t >> 6;
    if (kind == 0) { *p += 1; return t & 0x3f; }
    if (kind == 1) {
        if (*p + 2 > n) return -1;
        long long v = ((t & 0x3f) << 8) | b[*p + 1];
        *p += 2;
        return v;
    }
    int bytes = t == 0x80 ? 4 : t == 0x81 ? 8 : 0;
    if (!bytes || *p + 1 + (size_t)bytes > n)
        return -1;
    long long v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | b[*p + 1 + (size_t)i];
    *p += 1 + (size_t)bytes;
    return v;
}

/* The quicklist figures of a list, read back from its uncompressed RDB
 * form (type, node count, then per node a container byte and the
 * listpack as a string): the nodes Redis would have built. */
static kstr debug_quicklist_fields(srv *s, const obj *o, kstr out)
{
    long long nodes = 0, bytes = 0;
    kstr raw = debug_serialize(s, o, 0);
    if (raw) {
        const unsigned char *b = (const unsigned char *)raw;
        size_t n = kstr_len(raw), p = 1;
        nodes = debug_rdb_len(b, n, &p);
        for (long long i = 0; i < nodes; i++) {
            long long container = debug_rdb_len(b, n, &p);
            long long len = debug_rdb_len(b, n, &p);
            if (container < 0 || len < 0)
                break;
            bytes += len;
            p += (size_t)len;
        }
        kstr_free(raw);
    }
    if (nodes < 0)
        nodes = 0;
    size_t count = deque_len(o->v.ptr);
    /* ql_compressed: whether the list was created with a list-compress-depth
     * (kept for its life, as a quicklist keeps its own), not whether some
     * node is compressed right now. */
    int compressed = deque_compress_depth(o->v.ptr) != 0;
    return kstr_catfmt(out, " ql_nodes:%lld ql_avg_node:%.2f ql_listpack_max:%lld ql_compressed:%d ql_uncompressed_size:%lld",
                       nodes, nodes ? (double)count / (double)nodes : 0.0, s->config.list_max_listpack_size, compressed,
                       bytes);
}

/* DEBUG OBJECT key: 7.0's line. The shared integers 0..9999 have Redis'
 * INT_MAX refcount (OBJECT REFCOUNT's rule); serializedlength is the RDB
 * encoding of the value without its type byte. */
static void debug_object(client *c)
{
    srv *s = c->srv;
    obj *o = db_peek(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!o) {
        reply_error(c, "ERR no such key");
        return;
    }
    int shared = o->type == OBJ_STRING && o->enc == OBJ_ENC_INT && !(o->reserved & OBJ_INT_UNSHARED) &&
                 o->v.ival >= 0 && o->v.ival < 10000;
    kstr ser = debug_serialize(s, o, s->config.rdbcompression);
    size_t serlen = ser && kstr_len(ser) > 0 ? kstr_len(ser) - 1 : 0;
    kstr_free(ser);
    kstr line = kstr_catfmt(kstr_empty(256),
        "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%llu",
        (void *)o, shared ? 2147483647 : 1, debug_encoding_name(o), serlen, (unsigned)(o->lru & OBJCLOCK_LRU_MAX),
        (unsigned long long)objclock_idle_secs(s, o));
    if (o->type == OBJ_LIST)
        line = debug_quicklist_fields(s, o, line);
    reply_simple(c, line);
    kstr_free(line);
}

/* DEBUG LISTPACK / QUICKLIST key: Redis prints the structure to its
 * stdout; the reply is all a client sees. */
static void debug_structure(client *c, int want_quicklist)
{
    obj *o = db_peek(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!o) {
        reply_error(c, "ERR no such key");
        return;
    }
    int is_listpack = (o->type == OBJ_HASH && hmap_is_small(o->v.ptr)) ||
                      (o->type == OBJ_ZSET && zset_is_compact(o->v.ptr));
    if (want_quicklist && o->type != OBJ_LIST)
        reply_error(c, "ERR Not a quicklist encoded object.");
    else if (!want_quicklist && !is_listpack)
        reply_error(c, "ERR Not a listpack encoded object.");
    else
        reply_simple(c, want_quicklist ? "Quicklist structure printed on stdout"
                                       : "Listpack structure printed on stdout");
}

static void debug_sleep(client *c)
{
    /* As Redis' strtod without a check: what is not a number sleeps 0. */
    double secs = 0;
    if (!util_str_to_double(c->argv[2].ptr, c->argv[2].len, &secs) || secs < 0 || secs != secs)
        secs = 0;
    /* Capped at a year per call: converting a larger double (or inf)
     * to an integer is undefined behaviour. */
    long long us = secs > 365.0 * 86400 ? 365LL * 86400 * 1000000 : (long long)(secs * 1e6);
    while (us > 0) {
        long long step = us > 1000000 ? 1000000 : us;
        usleep((useconds_t)step);
        us -= step;
    }
    reply_ok(c);
}

/* atoi(), as 7.0 reads SET-ACTIVE-EXPIRE and REPLYBUFFER RESIZING. */
static int debug_atoi(const resp_arg *a)
{
    char buf[32];
    size_t n = a->len < sizeof(buf) - 1 ? a->len : sizeof(buf) - 1;
    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
    return atoi(buf);
}

static void debug_packed_threshold(client *c)
{
    char buf[64];
    unsigned long long sz = 0;
    size_t n = c->argv[2].len < sizeof(buf) - 1 ? c->argv[2].len : sizeof(buf) - 1;
    memcpy(buf, c->argv[2].ptr, n);
    buf[n] = '\0';
    /* Lists here have no plain nodes: the threshold is checked, not used. */
    if (!util_parse_memory(buf, &sz) || sz > (1ULL << 32) - (1ULL << 20))
        reply_error(c, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    else
        reply_ok(c);
}

static void debug_replybuffer(client *c)
{
    if (srvcmd_arg_is(&c->argv[2], "peak-reset-time")) {
        long long v;
        if (!srvcmd_arg_is(&c->argv[3], "never") && !srvcmd_arg_is(&c->argv[3], "reset") &&
            !util_str_to_ll(c->argv[3].ptr, c->argv[3].len, &v)) {
            reply_error(c, ERR_NOT_INT);
            return;
        }
    } else if (!srvcmd_arg_is(&c->argv[2], "resizing")) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                     (int)c->argv[1].len, c->argv[1].ptr);
        return;
    }
    /* Reply blocks here are sized per reply; nothing to tune. */
    reply_ok(c);
}

/* DEBUG CHANGE-REPL-ID: a new replication id, the previous one
 * forgotten, as 7.0 does (repl.c owns the ids). */
static void debug_change_repl_id(client *c)
{
    repl_state *st = c->srv->repl;
    if (st) {
        repl_change_replid(st);
        repl_clear_replid2(st);
    }
    reply_ok(c);
}

static void debug_help(client *c)
{
    static const char *help[] = {
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "PAUSE-CRON <0|1>",
        "    Accepted; the cron is not paused.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix.",
        "RELOAD",
        "    Save the RDB on disk and reload it back to memory.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Checked and accepted: lists here have no plain nodes.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Accepted; checksums are always validated.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Accepted (Redis runs a fuzz test of its glob matcher).",
        "LISTPACK <key>",
        "    Tell whether <key> is listpack encoded.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "QUICKLIST <key> [<0|1>]",
        "    Tell whether <key> is quicklist encoded.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
        "    Accepted; reply buffers here are sized per reply.",
        "REPLYBUFFER RESIZING <0|1>",
        "    Accepted; reply buffers here are sized per reply.",
        NULL };
    reply_help(c, "DEBUG", help);
}

/* DEBUG PROTOCOL <type>: one sample reply of each RESP type, the values
 * Redis 7.0 sends (clients and the protocol tests check them). */
static void debug_protocol_aggregate(client *c, const char *name)
{
    if (!strcasecmp(name, "array"))
        reply_array(c, 3);
    else
        reply_set(c, 3);
    for (int j = 0; j < 3; j++)
        reply_int(c, j);
}

static void debug_protocol(client *c)
{
    char name[16];
    snprintf(name, sizeof(name), "%.*s", (int)(c->argv[2].len < 15 ? c->argv[2].len : 15), c->argv[2].ptr);
    if (c->argv[2].len >= sizeof(name))
        name[0] = '\0';   /* too long for any type name */
    if (!strcasecmp(name, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (!strcasecmp(name, "integer")) {
        reply_int(c, 12345);
    } else if (!strcasecmp(name, "double")) {
        reply_double(c, 3.141);
    } else if (!strcasecmp(name, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        reply_bigint(c, big, sizeof(big) - 1);
    } else if (!strcasecmp(name, "null")) {
        reply_null(c);
    } else if (!strcasecmp(name, "array") || !strcasecmp(name, "set")) {
        debug_protocol_aggregate(c, name);
    } else if (!strcasecmp(name, "map")) {
        reply_map(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(c, j);
            reply_bool(c, j == 1);
        }
    } else if (!strcasecmp(name, "attrib")) {
        if (c->resp_version >= 3) {
            reply_attribute(c, 1);
            reply_bulk_cstr(c, "key-popularity");
            reply_array(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_int(c, 90);
        }
        /* An attribute only annotates: a real reply follows. */
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (!strcasecmp(name, "push")) {
        if (c->resp_version < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_int(c, 42);
        /* A push is out of band: the command's own reply follows. */
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (!strcasecmp(name, "true") || !strcasecmp(name, "false")) {
        reply_bool(c, !strcasecmp(name, "true"));
    } else if (!strcasecmp(name, "verbatim")) {
        static const char text[] = "This is a verbatim\nstring";
        reply_verbatim(c, text, sizeof(text) - 1, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

static void debug_reload(client *c)
{
    char err[512];
    if (!c->srv->persist_reload) {
        reply_error(c, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    if (c->srv->persist_reload(c->srv, err, sizeof(err)) != 0) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    reply_ok(c);
}

static void debug_loadaof(client *c)
{
    char err[512];
    if (aof_debug_loadaof(c->srv, err, sizeof(err)) != 0) {
        /* Redis exits here; a refused reload leaves an empty data set, so
         * say so loudly instead of answering OK. */
        log_msg(LOG_WARNING, "DEBUG LOADAOF failed: %s", err);
        reply_errorf(c, "ERR %s", err);
        return;
    }
    reply_ok(c);
}

/* The key-spec flags of the key at argv position pos (as found for ACL
 * checks, acl_keys.c), as a set of flag names. */
static void command_key_flags_reply(client *c, const acl_keyref *refs, int nrefs, int pos)
{
    int flags = 0;
    for (int i = 0; i < nrefs; i++)
        if (refs[i].pos == pos) {
            flags = refs[i].flags;
            break;
        }
    int count = 0;
    for (int b = 0; b < ACL_KF_COUNT; b++)
        count += (flags >> b) & 1;
    reply_set(c, count);
    for (int b = 0; b < ACL_KF_COUNT; b++)
        if (flags & (1 << b))
            reply_simple(c, acl_key_flag_name(b));
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS: the same keys in the same order; with
 * flags each one is [key, flags]. */
static void command_getkeys(client *c, int with_flags)
{
    int argc = c->argc - 2;
    const resp_arg *argv = &c->argv[2];
    int *pos = mem_alloc(sizeof(int) * (size_t)argc);
    const char *err = NULL;
    int n = cmd_getkeys(argc, argv, pos, &err);
    acl_keyref *refs = NULL;
    int nrefs = 0;
    const cmd_def *cmd = n > 0 && with_flags ? cmd_lookup(argv[0].ptr, argv[0].len) : NULL;
    if (cmd)
        nrefs = acl_keys_of(cmd, argc, argv, &refs);
    if (n < 0) {
        reply_error(c, err);
    } else {
        reply_array(c, n);
        for (int k = 0; k < n; k++) {
            if (with_flags)
                reply_array(c, 2);
            reply_bulk(c, argv[pos[k]].ptr, argv[pos[k]].len);
            if (with_flags)
                command_key_flags_reply(c, refs, nrefs, pos[k]);
        }
    }
    mem_free(refs);
    mem_free(pos);
}

static void cmd_debug(client *c)
{
    const resp_arg *sub = &c->argv[1];
    int argc = c->argc;
    if (srvcmd_arg_is(sub, "sleep") && argc == 3) {
        debug_sleep(c);
    } else if (srvcmd_arg_is(sub, "digest") && argc == 2) {
        debug_digest(c);
    } else if (srvcmd_arg_is(sub, "digest-value") && argc >= 2) {
        debug_digest_value(c);
    } else if (srvcmd_arg_is(sub, "populate") && argc >= 3 && argc <= 5) {
        debug_populate(c);
    } else if (srvcmd_arg_is(sub, "reload")) {
        debug_reload(c);
    } else if (srvcmd_arg_is(sub, "loadaof") && argc == 2) {
        debug_loadaof(c);
    } else if (srvcmd_arg_is(sub, "object") && argc == 3) {
        debug_object(c);
    } else if (srvcmd_arg_is(sub, "listpack") && argc == 3) {
        debug_structure(c, 0);
    } else if (srvcmd_arg_is(sub, "quicklist") && (argc == 3 || argc == 4)) {
        debug_structure(c, 1);
    } else if (srvcmd_arg_is(sub, "set-active-expire") && argc == 3) {
        c->srv->active_expire_disabled = debug_atoi(&c->argv[2]) == 0;
        reply_ok(c);
    } else if (srvcmd_arg_is(sub, "set-disable-deny-scripts") && argc == 3) {
        script_lua_allow_noscript_commands(debug_atoi(&c->argv[2]));
        reply_ok(c);
    } else if (srvcmd_arg_is(sub, "quicklist-packed-threshold") && argc == 3) {
        debug_packed_threshold(c);
    } else if (srvcmd_arg_is(sub, "replybuffer") && argc == 4) {
        debug_replybuffer(c);
    } else if (srvcmd_arg_is(sub, "change-repl-id") && argc == 2) {
        debug_change_repl_id(c);
    } else if (srvcmd_arg_is(sub, "stringmatch-test") && argc == 2) {
        reply_simple(c, "Apparently Redis did not crash: test passed");
    } else if ((srvcmd_arg_is(sub, "set-skip-checksum-validation") || srvcmd_arg_is(sub, "pause-cron")) &&
               argc == 3) {
        reply_ok(c);
    } else if (srvcmd_arg_is(sub, "error") && argc == 3) {
        reply_errorf(c, "%.*s", (int)c->argv[2].len, c->argv[2].ptr);
    } else if (srvcmd_arg_is(sub, "log") && argc == 3) {
        log_msg(LOG_WARNING, "DEBUG LOG: %.*s", (int)c->argv[2].len, c->argv[2].ptr);
        reply_ok(c);
    } else if (srvcmd_arg_is(sub, "protocol") && argc == 3) {
        debug_protocol(c);
    } else if (srvcmd_arg_is(sub, "help") && argc == 2) {
        debug_help(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

/* ---- COMMAND ------------------------------------------------------------ */

static void command_flags_reply(client *c, const cmd_def *d)
{
    static const struct { uint32_t flag; const char *name; } names[] = {
        { CMD_WRITE, "write" }, { CMD_READONLY, "readonly" }, { CMD_DENYOOM, "denyoom" },
        { CMD_ADMIN, "admin" }, { CMD_PUBSUB, "pubsub" }, { CMD_NOSCRIPT, "noscript" },
        { CMD_BLOCKING, "blocking" }, { CMD_LOADING, "loading" }, { CMD_STALE, "stale" },
        { CMD_SKIP_MONITOR, "skip_monitor" }, { CMD_FAST, "fast" }, { CMD_NO_AUTH, "no_auth" },
        { CMD_MAY_REPLICATE, "may_replicate" }, { CMD_NO_MULTI, "no_multi" },
        { CMD_ALLOW_BUSY, "allow_busy" },
    };
    long long n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (d->flags & names[i].flag)
            n++;
    reply_set(c, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (d->flags & names[i].flag)
            reply_simple(c, names[i].name);
}

static void command_categories_reply(client *c, const cmd_def *d)
{
    const char *cats = d->acl_categories ? d->acl_categories : "";
    long long n = 0;
    for (const char *p = cats; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    reply_set(c, n);
    for (const char *p = cats; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *s = p;
        while (*p && *p != ' ') p++;
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*s", (int)(p - s), s);
        reply_simple(c, buf);
    }
}

/* Redis' own entry (generated table) where Redis has the command; the
 * entry built from the agent's table otherwise. */
static void command_info_raw_reply(client *c, const cmd_info_entry *e)
{
    if (c->resp_version == 3)
        reply_raw(c, e->resp3, e->resp3_len);
    else
        reply_raw(c, e->resp2, e->resp2_len);
}

static void command_entry_reply(client *c, const cmd_def *d)
{
    const cmd_info_entry *e = cmd_info_lookup(d->name, strlen(d->name));
    if (e) {
        command_info_raw_reply(c, e);
        return;
    }
    reply_array(c, 10);
    reply_bulk_cstr(c, d->name);
    reply_int(c, d->arity);
    command_flags_reply(c, d);
    reply_int(c, d->first_key);
    reply_int(c, d->last_key);
    reply_int(c, d->key_step);
    command_categories_reply(c, d);
    reply_set(c, 0);        /* tips */
    reply_set(c, 0);        /* key specs (a set in 7.0's RESP3) */
    reply_set(c, 0);        /* subcommands (a set too) */
}

/* COMMAND LIST's optional filter (FILTERBY MODULE|ACLCAT|PATTERN arg). */
typedef enum { LIST_ALL, LIST_MODULE, LIST_ACLCAT, LIST_PATTERN } command_list_filter;

/* 1 when the space-separated category list holds cat (any letter case);
 * '@' prefixes in the list are ignored. */
static int command_has_category(const char *cats, const resp_arg *cat)
{
    for (const char *p = cats; *p;) {
        while (*p == ' ' || *p == '@') p++;
        const char *s = p;
        while (*p && *p != ' ') p++;
        if ((size_t)(p - s) == cat->len && cat->len > 0 && strncasecmp(s, cat->ptr, cat->len) == 0)
            return 1;
    }
    return 0;
}

static int command_list_match(command_list_filter f, const resp_arg *arg, const char *fullname,
                              const char *cats)
{
    switch (f) {
    case LIST_ALL:
        return 1;
    case LIST_MODULE:
        return 0;   /* no module commands: every command is Redis' own */
    case LIST_ACLCAT:
        return command_has_category(cats, arg);
    case LIST_PATTERN:
        return util_glob_match(arg->ptr, arg->len, fullname, strlen(fullname), 1);
    }
    return 0;
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]:
 * every command, each followed by its subcommands as container|sub (Redis
 * 7.0's listing), each name tested on its own against the filter. */
static void command_list(client *c)
{
    command_list_filter f = LIST_ALL;
    const resp_arg *arg = NULL;
    if (c->argc != 2) {
        const resp_arg *by = c->argc == 5 ? &c->argv[3] : NULL;
        if (by && srvcmd_arg_is(&c->argv[2], "filterby")) {
            if (srvcmd_arg_is(by, "module"))
                f = LIST_MODULE;
            else if (srvcmd_arg_is(by, "aclcat"))
                f = LIST_ACLCAT;
            else if (srvcmd_arg_is(by, "pattern"))
                f = LIST_PATTERN;
        }
        if (f == LIST_ALL) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
        arg = &c->argv[4];
    }
    void *len = reply_defer_len(c);
    long long n = 0;
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        size_t nlen = strlen(d->name);
        const cmd_info_entry *e = cmd_info_lookup(d->name, nlen);
        if (command_list_match(f, arg, d->name, e ? e->acl_categories : d->acl_categories ? d->acl_categories : "")) {
            reply_bulk_cstr(c, d->name);
            n++;
        }
        for (size_t k = 0; k < cmd_info_table_len; k++) {
            const cmd_info_entry *s = &cmd_info_table[k];
            if (strncmp(s->fullname, d->name, nlen) == 0 && s->fullname[nlen] == '|' &&
                command_list_match(f, arg, s->fullname, s->acl_categories)) {
                reply_bulk_cstr(c, s->fullname);
                n++;
            }
        }
    }
    reply_set_deferred_len(c, len, n);
}

static void cmd_command(client *c)
{
    if (c->argc == 1) {
        reply_array(c, (long long)cmd_count());
        for (size_t i = 0; i < cmd_count(); i++)
            command_entry_reply(c, cmd_at(i));
        return;
    }
    const resp_arg *sub = &c->argv[1];
    if (srvcmd_arg_is(sub, "count")) {
        if (c->argc != 2) {
            srvcmd_sub_arity(c, "command", sub);
            return;
        }
        reply_int(c, (long long)cmd_count());
    } else if (srvcmd_arg_is(sub, "info")) {
        if (c->argc == 2) {
            reply_array(c, (long long)cmd_count());
            for (size_t i = 0; i < cmd_count(); i++)
                command_entry_reply(c, cmd_at(i));
            return;
        }
        reply_array(c, c->argc - 2);
        for (int j = 2; j < c->argc; j++) {
            /* "container|sub" names their subcommand's entry, as in Redis. */
            const cmd_info_entry *e = cmd_info_lookup(c->argv[j].ptr, c->argv[j].len);
            const cmd_def *d = e ? NULL : cmd_lookup(c->argv[j].ptr, c->argv[j].len);
            if (e)
                command_info_raw_reply(c, e);
            else if (d)
                command_entry_reply(c, d);
            else
                reply_null(c);   /* Redis: a null bulk, not a null array */
        }
    } else if (srvcmd_arg_is(sub, "docs")) {
        /* Docs are optional for clients; an empty map is a valid answer. */
        reply_map(c, 0);
    } else if (srvcmd_arg_is(sub, "list")) {
        command_list(c);
    } else if (srvcmd_arg_is(sub, "getkeys") || srvcmd_arg_is(sub, "getkeysandflags")) {
        /* command.c refuses this already; kept so the handler never reads
         * past argv when called on its own. */
        if (c->argc < 4) {
            srvcmd_sub_arity(c, "command", sub);
            return;
        }
        command_getkeys(c, srvcmd_arg_is(sub, "getkeysandflags"));
    } else if (srvcmd_arg_is(sub, "help") && c->argc != 2) {
        srvcmd_sub_arity(c, "command", sub);
    } else if (srvcmd_arg_is(sub, "help")) {
        static const char *help[] = {
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
            NULL };
        reply_help(c, "COMMAND", help);
    } else {
        srvcmd_unknown_sub(c, "COMMAND");
    }
}

/* ---- SLOWLOG --------------------------------------------------------- */

/* Commands slower than slowlog-log-slower-than microseconds, newest first,
 * at most slowlog-max-len entries; arguments trimmed as Redis trims them
 * (32 arguments, 128 bytes each). */
#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

typedef struct slowlog_entry {
    struct slowlog_entry *next;
    long long id;
    long long time;
    long long duration;
    int argc;
    kstr *argv;
    char addr[64];
    kstr name;
} slowlog_entry;

static slowlog_entry *slowlog_head;
static long long slowlog_len;
static long long slowlog_next_id;

static void slowlog_free_entry(slowlog_entry *e)
{
    for (int i = 0; i < e->argc; i++)
        kstr_free(e->argv[i]);
    mem_free(e->argv);
    kstr_free(e->name);
    mem_free(e);
}

static void slowlog_trim(long long max)
{
    slowlog_entry **pp = &slowlog_head;
    long long kept = 0;
    while (*pp && kept < max) {
        pp = &(*pp)->next;
        kept++;
    }
    while (*pp) {
        slowlog_entry *e = *pp;
        *pp = e->next;
        slowlog_free_entry(e);
        slowlog_len--;
    }
}

static kstr slowlog_arg(const resp_arg *a)
{
    if (a->len <= SLOWLOG_MAX_ARGLEN)
        return kstr_new(a->ptr, a->len);
    kstr s = kstr_new(a->ptr, SLOWLOG_MAX_ARGLEN);
    return kstr_catfmt(s, "... (%zu more bytes)", a->len - SLOWLOG_MAX_ARGLEN);
}

/* Arguments Redis 7.0 redacts before a command reaches the slow log:
 * passwords and ACL rules (ACL SETUSER from the user name on, CONFIG SET
 * of masterauth / masteruser / requirepass, AUTH, HELLO ... AUTH, MIGRATE
 * AUTH / AUTH2). */
static int slowlog_arg_redacted(const client *c, int i)
{
    const resp_arg *v = c->argv;
    int argc = c->argc;
    if (srvcmd_arg_is(&v[0], "auth"))
        return i >= 1;
    if (srvcmd_arg_is(&v[0], "acl"))
        return argc > 1 && srvcmd_arg_is(&v[1], "setuser") && i >= 2;
    if (srvcmd_arg_is(&v[0], "config")) {
        if (argc < 2 || !srvcmd_arg_is(&v[1], "set") || i < 3 || (i - 3) % 2 != 0)
            return 0;
        return srvcmd_arg_is(&v[i - 1], "masterauth") || srvcmd_arg_is(&v[i - 1], "masteruser") ||
               srvcmd_arg_is(&v[i - 1], "requirepass");
    }
    if (srvcmd_arg_is(&v[0], "hello")) {
        for (int j = 2; j < argc && j < i; j++)
            if (srvcmd_arg_is(&v[j], "auth") && (i == j + 1 || i == j + 2))
                return 1;
        return 0;
    }
    if (srvcmd_arg_is(&v[0], "migrate")) {
        for (int j = 6; j < argc && j < i; j++) {
            if (srvcmd_arg_is(&v[j], "auth") && i == j + 1)
                return 1;
            if (srvcmd_arg_is(&v[j], "auth2") && (i == j + 1 || i == j + 2))
                return 1;
        }
    }
    return 0;
}

void slowlog_record(client *c, long long duration_us)
{
    srv *s = c->srv;
    long long limit = s->config.slowlog_log_slower_than;
    if (limit < 0 || duration_us < limit || c->argc == 0)
        return;
    slowlog_entry *e = mem_calloc(sizeof(*e));
    e->id = slowlog_next_id++;
    e->time = s->mstime / 1000;
    e->duration = duration_us;
    int argc = c->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : c->argc;
    e->argc = argc;
    e->argv = mem_alloc(sizeof(kstr) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        if (i == argc - 1 && argc < c->argc)
            e->argv[i] = kstr_catfmt(kstr_empty(32), "... (%d more arguments)", c->argc - argc + 1);
        else if (slowlog_arg_redacted(c, i))
            e->argv[i] = kstr_from_cstr("(redacted)");
        else
            e->argv[i] = slowlog_arg(&c->argv[i]);
    }
    snprintf(e->addr, sizeof(e->addr), "%s", c->addr);
    e->name = c->name ? kstr_dup(c->name) : kstr_empty(0);
    e->next = slowlog_head;
    slowlog_head = e;
    slowlog_len++;
    slowlog_trim(s->config.slowlog_max_len);
}

static void slowlog_reply_entry(client *c, const slowlog_entry *e)
{
    reply_array(c, 6);
    reply_int(c, e->id);
    reply_int(c, e->time);
    reply_int(c, e->duration);
    reply_array(c, e->argc);
    for (int i = 0; i < e->argc; i++)
        reply_bulk_kstr(c, e->argv[i]);
    reply_bulk_cstr(c, e->addr);
    reply_bulk_kstr(c, e->name);
}

static void cmd_slowlog(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (c->argc == 2 && srvcmd_arg_is(sub, "help")) {
        static const char *help[] = {
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            NULL };
        reply_help(c, "SLOWLOG", help);
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "reset")) {
        slowlog_trim(0);
        reply_ok(c);
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "len")) {
        reply_int(c, slowlog_len);
    } else if ((c->argc == 2 || c->argc == 3) && srvcmd_arg_is(sub, "get")) {
        long long count = 10;
        if (c->argc == 3 && (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &count) || count < -1)) {
            reply_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
        if (count == -1 || count > slowlog_len)
            count = slowlog_len;
        reply_array(c, count);
        const slowlog_entry *e = slowlog_head;
        for (long long i = 0; i < count && e; i++, e = e->next)
            slowlog_reply_entry(c, e);
    } else if (srvcmd_arg_is(sub, "get") || srvcmd_arg_is(sub, "len") ||
               srvcmd_arg_is(sub, "reset") || srvcmd_arg_is(sub, "help")) {
        /* Redis echoes the subcommand as the client spelled it. */
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    } else {
        srvcmd_unknown_sub(c, "SLOWLOG");
    }
}

/* ---- MEMORY ---------------------------------------------------------- */

static void memory_stat_int(client *c, const char *name, long long v)
{
    reply_bulk_cstr(c, name);
    reply_int(c, v);
}

static void memory_stat_double(client *c, const char *name, double v)
{
    reply_bulk_cstr(c, name);
    reply_double(c, v);
}

/* MEMORY STATS: Redis 7.0's fields and shape (a map, each non-empty db a
 * map of its own), from the figures INFO memory reports: the allocator's
 * total, its peak and the RSS. The agent does not track Redis' fixed
 * overheads (startup, client buffers), so those are 0 and the dataset is
 * what the allocator holds beyond the script caches and key tables. */
static void memory_stats(client *c)
{
    srv *s = c->srv;
    size_t used = srv_used_memory(s);
    if (used > s->peak_memory)
        s->peak_memory = used;
    size_t rss = mem_rss();
    long long scripts = (long long)script_used_memory_scripts(s);
    const long long functions = 184;   /* an empty library registry, as INFO */
    long long ndbs = 0, keys = 0, overhead = scripts + functions;
    for (int i = 0; i < s->dbnum; i++) {
        if (db_size(&s->dbs[i]) == 0)
            continue;
        ndbs++;
        keys += (long long)db_size(&s->dbs[i]);
        /* A dict entry and a bucket pointer per key, as Redis counts them. */
        overhead += (long long)(db_size(&s->dbs[i]) + db_expires_size(&s->dbs[i])) * 32;
    }
    long long total = (long long)used;
    long long dataset = total > overhead ? total - overhead : 0;
    reply_map(c, 27 + ndbs);
    memory_stat_int(c, "peak.allocated", (long long)s->peak_memory);
    memory_stat_int(c, "total.allocated", total);
    memory_stat_int(c, "startup.allocated", 0);
    memory_stat_int(c, "replication.backlog", 0);
    memory_stat_int(c, "clients.slaves", 0);
    memory_stat_int(c, "clients.normal", 0);
    memory_stat_int(c, "cluster.links", 0);
    memory_stat_int(c, "aof.buffer", 0);
    memory_stat_int(c, "lua.caches", scripts);
    memory_stat_int(c, "functions.caches", functions);
    for (int i = 0; i < s->dbnum; i++) {
        size_t n = db_size(&s->dbs[i]);
        if (n == 0)
            continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", i);
        reply_bulk_cstr(c, name);
        reply_map(c, 3);
        memory_stat_int(c, "overhead.hashtable.main", (long long)n * 32);
        memory_stat_int(c, "overhead.hashtable.expires", (long long)db_expires_size(&s->dbs[i]) * 32);
        memory_stat_int(c, "overhead.hashtable.slot-to-keys", 0);
    }
    memory_stat_int(c, "overhead.total", overhead);
    memory_stat_int(c, "keys.count", keys);
    memory_stat_int(c, "keys.bytes-per-key", keys ? total / keys : 0);
    memory_stat_int(c, "dataset.bytes", dataset);
    memory_stat_double(c, "dataset.percentage", total ? (double)(float)(dataset * 100.0 / (double)total) : 0.0);
    memory_stat_double(c, "peak.percentage",
                       s->peak_memory ? (double)(float)(total * 100.0 / (double)s->peak_memory) : 0.0);
    memory_stat_int(c, "allocator.allocated", total);
    memory_stat_int(c, "allocator.active", total);
    memory_stat_int(c, "allocator.resident", (long long)rss);
    memory_stat_double(c, "allocator-fragmentation.ratio", 1.0);
    memory_stat_int(c, "allocator-fragmentation.bytes", 0);
    memory_stat_double(c, "allocator-rss.ratio", total ? (double)(float)((double)rss / (double)total) : 0.0);
    memory_stat_int(c, "allocator-rss.bytes", (long long)rss - total);
    memory_stat_double(c, "rss-overhead.ratio", 1.0);
    memory_stat_int(c, "rss-overhead.bytes", 0);
    memory_stat_double(c, "fragmentation", total ? (double)(float)((double)rss / (double)total) : 0.0);
    memory_stat_int(c, "fragmentation.bytes", (long long)rss - total);
}

static void cmd_memory(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (c->argc == 2 && srvcmd_arg_is(sub, "help")) {
        static const char *help[] = {
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            NULL };
        reply_help(c, "MEMORY", help);
    } else if (srvcmd_arg_is(sub, "usage") && c->argc >= 3) {
        /* SAMPLES may be repeated (Redis keeps the last); the agent sizes
         * values exactly, so the count is only validated. */
        for (int j = 3; j < c->argc; j += 2) {
            long long n;
            if (!srvcmd_arg_is(&c->argv[j], "samples") || j + 1 >= c->argc) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &n)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (n < 0) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        }
        obj *o = db_lookup_quiet(c->db, c->argv[2].ptr, c->argv[2].len);
        if (!o || db_key_is_expired(c->db, c->argv[2].ptr, c->argv[2].len)) {
            reply_null(c);
            return;
        }
        reply_int(c, (long long)(obj_mem(o) + c->argv[2].len + 24));
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "stats")) {
        memory_stats(c);
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "purge")) {
        reply_ok(c);
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "doctor")) {
        const char *report = srv_used_memory(c->srv) < 5 * 1024 * 1024
            ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
            : "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
        reply_verbatim(c, report, strlen(report), "txt");
    } else if (c->argc == 2 && srvcmd_arg_is(sub, "malloc-stats")) {
        static const char stats[] = "Stats not supported for the current allocator";
        reply_verbatim(c, stats, sizeof(stats) - 1, "txt");
    } else {
        srvcmd_unknown_sub(c, "MEMORY");
    }
}

/* LOLWUT [VERSION v]: 7.0's own LOLWUT prints its version line. Versions
 * 5 and 6 draw random art on redis-server; here every version answers the
 * version line. */
static void cmd_lolwut(client *c)
{
    if (c->argc >= 3 && srvcmd_arg_is(&c->argv[1], "version")) {
        long long v;
        if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &v)) {
            reply_error(c, "ERR value is not an integer or out of range");
            return;
        }
    }
    static const char line[] = "Redis ver. " SRV_REDIS_VERSION "\n";
    reply_verbatim(c, line, sizeof(line) - 1, "txt");
}

const cmd_def t_server_commands[] = {
    { "lolwut", cmd_lolwut, -1, CMD_READONLY | CMD_FAST, 0, 0, 0, "@read @fast" },
    { "info", cmd_info, -1, CMD_LOADING | CMD_STALE | CMD_SENTINEL, 0, 0, 0, "@slow @dangerous" },
    { "dbsize", cmd_dbsize, 1, CMD_READONLY | CMD_FAST, 0, 0, 0, "@keyspace @read @fast" },
    { "flushdb", cmd_flushdb, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous" },
    { "flushall", cmd_flushall, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous" },
    { "swapdb", cmd_swapdb, 3, CMD_WRITE | CMD_FAST, 0, 0, 0, "@keyspace @write @fast @dangerous" },
    { "time", cmd_time, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@fast" },
    { "lastsave", cmd_lastsave_default, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@admin @fast @dangerous" },
    { "shutdown", cmd_shutdown, -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_SENTINEL | CMD_ALLOW_BUSY, 0, 0, 0, "@admin @slow @dangerous" },
    { "config", cmd_config, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous" },
    { "debug", cmd_debug, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous" },
    { "command", cmd_command, -1, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow @connection" },
    { "slowlog", cmd_slowlog, -2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous" },
    { "memory", cmd_memory, -2, CMD_READONLY, 0, 0, 0, "@slow" },
    { "monitor", monitor_command, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous" },
    { "latency", latency_command, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
