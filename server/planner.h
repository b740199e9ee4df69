/* planner.h - the decide stage: a pure planner per cluster.
 *
 * planner_run() takes the desired topology of one cluster, the observations
 * of its members and the monotonic clock, and returns the actions that would
 * bring the cluster where it should be, each with its reason, plus the
 * failover verdict and the ranked candidates. No I/O, no locks, no clock of
 * its own: the control loop executes what it returns, the REST API's
 * /failover/plan shows it as a dry run, and tests/unit/test_planner.c checks
 * every rule and every exclusion reason.
 *
 * The rules, in the order they apply:
 *  1. An operation (failover, switchover) in progress owns the cluster:
 *     nothing else is planned.
 *  2. The master has failed when the controller has not reached it for the
 *     cluster's down-after-ms AND every replica it can reach reports its link
 *     to that master down, or no I/O from it for longer than down-after-ms
 *     plus one ping period. One replica that still hears from the master
 *     vetoes: the controller is cut off, not the master. No replica
 *     reachable: nothing is done, and the verdict says so.
 *     A master that restarted (new run id) with less data than its best
 *     replica has also failed: following it would wipe the replicas.
 *  3. A failed master is failed over to the best candidate unless automatic
 *     failover is off or the cooldown after the last one runs (an operator's
 *     force overrides both). Candidates: replicas that are up, replicate from
 *     the master and were linked to it recently, not in maintenance, priority
 *     above 0 (ours and the node's replica-priority), and behind the master's
 *     last known offset by at most max_lag_on_failover bytes (0: no limit).
 *     Ranked by offset (highest first), then priority (lowest first, as
 *     Redis' replica-priority), then name.
 *  4. Otherwise reconcile: a desired master found replicating is promoted, a
 *     fenced desired master is confirmed (unless rule 2's restart check
 *     failed it), a member that claims a mastership it does not hold or
 *     replicates from the wrong node is pointed at the desired master.
 *     Members in maintenance, down or not yet observed are left alone.
 *  A planned switchover (input.switchover) uses rule 3's ranking with one
 *  more condition, a link that is up now, and needs a master that is up. */
#ifndef KVFLEET_CTL_PLANNER_H
#define KVFLEET_CTL_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"

#define PLAN_MAX_MEMBERS 64
#define PLAN_REASON_LEN 300

struct plan_member {
    int64_t id;
    const char *name;
    const char *host;
    int port;
    int priority;             /* 0: never promoted; lower is preferred */
    int maintenance;
    const struct node_obs *obs;
};

struct plan_input {
    const char *cluster;
    const struct cluster_settings *settings;
    const struct plan_member *master;   /* desired master, NULL: none */
    const struct plan_member *replicas;
    size_t nreplicas;
    int64_t now_mono;
    int64_t ping_period_ms;    /* master -> replica ping period we configure */
    int reconcile;             /* reconcile rules enabled */
    int op_in_progress;        /* a failover/switchover runs for this cluster */
    int64_t last_failover_mono;/* last automatic failover; 0: none */
    int last_failover_acked;   /* the operator acknowledged it */
    /* Operator's failover request (POST .../failover): */
    int manual;                /* plan a failover now even if rule 2 says no */
    int force;                 /* skip the failed-master check, cooldown, auto_failover */
    const char *want;          /* requested candidate name, NULL: best */
    int switchover;            /* planned switchover: master must be up, candidate linked now */
};

enum plan_action_type {
    PLAN_REPLICAOF = 1,        /* REPLICAOF host port */
    PLAN_PROMOTE,              /* desired master replicates: REPLICAOF NO ONE */
    PLAN_CONFIRM,              /* fenced desired master: REPLICAOF NO ONE */
    PLAN_FAILOVER,             /* promote `node` in place of the failed master */
};

struct plan_action {
    int type;                  /* enum plan_action_type */
    int64_t node_id;
    const char *node;
    const char *host;          /* the node's address */
    int port;
    const char *target_host;   /* REPLICAOF target */
    int target_port;
    char reason[PLAN_REASON_LEN];
};

struct plan_candidate {
    const struct plan_member *m;
    int eligible;
    int rank;                  /* 1 = best; 0 when excluded */
    int64_t lag_bytes;         /* behind the master's last known offset, -1 */
    char reason[PLAN_REASON_LEN];
};

enum plan_master_verdict {
    PLAN_MASTER_OK = 0,        /* reachable, or not failed by the rules */
    PLAN_MASTER_SUSPECT,       /* failing, not for long enough */
    PLAN_MASTER_UNCONFIRMED,   /* down for us, but replicas hear it / none reachable */
    PLAN_MASTER_FAILED,        /* rule 2 holds */
    PLAN_MASTER_NONE,          /* cluster has no master */
};

/* Why a failover or switchover that was called for is not planned. */
enum plan_block {
    PLAN_BLOCK_NONE = 0,
    PLAN_BLOCK_NO_CANDIDATE,   /* every replica excluded (see the candidates) */
    PLAN_BLOCK_DISABLED,       /* auto_failover is off for the cluster */
    PLAN_BLOCK_COOLDOWN,       /* an automatic failover happened too recently */
    PLAN_BLOCK_NOT_FAILED,     /* operator failover while the master is fine */
    PLAN_BLOCK_MASTER_DOWN,    /* switchover without a master that is up */
    PLAN_BLOCK_BUSY,           /* another operation runs on the cluster */
    PLAN_BLOCK__COUNT
};

struct plan_output {
    int master;                /* enum plan_master_verdict */
    int restart_accepted;      /* a restarted master kept its data: forget the restart */
    int restart_pending;       /* restarted, no replica to compare with yet */
    char verdict[PLAN_REASON_LEN * 2];  /* why (not) fail over, for people */
    int failover_blocked;      /* failed, but no failover: see verdict */
    int block_reason;          /* enum plan_block, set with failover_blocked */
    size_t ncand;
    struct plan_candidate cand[PLAN_MAX_MEMBERS];
    size_t nact;
    struct plan_action act[PLAN_MAX_MEMBERS + 1];
};

void planner_run(const struct plan_input *in, struct plan_output *out);

const char *planner_action_name(int type);
const char *planner_master_verdict_name(int v);
/* "no_candidate", "cooldown"...: label values of /metrics. */
const char *planner_block_name(int reason);

#endif
