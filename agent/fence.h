/* fence: keeps a master that may have been failed over from taking writes.
 *
 * When the controller (kvfleetd) fails a dead master over to a replica, the
 * old master does not know: it may come back (restarted, or resumed after a
 * SIGSTOP or a VM pause) still believing it is the master, and the fleet
 * would have two writable masters. So, only when the `controller` directive
 * is set:
 *
 *   - a master that starts (no `replicaof` in its config) with
 *     `fence-on-start yes` starts fenced;
 *   - a master fences itself when it sees that the process did not run for
 *     `fence-after-stall-ms` (wall time passed, CPU time did not: stopped or
 *     paused, not busy). The cron checks every tick; client input is checked
 *     before each command, because after SIGCONT libuv may run I/O callbacks
 *     (the rest of a pipeline cut by the stop, input in the same epoll
 *     batch) before any timer. The rule, fence_is_stall: the gap since the
 *     last tick reaches fence-after-stall-ms plus one cron period (the loop
 *     may sleep that long) and the process used less than half of it on
 *     the CPU. So a long CPU-bound command does not fence, but a main
 *     thread blocked without using the CPU (DEBUG SLEEP, a SAVE waiting on
 *     a slow disk) does, as does a host so overloaded that the process is
 *     not scheduled: to the controller all of these look alike. A stop
 *     shorter than the CPU time around it in the same gap goes unseen, and
 *     a VM pause is seen only if the guest's monotonic clock counts it.
 *
 * Invariants: only a master is ever fenced (becoming a replica clears the
 * fence, and a replica is never fenced). While fenced, every write (EXEC of
 * a transaction holding one included) is refused with -READONLY, the error
 * Redis client libraries (redis-py's Sentinel client, ...) take for "this
 * node is no longer the master, re-discover it"; PSYNC and SYNC are refused
 * with -NOMASTERLINK, which Redis replicas (and ours) treat as "try again
 * later" rather than as a reason to fall back. Replicas already attached
 * are left alone. Only the controller's confirmation lifts the fence:
 * REPLICAOF NO ONE (keep being the master) or REPLICAOF host port (become a
 * replica). Nothing else does: CONFIG SET fence-on-start no or
 * fence-after-stall-ms 0 only change what happens next.
 *
 * Expiry is not stopped on a fenced master: a key deleted (and its DEL sent
 * to the replicas still attached) because its TTL passed was dead anyway.
 * If a replica was promoted meanwhile, that DEL takes the replicas still
 * attached to us past the offset where the new master's history forks from
 * ours, so when they follow it they get a full resync and nothing we sent
 * survives. Keeping expiry (and eviction) running keeps memory bounded,
 * with nothing to undo on unfence.
 *
 * The state lives in srv->fence (server.h). Without `controller` nothing
 * here runs: no fence, no clock reads, INFO unchanged. */
#ifndef KV_FENCE_H
#define KV_FENCE_H
#include <stdint.h>
#include "kstr.h"
#include "util.h"

struct srv;

enum { FENCE_REASON_NONE = 0, FENCE_REASON_START, FENCE_REASON_STALL };
#define FENCE_CPU_UNKNOWN INT64_MIN

#define FENCE_ERR_WRITE "READONLY You can't write against a fenced master: kvfleet is waiting for its controller to confirm this node as master"
#define FENCE_ERR_SYNC "NOMASTERLINK Can't SYNC while fenced: waiting for the kvfleet controller"

typedef struct srv_fence {
    int fenced;                /* writes and new replica syncs are refused */
    int reason;                /* FENCE_REASON_*: why, for INFO */
    /* Stall detection. The anchor is the last moment the process is known
     * to have been running (a cron tick, or a check): its tick count and
     * its CPU time then. stall_ticks is the gap since the anchor past which
     * the read path pays for a real check; 0 turns detection off. */
    uint64_t stall_ticks;
    uint64_t anchor_ticks;
    int64_t anchor_cpu_us;     /* FENCE_CPU_UNKNOWN: the clock could not be read */
} srv_fence;

/* srv_init: decides the start-up fence from the configuration. */
void fence_init(struct srv *s);
/* The cron period or fence-after-stall-ms changed (CONFIG SET, srv_run):
 * recompute the stall threshold and re-anchor. */
void fence_configure(struct srv *s);
/* Every cron tick, before anything else: check for a stall, re-anchor. */
void fence_cron(struct srv *s);
/* Compare now with the anchor: fence if the process was stopped, then
 * re-anchor. The read path calls it only when fence_stall_due says so. */
void fence_check_stall(struct srv *s);

/* The read path's cheap test (no system call): has the loop been away
 * from its cron for longer than the stall threshold? */
static inline int fence_stall_due(const srv_fence *f)
{
    return f->stall_ticks != 0 && util_ticks() - f->anchor_ticks >= f->stall_ticks;
}

/* Pure rule, for tests: a gap of gap_us in which the process used cpu_us
 * of CPU is a stall when it reaches threshold_us and the process ran for
 * less than half of it (a long CPU-bound command is not a stall). */
int fence_is_stall(int64_t gap_us, int64_t cpu_us, int64_t threshold_us);

/* Fence a master (no-op on a replica or when already fenced); why goes to
 * the log line. */
void fence_engage(struct srv *s, int reason, const char *why);
/* REPLICAOF NO ONE on a fenced master: the controller confirmed it. */
void fence_confirm_master(struct srv *s, const char *by);
/* The node became a replica (REPLICAOF host port, FAILOVER). */
void fence_became_replica(struct srv *s, const char *host, int port);

/* Appends kvfleet_fenced / kvfleet_fence_reason to INFO replication when
 * `controller` is set; returns o unchanged otherwise. */
kstr fence_info(struct srv *s, kstr o);
/* Is `controller` set (the only case where fencing applies)? */
int fence_enabled(const struct srv *s);

#endif
