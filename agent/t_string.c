/* t_string: the string commands (GET/SET family, counters, ranges) with
 * Redis 7.0's options, replies, error texts and propagation rewrites
 * (relative expiries travel to replicas as absolute PXAT / PEXPIREAT). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "notify.h"
#include "objclock.h"
#include "util.h"
#include "mem.h"

static int str_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* Reads a string key; replies WRONGTYPE and returns -1 for other types. */
static int str_lookup(client *c, const resp_arg *key, obj **out)
{
    obj *o = db_lookup_read(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

/* Redis' checkStringLength: a string of size + append bytes must fit in
 * proto-max-bulk-len (the exact configured value, 1mb at least, as Redis
 * checks it). The sum is taken without overflow, so SETRANGE at offset
 * 9223372036854775807 is refused like any other too-long result. */
static int str_check_length(client *c, unsigned long long size, unsigned long long append)
{
    if (util_string_too_long(size, append, cmd_string_limit(c))) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

/* ---- SET and friends ------------------------------------------------- */

enum {
    SET_NX = 1 << 0, SET_XX = 1 << 1, SET_EX = 1 << 2, SET_PX = 1 << 3,
    SET_EXAT = 1 << 4, SET_PXAT = 1 << 5, SET_KEEPTTL = 1 << 6, SET_GET = 1 << 7,
    SET_PERSIST = 1 << 8,
};

/* Parses SET / GETEX options. command_type 0 = SET, 1 = GETEX. Returns 0,
 * or -1 after replying a syntax error. */
static int str_parse_options(client *c, int start, int is_getex, int *flags, const resp_arg **expire)
{
    *flags = 0;
    *expire = NULL;
    for (int j = start; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        const resp_arg *next = j + 1 < c->argc ? &c->argv[j + 1] : NULL;
        int f = *flags;
        if (!is_getex && str_arg_is(a, "nx") && !(f & SET_XX)) {
            *flags |= SET_NX;
        } else if (!is_getex && str_arg_is(a, "xx") && !(f & SET_NX)) {
            *flags |= SET_XX;
        } else if (!is_getex && str_arg_is(a, "get")) {
            *flags |= SET_GET;
        } else if (!is_getex && str_arg_is(a, "keepttl") && !(f & (SET_PERSIST | SET_EX | SET_EXAT | SET_PX | SET_PXAT))) {
            *flags |= SET_KEEPTTL;
        } else if (is_getex && str_arg_is(a, "persist") && !(f & (SET_EX | SET_EXAT | SET_PX | SET_PXAT | SET_KEEPTTL))) {
            *flags |= SET_PERSIST;
        } else if (str_arg_is(a, "ex") && next && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT))) {
            *flags |= SET_EX; *expire = next; j++;
        } else if (str_arg_is(a, "px") && next && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT))) {
            *flags |= SET_PX; *expire = next; j++;
        } else if (str_arg_is(a, "exat") && next && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT))) {
            *flags |= SET_EXAT; *expire = next; j++;
        } else if (str_arg_is(a, "pxat") && next && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX))) {
            *flags |= SET_PXAT; *expire = next; j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Converts an EX/PX/EXAT/PXAT argument to an absolute unix ms time. */
static int str_expire_to_abs(client *c, const resp_arg *arg, int flags, const char *cmdname, int64_t *abs_ms)
{
    long long v;
    if (!util_str_to_ll(arg->ptr, arg->len, &v)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    int seconds = flags & (SET_EX | SET_EXAT);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", cmdname);
        return -1;
    }
    if (seconds)
        v *= 1000;
    if (flags & (SET_EX | SET_PX)) {
        if (v > LLONG_MAX - c->srv->mstime) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", cmdname);
            return -1;
        }
        v += c->srv->mstime;
    }
    *abs_ms = v;
    return 0;
}

static void str_propagate_set_pxat(client *c, const resp_arg *key, const resp_arg *val, int64_t abs_ms)
{
    char buf[32];
    int n = util_ll_to_str(buf, sizeof(buf), abs_ms);
    resp_arg argv[5] = { { "SET", 3 }, *key, *val, { "PXAT", 4 }, { buf, (size_t)n } };
    cmd_rewrite_argv(c, 5, argv);
}

