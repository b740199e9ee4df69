/* t_hll: PFADD, PFCOUNT and PFMERGE over HyperLogLog strings (hll.h), with
 * Redis 7.0.15's replies and errors. An HLL is an ordinary string value,
 * so GET, DUMP, RDB and replication carry it unchanged; these commands
 * only check that a string looks like an HLL before touching it.
 *
 * PFCOUNT of a single key stores the estimate in the header cache, which
 * makes it a write (dirty, key signalled) exactly when the cache was stale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "hll.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define ARG(i) (c->argv[(i)].ptr)
#define ARGLEN(i) (c->argv[(i)].len)

#define ERR_HLL_WRONGTYPE "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_HLL_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

static void hll_cfg_value(void *priv, const char *name, const char *value)
{
    (void)name;
    *(long long *)priv = strtoll(value, NULL, 10);
}

/* hll-sparse-max-bytes, read each time so CONFIG SET takes effect at once. */
static size_t th_sparse_max(client *c)
{
    long long v = 3000;
    cfg_get(&c->srv->config, "hll-sparse-max-bytes", strlen("hll-sparse-max-bytes"), hll_cfg_value, &v);
    return v < 0 ? 0 : (size_t)v;
}

/* Replies with an error and returns -1 unless o is a string holding an HLL.
 * An integer-encoded string can never be one. */
static int th_check(client *c, const obj *o)
{
    if (o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    if (o->enc == OBJ_ENC_INT || !hll_is_valid(o->v.str, kstr_len(o->v.str))) {
        reply_error(c, ERR_HLL_WRONGTYPE);
        return -1;
    }
    return 0;
}

static void cmd_pfadd(client *c)
{
    obj *o = db_lookup_write(c->db, ARG(1), ARGLEN(1));
    long long updated = 0;
    if (!o) {
        o = obj_string_raw_from_kstr(hll_new());
        db_add(c->db, ARG(1), ARGLEN(1), o);
        updated++;
    } else if (th_check(c, o) < 0) {
        return;
    }
    size_t sparse_max = th_sparse_max(c);
    obj_string_raw(o);   /* the HLL may grow: it needs a kstr of its own */
    for (int j = 2; j < c->argc; j++) {
        kstr s = o->v.str;
        int r = hll_add(&s, ARG(j), ARGLEN(j), sparse_max);
        o->v.str = s;
        if (r < 0) {
            reply_error(c, ERR_HLL_CORRUPT);
            return;
        }
        updated += r;
    }
    if (updated) {
        hll_cache_invalidate(o->v.str);
        notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "pfadd", ARG(1), ARGLEN(1));
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
        c->srv->dirty += updated;
    }
    reply_int(c, updated ? 1 : 0);
}

/* PFCOUNT of several keys: the union's estimate, nothing cached. */
static void th_count_union(client *c)
{
    uint8_t *max = mem_calloc(HLL_REGISTERS);
    for (int j = 1; j < c->argc; j++) {
        obj *o = db_lookup_read(c->db, ARG(j), ARGLEN(j));
        if (!o)
            continue;
        if (th_check(c, o) < 0) {
            mem_free(max);
            return;
        }
        if (hll_merge_into(max, o->v.str, kstr_len(o->v.str)) < 0) {
            mem_free(max);
            reply_error(c, ERR_HLL_CORRUPT);
            return;
        }
    }
    reply_int(c, (long long)hll_count_registers(max));
    mem_free(max);
}

static void cmd_pfcount(client *c)
{
    if (c->argc > 2) {
        th_count_union(c);
        return;
    }
    obj *o = db_lookup_read(c->db, ARG(1), ARGLEN(1));
    if (!o) {
        reply_int(c, 0);
        return;
    }
    if (th_check(c, o) < 0)
        return;
    /* Redis unshares the value first (it may write the cached count): a
     * loaded embstr HLL turns raw. */
    obj_string_raw(o);
    uint64_t card;
    if (hll_cache_valid(o->v.str)) {
        card = hll_cache_get(o->v.str);
    } else {
        if (hll_count(o->v.str, kstr_len(o->v.str), &card) < 0) {
            reply_error(c, ERR_HLL_CORRUPT);
            return;
        }
        hll_cache_set(o->v.str, card);
        db_signal_modified(c->db, ARG(1), ARGLEN(1));
        c->srv->dirty++;
    }
    reply_int(c, (long long)card);
}

/* Registers of every source (the destination included, as in Redis) are
 * max-merged, then written into the destination, which turns dense if any
 * source was dense and otherwise stays sparse while it fits. */
