/* health.h - derive replica lag, link status and cluster health.
 *
 * Pure functions over observations: no I/O, no locks, no clock (callers pass
 * `now`), so every rule is unit-tested in tests/unit/test_health.c. The
 * monitor feeds observations in; the API and the event journal read the
 * verdicts out. */
#ifndef KVFLEET_CTL_HEALTH_H
#define KVFLEET_CTL_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "info.h"

/* up: the last poll answered; suspect: polls fail but for less than the
 * cluster's down-after-ms; down: polls have failed for down-after-ms. */
enum node_state { NODE_UNKNOWN = 0, NODE_UP, NODE_DOWN, NODE_SUSPECT };
/* Why the last poll failed: events and health reasons name it. */
enum poll_fail { FAIL_NONE = 0, FAIL_TIMEOUT, FAIL_REFUSED, FAIL_LOADING, FAIL_AUTH, FAIL_OTHER };
enum node_role { ROLE_UNKNOWN = 0, ROLE_MASTER, ROLE_REPLICA };
enum link_state { LINK_NONE = 0, LINK_UP, LINK_DOWN };

/* History of a master's replication offset: when did the master first reach
 * offset X? A replica at offset X is then (now - that time) behind. Only
 * changes are recorded, so 64 entries cover at least 16 s at 250 ms polls. */
#define HEALTH_RING 64
struct offset_ring {
    int64_t ts[HEALTH_RING];
    int64_t off[HEALTH_RING];
    int head;   /* next slot to write */
    int count;
};

/* Last observation of one node. Times named *_mono are CLOCK_MONOTONIC ms
 * (durations, timeouts); the others are wall-clock ms for display. */
/* Replicas of a master kept for /metrics (bounded label cardinality). */
#define OBS_MAX_SLAVES 8

struct node_obs {
    int state;              /* enum node_state */
    int64_t state_since;    /* ms: when state last changed (0 unknown) */
    int64_t last_ok_mono;   /* last successful poll, 0 never */
    int64_t first_fail_mono;/* first failed poll of the current failure run */
    int fail_kind;          /* enum poll_fail of the last failed poll */
    char fail_msg[128];
    int64_t poll_us;        /* duration of the last successful poll */
    char run_id[41];        /* INFO server */
    int64_t uptime_s;
    int loading;            /* INFO persistence */
    int fenced;             /* kvfleet_fenced (agents with a controller) */
    int fence_known;        /* the node reports kvfleet_fenced at all */
    int64_t master_last_io_s;   /* replicas: -1 unknown */
    int64_t link_down_since_s;  /* replicas: master_link_down_since_seconds, -1 */
    int64_t link_up_mono;   /* replicas: last poll that saw the link up */
    int replica_priority;   /* INFO replication slave/replica priority, -1 unknown */
    int64_t sync_full;      /* INFO stats sync_full, -1 unknown */
    int failover_state;     /* masters: 0 none, 1 waiting-for-sync, 2 in progress */
    char replid[41];
    char prev_run_id[41];   /* run id before the last restart seen */
    int64_t prev_offset;    /* offset seen just before that restart */
    int64_t restart_mono;   /* when a new run id was seen (0: none pending);
                             * cleared once the controller accepted the node */
    int role;               /* enum node_role */
    char master_host[256];  /* replicas: where they replicate from */
    int master_port;
    int link;               /* enum link_state (replicas only) */
    int64_t offset;         /* master_repl_offset or slave_repl_offset; -1 unknown */
    int64_t last_ok_ms;     /* last successful poll */
    int failures;           /* consecutive failed polls */
    int replicas_connected; /* masters: connected_slaves */
    int lag_alert;          /* replicas: lag currently above threshold */
    int in_sync;            /* replicas: derived with the cluster's health */
    int64_t lag_bytes;      /* replicas: last derived lag, -1 unknown */
    int64_t lag_ms;
    struct offset_ring ring;
    /* For /metrics: the server's version, the last clients/memory/keyspace
     * figures (polled every few seconds, kept between), and a master's
     * replicas as it reports them (at most OBS_MAX_SLAVES). */
    char version[32];
    struct info_stats stats;
    int nslaves;
    struct info_slave slaves[OBS_MAX_SLAVES];
};

struct cluster_settings {
    int64_t max_lag_on_failover;   /* bytes a candidate may lag (0: no limit) */
    int64_t down_after_ms;         /* failed polls for this long: node down */
    int64_t auto_failover;         /* 1: fail a dead master over by itself */
    int64_t failover_cooldown_ms;  /* after an automatic failover, no other */
    int64_t min_replicas_to_write; /* healthy replicas required, else failing */
    int64_t lag_threshold_bytes;   /* replica lag above this: degraded + event */
    int64_t lag_threshold_ms;
};

void health_settings_default(struct cluster_settings *s);
void health_obs_init(struct node_obs *o);
/* What a node never polled looks like (shared, read-only). */
const struct node_obs *health_obs_unobserved(void);

void health_ring_push(struct offset_ring *r, int64_t now_ms, int64_t offset);

/* Lag of a replica in bytes: master offset minus replica offset, never
 * negative; -1 when either is unknown. */
int64_t health_lag_bytes(int64_t master_offset, int64_t replica_offset);

/* Lag in ms: time since the master first reached the replica's offset. 0 when
 * the replica has caught up; a lower bound (age of the oldest sample) when
 * the history does not go back far enough; -1 when unknown. */
int64_t health_lag_ms(const struct offset_ring *r, int64_t master_offset,
                      int64_t replica_offset, int64_t now_ms);

struct health_member {
    const char *name;
    const char *host;
    int port;
    int maintenance;
    const struct node_obs *obs;
};

struct health_replica {
    int64_t lag_bytes;   /* -1 unknown */
    int64_t lag_ms;      /* -1 unknown */
    int link;            /* enum link_state */
    int wrong_master;    /* replicates from someone else, or from no one */
    int in_sync;         /* up, right master, link up, lag under thresholds */
    int lag_high;        /* lag above a threshold */
};

enum health_level { HEALTH_HEALTHY = 0, HEALTH_DEGRADED, HEALTH_FAILING };

#define HEALTH_MAX_REASONS 16
#define HEALTH_REASON_LEN 200
struct health_report {
    int level;
    int nreasons;
    char reasons[HEALTH_MAX_REASONS][HEALTH_REASON_LEN];
};

/* Replica view relative to the desired master (master may be NULL). */
void health_replica_eval(const struct health_member *master, const struct health_member *replica,
                         const struct cluster_settings *s, int64_t now_ms, struct health_replica *out);

/* Cluster verdict. per_replica (n entries) receives each replica's view and
 * may be NULL. */
void health_cluster_eval(const struct health_member *master, const struct health_member *replicas,
                         size_t n, const struct cluster_settings *s, int64_t now_ms,
                         struct health_report *out, struct health_replica *per_replica);

const char *health_level_name(int level);
const char *health_state_name(int state);
const char *health_role_name(int role);   /* NULL for unknown */
const char *health_link_name(int link);   /* NULL for none */

#endif
