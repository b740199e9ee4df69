/* t_hash: the hash commands (HSET ... HRANDFIELD) on top of the hmap
 * container. Replies follow Redis 7.0: small hashes answer in insertion
 * order (hmap keeps the listpack order), empty hashes are deleted, and
 * HINCRBYFLOAT is propagated as an HSET of the final value so replicas
 * never redo floating point arithmetic. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "client.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "hmap.h"
#include "mem.h"
#include "object.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------ */

static int arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

/* Look a hash up. Returns 0 with *out (NULL when missing), or -1 after
 * replying WRONGTYPE. */
static int hash_lookup(client *c, const resp_arg *key, int write, obj **out)
{
    obj *o = write ? db_lookup_write(c->db, key->ptr, key->len)
                   : db_lookup_read(c->db, key->ptr, key->len);
    if (o && o->type != OBJ_HASH) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

static hmap *hash_of(obj *o)
{
    return o->v.ptr;
}

/* The encoding thresholds live in hmap's globals; follow the config
 * (file, command line, CONFIG SET) before any write that may convert. */
static void hash_sync_limits(client *c)
{
    long long entries = c->srv->config.hash_max_listpack_entries;
    long long value = c->srv->config.hash_max_listpack_value;
    hmap_max_small_entries = entries > 0 ? (size_t)entries : 0;
    hmap_max_small_value = value > 0 ? (size_t)value : 0;
}

/* The hash at key for writing, created when missing; NULL after a
 * WRONGTYPE reply. */
static obj *hash_lookup_or_create(client *c, const resp_arg *key)
{
    obj *o;
    hash_sync_limits(c);
    if (hash_lookup(c, key, 1, &o) < 0)
        return NULL;
    if (!o) {
        o = obj_hash_new();
        db_add(c->db, key->ptr, key->len, o);
    }
    return o;
}

/* The command's keyspace event, then the modification signal. */
static void hash_signal(client *c, const resp_arg *key, const char *event)
{
    notify_keyspace_event(c->db, CFG_NOTIFY_HASH, event, key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
}

/* ---- writes ------------------------------------------------------------- */

/* HSET / HMSET key field value [field value ...] */
static void hset_generic(client *c, int reply_count)
{
    if (c->argc % 2 == 1) {
        cmd_reply_arity(c);
        return;
    }
    obj *o = hash_lookup_or_create(c, &c->argv[1]);
    if (!o)
        return;
    long long created = 0;
    for (int j = 2; j < c->argc; j += 2)
        created += hmap_set(hash_of(o), c->argv[j].ptr, c->argv[j].len,
                            c->argv[j + 1].ptr, c->argv[j + 1].len);
    if (reply_count)
        reply_int(c, created);
    else
        reply_ok(c);
    hash_signal(c, &c->argv[1], "hset");
    c->srv->dirty += (c->argc - 2) / 2;
}

static void cmd_hset(client *c) { hset_generic(c, 1); }
static void cmd_hmset(client *c) { hset_generic(c, 0); }

static void cmd_hsetnx(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (o && hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len)) {
        reply_int(c, 0);
        return;
    }
    o = hash_lookup_or_create(c, &c->argv[1]);
    hmap_set(hash_of(o), c->argv[2].ptr, c->argv[2].len, c->argv[3].ptr, c->argv[3].len);
    reply_int(c, 1);
    hash_signal(c, &c->argv[1], "hset");
    c->srv->dirty++;
}

static void cmd_hdel(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 1, &o) < 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    long long deleted = 0;
    int key_removed = 0;
    for (int j = 2; j < c->argc; j++) {
        if (hmap_del(hash_of(o), c->argv[j].ptr, c->argv[j].len)) {
            deleted++;
            if (hmap_len(hash_of(o)) == 0) {
                db_delete(c->db, c->argv[1].ptr, c->argv[1].len);
                key_removed = 1;
                break;
            }
        }
    }
    if (deleted) {
        if (!key_removed) {
            hash_signal(c, &c->argv[1], "hdel");
        } else {
            notify_keyspace_event(c->db, CFG_NOTIFY_HASH, "hdel", c->argv[1].ptr, c->argv[1].len);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", c->argv[1].ptr, c->argv[1].len);
        }
        c->srv->dirty += deleted;
    }
    reply_int(c, deleted);
}

