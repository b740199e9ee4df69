/* t_keys: commands on keys regardless of type: DEL/EXISTS/TYPE, the TTL
 * family (EXPIRE ... with NX/XX/GT/LT), KEYS/SCAN/RANDOMKEY, RENAME, MOVE,
 * COPY-free OBJECT/TOUCH helpers. Expiries are propagated as absolute
 * PEXPIREAT so replicas agree on the instant. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "notify.h"
#include "util.h"
#include "mem.h"
#include "deque.h"
#include "hmap.h"
#include "setobj.h"
#include "zset.h"
#include "t_keys.h"
#include "objclock.h"

static int keys_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* DEL and UNLINK. A lazy delete (UNLINK, or DEL under
 * lazyfree-lazy-user-del) counts the values Redis would free in its
 * background thread (INFO lazyfreed_objects). */
static void keys_del_generic(client *c, int lazy)
{
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        const resp_arg *key = &c->argv[j];
        db_expire_if_needed(c->db, key->ptr, key->len);
        int gone = lazy ? db_delete_lazy(c->db, key->ptr, key->len)
                        : db_delete(c->db, key->ptr, key->len);
        if (gone) {
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
            c->srv->dirty++;
            deleted++;
        }
    }
    reply_int(c, deleted);
}

static void cmd_del(client *c) { keys_del_generic(c, c->srv->config.lazyfree_lazy_user_del); }
static void cmd_unlink(client *c) { keys_del_generic(c, 1); }

/* A read lookup that leaves the value's access clock alone, as Redis'
 * LOOKUP_NOTOUCH for EXISTS, TYPE and the TTL family: asking about a key
 * is not using it (it neither resets OBJECT IDLETIME nor counts for LFU).
 * Expiry and keyspace hit/miss counting still happen. */
static obj *keys_lookup_notouch(kvdb *db, const char *key, size_t len)
{
    obj *peek = db_lookup_quiet(db, key, len);
    uint32_t saved = peek ? peek->lru : 0;
    obj *o = db_lookup_read(db, key, len);
    if (o && o == peek)
        o->lru = saved;
    return o;
}

static void cmd_exists(client *c)
{
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (keys_lookup_notouch(c->db, c->argv[j].ptr, c->argv[j].len))
            count++;
    reply_int(c, count);
}

static void cmd_touch(client *c)
{
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (db_lookup_read(c->db, c->argv[j].ptr, c->argv[j].len))
            count++;
    reply_int(c, count);
}

static void cmd_type(client *c)
{
    obj *o = keys_lookup_notouch(c->db, c->argv[1].ptr, c->argv[1].len);
    reply_simple(c, o ? obj_type_name(o->type) : "none");
}

/* ---- expiry ------------------------------------------------------------ */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