/* SET ... GET without an expiry travels as the client's SET minus every
 * GET (which may be repeated), keeping NX / XX / KEEPTTL as typed: a
 * replica must not depend on the reply. */
static void str_propagate_without_get(client *c)
{
    resp_arg stack_argv[16] = { { NULL, 0 } };
    resp_arg *argv = c->argc <= 16 ? stack_argv : mem_alloc(sizeof(*argv) * (size_t)c->argc);
    int argc = 0;
    for (int j = 0; j < c->argc; j++)
        if (j < 3 || !str_arg_is(&c->argv[j], "get"))
            argv[argc++] = c->argv[j];
    cmd_rewrite_argv(c, argc, argv);
    if (argv != stack_argv)
        mem_free(argv);
}

/* The common core of SET, SETNX, SETEX, PSETEX. Returns 1 if the value was
 * set. Replies only for the GET option and errors; the caller replies the
 * success / failure shape. */
static int str_set_generic(client *c, const resp_arg *key, const resp_arg *val, int flags,
                           const resp_arg *expire, const char *cmdname, int *replied)
{
    int64_t when = -1;
    *replied = 0;
    if (expire && str_expire_to_abs(c, expire, flags, cmdname, &when) != 0) {
        *replied = 1;
        return 0;
    }
    /* A plain SET needs no lookup first: db_set adds or replaces. Under LFU
     * it does, as Redis' SET always looks the key up for writing and so
     * counts an access the new value inherits. */
    obj *old = NULL;
    if ((flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL)) || objclock_policy_is_lfu(c->srv))
        old = db_lookup_write(c->db, key->ptr, key->len);
    else
        db_expire_if_needed(c->db, key->ptr, key->len);
    if ((flags & SET_GET) && old && objclock_policy_is_lfu(c->srv))
        objclock_touch(c->srv, old);   /* Redis' GET part reads it once more */
    if (flags & SET_GET) {
        /* ... and counts as a read: a keyspace hit or miss. */
        if (old)
            c->srv->stats.keyspace_hits++;
        else
            c->srv->stats.keyspace_misses++;
        if (old && old->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            *replied = 1;
            return 0;
        }
        if (old)
            reply_bulk_obj(c, old);
        else
            reply_null(c);
        *replied = 1;
    }
    if ((flags & SET_NX && old) || (flags & SET_XX && !old))
        return 0;
    db_set(c->db, key->ptr, key->len, obj_string_new(val->ptr, val->len), flags & SET_KEEPTTL);
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "set", key->ptr, key->len);
    if (when >= 0) {
        db_expire_set(c->db, key->ptr, key->len, when);
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "expire", key->ptr, key->len);
        /* 7.0.15 rewrites every expiring SET, PXAT included, so replicas
         * see one upper-case form whatever the client typed. */
        str_propagate_set_pxat(c, key, val, when);
    } else if (flags & SET_GET) {
        str_propagate_without_get(c);
    }
    return 1;
}

static void cmd_set(client *c)
{
    int flags;
    const resp_arg *expire;
    if (str_parse_options(c, 3, 0, &flags, &expire) != 0)
        return;
    int replied;
    int done = str_set_generic(c, &c->argv[1], &c->argv[2], flags, expire, "set", &replied);
    if (replied)
        return;
    if (done)
        reply_ok(c);
    else
        reply_null(c);
}

static void cmd_setnx(client *c)
{
    int replied;
    int done = str_set_generic(c, &c->argv[1], &c->argv[2], SET_NX, NULL, "setnx", &replied);
    reply_int(c, done);
}

static void cmd_setex(client *c)
{
    int replied;
    str_set_generic(c, &c->argv[1], &c->argv[3], SET_EX, &c->argv[2], "setex", &replied);
    if (!replied)
        reply_ok(c);
}

static void cmd_psetex(client *c)
{
    int replied;
    str_set_generic(c, &c->argv[1], &c->argv[3], SET_PX, &c->argv[2], "psetex", &replied);
    if (!replied)
        reply_ok(c);
}

static void cmd_get(client *c)
{
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    if (o)
        reply_bulk_obj(c, o);
    else
        reply_null(c);
}