static void cmd_hincrby(client *c)
{
    long long incr, value = 0;
    if (!util_str_to_ll(c->argv[3].ptr, c->argv[3].len, &incr)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    obj *o = hash_lookup_or_create(c, &c->argv[1]);
    if (!o)
        return;
    kstr cur = hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len);
    if (cur && !util_str_to_ll(cur, kstr_len(cur), &value)) {
        reply_error(c, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;
    char buf[32];
    int n = util_ll_to_str(buf, sizeof(buf), value);
    hmap_set(hash_of(o), c->argv[2].ptr, c->argv[2].len, buf, (size_t)n);
    reply_int(c, value);
    hash_signal(c, &c->argv[1], "hincrby");
    c->srv->dirty++;
}

static void cmd_hincrbyfloat(client *c)
{
    long double incr, value = 0;
    if (!util_str_to_ldouble(c->argv[3].ptr, c->argv[3].len, &incr)) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    obj *o = hash_lookup_or_create(c, &c->argv[1]);
    if (!o)
        return;
    kstr cur = hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len);
    if (cur && !util_str_to_ldouble(cur, kstr_len(cur), &value)) {
        reply_error(c, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5120];
    int n = util_ldouble_to_str(buf, sizeof(buf), value);
    hmap_set(hash_of(o), c->argv[2].ptr, c->argv[2].len, buf, (size_t)n);
    reply_bulk(c, buf, (size_t)n);
    hash_signal(c, &c->argv[1], "hincrbyfloat");
    c->srv->dirty++;

    /* Replicas get the result, not the increment: long double arithmetic
     * may differ between machines. */
    resp_arg argv[4] = {
        {"HSET", 4}, c->argv[1], c->argv[2], {buf, (size_t)n},
    };
    cmd_rewrite_argv(c, 4, argv);
}

/* ---- reads -------------------------------------------------------------- */

static void cmd_hget(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    kstr v = o ? hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len) : NULL;
    if (v)
        reply_bulk_kstr(c, v);
    else
        reply_null(c);
}

static void cmd_hmget(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        kstr v = o ? hmap_get(hash_of(o), c->argv[j].ptr, c->argv[j].len) : NULL;
        if (v)
            reply_bulk_kstr(c, v);
        else
            reply_null(c);
    }
}

static void cmd_hexists(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    reply_int(c, o && hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len) ? 1 : 0);
}

static void cmd_hlen(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    reply_int(c, o ? (long long)hmap_len(hash_of(o)) : 0);
}

static void cmd_hstrlen(client *c)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    kstr v = o ? hmap_get(hash_of(o), c->argv[2].ptr, c->argv[2].len) : NULL;
    reply_int(c, v ? (long long)kstr_len(v) : 0);
}

/* HASH_PAIRS: fields with values as HRANDFIELD sends them, one
 * [field, value] array per pair in RESP3 (HGETALL's are a map). */
enum { HASH_FIELDS = 1, HASH_VALUES = 2, HASH_PAIRS = 4 };

/* Every field and/or value of a hash, in its iteration order. */
static void hash_reply_all(client *c, hmap *h, int what)
{
    long long len = (long long)hmap_len(h);
    int nested = (what & HASH_PAIRS) && c->resp_version >= 3;
    if (what & HASH_PAIRS)
        reply_array(c, nested ? len : len * 2);
    else if (what == (HASH_FIELDS | HASH_VALUES))
        reply_map(c, len);
    else
        reply_array(c, len);
    hmap_iter it;
    kstr f, v;
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &f, &v)) {
        if (nested)
            reply_array(c, 2);
        if (what & HASH_FIELDS)
            reply_bulk_kstr(c, f);
        if (what & HASH_VALUES)
            reply_bulk_kstr(c, v);
    }
    hmap_iter_release(&it);
}