static int keys_parse_expire_flags(client *c, int start, int *flags)
{
    *flags = 0;
    for (int j = start; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        if (keys_arg_is(a, "nx")) *flags |= EXP_NX;
        else if (keys_arg_is(a, "xx")) *flags |= EXP_XX;
        else if (keys_arg_is(a, "gt")) *flags |= EXP_GT;
        else if (keys_arg_is(a, "lt")) *flags |= EXP_LT;
        else {
            reply_errorf(c, "ERR Unsupported option %.*s", (int)a->len, a->ptr);
            return -1;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/* unit_ms: 1000 for seconds, 1 for ms; relative: EXPIRE/PEXPIRE. */
static void keys_expire_generic(client *c, int64_t basetime, int unit_ms)
{
    const resp_arg *key = &c->argv[1];
    /* Redis checks the options before it parses the time. */
    int flags;
    if (keys_parse_expire_flags(c, 3, &flags) != 0)
        return;
    long long when;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &when)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    const char *name = c->cmd->name;
    if (unit_ms == 1000) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", name);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", name);
        return;
    }
    when += basetime;
    if (!db_lookup_write(c->db, key->ptr, key->len)) {
        reply_int(c, 0);
        return;
    }
    if (flags) {
        int64_t cur = db_expire_get(c->db, key->ptr, key->len);
        if ((flags & EXP_NX) && cur != -1) { reply_int(c, 0); return; }
        if ((flags & EXP_XX) && cur == -1) { reply_int(c, 0); return; }
        /* A key without TTL counts as an infinite one for GT/LT. */
        if ((flags & EXP_GT) && (cur == -1 || when <= cur)) { reply_int(c, 0); return; }
        if ((flags & EXP_LT) && cur != -1 && when >= cur) { reply_int(c, 0); return; }
    }
    if (when <= c->srv->mstime && !c->srv->loading && !c->srv->is_replica) {
        db_delete(c->db, key->ptr, key->len);
        c->srv->dirty++;
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
        resp_arg argv[2] = { { "DEL", 3 }, *key };
        cmd_rewrite_argv(c, 2, argv);
        reply_int(c, 1);
        return;
    }
    db_expire_set(c->db, key->ptr, key->len, when);
    db_signal_modified(c->db, key->ptr, key->len);
    notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "expire", key->ptr, key->len);
    c->srv->dirty++;
    char buf[32];
    int n = util_ll_to_str(buf, sizeof(buf), when);
    resp_arg argv[3] = { { "PEXPIREAT", 9 }, *key, { buf, (size_t)n } };
    cmd_rewrite_argv(c, 3, argv);
    reply_int(c, 1);
}

static void cmd_expire(client *c) { keys_expire_generic(c, c->srv->mstime, 1000); }
static void cmd_pexpire(client *c) { keys_expire_generic(c, c->srv->mstime, 1); }
static void cmd_expireat(client *c) { keys_expire_generic(c, 0, 1000); }
static void cmd_pexpireat(client *c) { keys_expire_generic(c, 0, 1); }

/* mode: 0 TTL, 1 PTTL, 2 EXPIRETIME, 3 PEXPIRETIME */
static void keys_ttl_generic(client *c, int mode)
{
    const resp_arg *key = &c->argv[1];
    if (!keys_lookup_notouch(c->db, key->ptr, key->len)) {
        reply_int(c, -2);
        return;
    }
    int64_t when = db_expire_get(c->db, key->ptr, key->len);
    if (when == -1) {
        reply_int(c, -1);
        return;
    }
    switch (mode) {
    case 0: {
        int64_t ttl = when - c->srv->mstime;
        if (ttl < 0) ttl = 0;
        /* Rounded in unsigned arithmetic: an expiry set with PEXPIREAT
         * near LLONG_MAX would overflow ttl + 500 (Redis' reply is the
         * unwrapped quotient, as here). */
        reply_int(c, (long long)(((uint64_t)ttl + 500) / 1000));
        break;
    }
    case 1: {
        int64_t ttl = when - c->srv->mstime;
        reply_int(c, ttl < 0 ? 0 : ttl);
        break;
    }
    case 2: reply_int(c, (long long)(((uint64_t)when + 500) / 1000)); break;
    default: reply_int(c, when); break;
    }
}

static void cmd_ttl(client *c) { keys_ttl_generic(c, 0); }
static void cmd_pttl(client *c) { keys_ttl_generic(c, 1); }
static void cmd_expiretime(client *c) { keys_ttl_generic(c, 2); }
static void cmd_pexpiretime(client *c) { keys_ttl_generic(c, 3); }

static void cmd_persist(client *c)
{
    const resp_arg *key = &c->argv[1];
    if (!db_lookup_write(c->db, key->ptr, key->len)) {
        reply_int(c, 0);
        return;
    }
    if (db_expire_remove(c->db, key->ptr, key->len)) {
        db_signal_modified(c->db, key->ptr, key->len);
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "persist", key->ptr, key->len);
        c->srv->dirty++;
        reply_int(c, 1);
    } else {
        reply_int(c, 0);
    }
}

/* ---- KEYS / SCAN / RANDOMKEY ------------------------------------------- */