static void cmd_getset(client *c)
{
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    if (o)
        reply_bulk_obj(c, o);
    else
        reply_null(c);
    db_set(c->db, c->argv[1].ptr, c->argv[1].len, obj_string_new(c->argv[2].ptr, c->argv[2].len), 0);
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "set", c->argv[1].ptr, c->argv[1].len);
    /* Propagated as SET so replicas do not depend on GETSET's reply. */
    resp_arg argv[3] = { { "SET", 3 }, c->argv[1], c->argv[2] };
    cmd_rewrite_argv(c, 3, argv);
}

static void cmd_getdel(client *c)
{
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    if (!o) {
        reply_null(c);
        return;
    }
    reply_bulk_obj(c, o);
    /* Under lazyfree-lazy-user-del a user delete is an UNLINK, which is
     * what 7.0 then propagates. */
    int lazy = c->srv->config.lazyfree_lazy_user_del;
    if (lazy)
        db_delete_lazy(c->db, c->argv[1].ptr, c->argv[1].len);
    else
        db_delete(c->db, c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", c->argv[1].ptr, c->argv[1].len);
    resp_arg argv[2] = { { lazy ? "UNLINK" : "DEL", lazy ? 6 : 3 }, c->argv[1] };
    cmd_rewrite_argv(c, 2, argv);
}

static void cmd_getex(client *c)
{
    int flags;
    const resp_arg *expire;
    if (str_parse_options(c, 2, 1, &flags, &expire) != 0)
        return;
    /* Redis looks the key up (nil, WRONGTYPE) before it checks the time. */
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    if (!o) {
        reply_null(c);
        return;
    }
    int64_t when = -1;
    if (expire && str_expire_to_abs(c, expire, flags, "getex", &when) != 0)
        return;
    reply_bulk_obj(c, o);
    const resp_arg *key = &c->argv[1];
    if (when >= 0) {
        char buf[32];
        int n = util_ll_to_str(buf, sizeof(buf), when);
        if (when <= c->srv->mstime && !c->srv->is_replica) {
            /* A time in the past deletes, as UNLINK under
             * lazyfree-lazy-expire (what 7.0 then propagates). */
            int lazy = c->srv->config.lazyfree_lazy_expire;
            if (lazy)
                db_delete_lazy(c->db, key->ptr, key->len);
            else
                db_delete(c->db, key->ptr, key->len);
            resp_arg argv[2] = { { lazy ? "UNLINK" : "DEL", lazy ? 6 : 3 }, *key };
            cmd_rewrite_argv(c, 2, argv);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
        } else {
            db_expire_set(c->db, key->ptr, key->len, when);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "expire", key->ptr, key->len);
            resp_arg argv[3] = { { "PEXPIREAT", 9 }, *key, { buf, (size_t)n } };
            cmd_rewrite_argv(c, 3, argv);
        }
        db_signal_modified(c->db, key->ptr, key->len);
        c->srv->dirty++;
    } else if (flags & SET_PERSIST) {
        if (db_expire_remove(c->db, key->ptr, key->len)) {
            resp_arg argv[2] = { { "PERSIST", 7 }, *key };
            cmd_rewrite_argv(c, 2, argv);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "persist", key->ptr, key->len);
            db_signal_modified(c->db, key->ptr, key->len);
            c->srv->dirty++;
        }
    }
}

static void cmd_mget(client *c)
{
    reply_array(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        obj *o = db_lookup_read(c->db, c->argv[j].ptr, c->argv[j].len);
        if (o && o->type == OBJ_STRING)
            reply_bulk_obj(c, o);
        else
            reply_null(c);
    }
}

static int str_mset_generic(client *c, int nx)
{
    if (c->argc % 2 == 0) {
        cmd_reply_arity(c);
        return -1;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2)
            if (db_lookup_write(c->db, c->argv[j].ptr, c->argv[j].len))
                return 0;
    }
    for (int j = 1; j < c->argc; j += 2) {
        /* Redis looks each key up for writing: an LFU access, and an
         * expired key is deleted (and that DEL propagated) first. */
        if (objclock_policy_is_lfu(c->srv))
            db_lookup_write(c->db, c->argv[j].ptr, c->argv[j].len);
        else
            db_expire_if_needed(c->db, c->argv[j].ptr, c->argv[j].len);
        db_set(c->db, c->argv[j].ptr, c->argv[j].len,
               obj_string_new(c->argv[j + 1].ptr, c->argv[j + 1].len), 0);
        c->srv->dirty++;
        notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "set", c->argv[j].ptr, c->argv[j].len);
    }
    return 1;
}

