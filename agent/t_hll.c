/* t_hll: PFADD, PFCOUNT and PFMERGE over HyperLogLog strings (hll.h), with
 * Redis 7.0.15's replies and errors. An HLL is an ordinary string value,
 * so GET, DUMP, RDB and replication carry it unchanged; these commands
 * only check that a string looks like an HLL before touching it.
 *
 * PFCOUNT of a single key stores the estimate in the header cache, which
 * makes it a write (dirty, key signalled) exactly when the cache was stale. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "hll.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"

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
    if (o->enc != OBJ_ENC_RAW || !hll_is_valid(o->v.str, kstr_len(o->v.str))) {
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
        o = obj_string_from_kstr(hll_new());
        db_add(c->db, ARG(1), ARGLEN(1), o);
        updated++;
    } else if (th_check(c, o) < 0) {
        return;
    }
    size_t sparse_max = th_sparse_max(c);
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
        dst = obj_string_from_kstr(hll_new());
        db_add(c->db, ARG(1), ARGLEN(1), dst);
    }
    kstr s = dst->v.str;
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
    db_signal_modified(c->db, ARG(1), ARGLEN(1));
    c->srv->dirty++;
    reply_ok(c);
out:
    mem_free(max);
}

const cmd_def t_hll_commands[] = {
    {"pfadd", cmd_pfadd, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hyperloglog @fast"},
    {"pfcount", cmd_pfcount, -2, CMD_READONLY | CMD_MAY_REPLICATE, 1, -1, 1, "@read @hyperloglog @slow"},
    {"pfmerge", cmd_pfmerge, -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @hyperloglog @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