static void cmd_pfmerge(client *c)
{
    uint8_t *max = mem_calloc(HLL_REGISTERS);
    int use_dense = 0;
    for (int j = 1; j < c->argc; j++) {
        obj *o = db_lookup_read(c->db, ARG(j), ARGLEN(j));
        if (!o)
            continue;
        if (th_check(c, o) < 0)
            goto out;
        if ((uint8_t)o->v.str[4] == HLL_DENSE)
            use_dense = 1;
        if (hll_merge_into(max, o->v.str, kstr_len(o->v.str)) < 0) {
            reply_error(c, ERR_HLL_CORRUPT);
            goto out;
        }
    }
    obj *dst = db_lookup_write(c->db, ARG(1), ARGLEN(1));
    if (!dst) {
        dst = obj_string_raw_from_kstr(hll_new());
        db_add(c->db, ARG(1), ARGLEN(1), dst);
    }
    kstr s = obj_string_raw(dst);
    if (use_dense && hll_to_dense(&s) < 0) {
        dst->v.str = s;
        reply_error(c, ERR_HLL_CORRUPT);
        goto out;
    }
    size_t sparse_max = th_sparse_max(c);
    for (long i = 0; i < HLL_REGISTERS; i++)
        if (max[i] && hll_set(&s, i, max[i], sparse_max) < 0)
            break;   /* cannot happen: the destination was checked above */
    dst->v.str = s;
    hll_cache_invalidate(s);
    /* PFMERGE says pfadd, as in Redis */
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "pfadd", ARG(1), ARGLEN(1));
    db_signal_modified(c->db, ARG(1), ARGLEN(1));
    c->srv->dirty++;
    reply_ok(c);
out:
    mem_free(max);
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. GETREG and TODENSE convert
 * a sparse HLL to dense, a change that must reach replicas (dirty). */
static int th_debug_todense(client *c, obj *o)
{
    if ((uint8_t)o->v.str[4] != HLL_SPARSE)
        return 0;
    kstr s = obj_string_raw(o);
    int r = hll_to_dense(&s);
    o->v.str = s;
    if (r < 0) {
        reply_error(c, ERR_HLL_CORRUPT);
        return -1;
    }
    c->srv->dirty++;
    db_signal_modified(c->db, ARG(2), ARGLEN(2));
    return 1;
}

static void cmd_pfdebug(client *c)
{
    obj *o = db_lookup_write(c->db, ARG(2), ARGLEN(2));
    if (!o) {
        reply_error(c, "ERR The specified key does not exist");
        return;
    }
    if (th_check(c, o) < 0)
        return;
    obj_string_raw(o);   /* as Redis, which unshares the value for every subcommand */
    if (util_strcasecmp_len(ARG(1), ARGLEN(1), "getreg") == 0) {
        if (th_debug_todense(c, o) < 0)
            return;
        reply_array(c, HLL_REGISTERS);
        for (long j = 0; j < HLL_REGISTERS; j++)
            reply_int(c, hll_dense_register(o->v.str, j));
    } else if (util_strcasecmp_len(ARG(1), ARGLEN(1), "decode") == 0) {
        if ((uint8_t)o->v.str[4] != HLL_SPARSE) {
            reply_error(c, "ERR HLL encoding is not sparse");
            return;
        }
        kstr d = hll_sparse_describe(o->v.str, kstr_len(o->v.str));
        reply_bulk(c, d, kstr_len(d));
        kstr_free(d);
    } else if (util_strcasecmp_len(ARG(1), ARGLEN(1), "encoding") == 0) {
        reply_simple(c, (uint8_t)o->v.str[4] == HLL_SPARSE ? "sparse" : "dense");
    } else if (util_strcasecmp_len(ARG(1), ARGLEN(1), "todense") == 0) {
        int r = th_debug_todense(c, o);
        if (r >= 0)
            reply_int(c, r);
    } else {
        reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)ARGLEN(1), ARG(1));
    }
}

/* PFSELFTEST: a quick check of this build's HLL code (encodings agree with
 * each other and the estimate stays within a few standard errors). */
static int th_selftest(void)
{
    kstr sparse = hll_new(), dense = hll_new();
    if (hll_to_dense(&dense) < 0)
        return -1;
    char buf[32];
    int bad = 0;
    for (int i = 0; i < 20000 && !bad; i++) {
        int n = snprintf(buf, sizeof(buf), "selftest:%d", i);
        int a = hll_add(&sparse, buf, (size_t)n, 100000), b = hll_add(&dense, buf, (size_t)n, 3000);
        bad = a < 0 || a != b;
    }
    uint64_t c1 = 0, c2 = 0;
    if (!bad)
        bad = hll_count(sparse, kstr_len(sparse), &c1) < 0 || hll_count(dense, kstr_len(dense), &c2) < 0 ||
              c1 != c2;
    /* 1.04/sqrt(16384) is 0.81% standard error: allow five of them. */
    if (!bad)
        bad = c1 < 20000 * 0.96 || c1 > 20000 * 1.04;
    kstr_free(sparse);
    kstr_free(dense);
    return bad ? -1 : 0;
}

static void cmd_pfselftest(client *c)
{
    if (th_selftest() < 0)
        reply_error(c, "ERR TESTFAILED HLL self test failed");
    else
        reply_ok(c);
}

const cmd_def t_hll_commands[] = {
    {"pfadd", cmd_pfadd, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hyperloglog @fast"},
    {"pfcount", cmd_pfcount, -2, CMD_READONLY, 1, -1, 1, "@read @hyperloglog @slow"},
    {"pfmerge", cmd_pfmerge, -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @hyperloglog @slow"},
    {"pfdebug", cmd_pfdebug, 3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, 2, 2, 1,
     "@write @hyperloglog @admin @slow @dangerous"},
    {"pfselftest", cmd_pfselftest, 1, CMD_ADMIN, 0, 0, 0, "@hyperloglog @admin @slow @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
