/* db: the keyspace of one database: lookups with lazy expiry, writes that
 * signal WATCH and blocked clients, TTLs, and the active expiry cycle. */
#include <string.h>
#include "db.h"
#include "notify.h"
#include "command.h"
#include "server.h"
#include "multi.h"
#include "blocking.h"
#include "tracking.h"
#include "mem.h"
#include "util.h"
#include "log.h"
#include "objclock.h"
#include "deque.h"
#include "setobj.h"
#include "hmap.h"
#include "zset.h"
#include "stream.h"
#include "stream_cg.h"

static const dict_type db_keys_type = { obj_free_void };
static const dict_type db_expires_type = { NULL };

void db_init(kvdb *db, srv *s, int id)
{
    memset(db, 0, sizeof(*db));
    db->srv = s;
    db->id = id;
    db->keys = dict_create(&db_keys_type);
    db->expires = dict_create(&db_expires_type);
    db->watched = NULL;
    db->blocking = NULL;
}

void db_release(kvdb *db)
{
    dict_free(db->keys);
    dict_free(db->expires);
    if (db->watched)
        dict_free(db->watched);
    if (db->blocking)
        dict_free(db->blocking);
    db->keys = db->expires = db->watched = db->blocking = NULL;
}

size_t db_size(const kvdb *db)
{
    return dict_size(db->keys);
}

size_t db_expires_size(const kvdb *db)
{
    return dict_size(db->expires);
}

int64_t db_expire_get(kvdb *db, const char *key, size_t len)
{
    if (dict_size(db->expires) == 0)
        return -1;
    dict_entry *e = dict_find(db->expires, key, len);
    return e ? e->v.i64 : -1;
}

int db_key_is_expired(kvdb *db, const char *key, size_t len)
{
    int64_t when = db_expire_get(db, key, len);
    if (when < 0)
        return 0;
    /* While loading, nothing expires: the file is a consistent snapshot. */
    if (db->srv->loading)
        return 0;
    return when <= db->srv->mstime;
}

/* ---- lazy freeing, as Redis 7.0 counts it ----
 * Redis hands a deleted value to its lazyfree thread when the delete is
 * lazy (UNLINK, FLUSH* ASYNC, the lazyfree-lazy-* options) and freeing it
 * costs more than LAZYFREE_THRESHOLD "effort" units: one per element of a
 * hashtable / skiplist, one per quicklist node of a list, one for anything
 * compact. The agent frees inline but keeps the count INFO shows. */

#define DB_LAZYFREE_THRESHOLD 64

/* A list's quicklist node count, as Redis counts a list's free effort. */
static size_t db_list_free_effort(const deque *q)
{
    return deque_node_count(q);
}

size_t db_free_effort(const obj *o)
{
    switch (o->type) {
    case OBJ_LIST:
        return db_list_free_effort(o->v.ptr);
    case OBJ_SET:
        return setobj_is_intset(o->v.ptr) ? 1 : setobj_len(o->v.ptr);
    case OBJ_HASH:
        return hmap_is_small(o->v.ptr) ? 1 : hmap_len(o->v.ptr);
    case OBJ_ZSET:
        return zset_is_compact(o->v.ptr) ? 1 : zset_len(o->v.ptr);
    case OBJ_STREAM: {
        /* Redis counts the radix tree's nodes (one allocation each) and
         * the groups. */
        const stream *st = o->v.ptr;
        return stream_rax_nodes(st) + stream_cg_count(st->cgroups);
    }
    default:
        return 1;
    }
}

void db_count_lazy_free(srv *s, const obj *o)
{
    if (o && db_free_effort(o) > DB_LAZYFREE_THRESHOLD)
        s->stats.lazyfreed_objects++;
}

int db_delete_lazy(kvdb *db, const char *key, size_t len)
{
    db_count_lazy_free(db->srv, db_peek(db, key, len));
    return db_delete(db, key, len);
}

/* Expired keys are deleted on the master and the deletion propagated, so
 * replicas (which never expire on their own) stay consistent: as UNLINK
 * under lazyfree-lazy-expire, as Redis 7.0 writes it, else as DEL. */
static void db_delete_expired(kvdb *db, const char *key, size_t len)
{
    srv *s = db->srv;
    int lazy = s->config.lazyfree_lazy_expire;
    resp_arg argv[2] = { { lazy ? "UNLINK" : "DEL", lazy ? 6 : 3 }, { key, len } };
    s->stats.expired_keys++;
    cmd_propagate_during(s, db->id, 2, argv);
    if (lazy)
        db_delete_lazy(db, key, len);
    else
        db_delete(db, key, len);
    notify_keyspace_event(db, CFG_NOTIFY_EXPIRED, "expired", key, len);
}