static void cmd_keys(client *c)
{
    const resp_arg *pat = &c->argv[1];
    int all = pat->len == 1 && pat->ptr[0] == '*';
    void *len_handle = reply_defer_len(c);
    long long n = 0;
    dict_iter it;
    dict_iter_init(c->db->keys, &it, 1);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        size_t klen = kstr_len(e->key);
        if (!all && !util_glob_match(pat->ptr, pat->len, e->key, klen, 0))
            continue;
        if (db_key_is_expired(c->db, e->key, klen))
            continue;
        reply_bulk(c, e->key, klen);
        n++;
    }
    dict_iter_release(&it);
    reply_set_deferred_len(c, len_handle, n);
}

typedef struct scan_keys {
    kstr *items;
    size_t count;
    size_t cap;
} scan_keys;

static void scan_keys_push(scan_keys *k, const char *p, size_t len)
{
    if (k->count == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 16;
        k->items = mem_realloc(k->items, sizeof(kstr) * k->cap);
    }
    k->items[k->count++] = kstr_new(p, len);
}

static void scan_collect_key(void *priv, const dict_entry *e)
{
    scan_keys_push(priv, e->key, kstr_len(e->key));
}

static void scan_collect_field(void *priv, kstr field, kstr value)
{
    scan_keys_push(priv, field, kstr_len(field));
    scan_keys_push(priv, value, kstr_len(value));
}

static void scan_collect_member(void *priv, const char *m, size_t len)
{
    scan_keys_push(priv, m, len);
}

static int scan_parse_cursor(client *c, const resp_arg *a, uint64_t *cursor)
{
    if (!util_parse_scan_cursor(a->ptr, a->len, cursor)) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    return 0;
}

/* SCAN / HSCAN / SSCAN / ZSCAN share option parsing and filtering.
 * o == NULL scans the keyspace. */
