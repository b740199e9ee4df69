/* db: the keyspace. Each of the `databases` dbs holds a dict of key -> obj*
 * and a dict of key -> expire time (unix ms). Reads expire lazily; an active
 * cycle samples keys with a TTL. A replica never expires keys itself: it
 * reports them missing to readers and waits for the master's DEL.
 *
 * Every change to a key must go through db_add/db_set/db_delete or be
 * followed by db_signal_modified, so WATCH and blocked clients hear of it. */
#ifndef KV_DB_H
#define KV_DB_H
#include <stddef.h>
#include <stdint.h>
#include "dict.h"
#include "object.h"

struct srv;

typedef struct kvdb {
    struct srv *srv;
    int id;
    dict *keys;       /* kstr -> obj* */
    dict *expires;    /* kstr -> v.i64 unix ms */
    dict *watched;    /* kstr -> client list (multi.c) */
    dict *blocking;   /* kstr -> client list (blocking.c) */
    long long avg_ttl;
    uint64_t expire_cursor;
} kvdb;

void db_init(kvdb *db, struct srv *srv, int id);
void db_release(kvdb *db);
size_t db_size(const kvdb *db);
size_t db_expires_size(const kvdb *db);

/* Lookups return NULL for a missing or logically expired key. The read
 * variant counts keyspace hits/misses and refreshes the LRU clock. */
obj *db_lookup_read(kvdb *db, const char *key, size_t len);
obj *db_lookup_write(kvdb *db, const char *key, size_t len);
/* No side effects at all (no stats, no expiry): for SCAN, KEYS, INFO. */
obj *db_lookup_quiet(kvdb *db, const char *key, size_t len);
/* Cache warming for keys that pipelined commands are about to look up. */
void db_prefetch(kvdb *db, size_t n, const char *const *keys, const size_t *lens);
/* The value of key without side effects (no expiry, stats or rehash step):
 * for hints only. */
obj *db_peek(const kvdb *db, const char *key, size_t len);

/* Add a key that must not exist (takes ownership of val). */
void db_add(kvdb *db, const char *key, size_t len, obj *val);
/* Add or overwrite; drops the TTL unless keep_ttl. Signals the key. */
void db_set(kvdb *db, const char *key, size_t len, obj *val, int keep_ttl);
/* Replace the value of an existing key, keeping its TTL (no signal). */
void db_replace_value(kvdb *db, const char *key, size_t len, obj *val);
/* Remove a key (and its TTL). Returns 1 if it existed. Signals the key. */
int db_delete(kvdb *db, const char *key, size_t len);

/* TTL handling. db_expire_get returns -1 when the key has no TTL. */
int64_t db_expire_get(kvdb *db, const char *key, size_t len);
void db_expire_set(kvdb *db, const char *key, size_t len, int64_t when_ms);
int db_expire_remove(kvdb *db, const char *key, size_t len);
/* Is the key past its TTL (regardless of role)? */
int db_key_is_expired(kvdb *db, const char *key, size_t len);
/* On a master: delete the key if it is expired (propagating DEL). Returns 1
 * when the key is (logically) expired. */
int db_expire_if_needed(kvdb *db, const char *key, size_t len);

/* Lazy freeing as Redis 7.0 counts it (INFO lazyfreed_objects): the cost
 * of freeing a value in Redis' units; count o if Redis would have freed it
 * in its background thread; delete a key lazily (UNLINK, DEL under
 * lazyfree-lazy-user-del), counting it. */
size_t db_free_effort(const obj *o);
void db_count_lazy_free(struct srv *s, const obj *o);
int db_delete_lazy(kvdb *db, const char *key, size_t len);

/* Empty the db; returns the number of keys removed. */
long long db_flush(kvdb *db);
/* The same for FLUSHALL / FLUSHDB: lazy (ASYNC, or lazyfree-lazy-user-flush
 * without a flag) counts every key removed in INFO lazyfreed_objects. */
long long db_flush_lazy(kvdb *db, int lazy);
/* Move a key between dbs (MOVE) or rename within one: done with the dict
 * entries themselves so values are not copied. */
int db_rename(kvdb *db, const char *from, size_t flen, const char *to, size_t tlen, int keep_dst);
/* A random key (copy) that is not expired, or NULL. */
kstr db_random_key(kvdb *db);

/* Change notifications. */
void db_signal_modified(kvdb *db, const char *key, size_t len);
/* A list key received elements: wake clients blocked on it. */
void db_signal_list_ready(kvdb *db, const char *key, size_t len);
/* key's value old is leaving the key (deleted, overwritten, moved away):
 * when it was a stream, clients blocked in XREADGROUP on it are answered
 * after the command, as Redis 7.0 does. Cheap when nobody blocks. */
void db_signal_value_gone(kvdb *db, const char *key, size_t len, const struct obj *old);

/* Active expiry: sample keys with a TTL for up to budget_us microseconds
 * over all dbs. Returns the number of keys expired. */
long long db_active_expire_cycle(struct srv *srv, long long budget_us);
/* Incremental rehash / shrink of all dicts (server cron). */
void db_cron_rehash(struct srv *srv);

#endif