int db_expire_if_needed(kvdb *db, const char *key, size_t len)
{
    if (!db_key_is_expired(db, key, len))
        return 0;
    if (db->srv->is_replica)
        return 1;
    db_delete_expired(db, key, len);
    return 1;
}

static obj *db_lookup(kvdb *db, const char *key, size_t len, int count_stats)
{
    if (db_expire_if_needed(db, key, len)) {
        if (count_stats)
            db->srv->stats.keyspace_misses++;
        return NULL;
    }
    dict_entry *e = dict_find(db->keys, key, len);
    if (!e) {
        if (count_stats)
            db->srv->stats.keyspace_misses++;
        return NULL;
    }
    obj *o = e->v.ptr;
    objclock_touch(db->srv, o);
    if (count_stats)
        db->srv->stats.keyspace_hits++;
    return o;
}

obj *db_lookup_read(kvdb *db, const char *key, size_t len)
{
    obj *o = db_lookup(db, key, len, 1);
    if (o == NULL)
        notify_keyspace_event(db, CFG_NOTIFY_KEY_MISS, "keymiss", key, len);
    return o;
}

obj *db_lookup_write(kvdb *db, const char *key, size_t len)
{
    return db_lookup(db, key, len, 0);
}

obj *db_lookup_quiet(kvdb *db, const char *key, size_t len)
{
    dict_entry *e = dict_find(db->keys, key, len);
    return e ? e->v.ptr : NULL;
}

void db_prefetch(kvdb *db, size_t n, const char *const *keys, const size_t *lens)
{
    const void *values[DICT_PREFETCH_MAX];
    if (n > DICT_PREFETCH_MAX)
        n = DICT_PREFETCH_MAX;
    dict_prefetch(db->keys, n, keys, lens, values);
    dict_prefetch(db->expires, n, keys, lens, NULL);
    /* Last stage: what the values point to (an overwritten string is read
     * when it is freed). Their objects were asked for above. */
    for (size_t i = 0; i < n; i++)
        if (values[i] != NULL)
            obj_prefetch_payload(values[i]);
}

obj *db_peek(const kvdb *db, const char *key, size_t len)
{
    const dict_entry *e = dict_peek(db->keys, key, len);
    return e ? e->v.ptr : NULL;
}

/* A value stored under a new key: a new value gets its first stamp (LFU:
 * the initial counter); one moved from another key (RENAME, MOVE) keeps its
 * LFU counter, and under LRU counts as accessed now. */
static void db_stamp_added(srv *s, obj *val)
{
    if (val->reserved & OBJ_LRU_UNSET)
        objclock_note_new_value(s, val);
    if ((val->reserved & OBJ_LRU_UNSET) || !objclock_policy_is_lfu(s))
        objclock_stamp_new(s, val);
    val->reserved &= (uint16_t)~OBJ_LRU_UNSET;
}

/* A key's value replaced: under LFU the new value inherits the old one's
 * counter, as Redis' dbOverwrite does (the key stays as hot as it was);
 * under LRU it counts as accessed now. */
static void db_stamp_overwrite(srv *s, const obj *old, obj *val)
{
    if (old != val)
        objclock_note_new_value(s, val);
    if (!objclock_policy_is_lfu(s))
        objclock_stamp_new(s, val);
    else if (old != val)
        val->lru = old->lru;
    val->reserved &= (uint16_t)~OBJ_LRU_UNSET;
}

void db_add(kvdb *db, const char *key, size_t len, obj *val)
{
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(db->keys, key, len, &existing);
    if (!e) {
        /* Callers guarantee absence; be safe rather than leak. */
        obj_free(existing->v.ptr);
        existing->v.ptr = val;
    } else {
        e->v.ptr = val;
    }
    db_stamp_added(db->srv, val);
    notify_keyspace_event(db, CFG_NOTIFY_NEW, "new", key, len);
    db_signal_modified(db, key, len);
    /* Blocked BLPOP / BZPOPMIN clients may be waiting for this key. */
    if (val->type == OBJ_LIST || val->type == OBJ_ZSET || val->type == OBJ_STREAM)
        db_signal_list_ready(db, key, len);
}

void db_replace_value(kvdb *db, const char *key, size_t len, obj *val)
{
    dict_entry *e = dict_find(db->keys, key, len);
    if (!e) {
        db_add(db, key, len, val);
        return;
    }
    db_stamp_overwrite(db->srv, e->v.ptr, val);
    if (e->v.ptr != val) {
        db_signal_value_gone(db, key, len, e->v.ptr);
        obj_free(e->v.ptr);
    }
    e->v.ptr = val;
}

