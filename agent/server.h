/* server: the process-wide context handed to every module through
 * client->srv or kvdb->srv: the config, the dbs, the client list, the
 * counters INFO prints, and the hooks later modules plug into. It is passed,
 * never a global, so modules (and tests) can run more than one. */
#ifndef KV_SERVER_H
#define KV_SERVER_H
/* The redis-server version whose interface the agent implements. */
#define SRV_REDIS_VERSION "7.0.15"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "config.h"
#include "db.h"
#include "resp.h"
#include "fence.h"

struct client;

typedef struct srv_stats {
    long long total_connections_received;
    long long total_commands_processed;
    long long rejected_connections;
    long long expired_keys;
    long long evicted_keys;
    long long keyspace_hits;
    long long keyspace_misses;
    long long net_input_bytes;
    long long net_output_bytes;
    long long net_repl_input_bytes;
    long long net_repl_output_bytes;
    long long total_error_replies;
    long long unexpected_error_replies;
    long long client_obuf_limit_disconnections;
    long long client_qbuf_limit_disconnections;
    long long client_maxmemory_disconnections; /* replies stopped at maxmemory */
    long long evicted_clients;                 /* maxmemory-clients */
    long long pubsub_messages;
    long long expire_cycle_cpu_ms;
    /* Values Redis 7.0 would have freed in its lazyfree thread (UNLINK and
     * friends of a big value, FLUSH* ASYNC per key): INFO lazyfreed_objects.
     * The agent frees them inline, so nothing is ever pending. */
    long long lazyfreed_objects;
    /* The active expiry cycle as Redis 7.0 reports it: a running average
     * (5% per cycle) of the share of sampled keys found expired, and how
     * often a cycle ran out of time. */
    double expired_stale_perc;
    long long expired_time_cap_reached_count;
    long long sync_full;
    long long sync_partial_ok;
    long long sync_partial_err;
    int64_t reset_time_ms;
} srv_stats;

typedef struct srv_listener {
    uv_tcp_t tcp;
    struct srv *srv;
    char addr[64];
} srv_listener;

/* Hook invoked for every write that must reach replicas / the AOF. */
typedef void srv_propagate_fn(struct srv *srv, int dbid, int argc, const resp_arg *argv);

typedef struct srv {
    cfg config;
    uv_loop_t *loop;
    srv_listener *listeners[CFG_MAX_BIND];   /* heap: CONFIG SET port replaces them */
    int listener_count;
    uv_timer_t cron_timer;
    uv_signal_t sig_term;
    uv_signal_t sig_int;
    uv_check_t after_io;       /* flush pending writes each loop iteration */
    int shutdown_asap;
    int shutdown_flags;        /* SHUTDOWN NOSAVE / SAVE */

    kvdb *dbs;
    int dbnum;

    /* clients */
    struct client *clients;    /* doubly linked list */
    size_t client_count;
    size_t blocked_clients;
    size_t pubsub_clients;
    size_t watching_clients;
    uint64_t next_client_id;
    struct client *pending_writes;
    struct client *current_client;
    unsigned long long client_commands; /* run for clients other than a master link */

    /* time cached at each command so a command sees one "now" */
    int64_t mstime;
    int64_t ustime;
    uint32_t lru_clock;        /* seconds, wraps */
    uint64_t clock_anchor_ticks; /* util_ticks() when the wall clock was last read */
    int64_t clock_anchor_us;   /* ... and what it said */
    int64_t start_time_ms;
    char run_id[41];
    char executable[1024];

    /* dataset change counter since last save */
    long long dirty;
    long long dirty_before_cmd;
    /* propagation seam: set by replication (NULL = nothing to feed) */
    srv_propagate_fn *propagate;
    void *repl;                /* replication module state */
    /* Called after each command read from our master (CLIENT_MASTER) with
     * the exact bytes it occupied in the stream, so the replica can count
     * its offset and proxy the stream to its own replicas and backlog. */
    void (*on_master_stream)(struct srv *s, struct client *master, const char *bytes, size_t len);
    /* Called when a client whose c->repl is set is detached (closed or
     * freed), so replication can forget a replica, its master link or a
     * client blocked in WAIT. */
    void (*on_client_free)(struct srv *s, struct client *c);
    void *rdb;                 /* persistence module state */
    void *aof;                 /* AOF module state (aof.c) */
    /* Called before replies are written (once per loop iteration and before
     * each socket write), so the AOF is written, and fsync'd for
     * appendfsync always, before the acknowledgements leave. */
    void (*before_reply_write)(struct srv *s);
    /* persistence seam, set by the RDB module: a foreground save (SHUTDOWN,
     * SIGTERM, FLUSHALL with save points) and whether save points exist. */
    int (*persist_save)(struct srv *s, char *err, size_t errlen);
    int (*persist_has_save_points)(struct srv *s);
    /* DEBUG RELOAD: save, empty, load back. */
    int (*persist_reload)(struct srv *s, char *err, size_t errlen);
    int is_replica;            /* role: replicas don't expire keys, are read-only */
    int loading;               /* an RDB load is in progress */
    int active_expire_disabled; /* DEBUG SET-ACTIVE-EXPIRE 0: no expiry in the cron */
    srv_fence fence;           /* a master waiting for its controller (fence.c) */
    void *scripting;           /* script.c: Lua state, script cache (lazily made) */
    void *functions;           /* function.c: the function libraries (lazily made) */
    int script_busy;           /* a script passed busy-reply-threshold: -BUSY to others */

    /* pub/sub */
    dict *pubsub_channels;     /* channel -> client list */
    dict *pubsub_patterns;     /* pattern -> client list */
    void *tracking;            /* CLIENT TRACKING state (tracking.c) */
    /* blocking: keys that became ready during the current command */
    void *ready_keys;

    srv_stats stats;
    size_t peak_memory;
    long long cron_loops;
    int hz;
} srv;