static void hgetall_generic(client *c, int what)
{
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o && what == (HASH_FIELDS | HASH_VALUES))
        reply_map(c, 0);
    else if (!o)
        reply_empty_array(c);
    else
        hash_reply_all(c, hash_of(o), what);
}

static void cmd_hgetall(client *c) { hgetall_generic(c, HASH_FIELDS | HASH_VALUES); }
static void cmd_hkeys(client *c) { hgetall_generic(c, HASH_FIELDS); }
static void cmd_hvals(client *c) { hgetall_generic(c, HASH_VALUES); }

/* ---- HSCAN -------------------------------------------------------------- */

/* Cursor as Redis parses it: strtoul rules (so "-1" wraps), but no leading
 * space, no trailing bytes, no overflow. */
static int hash_parse_cursor(const resp_arg *a, uint64_t *out)
{
    return util_parse_scan_cursor(a->ptr, a->len, out);
}

typedef struct hscan_acc {
    kstr *items;      /* field, value, field, value ... (borrowed) */
    size_t len;
    size_t cap;
} hscan_acc;

static void hscan_collect(void *priv, kstr field, kstr value)
{
    hscan_acc *acc = priv;
    if (acc->len + 2 > acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 32;
        acc->items = mem_realloc(acc->items, acc->cap * sizeof(kstr));
    }
    acc->items[acc->len++] = field;
    acc->items[acc->len++] = value;
}

