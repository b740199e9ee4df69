/* config: redis.conf syntax (file, then --directive value overrides), the
 * table of directives, CONFIG GET/SET/RESETSTAT support. Every directive has
 * one entry in a table (name, type, bounds, where it is stored), so parsing,
 * CONFIG GET and CONFIG SET share one description. */
#ifndef KV_CONFIG_H
#define KV_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_SAVE_POINTS 16
#define CFG_MAX_BIND 16

typedef struct cfg_save_point {
    long long seconds;
    long long changes;
} cfg_save_point;

/* client-output-buffer-limit class: 0 normal, 1 replica, 2 pubsub */
typedef struct cfg_obuf_limit {
    unsigned long long hard;
    unsigned long long soft;
    long long soft_seconds;
} cfg_obuf_limit;

enum { MAXMEM_NOEVICTION = 0, MAXMEM_ALLKEYS_LRU, MAXMEM_VOLATILE_LRU,
       MAXMEM_ALLKEYS_RANDOM, MAXMEM_VOLATILE_RANDOM, MAXMEM_VOLATILE_TTL,
       MAXMEM_ALLKEYS_LFU, MAXMEM_VOLATILE_LFU };

typedef struct cfg {
    /* network */
    int port;
    char *bind[CFG_MAX_BIND];
    int bind_count;
    int protected_mode;
    int tcp_backlog;
    long long timeout;          /* idle client timeout, seconds, 0 = never */
    int tcp_keepalive;
    long long maxclients;
    /* process */
    int daemonize;
    char *pidfile;
    char *logfile;
    int loglevel;
    char *dir;
    int databases;
    char *requirepass;
    unsigned long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    /* LFU counter (agent/objclock.c): growth and decay, as Redis 7.0 */
    long long lfu_log_factor;
    long long lfu_decay_time;   /* minutes per decrement, 0 = never */
    unsigned long long proto_max_bulk_len;
    unsigned long long client_query_buffer_limit;
    /* maxmemory-clients: bytes, or -N for N% of maxmemory, 0 = off */
    long long maxmemory_clients;
    cfg_obuf_limit obuf_limits[3];
    int hz;
    int active_expire_effort;
    /* persistence (RDB issue) */
    char *dbfilename;
    cfg_save_point save_points[CFG_MAX_SAVE_POINTS];
    int save_point_count;
    int rdbcompression;
    int rdbchecksum;
    int stop_writes_on_bgsave_error;
    int appendonly;
    char *appendfilename;
    char *appendfsync;
    char *appenddirname;        /* under dir: the multi-part AOF (aof.c) */
    int aof_use_rdb_preamble;   /* base file as RDB (yes) or as commands */
    int aof_load_truncated;
    int aof_disable_auto_gc;
    long long auto_aof_rewrite_percentage;
    long long auto_aof_rewrite_min_size;
    /* replication (replication issue) */
    char *replicaof_host;       /* NULL when master */
    int replicaof_port;
    char *masterauth;
    char *masteruser;
    unsigned long long repl_backlog_size;
    long long repl_backlog_ttl;
    int replica_read_only;
    int replica_serve_stale_data;
    int min_replicas_to_write;
    int min_replicas_max_lag;
    int repl_ping_replica_period;
    int repl_timeout;
    int replica_priority;
    int repl_diskless_sync;
    int repl_diskless_sync_delay;
    int repl_diskless_load;     /* 0 disabled, 1 on-empty-db, 2 swapdb */
    int repl_disable_tcp_nodelay;
    char *replica_announce_ip;
    int replica_announce_port;
    int replica_announced;
    int replica_lazy_flush;
    /* encodings */
    long long hash_max_listpack_entries;
    long long stream_node_max_bytes;    /* a stream node's listpack cap (0: none) */
    long long stream_node_max_entries;  /* entries per stream node (0: no cap) */
    long long hash_max_listpack_value;
    long long set_max_intset_entries;
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    long long list_max_listpack_size;
    long long list_compress_depth;      /* for lists created from now on */
    /* controller registration (controller issue) */
    char *controller;
    char *controller_token;
    char *node_name;
    char *cluster;
    /* fencing (fence.c): only acted on when `controller` is set */
    int fence_on_start;         /* a master starts fenced */
    long long fence_after_stall_ms; /* fence after the process stalled this long, 0 = never */
    /* misc */
    int lazyfree_lazy_user_del;
    int lazyfree_lazy_expire;      /* expired keys deleted as UNLINK (db.c) */
    int lazyfree_lazy_user_flush;  /* FLUSHALL / FLUSHDB without a flag are ASYNC */
    long long slowlog_log_slower_than;
    long long slowlog_max_len;
    long long busy_reply_threshold; /* ms a script runs before others get -BUSY */
    long long latency_monitor_threshold; /* ms, 0 = latency monitor off (latency.h) */
    long long rdb_key_save_delay;        /* us slept per key saved (tests); < 0: busy loop, see rdb_save.c */
    long long key_load_delay;            /* the same per key loaded */
    char *config_file;          /* absolute path, NULL when none */
    /* keyspace notifications, Redis' NOTIFY_* bits (CFG_NOTIFY_*) */
    int notify_keyspace_events;
    /* `user` directives in file order, each "name rule rule ..." as its
     * words (acl.c builds the users from them; checked while loading). */
    struct cfg_user_line { int argc; char **argv; } *user_lines;
    int user_line_count;
    /* private to config.c */
    char **extra;               /* values of accepted-but-unused directives */
    int loading_file;           /* inside cfg_load: `save` accumulates */
    int save_loaded;            /* the first `save` line replaced the defaults */
} cfg;