/* Life cycle (server.c). */
int srv_init(srv *s, char *err, size_t errlen);
int srv_listen(srv *s, char *err, size_t errlen);
int srv_run(srv *s);
void srv_release(srv *s);
void srv_update_time(srv *s);
/* Ask the loop to stop after the current iteration (SHUTDOWN, SIGTERM). */
enum { SHUTDOWN_DEFAULT = 0, SHUTDOWN_NOSAVE = 1, SHUTDOWN_SAVE = 2 };
void srv_request_shutdown(srv *s, int flags);
/* Save (if asked or if save points exist) before exiting. Returns 0 when
 * the process may exit; -1 with err when the save failed. */
int srv_prepare_shutdown(srv *s, int flags, char *err, size_t errlen);
/* First thing a fork child (BGSAVE, BGREWRITEAOF) does: default signal
 * handlers, the listening sockets closed, log lines marked 'C'. */
void srv_fork_child_setup(srv *s);
/* Feed a command to the propagation hook (replication). */
void srv_propagate(srv *s, int dbid, int argc, const resp_arg *argv);
/* used_memory as INFO reports it and as maxmemory compares it. */
size_t srv_used_memory(srv *s);
/* Evict keys per maxmemory-policy until under maxmemory. Returns 0 when
 * under the limit, -1 when it cannot get there (noeviction). */
int srv_evict_if_needed(srv *s);
/* Count an error reply by its code for INFO errorstats. */
void srv_count_error(srv *s, const char *err);
void srv_reset_error_stats(srv *s);
/* Generate the INFO text for a section ("default", "all", "server", ...). */
kstr srv_info(srv *s, const char *section, kstr out);
/* INFO with several section names (all, everything, default, unknown
 * names ignored), each section once, in Redis' order. */
kstr srv_info_multi(srv *s, int count, const char *const *names, kstr out);

/* Modules that need a periodic tick register it here (max 16). */
typedef void srv_cron_fn(srv *s, void *priv);
void srv_add_cron(srv *s, srv_cron_fn *fn, void *priv);
/* Modules that react to CONFIG SET register here (e.g. the backlog size);
 * return -1 with err to make the CONFIG SET fail. */
typedef int srv_apply_fn(srv *s, void *priv, const char *name, char *err, size_t errlen);
void srv_add_config_apply(srv *s, srv_apply_fn *fn, void *priv);
/* Modules that add INFO sections register a generator. */
typedef kstr srv_info_fn(srv *s, void *priv, const char *section, kstr out);
void srv_add_info(srv *s, const char *section, srv_info_fn *fn, void *priv);

#endif
