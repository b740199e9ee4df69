/* state.h - what the controller has observed, kept apart from what it wants.
 *
 * The fleet (fleet.h) is the desired topology: which nodes exist, which
 * cluster each belongs to, who should be master. This module is the observed
 * side: the last poll of every node (struct node_obs) and, per cluster, the
 * health verdict derived from those observations. The monitor's results come
 * in through the pure state_apply_* functions, which also say what changed
 * (as events to emit); cluster health is derived once per change by
 * state_refresh_cluster(), and readers (the REST API, the Sentinel port) only
 * copy it out.
 *
 * Locking: one rwlock, taken after the fleet lock when both are needed
 * (fleet -> state), never while calling the store. `version` grows with
 * every change, so a reader can tell whether what it copied is still
 * current. */
#ifndef KVFLEET_CTL_STATE_H
#define KVFLEET_CTL_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "health.h"
#include "info.h"

struct state_node {
    int64_t id;
    struct node_obs obs;
};

struct state_cluster {
    int64_t id;
    struct health_report report;
};

struct state {
    pthread_rwlock_t lock;
    struct state_node **nodes;
    size_t nnodes, ncap;
    struct state_cluster **clusters;
    size_t nclusters, ccap;
    uint64_t version;
};

int state_init(struct state *s);
void state_destroy(struct state *s);
void state_rdlock(struct state *s);
void state_wrlock(struct state *s);
void state_unlock(struct state *s);

/* Caller holds the lock. NULL when the node has no observation yet. */
struct node_obs *state_obs(struct state *s, int64_t node_id);
/* Caller holds the write lock: the observation, created when missing. */
struct node_obs *state_obs_get_or_add(struct state *s, int64_t node_id);
void state_forget_node(struct state *s, int64_t node_id);
/* Cached health of a cluster (caller holds the lock); NULL before the first
 * refresh. */
const struct health_report *state_cluster_health(struct state *s, int64_t cluster_id);
void state_forget_cluster(struct state *s, int64_t cluster_id);

/* ---- pure derivation (no locks, no clock: callers pass the times) ---- */

/* What one observation changed, as events to emit. */
#define STATE_MAX_CHANGES 8
struct state_change {
    enum ev_kind kind;
    char msg[320];
};
struct state_changes {
    int n;
    int persist;           /* the stored status should be rewritten */
    struct state_change c[STATE_MAX_CHANGES];
};

/* How a node is judged down: failed polls for down_after_ms (monotonic,
 * since the last successful poll) and at least min_failures of them. */
struct state_down_rule {
    int64_t down_after_ms;
    int min_failures;
};

/* A successful poll. */
void state_apply_ok(struct node_obs *o, const struct info_repl *in, int64_t wall_ms,
                    int64_t mono_ms, int64_t poll_us, struct state_changes *out);
/* A failed poll (kind: enum poll_fail). */
void state_apply_fail(struct node_obs *o, int kind, const char *why,
                      const struct state_down_rule *rule, int64_t wall_ms, int64_t mono_ms,
                      struct state_changes *out);
/* Time passing without a poll result (a poll still waiting for its
 * deadline): a suspect node turns down when its time is up. */
void state_apply_age(struct node_obs *o, const struct state_down_rule *rule, int64_t wall_ms,
                     int64_t mono_ms, struct state_changes *out);

/* Derive lag, link and health for a cluster from its members' observations
 * (replica_ids[i] is the node of replicas[i]); updates each replica's lag
 * fields and lag alert (changes_out[i] receives lag.high / lag.ok) and
 * stores the report. Caller holds the write lock. */
void state_refresh_cluster(struct state *s, int64_t cluster_id,
                           const struct health_member *master, const struct health_member *replicas,
                           const int64_t *replica_ids, size_t n,
                           const struct cluster_settings *settings, int64_t wall_ms,
                           struct state_changes *changes_out);

const char *state_fail_name(int kind);

#endif