void db_set(kvdb *db, const char *key, size_t len, obj *val, int keep_ttl)
{
    /* One hash lookup: add, or learn the existing entry. */
    dict_entry *e = NULL;
    dict_entry *added = dict_add(db->keys, key, len, &e);
    if (added) {
        added->v.ptr = val;
        db_stamp_added(db->srv, val);
        notify_keyspace_event(db, CFG_NOTIFY_NEW, "new", key, len);
        db_signal_modified(db, key, len);
        if (val->type == OBJ_LIST || val->type == OBJ_ZSET || val->type == OBJ_STREAM)
            db_signal_list_ready(db, key, len);
        return;
    }
    db_stamp_overwrite(db->srv, e->v.ptr, val);
    if (e->v.ptr != val) {
        db_signal_value_gone(db, key, len, e->v.ptr);
        obj_free(e->v.ptr);
    }
    e->v.ptr = val;
    if (!keep_ttl)
        db_expire_remove(db, key, len);
    db_signal_modified(db, key, len);
    if (val->type == OBJ_LIST || val->type == OBJ_ZSET || val->type == OBJ_STREAM)
        db_signal_list_ready(db, key, len);
}

int db_delete(kvdb *db, const char *key, size_t len)
{
    if (db->blocking && dict_size(db->blocking))
        db_signal_value_gone(db, key, len, db_peek(db, key, len));
    if (dict_size(db->expires) > 0)
        dict_delete(db->expires, key, len);
    if (!dict_delete(db->keys, key, len))
        return 0;
    db_signal_modified(db, key, len);
    return 1;
}

void db_expire_set(kvdb *db, const char *key, size_t len, int64_t when_ms)
{
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(db->expires, key, len, &existing);
    if (!e)
        e = existing;
    e->v.i64 = when_ms;
}

int db_expire_remove(kvdb *db, const char *key, size_t len)
{
    if (dict_size(db->expires) == 0)
        return 0;
    return dict_delete(db->expires, key, len);
}

long long db_flush_lazy(kvdb *db, int lazy)
{
    long long removed = db_flush(db);
    /* FLUSH* ASYNC hands every key of the db to Redis' lazyfree thread. */
    if (lazy)
        db->srv->stats.lazyfreed_objects += removed;
    return removed;
}

long long db_flush(kvdb *db)
{
    long long n = (long long)dict_size(db->keys);
    /* Touch watchers first: only keys that exist count as modified. */
    multi_touch_all(db);
    tracking_db_flushed(db->srv);
    /* blocked XREADGROUP clients learn after the command that their
     * stream is gone */
    blocking_scan_ready(db);
    dict_clear(db->keys);
    dict_clear(db->expires);
    db->avg_ttl = 0;
    db->expire_cursor = 0;
    return n;
}

int db_rename(kvdb *db, const char *from, size_t flen, const char *to, size_t tlen, int keep_dst)
{
    dict_entry *src = dict_find(db->keys, from, flen);
    if (!src)
        return -1;
    if (flen == tlen && memcmp(from, to, flen) == 0)
        return 0;
    if (keep_dst && dict_find(db->keys, to, tlen))
        return 0;
    int64_t ttl = db_expire_get(db, from, flen);
    dict_entry *moved = dict_unlink(db->keys, from, flen);
    obj *val = moved->v.ptr;
    moved->v.ptr = NULL;
    dict_free_unlinked(db->keys, moved);
    db_signal_value_gone(db, from, flen, val);
    db_expire_remove(db, from, flen);
    db_signal_modified(db, from, flen);
    /* The destination's old value goes first: the moved value keeps its
     * own access clock (LFU counter), as in Redis. */
    db_delete(db, to, tlen);
    db_add(db, to, tlen, val);
    if (ttl >= 0)
        db_expire_set(db, to, tlen, ttl);
    return 1;
}

kstr db_random_key(kvdb *db)
{
    /* Bounded: with every key expired (on a replica) we may never find one. */
    for (int tries = 0; tries < 100; tries++) {
        dict_entry *e = dict_random(db->keys);
        if (!e)
            return NULL;
        kstr key = kstr_dup(e->key);
        if (!db_key_is_expired(db, key, kstr_len(key)))
            return key;
        if (!db->srv->is_replica)
            db_delete_expired(db, key, kstr_len(key));
        kstr_free(key);
        if (db->srv->is_replica && tries >= 99)
            return NULL;
    }
    return NULL;
}

void db_signal_modified(kvdb *db, const char *key, size_t len)
{
    if (db->watched && dict_size(db->watched))
        multi_touch_key(db, key, len);
    tracking_key_modified(db->srv, key, len);
}

