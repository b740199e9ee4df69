/* reconcile.c - decide corrective REPLICAOF commands (see reconcile.h). */
#include "reconcile.h"

#include <stdio.h>
#include <string.h>

void reconcile_plan(const struct reconcile_input *in, struct reconcile_plan *out)
{
    const struct node_obs *o = in->obs;
    out->action = RC_NONE;
    out->reason[0] = '\0';
    /* Never touch nodes in maintenance, unreachable nodes, or nodes whose
     * state we do not know yet. */
    if (!in->is_member || in->maintenance || o->state != NODE_UP || o->role == ROLE_UNKNOWN)
        return;
    if (in->is_desired_master) {
        if (o->role == ROLE_REPLICA) {
            out->action = RC_PROMOTE;
            snprintf(out->reason, sizeof(out->reason),
                     "desired master replicates from %s:%d", o->master_host, o->master_port);
        }
        return;
    }
    if (in->master_host == NULL || in->master_host[0] == '\0')
        return;
    if (o->role == ROLE_MASTER) {
        out->action = RC_REPLICAOF;
        snprintf(out->reason, sizeof(out->reason), "replica does not replicate (role master)");
    } else if (strcmp(o->master_host, in->master_host) != 0 || o->master_port != in->master_port) {
        out->action = RC_REPLICAOF;
        snprintf(out->reason, sizeof(out->reason), "replica replicates from %s:%d, wants %s:%d",
                 o->master_host, o->master_port, in->master_host, in->master_port);
    }
}

int reconcile_allowed(int64_t last_action_ms, int64_t now_ms, int64_t min_interval_ms)
{
    return last_action_ms <= 0 || now_ms - last_action_ms >= min_interval_ms;
}