void keys_scan_generic(client *c, obj *o, int cursor_arg)
{
    uint64_t cursor;
    if (scan_parse_cursor(c, &c->argv[cursor_arg], &cursor) != 0)
        return;
    long long count = 10;
    const resp_arg *pattern = NULL;
    const resp_arg *type = NULL;
    for (int j = cursor_arg + 1; j < c->argc; j += 2) {
        const resp_arg *opt = &c->argv[j];
        if (j + 1 >= c->argc) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
        const resp_arg *val = &c->argv[j + 1];
        if (keys_arg_is(opt, "count")) {
            if (!util_str_to_ll(val->ptr, val->len, &count)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (keys_arg_is(opt, "match")) {
            pattern = val;
        } else if (keys_arg_is(opt, "type") && o == NULL) {
            type = val;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    scan_keys keys = { NULL, 0, 0 };
    int pairs = o && (o->type == OBJ_HASH || o->type == OBJ_ZSET);
    /* At most COUNT*10 more steps after the first, as in Redis (whose
     * count*10 wraps for huge counts; util_scan_budget gives the same
     * value without overflowing). */
    if (!o) {
        uint64_t maxiter = util_scan_budget(count);
        do {
            cursor = dict_scan(c->db->keys, cursor, scan_collect_key, &keys);
        } while (cursor && maxiter-- && (long long)keys.count < count);
    } else if (o->type == OBJ_HASH) {
        uint64_t maxiter = util_scan_budget(count);
        do {
            cursor = hmap_scan(o->v.ptr, cursor, scan_collect_field, &keys);
        } while (cursor && maxiter-- && (long long)(keys.count / 2) < count);
    } else if (o->type == OBJ_SET) {
        uint64_t maxiter = util_scan_budget(count);
        do {
            cursor = setobj_scan(o->v.ptr, cursor, scan_collect_member, &keys);
        } while (cursor && maxiter-- && (long long)keys.count < count);
    } else if (o->type == OBJ_ZSET) {
        /* Sorted sets are returned whole (listpack-like behaviour). */
        zset *z = o->v.ptr;
        for (zset_node *n = zset_first(z); n; n = zset_next(n)) {
            kstr m = zset_node_member(n);
            char buf[128];
            int bl = util_double_to_str(buf, sizeof(buf), zset_node_score(n));
            scan_keys_push(&keys, m, kstr_len(m));
            scan_keys_push(&keys, buf, (size_t)bl);
        }
        cursor = 0;
    }
    /* Filter, then reply. */
    size_t step = pairs ? 2 : 1;
    size_t kept = 0;
    for (size_t i = 0; i < keys.count; i += step) {
        kstr k = keys.items[i];
        int keep = 1;
        /* "*" matches everything, even the empty key the glob would miss. */
        int match_all = pattern && pattern->len == 1 && pattern->ptr[0] == '*';
        if (pattern && !match_all && !util_glob_match(pattern->ptr, pattern->len, k, kstr_len(k), 0))
            keep = 0;
        if (keep && !o) {
            obj *v = db_lookup_quiet(c->db, k, kstr_len(k));
            if (!v || db_expire_if_needed(c->db, k, kstr_len(k)))
                keep = 0;
            else if (type && util_strcasecmp_len(type->ptr, type->len, obj_type_name(v->type)) != 0)
                keep = 0;
        }
        if (!keep) {
            for (size_t s = 0; s < step; s++) {
                kstr_free(keys.items[i + s]);
                keys.items[i + s] = NULL;
            }
        } else {
            kept += step;
        }
    }
    reply_array(c, 2);
    reply_bulk_ll(c, (long long)cursor);
    reply_array(c, (long long)kept);
    for (size_t i = 0; i < keys.count; i++) {
        if (keys.items[i]) {
            reply_bulk_kstr(c, keys.items[i]);
            kstr_free(keys.items[i]);
        }
    }
    mem_free(keys.items);
}

static void cmd_scan(client *c)
{
    keys_scan_generic(c, NULL, 1);
}

static void cmd_randomkey(client *c)
{
    kstr k = db_random_key(c->db);
    if (!k) {
        reply_null(c);
        return;
    }
    reply_bulk_kstr(c, k);
    kstr_free(k);
}

/* ---- RENAME / MOVE ----------------------------------------------------- */

static void keys_rename_generic(client *c, int nx)
{
    const resp_arg *src = &c->argv[1], *dst = &c->argv[2];
    if (!db_lookup_write(c->db, src->ptr, src->len)) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    if (src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        if (nx)
            reply_int(c, 0);
        else
            reply_ok(c);
        return;
    }
    if (nx && db_lookup_write(c->db, dst->ptr, dst->len)) {
        reply_int(c, 0);
        return;
    }
    db_expire_if_needed(c->db, dst->ptr, dst->len);
    db_rename(c->db, src->ptr, src->len, dst->ptr, dst->len, 0);
    notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "rename_from", src->ptr, src->len);
    notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "rename_to", dst->ptr, dst->len);
    c->srv->dirty++;
    if (nx)
        reply_int(c, 1);
    else
        reply_ok(c);
}

static void cmd_rename(client *c) { keys_rename_generic(c, 0); }
static void cmd_renamenx(client *c) { keys_rename_generic(c, 1); }

/* A db index as Redis' getIntFromObjectOrReply reads it: not an integer,
 * or an integer outside int's range, each with its own error. */
static int keys_parse_int(client *c, const resp_arg *a, long long *out)
{
    if (!util_str_to_ll(a->ptr, a->len, out)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    if (*out < INT_MIN || *out > INT_MAX) {
        reply_errorf(c, "ERR value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
        return -1;
    }
    return 0;
}

static void cmd_move(client *c)
{
    long long dbid;
    if (keys_parse_int(c, &c->argv[2], &dbid) != 0)
        return;
    if (dbid < 0 || dbid >= c->srv->dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    kvdb *src = c->db, *dst = &c->srv->dbs[dbid];
    if (src == dst) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    const resp_arg *key = &c->argv[1];
    obj *o = db_lookup_write(src, key->ptr, key->len);
    if (!o) {
        reply_int(c, 0);
        return;
    }
    if (db_lookup_write(dst, key->ptr, key->len)) {
        reply_int(c, 0);
        return;
    }
    int64_t ttl = db_expire_get(src, key->ptr, key->len);
    dict_entry *e = dict_unlink(src->keys, key->ptr, key->len);
    o = e->v.ptr;
    e->v.ptr = NULL;
    dict_free_unlinked(src->keys, e);
    db_signal_value_gone(src, key->ptr, key->len, o);
    db_expire_remove(src, key->ptr, key->len);
    db_signal_modified(src, key->ptr, key->len);
    db_add(dst, key->ptr, key->len, o);
    if (ttl >= 0)
        db_expire_set(dst, key->ptr, key->len, ttl);
    notify_keyspace_event(src, CFG_NOTIFY_GENERIC, "move_from", key->ptr, key->len);
    notify_keyspace_event(dst, CFG_NOTIFY_GENERIC, "move_to", key->ptr, key->len);
    c->srv->dirty++;
    reply_int(c, 1);
}

/* COPY source destination [DB index] [REPLACE] */
static void cmd_copy(client *c)
{
    kvdb *dst_db = c->db;
    int replace = 0;
    for (int j = 3; j < c->argc; j++) {
        if (keys_arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (keys_arg_is(&c->argv[j], "db") && j + 1 < c->argc) {
            long long id;
            if (keys_parse_int(c, &c->argv[j + 1], &id) != 0)
                return;
            if (id < 0 || id >= c->srv->dbnum) {
                reply_error(c, "ERR DB index is out of range");
                return;
            }
            dst_db = &c->srv->dbs[id];
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const resp_arg *src = &c->argv[1], *dst = &c->argv[2];
    if (dst_db == c->db && src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    /* The source is read (a keyspace hit or miss), the destination written. */
    obj *o = db_lookup_read(c->db, src->ptr, src->len);
    if (!o) {
        reply_int(c, 0);
        return;
    }
    int64_t ttl = db_expire_get(c->db, src->ptr, src->len);
    if (db_lookup_write(dst_db, dst->ptr, dst->len)) {
        if (!replace) {
            reply_int(c, 0);
            return;
        }
        db_delete(dst_db, dst->ptr, dst->len);
    }
    db_add(dst_db, dst->ptr, dst->len, obj_dup(o));
    if (ttl >= 0)
        db_expire_set(dst_db, dst->ptr, dst->len, ttl);
    notify_keyspace_event(dst_db, CFG_NOTIFY_GENERIC, "copy_to", dst->ptr, dst->len);
    c->srv->dirty++;
    reply_int(c, 1);
}

/* OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP, with the encoding
 * names Redis would report for the same shape of value. */
static const char *keys_encoding_name(srv *s, obj *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == OBJ_ENC_INT)
            return "int";
        return o->enc == OBJ_ENC_EMBSTR ? "embstr" : "raw";
    case OBJ_LIST: {
        /* Redis 7.0 always reports lists as quicklists. */
        return "quicklist";
    }
    case OBJ_SET:
        return setobj_is_intset(o->v.ptr) ? "intset" : "hashtable";
    case OBJ_HASH:
        return hmap_is_small(o->v.ptr) ? "listpack" : "hashtable";
    case OBJ_ZSET:
        (void)s;
        return zset_is_compact(o->v.ptr) ? "listpack" : "skiplist";
    case OBJ_STREAM:
        return "stream";
    }
    return "unknown";
}

/* OBJECT REFCOUNT: Redis shares the integers 0..9999 (refcount INT_MAX);
 * everything else is referenced once by its key. */
static long long keys_refcount(const obj *o)
{
    int shared = o->type == OBJ_STRING && o->enc == OBJ_ENC_INT && !(o->reserved & OBJ_INT_UNSHARED) &&
                 o->v.ival >= 0 && o->v.ival < 10000;
    return shared ? 2147483647 : 1;
}

/* IDLETIME and FREQ each answer only under their kind of policy: the lru
 * field holds one or the other (objclock.h), never both. */
static void keys_object_idletime(client *c, const obj *o)
{
    if (objclock_policy_is_lfu(c->srv)) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, (long long)objclock_idle_secs(c->srv, o));
}

static void keys_object_freq(client *c, const obj *o)
{
    if (!objclock_policy_is_lfu(c->srv)) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, objclock_freq(c->srv, o));
}

static void cmd_object(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (keys_arg_is(sub, "help")) {
        if (c->argc != 2) {
            reply_error_arity(c, "object|help");
            return;
        }
        static const char *help[] = {
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            NULL };
        reply_help(c, "OBJECT", help);
        return;
    }
    int known = keys_arg_is(sub, "encoding") || keys_arg_is(sub, "refcount") ||
                keys_arg_is(sub, "idletime") || keys_arg_is(sub, "freq");
    if (!known) {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try OBJECT HELP.", (int)sub->len, sub->ptr);
        return;
    }
    if (c->argc != 3) {
        char name[64];
        snprintf(name, sizeof(name), "object|%.*s", (int)sub->len, sub->ptr);
        for (char *p = name; *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        reply_error_arity(c, name);
        return;
    }
    /* As Redis' LOOKUP_NOTOUCH read: an expired key is deleted (and the
     * DEL propagated), hits and misses are counted, the clock is kept. */
    obj *o = keys_lookup_notouch(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!o) {
        reply_null(c);
        return;
    }
    if (keys_arg_is(sub, "encoding"))
        reply_bulk_cstr(c, keys_encoding_name(c->srv, o));
    else if (keys_arg_is(sub, "refcount"))
        reply_int(c, keys_refcount(o));
    else if (keys_arg_is(sub, "idletime"))
        keys_object_idletime(c, o);
    else
        keys_object_freq(c, o);
}

const cmd_def t_keys_commands[] = {
    { "del", cmd_del, -2, CMD_WRITE, 1, -1, 1, "@keyspace @write @slow" },
    { "unlink", cmd_unlink, -2, CMD_WRITE | CMD_FAST, 1, -1, 1, "@keyspace @write @fast" },
    { "exists", cmd_exists, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "@keyspace @read @fast" },
    { "touch", cmd_touch, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "@keyspace @read @fast" },
    { "type", cmd_type, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast" },
    { "expire", cmd_expire, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "pexpire", cmd_pexpire, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "expireat", cmd_expireat, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "pexpireat", cmd_pexpireat, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "ttl", cmd_ttl, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast" },
    { "pttl", cmd_pttl, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast" },
    { "expiretime", cmd_expiretime, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast" },
    { "pexpiretime", cmd_pexpiretime, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast" },
    { "persist", cmd_persist, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "keys", cmd_keys, 2, CMD_READONLY, 0, 0, 0, "@keyspace @read @slow @dangerous" },
    { "scan", cmd_scan, -2, CMD_READONLY | CMD_TOUCHES_ARBITRARY_KEYS, 0, 0, 0, "@keyspace @read @slow" },
    { "randomkey", cmd_randomkey, 1, CMD_READONLY | CMD_TOUCHES_ARBITRARY_KEYS, 0, 0, 0, "@keyspace @read @slow" },
    { "rename", cmd_rename, 3, CMD_WRITE, 1, 2, 1, "@keyspace @write @slow" },
    { "renamenx", cmd_renamenx, 3, CMD_WRITE | CMD_FAST, 1, 2, 1, "@keyspace @write @fast" },
    { "move", cmd_move, 3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast" },
    { "copy", cmd_copy, -3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@keyspace @write @slow" },
    { "object", cmd_object, -2, CMD_READONLY, 2, 2, 1, "@keyspace @read @slow" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