static void cmd_mset(client *c)
{
    if (str_mset_generic(c, 0) >= 0)
        reply_ok(c);
}

static void cmd_msetnx(client *c)
{
    int r = str_mset_generic(c, 1);
    if (r >= 0)
        reply_int(c, r);
}

/* ---- counters --------------------------------------------------------- */

static void str_incr_generic(client *c, long long incr)
{
    obj *o = db_lookup_write(c->db, c->argv[1].ptr, c->argv[1].len);
    if (o && o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    long long value = 0;
    if (o) {
        if (o->enc == OBJ_ENC_INT) {
            value = o->v.ival;
        } else if (!util_str_to_ll(o->v.str, kstr_len(o->v.str), &value)) {
            reply_error(c, ERR_NOT_INT);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) ||
        (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;
    if (o && o->enc == OBJ_ENC_INT) {
        o->v.ival = value;
        /* Redis' result is a shared integer again when it is small, unless
         * the maxmemory policy keeps integers unshared. */
        o->reserved &= (uint16_t)~OBJ_INT_UNSHARED;
        objclock_note_new_value(c->srv, o);
        db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    } else if (o) {
        db_replace_value(c->db, c->argv[1].ptr, c->argv[1].len, obj_string_from_ll(value));
        db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    } else {
        db_add(c->db, c->argv[1].ptr, c->argv[1].len, obj_string_from_ll(value));
    }
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "incrby", c->argv[1].ptr, c->argv[1].len);
    reply_int(c, value);
}

static void cmd_incr(client *c) { str_incr_generic(c, 1); }
static void cmd_decr(client *c) { str_incr_generic(c, -1); }

static void cmd_incrby(client *c)
{
    long long incr;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &incr)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    str_incr_generic(c, incr);
}

static void cmd_decrby(client *c)
{
    long long incr;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &incr)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (incr == LLONG_MIN) {
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    str_incr_generic(c, -incr);
}

static void cmd_incrbyfloat(client *c)
{
    obj *o = db_lookup_write(c->db, c->argv[1].ptr, c->argv[1].len);
    if (o && o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    long double value = 0, incr;
    if (o) {
        char buf[32];
        size_t len;
        const char *p = obj_string_ptr(o, buf, &len);
        if (!util_str_to_ldouble(p, len, &value)) {
            reply_error(c, ERR_NOT_FLOAT);
            return;
        }
    }
    if (!util_str_to_ldouble(c->argv[2].ptr, c->argv[2].len, &incr)) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char out[UTIL_MAX_LDOUBLE_CHARS];
    int n = util_ldouble_to_str(out, sizeof(out), value);
    /* Redis stores the result as text, never int-encoded (OBJECT ENCODING
     * embstr, REFCOUNT 1). */
    obj *nv = obj_string_new_text(out, (size_t)n);
    if (o)
        db_replace_value(c->db, c->argv[1].ptr, c->argv[1].len, nv);
    else
        db_add(c->db, c->argv[1].ptr, c->argv[1].len, nv);
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "incrbyfloat", c->argv[1].ptr, c->argv[1].len);
    db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty++;
    reply_bulk(c, out, (size_t)n);
    /* Replicas must not redo float math: send the result. */
    resp_arg argv[4] = { { "SET", 3 }, c->argv[1], { out, (size_t)n }, { "KEEPTTL", 7 } };
    cmd_rewrite_argv(c, 4, argv);
}

/* ---- byte ranges ------------------------------------------------------ */

static void cmd_append(client *c)
{
    const resp_arg *key = &c->argv[1], *val = &c->argv[2];
    obj *o = db_lookup_write(c->db, key->ptr, key->len);
    size_t total;
    if (!o) {
        db_add(c->db, key->ptr, key->len, obj_string_new(val->ptr, val->len));
        total = val->len;
    } else {
        if (o->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (str_check_length(c, obj_string_len(o), val->len) != 0)
            return;
        kstr s = obj_string_raw(o);
        s = kstr_cat(s, val->ptr, val->len);
        o->v.str = s;
        total = kstr_len(s);
        db_signal_modified(c->db, key->ptr, key->len);
    }
    c->srv->dirty++;
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "append", key->ptr, key->len);
    reply_int(c, (long long)total);
}

static void cmd_strlen(client *c)
{
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    reply_int(c, o ? (long long)obj_string_len(o) : 0);
}

static void cmd_getrange(client *c)
{
    long long start, end;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &start) ||
        !util_str_to_ll(c->argv[3].ptr, c->argv[3].len, &end)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    obj *o;
    if (str_lookup(c, &c->argv[1], &o) != 0)
        return;
    if (!o) {
        reply_bulk(c, "", 0);
        return;
    }
    char buf[32];
    size_t len;
    const char *p = obj_string_ptr(o, buf, &len);
    long long slen = (long long)len;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    if (start < 0) start = slen + start;
    if (end < 0) end = slen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= slen) end = slen - 1;
    if (start > end || slen == 0) {
        reply_bulk(c, "", 0);
        return;
    }
    reply_bulk(c, p + start, (size_t)(end - start + 1));
}