void db_signal_list_ready(kvdb *db, const char *key, size_t len)
{
    if (db->blocking && dict_size(db->blocking))
        blocking_signal_ready(db, key, len);
}

/* Redis answers a blocked XREADGROUP whose stream went away (DEL, SET of
 * another type, RENAME, MOVE, FLUSHDB...) with -UNBLOCKED, or -NOGROUP
 * when a new stream took its place: the key's re-run after the command
 * finds out which. */
void db_signal_value_gone(kvdb *db, const char *key, size_t len, const obj *old)
{
    if (old != NULL && old->type == OBJ_STREAM)
        db_signal_list_ready(db, key, len);
}

/* Active expiry, in the spirit of Redis' cycle: walk the expires dict with a
 * scan cursor, sampling a batch of keys per db; repeat while a good share of
 * the sample was expired and the time budget lasts. */
typedef struct expire_batch {
    kstr keys[64];
    int64_t when[64];
    int n;
} expire_batch;

static void db_expire_collect(void *priv, const dict_entry *e)
{
    expire_batch *b = priv;
    if (b->n < 64) {
        b->keys[b->n] = kstr_dup(e->key);
        b->when[b->n] = e->v.i64;
        b->n++;
    }
}

static long long db_expire_db_step(kvdb *db, int *sampled)
{
    expire_batch b;
    long long expired = 0;
    b.n = 0;
    int buckets = 0;
    do {
        db->expire_cursor = dict_scan(db->expires, db->expire_cursor, db_expire_collect, &b);
        buckets++;
    } while (db->expire_cursor != 0 && b.n < 20 && buckets < 400);
    /* Unsigned, so that TTLs set near LLONG_MAX (PEXPIREAT takes any
     * positive time) wrap as Redis' long long sum does in practice,
     * instead of overflowing. */
    uint64_t ttl_sum = 0;
    long long ttl_samples = 0;
    for (int i = 0; i < b.n; i++) {
        if (b.when[i] <= db->srv->mstime) {
            db_delete_expired(db, b.keys[i], kstr_len(b.keys[i]));
            expired++;
        } else {
            ttl_sum += (uint64_t)(b.when[i] - db->srv->mstime);
            ttl_samples++;
        }
        kstr_free(b.keys[i]);
    }
    /* A moving estimate of the db's average TTL, as INFO keyspace shows. */
    if (ttl_samples) {
        long long avg = (long long)ttl_sum / ttl_samples;
        db->avg_ttl = db->avg_ttl == 0 ? avg : (db->avg_ttl / 50) * 49 + avg / 50;
    }
    *sampled = b.n;
    return expired;
}

/* INFO's expired_stale_perc: every cycle moves the estimate 5% towards
 * the share of this cycle's samples that were expired (0 when it sampled
 * nothing), as Redis' activeExpireCycle does. */
static void db_expire_cycle_stats(srv *s, long long expired, long long sampled, int timed_out)
{
    double current = sampled ? (double)expired / (double)sampled : 0.0;
    s->stats.expired_stale_perc = current * 0.05 + s->stats.expired_stale_perc * 0.95;
    if (timed_out)
        s->stats.expired_time_cap_reached_count++;
}

long long db_active_expire_cycle(srv *s, long long budget_us)
{
    if (s->is_replica || s->loading)
        return 0;
    long long total = 0, total_sampled = 0;
    int timed_out = 0;
    int64_t start = util_mono_us();
    for (int i = 0; i < s->dbnum && !timed_out; i++) {
        kvdb *db = &s->dbs[i];
        for (int round = 0; round < 64; round++) {
            if (dict_size(db->expires) == 0)
                break;
            int sampled = 0;
            long long expired = db_expire_db_step(db, &sampled);
            total += expired;
            total_sampled += sampled;
            if (sampled == 0 || expired * 10 < sampled)
                break;   /* few expired keys in the sample: this db is done */
            if (util_mono_us() - start > budget_us) {
                timed_out = 1;
                break;
            }
        }
    }
    db_expire_cycle_stats(s, total, total_sampled, timed_out);
    return total;
}

void db_cron_rehash(srv *s)
{
    for (int i = 0; i < s->dbnum; i++) {
        kvdb *db = &s->dbs[i];
        dict_maybe_shrink(db->keys);
        dict_maybe_shrink(db->expires);
        if (dict_is_rehashing(db->keys)) {
            dict_rehash_ms(db->keys, 1);
            return;
        }
        if (dict_is_rehashing(db->expires)) {
            dict_rehash_ms(db->expires, 1);
            return;
        }
    }
}
