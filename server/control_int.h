/* control_int.h - what control.c and failover.c share (private). */
#ifndef KVFLEET_CTL_CONTROL_INT_H
#define KVFLEET_CTL_CONTROL_INT_H

#include <jansson.h>
#include <pthread.h>

#include "actor.h"
#include "control.h"

#define CTL_NAME_MAX 64
#define CTL_HOST_MAX 255
/* Masters ping their replicas this often once configured, so a replica's
 * master_last_io_seconds_ago tells a dead master from an idle one. */
#define CTL_PING_PERIOD_S 1

/* A node as the loop knows it besides its observation: what we already
 * configured on it and when we last corrected it. */
struct cnode {
    int64_t id;
    int64_t last_action_mono;       /* reconcile rate limit */
    char configured_run_id[41];     /* process we last configured (masterauth, ping) */
    int config_in_flight;
    int ping_period_ok;             /* repl-ping-replica-period 1 accepted */
};

struct op;

/* Per cluster: the running operation (the gate) and the anti-flap memory. */
struct ccluster {
    int64_t id;
    char name[CTL_NAME_MAX + 1];
    struct op *op;                  /* running failover/switchover, NULL: none */
    int64_t last_auto_mono;         /* last automatic failover that completed */
    int64_t last_auto_id;
    int last_auto_acked;
    int64_t retry_after_mono;       /* after a failed attempt */
    char last_verdict[200];         /* last failover.blocked / master.failed said */
    int master_failed_said;
};

/* A request from an API thread, answered by the loop. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int refs;                       /* the API thread and the loop */
    struct control_reply reply;
};

enum req_type { REQ_FAILOVER, REQ_SWITCHOVER, REQ_PLAN };

struct request {
    struct request *next;
    int type;
    char cluster[CTL_NAME_MAX + 1];
    char candidate[CTL_NAME_MAX + 1];   /* "" best */
    int force;
    int64_t timeout_ms;
    int64_t scheduled_id;           /* a scheduled row to run */
    control_plan_emit emit;         /* REQ_PLAN: called on the loop while the API thread waits */
    void *emit_arg;
    struct waiter *w;
};

struct control {
    struct control_deps d;
    struct monitor mon;
    struct actor *actor;
    uv_async_t wake;
    uv_timer_t tick;                /* periodic evaluation, flush, schedules */
    int stopping;
    int topology_dirty;             /* set from any thread, read on the loop */
    pthread_mutex_t mu;             /* requests, acks and stats below */
    struct request *requests;
    uint64_t reconcile_actions, failovers, failovers_failed;
    int ops_running;
    struct cnode *nodes;
    size_t nnodes, ncap;
    struct ccluster **clusters;     /* pointers: operations keep theirs */
    size_t nclusters, ccap;
    int64_t started_mono;
    int64_t last_flush_mono;
    int64_t last_schedule_check_mono;
    int recovered;                  /* interrupted operations looked at */
    char ack_cluster[CTL_NAME_MAX + 1];  /* an acknowledgement to apply (under mu) */
    int64_t ack_id;
};

struct ccluster *ctl_cluster(struct control *c, int64_t id, const char *name);
struct cnode *ctl_node(struct control *c, int64_t id);
void ctl_waiter_reply(struct waiter *w, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ctl_waiter_release(struct waiter *w);
void ctl_evaluate_cluster(struct control *c, int64_t cluster_id);

/* ---- failover.c ---- */

enum op_kind { OP_AUTOMATIC, OP_MANUAL, OP_SWITCHOVER };

/* The member a failover acts on, copied out of the locked topology. */
struct op_member {
    int64_t id;
    char name[CTL_NAME_MAX + 1];
    char host[CTL_HOST_MAX + 1];
    int port;
};

/* Start a failover of cluster cl to cand (planned by the planner; reason is
 * its verdict; candidates a JSON array of the ranking). Takes a reference on
 * w (may be NULL). Returns 0 when the operation started. */
int failover_start(struct control *c, struct ccluster *cl, int kind,
                   const struct op_member *old_master, const struct op_member *cand,
                   const struct op_member *others, size_t nothers, const char *reason,
                   json_t *candidates, int64_t timeout_ms, int64_t scheduled_id,
                   struct waiter *w);
/* Operations interrupted by a restart of kvfleetd: finish or roll back. */
void failover_recover(struct control *c);
/* Scheduled switchovers that are due. */
void failover_run_schedules(struct control *c);
/* Cancel every operation (shutdown). */
void failover_abort_all(struct control *c, const char *why);
const char *failover_kind_name(int kind);

/* control.c: build the plan input for a cluster under the locks and let the
 * caller use it (used by requests, the dry run and failover_recover). */
struct plan_ctx;
typedef void (*plan_user)(struct control *c, void *arg, const struct fleet_cluster *fc,
                          const struct plan_input *in, const struct plan_output *out);
int ctl_with_plan(struct control *c, int64_t cluster_id, const char *cluster_name,
                  int manual, int force, int switchover, const char *want, plan_user fn,
                  void *arg);
/* Copy the members of a plan into op_members: old master, the chosen node,
 * every other member. */
void ctl_plan_members(const struct plan_input *in, int64_t chosen, struct op_member *old_master,
                      struct op_member *cand, struct op_member *others, size_t *nothers);
json_t *ctl_candidates_json(const struct plan_output *out);
/* Start a due scheduled switchover (no waiter); a plan that finds no
 * candidate fails the row with the planner's verdict. */
void ctl_run_scheduled(struct control *c, struct request *rq);

#endif
