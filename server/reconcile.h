/* reconcile.h - desired versus observed topology.
 *
 * reconcile_plan() is pure: given what a node should be (master of its
 * cluster, or replica of the cluster's master) and what the monitor last saw,
 * it says which command brings it back, if any. The monitor executes the plan
 * on the node's connection, rate-limited per node, and records an event. */
#ifndef KVFLEET_CTL_RECONCILE_H
#define KVFLEET_CTL_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"

enum reconcile_action {
    RC_NONE = 0,
    RC_REPLICAOF,        /* REPLICAOF master_host master_port */
    RC_PROMOTE,          /* REPLICAOF NO ONE (the desired master replicates) */
};

struct reconcile_input {
    int is_member;            /* belongs to a cluster */
    int is_desired_master;
    int maintenance;
    const struct node_obs *obs;
    const char *master_host;  /* desired master address (replicas) */
    int master_port;
};

struct reconcile_plan {
    int action;
    char reason[600];
};

void reconcile_plan(const struct reconcile_input *in, struct reconcile_plan *out);

/* Rate limit: 1 when an action may be sent now. */
int reconcile_allowed(int64_t last_action_ms, int64_t now_ms, int64_t min_interval_ms);

#endif
