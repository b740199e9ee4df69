/* sentinel.h - kvfleetd's Sentinel-compatible port.
 *
 * Applications that find their master through Redis Sentinel (redis-py's
 * Sentinel, Jedis' JedisSentinelPool, Lettuce, go-redis' FailoverClient,
 * redis-cli) work unchanged against kvfleetd: a RESP port on the controller's
 * loop answers the Sentinel commands they use (SENTINEL
 * get-master-addr-by-name, masters, master, replicas, ...) with Redis 7.0
 * Sentinel's exact reply shapes, and streams the controller's events on
 * Sentinel's pub/sub channels (+switch-master, +sdown, +odown, ...).
 *
 * It differs from a real Sentinel in what it is, not in what it answers:
 * there is one "sentinel" (kvfleetd), the quorum is 1, and there is no
 * Sentinel-to-Sentinel protocol (no hello channel, no votes): the controller
 * alone decides failovers.
 *
 * The port never reads the controller's state itself: every command that
 * needs the topology calls a provider (struct sentinel_provider) on the loop
 * thread, so the port depends on nothing but this header. sentinel_view.c is
 * the provider over the fleet and its observations; tests use a fake one.
 *
 * Split: sentinel_cmd.c is the pure command layer (argv in, reply bytes out,
 * plus each connection's subscriptions), sentinel.c the libuv server and the
 * thread-safe event queue. */
#ifndef KVFLEET_CTL_SENTINEL_H
#define KVFLEET_CTL_SENTINEL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SENTINEL_NAME_MAX 64        /* a cluster name (FLEET_NAME_MAX) */
#define SENTINEL_HOST_MAX 255       /* an address (FLEET_HOST_MAX) */
#define SENTINEL_RUNID_MAX 40
#define SENTINEL_STATE_MAX 31       /* failover-state text */
#define SENTINEL_MAX_REPLICAS 32    /* replicas listed per master; more are cut */

/* Instance flags, shown as Redis' "flags" field ("s_down,o_down,master"). */
enum sentinel_flag {
    SENTINEL_F_S_DOWN = 1 << 0,       /* subjectively down (the controller sees it down) */
    SENTINEL_F_O_DOWN = 1 << 1,       /* objectively down: with quorum 1, same as s_down
                                       * for a master; never set on replicas */
    SENTINEL_F_DISCONNECTED = 1 << 2, /* no connection to it right now */
    SENTINEL_F_FAILOVER = 1 << 3,     /* masters: failover_in_progress */
    SENTINEL_F_PROMOTED = 1 << 4,     /* replicas: the one being promoted */
};

enum sentinel_role { SENTINEL_ROLE_MASTER = 0, SENTINEL_ROLE_SLAVE = 1 };

/* What masters and replicas have in common. Times are ages in ms (how long
 * ago), as Sentinel reports them. */
struct sentinel_instance {
    char host[SENTINEL_HOST_MAX + 1];
    int port;
    char run_id[SENTINEL_RUNID_MAX + 1];   /* "" when not known yet */
    unsigned flags;                         /* enum sentinel_flag */
    int64_t last_ok_ping_ms;                /* since the last successful poll */
    int64_t down_ms;                        /* since it went down (with S_DOWN) */
    int role_reported;                      /* enum sentinel_role: what it says it is */
    int64_t role_reported_ms;               /* since it started saying so */
};

struct sentinel_replica {
    struct sentinel_instance in;
    int link_ok;                            /* master_link_status:up */
    int64_t link_down_ms;                   /* master-link-down-time, 0 when up */
    char master_host[SENTINEL_HOST_MAX + 1];/* where it replicates from; "" unknown */
    int master_port;
    int priority;                           /* slave-priority */
    int64_t repl_offset;                    /* slave-repl-offset */
};

struct sentinel_master {
    char name[SENTINEL_NAME_MAX + 1];       /* the cluster's name */
    struct sentinel_instance in;
    int64_t down_after_ms;                  /* down-after-milliseconds */
    int64_t failover_timeout_ms;
    int quorum;                             /* 1 */
    int64_t config_epoch;                   /* e.g. the number of failovers so far */
    char failover_state[SENTINEL_STATE_MAX + 1]; /* shown with SENTINEL_F_FAILOVER */
    size_t nreplicas;                       /* <= SENTINEL_MAX_REPLICAS */
    struct sentinel_replica replicas[SENTINEL_MAX_REPLICAS];
};

/* The controller's side. Called on the loop thread, once per command that
 * needs it; it must not block for long (it may take a read lock).
 * masters(): with name == NULL, fills out[0..cap) with every master in a
 * stable order; with a name, only that master (0 or 1 of them). Returns how
 * many there are in all, which may exceed cap (cap 0 only counts). */
struct sentinel_provider {
    void *arg;
    size_t (*masters)(void *arg, const char *name, struct sentinel_master *out, size_t cap);
};

struct sentinel_config {
    const char *host;           /* bind address, e.g. "127.0.0.1" or "::1" */
    int port;
    const char *version;        /* kvfleetd's, shown in INFO server */
};

struct sentinel;

/* Bind and listen on the loop. 0, or -1 with a message in err (bind
 * failures name the address and the system's reason). */
int sentinel_start(struct sentinel **out, uv_loop_t *loop, const struct sentinel_config *cfg,
                   const struct sentinel_provider *provider, char *err, size_t errlen);
/* Loop thread: close the listener and every client. Later publishes are
 * dropped. The loop then ends once the handles are closed. */
void sentinel_stop(struct sentinel *s);
/* After the loop has ended (every handle closed): release the memory. NULL
 * is fine. */
void sentinel_free(struct sentinel *s);

/* Any thread: deliver `message` on `channel` to the subscribers (SUBSCRIBE
 * and matching PSUBSCRIBE) on the loop thread, soon and in publish order.
 * Never blocks on the loop; bounded: beyond SENTINEL_QUEUE_MAX undelivered
 * events, new ones are dropped (and counted in the log). s may be NULL (the
 * port is disabled): nothing happens. */
#define SENTINEL_QUEUE_MAX 10000
void sentinel_publish(struct sentinel *s, const char *channel, const char *message);

/* Event texts as Sentinel writes them (snprintf-like: the length the full
 * text needs; the buffer is always NUL-terminated):
 *   master <name> <ip> <port>                              (+sdown, -sdown)
 *   master <name> <ip> <port> #quorum 1/1                  (+odown)
 *   slave <ip>:<port> <ip> <port> @ <master> <mip> <mport> (a replica's events)
 *   <master> <old-ip> <old-port> <new-ip> <new-port>       (+switch-master) */
int sentinel_fmt_master(char *buf, size_t len, const char *name, const char *ip, int port);
int sentinel_fmt_odown(char *buf, size_t len, const char *name, const char *ip, int port);
int sentinel_fmt_replica(char *buf, size_t len, const char *ip, int port, const char *master,
                         const char *master_ip, int master_port);
int sentinel_fmt_switch_master(char *buf, size_t len, const char *name, const char *old_ip,
                               int old_port, const char *new_ip, int new_port);

#endif