static void cmd_hscan(client *c)
{
    uint64_t cursor;
    if (!hash_parse_cursor(&c->argv[2], &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    obj *o;
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    if (!o) {
        reply_array(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    long long count = 10;
    const resp_arg *pat = NULL;
    for (int j = 3; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (more && arg_is(&c->argv[j], "count")) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &count)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            j++;
        } else if (more && arg_is(&c->argv[j], "match")) {
            pat = &c->argv[++j];
            /* "*" matches everything: skip the matching work */
            if (pat->len == 1 && pat->ptr[0] == '*')
                pat = NULL;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }

    /* Small hashes come back whole (hmap_scan returns cursor 0); large ones
     * are walked bucket by bucket until COUNT pairs or 10*COUNT steps, as
     * Redis bounds the work of one call. */
    hscan_acc acc = {0};
    hmap *h = hash_of(o);
    uint64_t steps = util_scan_budget(count);
    do {
        cursor = hmap_scan(h, cursor, hscan_collect, &acc);
    } while (cursor && steps-- > 0 && (long long)(acc.len / 2) < count);

    size_t kept = 0;
    for (size_t i = 0; i < acc.len; i += 2) {
        kstr f = acc.items[i];
        if (pat && !util_glob_match(pat->ptr, pat->len, f, kstr_len(f), 0))
            continue;
        acc.items[kept++] = f;
        acc.items[kept++] = acc.items[i + 1];
    }
    char cur[32];
    int n = snprintf(cur, sizeof(cur), "%llu", (unsigned long long)cursor);
    reply_array(c, 2);
    reply_bulk(c, cur, (size_t)n);
    reply_array(c, (long long)kept);
    for (size_t i = 0; i < kept; i++)
        reply_bulk_kstr(c, acc.items[i]);
    mem_free(acc.items);
}

/* ---- HRANDFIELD --------------------------------------------------------- */

/* The array header for count fields: RESP3 nests each field with its value. */
static void hrand_reply_len(client *c, long long count, int withvalues)
{
    reply_array(c, withvalues && c->resp_version < 3 ? count * 2 : count);
}

static void hrand_reply_pair(client *c, kstr f, kstr v, int withvalues)
{
    if (withvalues && c->resp_version >= 3)
        reply_array(c, 2);
    reply_bulk_kstr(c, f);
    if (withvalues)
        reply_bulk_kstr(c, v);
}

/* Distinct random fields, fewer than the hash holds: pick a random subset
 * of the pairs and answer it in hash order, which is what Redis does for
 * listpacks (and a valid random order for dicts). */
static void hrand_distinct(client *c, hmap *h, long long count, int withvalues)
{
    size_t n = hmap_len(h);
    kstr *pairs = mem_alloc(n * 2 * sizeof(kstr));
    hmap_iter it;
    kstr f, v;
    size_t i = 0;
    hmap_iter_init(h, &it);
    while (i < n && hmap_iter_next(&it, &f, &v)) {
        pairs[2 * i] = f;
        pairs[2 * i + 1] = v;
        i++;
    }
    hmap_iter_release(&it);
    hrand_reply_len(c, count, withvalues);
    /* selection sampling (Knuth's algorithm S): keeps the original order */
    size_t need = (size_t)count;
    for (size_t k = 0; k < n && need > 0; k++) {
        size_t left = n - k;
        if ((size_t)random() % left < need) {
            hrand_reply_pair(c, pairs[2 * k], pairs[2 * k + 1], withvalues);
            need--;
        }
    }
    mem_free(pairs);
}

static void hrandfield_with_count(client *c, obj *o, long long count, int withvalues)
{
    if (!o || count == 0) {
        reply_empty_array(c);
        return;
    }
    hmap *h = hash_of(o);
    kstr f, v;
    if (count < 0) {
        /* repetitions allowed: count independent picks */
        long long n = -count;
        hrand_reply_len(c, n, withvalues);
        /* n is the client's (up to 2^63-1): stop once the reply cannot be
         * delivered anyway. */
        for (long long i = 0; i < n && !reply_is_discarded(c); i++) {
            if (hmap_random(h, &f, &v))
                hrand_reply_pair(c, f, v, withvalues);
        }
        return;
    }
    if ((unsigned long long)count >= hmap_len(h)) {
        hash_reply_all(c, h, withvalues ? (HASH_FIELDS | HASH_VALUES | HASH_PAIRS) : HASH_FIELDS);
        return;
    }
    hrand_distinct(c, h, count, withvalues);
}

static void cmd_hrandfield(client *c)
{
    obj *o;
    if (c->argc >= 3) {
        long long count;
        int withvalues = 0;
        if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &count)) {
            reply_error(c, ERR_NOT_INT);
            return;
        }
        if (count < -LLONG_MAX) {
            reply_error(c, "ERR value is out of range, value must between "
                           "-9223372036854775807 and 9223372036854775807");
            return;
        }
        if (c->argc == 4 && arg_is(&c->argv[3], "withvalues")) {
            /* the reply would hold 2*count elements */
            withvalues = 1;
            if (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2) {
                reply_error(c, "ERR value is out of range");
                return;
            }
        } else if (c->argc >= 4) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
        if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
            return;
        hrandfield_with_count(c, o, count, withvalues);
        return;
    }
    if (hash_lookup(c, &c->argv[1], 0, &o) < 0)
        return;
    kstr f, v;
    if (!o || !hmap_random(hash_of(o), &f, &v)) {
        reply_null(c);
        return;
    }
    reply_bulk_kstr(c, f);
}

const cmd_def t_hash_commands[] = {
    {"hset", cmd_hset, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hash @fast"},
    {"hsetnx", cmd_hsetnx, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hash @fast"},
    {"hmset", cmd_hmset, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hash @fast"},
    {"hget", cmd_hget, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast"},
    {"hmget", cmd_hmget, -3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast"},
    {"hdel", cmd_hdel, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @hash @fast"},
    {"hexists", cmd_hexists, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast"},
    {"hlen", cmd_hlen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast"},
    {"hstrlen", cmd_hstrlen, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast"},
    {"hgetall", cmd_hgetall, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow"},
    {"hkeys", cmd_hkeys, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow"},
    {"hvals", cmd_hvals, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow"},
    {"hincrby", cmd_hincrby, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hash @fast"},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
     "@write @hash @fast"},
    {"hscan", cmd_hscan, -3, CMD_READONLY, 1, 1, 1, "@read @hash @slow"},
    {"hrandfield", cmd_hrandfield, -2, CMD_READONLY, 1, 1, 1, "@read @hash @slow"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
