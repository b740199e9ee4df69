/* control.h - the controller's loop: observe -> state -> decide -> act.
 *
 * Where a poll result goes: the monitor (observe) hands each result to
 * control_on_poll(); the state module turns it into the node's observation
 * and says what changed (events); the cluster's health is derived once; the
 * planner (decide, pure) looks at the whole cluster and returns actions with
 * reasons; reconcile actions go to the actor (act: the only code that sends
 * commands to nodes), a failover becomes an operation of the failover engine
 * (failover.c), which owns the cluster until it ends; every step and outcome
 * becomes an event (events.h), journalled by the writer thread and fanned
 * out to subscribers such as the Sentinel port.
 *
 * Everything here runs on the loop thread, except the control_* request
 * functions below, which REST API threads call: they queue the request to
 * the loop and wait for its answer. */
#ifndef KVFLEET_CTL_CONTROL_H
#define KVFLEET_CTL_CONTROL_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "events.h"
#include "fleet.h"
#include "monitor.h"
#include "planner.h"
#include "state.h"
#include "store.h"
#include "writer.h"

struct control;
struct hooks;

struct control_deps {
    uv_loop_t *loop;
    const struct cfg *cfg;
    struct fleet *fleet;
    struct state *state;
    struct store *st;
    struct events *events;
    struct writer *writer;
    struct hooks *hooks;          /* may be NULL */
    struct metrics *metrics;      /* may be NULL */
};

int control_start(struct control **out, const struct control_deps *d);
/* Loop thread: stop polling and acting, close every handle. */
void control_stop(struct control *c);
/* After the loop ended. */
void control_free(struct control *c);
/* Thread safe: the desired topology changed. */
void control_topology_changed(struct control *c);
struct monitor *control_monitor(struct control *c);

/* ---- operator requests (REST API threads; block until answered) ---- */

struct control_reply {
    int status;                  /* HTTP-like: 200, 202, 404, 409, 422, 503, 504 */
    char code[32];               /* error code for the JSON body */
    char msg[1024];
    int64_t failover_id;         /* 0 when none was recorded */
};

/* POST /clusters/{name}/failover: candidate may be NULL. */
void control_failover(struct control *c, const char *cluster, const char *candidate, int force,
                      struct control_reply *out);
/* POST /clusters/{name}/switchover; scheduled_at (wall ms) > now queues it. */
void control_switchover(struct control *c, const char *cluster, const char *candidate,
                        int64_t timeout_ms, int64_t scheduled_at, struct control_reply *out);
/* The operator acknowledged failover `id` of `cluster`: lifts the cooldown. */
void control_failover_acked(struct control *c, const char *cluster, int64_t id);

/* Dry run: calls emit() with the planner's input and output while the
 * topology and state locks are held (the pointers inside are valid only
 * during the call). Returns 0, or 404 when the cluster does not exist. */
typedef void (*control_plan_emit)(void *arg, const struct plan_input *in,
                                  const struct plan_output *out);
int control_plan(struct control *c, const char *cluster, const char *candidate, int force,
                 control_plan_emit emit, void *arg);

/* Thread safe: counters for /health. */
struct control_stats {
    uint64_t reconcile_actions;
    uint64_t failovers;
    uint64_t failovers_failed;
    int operations_running;
};
void control_stats_get(struct control *c, struct control_stats *out);

#endif