/* notify-keyspace-events bits, the values Redis uses */
#define CFG_NOTIFY_KEYSPACE (1 << 0)   /* K */
#define CFG_NOTIFY_KEYEVENT (1 << 1)   /* E */
#define CFG_NOTIFY_GENERIC (1 << 2)    /* g */
#define CFG_NOTIFY_STRING (1 << 3)     /* $ */
#define CFG_NOTIFY_LIST (1 << 4)       /* l */
#define CFG_NOTIFY_SET (1 << 5)        /* s */
#define CFG_NOTIFY_HASH (1 << 6)       /* h */
#define CFG_NOTIFY_ZSET (1 << 7)       /* z */
#define CFG_NOTIFY_EXPIRED (1 << 8)    /* x */
#define CFG_NOTIFY_EVICTED (1 << 9)    /* e */
#define CFG_NOTIFY_STREAM (1 << 10)    /* t */
#define CFG_NOTIFY_KEY_MISS (1 << 11)  /* m */
#define CFG_NOTIFY_LOADED (1 << 12)    /* module only */
#define CFG_NOTIFY_MODULE (1 << 13)    /* d */
#define CFG_NOTIFY_NEW (1 << 14)       /* n */
#define CFG_NOTIFY_ALL (CFG_NOTIFY_GENERIC | CFG_NOTIFY_STRING | CFG_NOTIFY_LIST | \
                        CFG_NOTIFY_SET | CFG_NOTIFY_HASH | CFG_NOTIFY_ZSET | \
                        CFG_NOTIFY_EXPIRED | CFG_NOTIFY_EVICTED | CFG_NOTIFY_STREAM | \
                        CFG_NOTIFY_MODULE)  /* A */

/* Fill defaults (Redis 7.0's). */
void cfg_init(cfg *c);
void cfg_free(cfg *c);
/* Parse a config file and then argv-style overrides ("--port" "6380" ...),
 * argv holding only the arguments after the config file. As redis-server
 * does, the overrides become config lines appended after the file's lines
 * (so their line numbers continue the file's). On error returns -1 and
 * writes the fatal message into err, without the blank line Redis prints
 * before it and the newline after it:
 *   *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *   Reading the configuration file /abs/path, at line 2
 *   >>> 'port "abc"'
 *   argument couldn't be parsed into an integer
 * path may be NULL (overrides only). `dir` is validated and stored as an
 * absolute path; changing the working directory is the caller's job. */
int cfg_load(cfg *c, const char *path, int argc, char **argv, char *err, size_t errlen);
/* Parse config text (for tests; path used in messages). */
int cfg_load_string(cfg *c, const char *text, const char *path, char *err, size_t errlen);

/* CONFIG GET pattern: calls fn(name, value) for every matching directive
 * (names and aliases, in table order; a pattern without glob characters is
 * looked up case-insensitively and reported under the name as given). */
typedef void cfg_get_fn(void *priv, const char *name, const char *value);
void cfg_get(const cfg *c, const char *pattern, size_t patlen, cfg_get_fn *fn, void *priv);
/* CONFIG SET of one directive. Returns 0, or -1 with Redis' error text in
 * err (e.g. "ERR Unknown option or number of arguments for CONFIG SET - 'x'").
 * Multi-argument directives (save, bind, client-output-buffer-limit...) take
 * their words in one value separated by single spaces, as Redis splits them.
 * If the apply hook fails, the old value is restored and its error returned. */
int cfg_set(cfg *c, const char *name, const char *value, size_t vlen, char *err, size_t errlen);
/* Is this directive settable at run time? 0 = unknown, 1 = mutable, 2 = immutable */
int cfg_is_mutable(const char *name);
/* Apply-hook called after a successful CONFIG SET of a directive, so modules
 * can react (e.g. resize the backlog). Set by the server. */
typedef int cfg_apply_fn(void *priv, const char *name, char *err, size_t errlen);
void cfg_set_apply_hook(cfg_apply_fn *fn, void *priv);

#endif