static void cmd_setrange(client *c)
{
    const resp_arg *key = &c->argv[1], *val = &c->argv[3];
    long long offset;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &offset)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    obj *o = db_lookup_write(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    size_t cur = o ? obj_string_len(o) : 0;
    if (val->len == 0) {
        reply_int(c, (long long)cur);
        return;
    }
    if (str_check_length(c, (unsigned long long)offset, val->len) != 0)
        return;
    if (!o) {
        o = obj_string_raw_from_kstr(kstr_empty(0));
        if (o->enc != OBJ_ENC_RAW)
            obj_string_raw(o);
        db_add(c->db, key->ptr, key->len, o);
    }
    kstr s = obj_string_raw(o);
    size_t need = (size_t)offset + val->len;
    if (kstr_len(s) < need)
        s = kstr_grow_zero(s, need);
    memcpy(s + offset, val->ptr, val->len);
    o->v.str = s;
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "setrange", key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
    c->srv->dirty++;
    reply_int(c, (long long)kstr_len(s));
}

/* ---- LCS -------------------------------------------------------------- */

typedef struct lcs_opts {
    int getlen;
    int getidx;
    int withmatchlen;
    long long minmatchlen;
} lcs_opts;

static int lcs_parse(client *c, lcs_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int j = 3; j < c->argc; j++) {
        const resp_arg *a = &c->argv[j];
        if (str_arg_is(a, "idx")) {
            o->getidx = 1;
        } else if (str_arg_is(a, "len")) {
            o->getlen = 1;
        } else if (str_arg_is(a, "withmatchlen")) {
            o->withmatchlen = 1;
        } else if (str_arg_is(a, "minmatchlen") && j + 1 < c->argc) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &o->minmatchlen)) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            if (o->minmatchlen < 0)
                o->minmatchlen = 0;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (o->getlen && o->getidx) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return -1;
    }
    return 0;
}

/* Fetch a string for LCS: missing keys are empty; other types refuse. */
static const char *lcs_value(client *c, const resp_arg *key, char *buf, size_t *len, int *bad)
{
    obj *o = db_lookup_read(c->db, key->ptr, key->len);
    *len = 0;
    if (!o)
        return "";
    if (o->type != OBJ_STRING) {
        *bad = 1;
        return "";
    }
    return obj_string_ptr(o, buf, len);
}

static void lcs_emit_range(client *c, uint32_t as, uint32_t ae, uint32_t bs, uint32_t be, int withlen)
{
    reply_array(c, 2 + withlen);
    reply_array(c, 2);
    reply_int(c, as);
    reply_int(c, ae);
    reply_array(c, 2);
    reply_int(c, bs);
    reply_int(c, be);
    if (withlen)
        reply_int(c, (long long)(ae - as + 1));
}

