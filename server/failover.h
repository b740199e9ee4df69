/* failover.h - operations the REST API runs outside the loop's operations:
 * scheduling and cancelling a planned switchover (store only, any thread).
 * The failover engine itself is private to the control loop
 * (control_int.h). */
#ifndef KVFLEET_CTL_FAILOVER_H
#define KVFLEET_CTL_FAILOVER_H

#include <stdint.h>

#include "store.h"

/* Queue a switchover of `cluster` for scheduled_at (wall ms). candidate may
 * be NULL (the best one at that time). Returns STORE_OK and the row id. */
int failover_schedule(struct store *st, const char *cluster, const char *candidate,
                      int64_t timeout_ms, int64_t scheduled_at, const char *actor, int64_t *id);
/* Cancel a scheduled switchover: STORE_ENOTFOUND when it is not scheduled
 * (any more). */
int failover_cancel(struct store *st, int64_t id);

#endif