static void cmd_lcs(client *c)
{
    /* Redis checks the key types before it parses the options. */
    char abuf[32], bbuf[32];
    size_t alen, blen;
    int bad = 0;
    const char *a = lcs_value(c, &c->argv[1], abuf, &alen, &bad);
    const char *b = lcs_value(c, &c->argv[2], bbuf, &blen, &bad);
    if (bad) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    lcs_opts o;
    if (lcs_parse(c, &o) != 0)
        return;
    /* The table is (alen+1)*(blen+1) cells. Both lengths are below 2^32
     * (a kstr's limit), so the cell count fits; its byte size may not.
     * As in Redis: too big to compute, or an allocation that fails, is
     * one error, more than proto-max-bulk-len another. */
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells > SIZE_MAX / sizeof(uint32_t)) {
        reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    if (cells * sizeof(uint32_t) > c->srv->config.proto_max_bulk_len) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *dp = mem_try_alloc(cells * sizeof(uint32_t));
    if (dp == NULL) {
        reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
#define LCS_AT(i, j) dp[(size_t)(j) + (size_t)(i) * (blen + 1)]
    for (size_t i = 0; i <= alen; i++) {
        for (size_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0)
                LCS_AT(i, j) = 0;
            else if (a[i - 1] == b[j - 1])
                LCS_AT(i, j) = LCS_AT(i - 1, j - 1) + 1;
            else
                LCS_AT(i, j) = LCS_AT(i - 1, j) > LCS_AT(i, j - 1) ? LCS_AT(i - 1, j) : LCS_AT(i, j - 1);
        }
    }
    uint32_t idx = LCS_AT(alen, blen);
    char *result = (o.getlen || o.getidx) ? NULL : mem_alloc((size_t)idx + 1);
    void *matches_len = NULL;
    long long nmatches = 0;
    if (o.getidx) {
        reply_map(c, 2);
        reply_bulk_cstr(c, "matches");
        matches_len = reply_defer_len(c);
    }
    /* Walk back from the end, collecting ranges of contiguous matches. */
    uint32_t as = (uint32_t)alen, ae = 0, bs = 0, be = 0;
    size_t i = alen, j = blen;
    uint32_t left = idx;
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            if (result)
                result[left - 1] = a[i - 1];
            if (as == alen) {
                as = ae = (uint32_t)(i - 1);
                bs = be = (uint32_t)(j - 1);
            } else if (as == i && bs == j) {
                as--;
                bs--;
            } else {
                emit = 1;
            }
            if (as == 0 || bs == 0)
                emit = 1;
            left--;
            i--;
            j--;
        } else {
            if (LCS_AT(i - 1, j) > LCS_AT(i, j - 1))
                i--;
            else
                j--;
            if (as != alen)
                emit = 1;
        }
        if (emit) {
            long long mlen = (long long)(ae - as + 1);
            if (o.getidx && (o.minmatchlen == 0 || mlen >= o.minmatchlen)) {
                lcs_emit_range(c, as, ae, bs, be, o.withmatchlen);
                nmatches++;
            }
            as = (uint32_t)alen;
        }
    }
#undef LCS_AT
    mem_free(dp);
    if (o.getidx) {
        reply_set_deferred_len(c, matches_len, nmatches);
        reply_bulk_cstr(c, "len");
        reply_int(c, idx);
    } else if (o.getlen) {
        reply_int(c, idx);
    } else {
        reply_bulk(c, result, idx);
        mem_free(result);
    }
}

const cmd_def t_string_commands[] = {
    { "get", cmd_get, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @string @fast" },
    { "set", cmd_set, -3, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow" },
    { "setnx", cmd_setnx, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "setex", cmd_setex, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow" },
    { "psetex", cmd_psetex, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow" },
    { "getset", cmd_getset, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "getdel", cmd_getdel, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "getex", cmd_getex, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "mget", cmd_mget, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "@read @string @fast" },
    { "mset", cmd_mset, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, "@write @string @slow" },
    { "msetnx", cmd_msetnx, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, "@write @string @slow" },
    { "incr", cmd_incr, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "decr", cmd_decr, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "incrby", cmd_incrby, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "decrby", cmd_decrby, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "incrbyfloat", cmd_incrbyfloat, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "append", cmd_append, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @string @fast" },
    { "strlen", cmd_strlen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @string @fast" },
    { "getrange", cmd_getrange, 4, CMD_READONLY, 1, 1, 1, "@read @string @slow" },
    { "substr", cmd_getrange, 4, CMD_READONLY, 1, 1, 1, "@read @string @slow" },
    { "lcs", cmd_lcs, -3, CMD_READONLY, 1, 2, 1, "@read @string @slow" },
    { "setrange", cmd_setrange, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
