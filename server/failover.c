/* failover.c - the failover engine: automatic failover, operator failover
 * and planned switchover, one operation per cluster at a time.
 *
 * An operation is a chain of steps on the loop, each taken only after it was
 * written to the failovers table (so a kvfleetd killed in the middle knows
 * where it stopped), each an actor command whose answer decides the next:
 *
 *   failover:   promote (REPLICAOF NO ONE to the candidate)
 *               -> confirm (ROLE says master; INFO stats for the resync count)
 *               -> topology (the candidate becomes the desired master; this
 *                  is when clients are told: +switch-master)
 *               -> repoint (REPLICAOF new-master to every other member,
 *                  the old master too when it answers)
 *               -> verify (every re-pointed replica linked again; the new
 *                  master's sync_full must not have moved: PSYNC2 partial
 *                  resyncs only)
 *   switchover: handoff (FAILOVER TO candidate TIMEOUT t on the master: the
 *               master pauses writes, waits for the candidate to catch up,
 *               hands over and becomes its replica; if it cannot, it aborts
 *               by itself and writes resume) -> wait (ROLE on the old master
 *               until it is a replica of the candidate, or the timeout says
 *               it aborted) -> confirm -> topology -> repoint -> verify.
 *   switchover on a master without FAILOVER (renamed away, or older than
 *   Redis 6.2): pause (heartbeats off, CLIENT PAUSE WRITE, then the master's
 *   offset is the target: no write can move it any more) -> catchup (the
 *   candidate's offset reaches the target, or the timeout aborts: writes
 *   resume, nothing changed) -> promote -> confirm -> topology -> repoint
 *   (the old master becomes a replica while still paused, so its paused
 *   writers are answered READONLY, never accepted) -> verify.
 *
 * Invariants: the cluster's gate (ccluster.op) is set from the moment the
 * row is inserted until the operation ends, and the database enforces the
 * same with a unique index on running rows, so an automatic failover and an
 * operator's call can never both act; the desired topology changes only
 * after the candidate confirmed it is master, so a failed promotion leaves
 * the cluster as it was (rolled back: the planner may try the next
 * candidate); hooks run after the end and never delay it. */
#include "control_int.h"
#include "clock.h"
#include "failover.h"
#include "hooks.h"
#include "log.h"
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_POLL_MS 20
#define VERIFY_POLL_MS 50
#define VERIFY_TIMEOUT_MS 5000
#define DEFAULT_SWITCHOVER_TIMEOUT_MS 5000
/* A paused master must stay paused until it is a replica: the pause outlasts
 * the catch-up timeout by the time promote, confirm and repoint may take. */
#define PAUSE_MARGIN_MS 10000
/* While paused the old master must not send heartbeats: each PING moves its
 * offset past the candidate's, and the old master could then only rejoin
 * with a full resync. */
#define PAUSE_PING_PERIOD "3600"

enum step {
    ST_HANDOFF = 1,
    ST_WAIT,
    ST_PAUSE,
    ST_CATCHUP,
    ST_PROMOTE,
    ST_CONFIRM,
    ST_TOPOLOGY,
    ST_REPOINT,
    ST_VERIFY,
};

static const char *step_name(int st)
{
    switch (st) {
    case ST_HANDOFF: return "handoff";
    case ST_WAIT: return "wait";
    case ST_PAUSE: return "pause";
    case ST_CATCHUP: return "catchup";
    case ST_PROMOTE: return "promote";
    case ST_CONFIRM: return "confirm";
    case ST_TOPOLOGY: return "topology";
    case ST_REPOINT: return "repoint";
    case ST_VERIFY: return "verify";
    default: return "none";
    }
}

const char *failover_kind_name(int kind)
{
    switch (kind) {
    case OP_AUTOMATIC: return "automatic";
    case OP_MANUAL: return "manual";
    default: return "switchover";
    }
}

static int kind_parse(const char *s)
{
    if (s != NULL && strcmp(s, "automatic") == 0)
        return OP_AUTOMATIC;
    if (s != NULL && strcmp(s, "manual") == 0)
        return OP_MANUAL;
    return OP_SWITCHOVER;
}

struct op_replica {
    struct op_member m;
    int skipped;                /* down: the reconciler points it when it returns */
    int done;                   /* REPLICAOF answered */
    int ok;
    int linked;                 /* seen linked to the new master */
    char result[200];
};

struct op {
    struct control *c;
    struct ccluster *cl;
    int64_t id;
    int kind;
    char cluster[CTL_NAME_MAX + 1];
    struct op_member old, cand;
    struct op_replica reps[PLAN_MAX_MEMBERS + 1];
    size_t nreps;
    char reason[PLAN_REASON_LEN * 2];
    char requested_by[32];
    char error[400];
    json_t *candidates;
    json_t *steps;
    int step;
    int pending;                /* REPLICAOF answers still due (repoint) */
    int64_t created_at, started_at;
    int64_t started_mono, deadline_mono;
    int64_t timeout_ms;
    int64_t sync_full_before, sync_partial_before;
    int64_t sync_full_after, sync_partial_after;
    uv_timer_t timer;
    struct waiter *w;
    int ending;
    /* Lifetime: the operation is freed when its timer is closed and no
     * actor command it sent is still to be answered (the actor always calls
     * back, even for a dropped connection), so no callback ever sees it
     * freed. */
    int inflight;
    int timer_closed;
    int role_inflight;          /* ST_WAIT, ST_CATCHUP: one query at a time */
    int paused;                 /* the old master's writes are paused by us */
    int promoted;               /* the candidate answered REPLICAOF NO ONE */
    int64_t pause_target;       /* the old master's offset once paused */
};

static void op_next(struct op *op, int step);
static void release_pause(struct op *op);
static void op_end(struct op *op, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the row -------------------------------------------------------------- */

static char *dump(json_t *j)
{
    return j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
}

static json_t *replicas_json(const struct op *op)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < op->nreps; i++) {
        const struct op_replica *r = &op->reps[i];
        const char *resync = r->skipped ? "skipped" : !r->ok ? "failed" : !r->linked ? "pending"
                           : op->sync_full_after < 0 ? "unknown"
                           : op->sync_full_after > op->sync_full_before ? "full?" : "partial";
        json_t *j = json_pack("{s:s,s:s,s:s}", "node", r->m.name, "resync", resync, "result",
                              r->result);
        if (j != NULL)
            json_array_append_new(arr, j);
    }
    return arr;
}

static void fill_row(const struct op *op, const char *status, struct store_failover *f,
                     char **cand, char **steps, char **reps)
{
    memset(f, 0, sizeof(*f));
    json_t *rj = replicas_json(op);
    *cand = dump(op->candidates);
    *steps = dump(op->steps);
    *reps = dump(rj);
    json_decref(rj);
    f->id = op->id;
    f->cluster = op->cluster;
    f->kind = failover_kind_name(op->kind);
    f->status = status;
    f->step = op->step ? step_name(op->step) : NULL;
    f->reason = op->reason;
    f->old_master = op->old.name[0] ? op->old.name : NULL;
    f->new_master = op->cand.name[0] ? op->cand.name : NULL;
    f->candidates = *cand;
    f->steps = *steps;
    f->replicas = *reps;
    f->error = op->error[0] ? op->error : NULL;
    f->requested_by = op->requested_by;
    f->timeout_ms = op->timeout_ms;
    f->created_at = op->created_at;
    f->started_at = op->started_at;
}

/* Write the operation's row; insert when it has none yet. Runs on the loop:
 * the one place the loop waits for SQLite, because a step must be on disk
 * before it is taken. */
static int op_persist(struct op *op, const char *status, int64_t finished_at)
{
    struct store *st = op->c->d.st;
    struct store_failover f;
    char *cand, *steps, *reps;
    fill_row(op, status, &f, &cand, &steps, &reps);
    f.finished_at = finished_at;
    int rc = store_begin(st);
    if (rc == STORE_OK) {
        rc = op->id == 0 ? store_failover_insert(st, &f, &op->id) : store_failover_update(st, &f);
        if (rc == STORE_OK)
            rc = store_commit(st);
        else
            store_rollback(st);
    }
    if (rc != STORE_OK && rc != STORE_ECONSTRAINT)
        ctl_log_warning("failover %lld: cannot record step %s: %s", (long long)op->id,
                        step_name(op->step), store_errmsg(st));
    free(cand);
    free(steps);
    free(reps);
    return rc;
}

static void step_open(struct op *op, int step)
{
    op->step = step;
    json_t *j = json_pack("{s:s,s:I}", "step", step_name(step), "started_at",
                          (json_int_t)clock_wall_ms());
    if (j != NULL)
        json_array_append_new(op->steps, j);
}

static void step_close(struct op *op, const char *outcome)
{
    size_t n = json_array_size(op->steps);
    json_t *last = n > 0 ? json_array_get(op->steps, n - 1) : NULL;
    if (last == NULL || json_object_get(last, "finished_at") != NULL)
        return;
    json_object_set_new(last, "finished_at", json_integer(clock_wall_ms()));
    json_object_set_new(last, "outcome", json_string(outcome));
}

static void say_step(struct op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_step(struct op *op, const char *fmt, ...)
{
    struct ev e;
    ev_init(&e, EV_FAILOVER_STEP, op->cluster, op->cand.name, "failover");
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ev_printf(&e, "#%lld %s: %s", (long long)op->id, step_name(op->step), msg);
    events_emit(op->c->d.events, &e);
}

/* ---- life cycle ----------------------------------------------------------- */

static void op_maybe_free(struct op *op)
{
    if (!op->timer_closed || op->inflight > 0)
        return;
    json_decref(op->candidates);
    json_decref(op->steps);
    free(op);
}

static void op_free(uv_handle_t *h)
{
    struct op *op = h->data;
    op->timer_closed = 1;
    op_maybe_free(op);
}

/* First thing in every actor callback: 1 when the operation has ended and
 * the answer is to be ignored (the operation may be freed by then). */
static int cmd_answered(struct op *op)
{
    op->inflight--;
    if (!op->ending)
        return 0;
    op_maybe_free(op);
    return 1;
}

static void fire_hooks(struct op *op)
{
    if (op->c->d.hooks == NULL)
        return;
    struct hook_failover hf;
    memset(&hf, 0, sizeof(hf));
    hf.failover_id = op->id;
    snprintf(hf.cluster, sizeof(hf.cluster), "%s", op->cluster);
    snprintf(hf.kind, sizeof(hf.kind), "%s", failover_kind_name(op->kind));
    snprintf(hf.old_master, sizeof(hf.old_master), "%s", op->old.name);
    snprintf(hf.old_host, sizeof(hf.old_host), "%s", op->old.host);
    hf.old_port = op->old.port;
    snprintf(hf.new_master, sizeof(hf.new_master), "%s", op->cand.name);
    snprintf(hf.new_host, sizeof(hf.new_host), "%s", op->cand.host);
    hf.new_port = op->cand.port;
    snprintf(hf.reason, sizeof(hf.reason), "%.511s", op->reason);
    hf.ts_ms = clock_wall_ms();
    hooks_fire(op->c->d.hooks, &hf);
}

static void op_end(struct op *op, const char *status, const char *fmt, ...)
{
    if (op->ending)
        return;
    op->ending = 1;
    struct control *c = op->c;
    int done = strcmp(status, "done") == 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->error, sizeof(op->error), fmt, ap);
    va_end(ap);
    step_close(op, done ? "ok" : op->error);
    if (done)
        op->error[0] = '\0';
    if (op->paused && !op->promoted)
        release_pause(op);
    else if (op->paused)
        /* The candidate is a master: unpausing the old one now would give the
         * cluster two writable masters until the reconciler demotes one. */
        ctl_log_warning("switchover of %s: %s stays paused until its pause expires", op->cluster,
                        op->old.name);
    (void)op_persist(op, status, clock_wall_ms());
    int64_t took = clock_mono_ms() - op->started_mono;
    metrics_failover_ended(c->d.metrics, op->cluster, failover_kind_name(op->kind), status,
                           (double)took / 1000.0);

    struct ev e;
    int sw = op->kind == OP_SWITCHOVER;
    enum ev_kind kind = done ? (sw ? EV_SWITCHOVER_DONE : EV_FAILOVER_DONE)
                             : (sw && strcmp(status, "aborted") == 0 ? EV_SWITCHOVER_ABORTED
                                                                     : EV_FAILOVER_FAILED);
    ev_init(&e, kind, op->cluster, op->cand.name, "failover");
    snprintf(e.old_host, sizeof(e.old_host), "%s", op->old.host);
    e.old_port = op->old.port;
    snprintf(e.new_host, sizeof(e.new_host), "%s", op->cand.host);
    e.new_port = op->cand.port;
    if (done)
        ev_printf(&e, "#%lld %s %s -> %s in %lld ms (%s)", (long long)op->id,
                  failover_kind_name(op->kind), op->old.name, op->cand.name, (long long)took,
                  op->sync_full_after < 0 ? "resync kind unknown"
                  : op->sync_full_after > op->sync_full_before ? "FULL resync seen on the new master"
                                                               : "replicas resynced partially");
    else
        ev_printf(&e, "#%lld %s %s: %s", (long long)op->id, failover_kind_name(op->kind), status,
                  op->error);
    events_emit(c->d.events, &e);
    if (done && op->sync_full_after > op->sync_full_before && op->sync_full_before >= 0)
        events_say(c->d.events, EV_RESYNC_FULL, op->cluster, op->cand.name, "failover",
                   "#%lld: the new master served %lld full resync(s) during the failover",
                   (long long)op->id, (long long)(op->sync_full_after - op->sync_full_before));
    else if (done && op->sync_full_after >= 0)
        events_say(c->d.events, EV_RESYNC_PARTIAL, op->cluster, op->cand.name, "failover",
                   "#%lld: replicas continued with partial resyncs (%lld)", (long long)op->id,
                   (long long)(op->sync_partial_after - op->sync_partial_before));

    if (done && op->kind == OP_AUTOMATIC) {
        op->cl->last_auto_mono = clock_mono_ms();
        op->cl->last_auto_id = op->id;
        op->cl->last_auto_acked = 0;
    }
    if (!done && op->kind != OP_SWITCHOVER)
        op->cl->retry_after_mono = clock_mono_ms() + 1000;
    pthread_mutex_lock(&c->mu);
    if (done)
        c->failovers++;
    else
        c->failovers_failed++;
    c->ops_running--;
    pthread_mutex_unlock(&c->mu);
    if (op->w != NULL) {
        int status_code = done ? 200 : strcmp(status, "aborted") == 0 ? 409 : 500;
        /* The id first: the API thread reads the reply as soon as it is
         * marked done. */
        pthread_mutex_lock(&op->w->mu);
        op->w->reply.failover_id = op->id;
        pthread_mutex_unlock(&op->w->mu);
        ctl_waiter_reply(op->w, status_code, done ? "" : "conflict", "%s",
                         done ? "done" : op->error);
        ctl_waiter_release(op->w);
        op->w = NULL;
    }
    if (done)
        fire_hooks(op);
    op->cl->op = NULL;
    uv_timer_stop(&op->timer);
    uv_close((uv_handle_t *)&op->timer, op_free);
}

/* ---- steps ------------------------------------------------------------------ */

static int op_cmd(struct op *op, const struct op_member *m, int timeout_ms, act_cb cb,
                  int argc, const char **argv)
{
    if (actor_cmd_argv(op->c->actor, m->id, m->host, m->port, timeout_ms, cb, op, argc, argv) != 0)
        return -1;
    op->inflight++;
    return 0;
}

static int node_timeout(const struct op *op)
{
    return op->c->d.cfg->monitor_timeout_ms;
}

static int64_t info_field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, key, kl) == 0 && p[kl] == ':')
            return strtoll(p + kl + 1, NULL, 10);
    }
    return -1;
}

/* ROLE's first element. */
static const char *role_of(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return "";
    return r->element[0]->str;
}

static void on_promote(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (!r->ok) {
        op_end(op, "failed", "promote %s: %s (nothing changed: rolled back)", op->cand.name, r->err);
        return;
    }
    op->promoted = 1;
    say_step(op, "%s answered REPLICAOF NO ONE in %lld ms", op->cand.name, (long long)r->elapsed_ms);
    op_next(op, ST_CONFIRM);
}

static void on_confirm_stats(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (r->ok && r->reply->type == REDIS_REPLY_STRING) {
        op->sync_full_before = info_field(r->reply->str, "sync_full");
        op->sync_partial_before = info_field(r->reply->str, "sync_partial_ok");
    }
    op_next(op, ST_TOPOLOGY);
}

static void on_confirm_role(void *arg, const struct act_result *r);

static void on_confirm_tick(uv_timer_t *t)
{
    struct op *op = t->data;
    if (op->ending)
        return;
    const char *argv[] = { "ROLE" };
    if (op_cmd(op, &op->cand, node_timeout(op), on_confirm_role, 1, argv) != 0)
        op_end(op, "failed", "cannot reach %s to confirm", op->cand.name);
}

static void on_confirm_role(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    const char *role = r->ok ? role_of(r->reply) : "";
    if (strcmp(role, "master") != 0) {
        /* After a hand-off the old master reports itself a replica before
         * the candidate has taken its PSYNC FAILOVER: ask again shortly. */
        if (clock_mono_ms() < op->deadline_mono) {
            (void)uv_timer_start(&op->timer, on_confirm_tick, WAIT_POLL_MS, 0);
            return;
        }
        op_end(op, "failed", "confirm %s: ROLE answered %s%s", op->cand.name,
               r->ok ? role : "an error: ", r->ok ? "" : r->err);
        return;
    }
    const char *argv[] = { "INFO", "stats" };
    if (op_cmd(op, &op->cand, node_timeout(op), on_confirm_stats, 2, argv) != 0)
        op_next(op, ST_TOPOLOGY);
}

static void do_topology(struct op *op)
{
    struct fleet_err e;
    char why[300];
    snprintf(why, sizeof(why), "%s #%lld", failover_kind_name(op->kind), (long long)op->id);
    if (fleet_cluster_set_master(op->c->d.fleet, op->cluster, op->cand.name, "failover", why,
                                 &e) != 0) {
        /* The candidate is a master already: leave it so (the planner sees
         * two masters and the reconciler demotes the one not desired). */
        op_end(op, "failed", "topology: %s", e.msg);
        return;
    }
    say_step(op, "%s is the desired master of %s", op->cand.name, op->cluster);
    op_next(op, ST_REPOINT);
}

struct rep_ctx {
    struct op *op;
    struct op_replica *rep;
};

static void on_repoint(void *arg, const struct act_result *r)
{
    struct rep_ctx *x = arg;
    struct op *op = x->op;
    struct op_replica *rep = x->rep;
    free(x);
    if (cmd_answered(op))
        return;
    rep->done = 1;
    rep->ok = r->ok;
    if (r->ok && rep->m.id == op->old.id)
        release_pause(op);     /* a replica now: its paused writers get READONLY */
    snprintf(rep->result, sizeof(rep->result), "%.199s", r->ok ? "REPLICAOF OK" : r->err);
    if (--op->pending == 0)
        op_next(op, ST_VERIFY);
}

static void do_repoint(struct op *op)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", op->cand.port);
    const char *argv[] = { "REPLICAOF", op->cand.host, port };
    op->pending = 1;           /* held until every command is queued */
    for (size_t i = 0; i < op->nreps; i++) {
        struct op_replica *rep = &op->reps[i];
        state_rdlock(op->c->d.state);
        const struct node_obs *o = state_obs(op->c->d.state, rep->m.id);
        int down = o == NULL || o->state == NODE_DOWN;
        state_unlock(op->c->d.state);
        if (down) {
            rep->skipped = 1;
            snprintf(rep->result, sizeof(rep->result),
                     "down: the reconciler points it at %s when it returns", op->cand.name);
            continue;
        }
        struct rep_ctx *x = malloc(sizeof(*x));
        if (x == NULL)
            continue;
        x->op = op;
        x->rep = rep;
        op->pending++;
        if (actor_cmd_argv(op->c->actor, rep->m.id, rep->m.host, rep->m.port, node_timeout(op),
                           on_repoint, x, 3, argv) != 0) {
            op->pending--;
            free(x);
            snprintf(rep->result, sizeof(rep->result), "cannot reach the node");
        } else {
            op->inflight++;
        }
    }
    if (--op->pending == 0)
        op_next(op, ST_VERIFY);
}

static void on_verify_stats(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (r->ok && r->reply->type == REDIS_REPLY_STRING) {
        op->sync_full_after = info_field(r->reply->str, "sync_full");
        op->sync_partial_after = info_field(r->reply->str, "sync_partial_ok");
    }
    op_end(op, "done", "done");
}

/* Every re-pointed replica linked to the new master, or time is up. */
static int all_linked(struct op *op)
{
    int all = 1;
    state_rdlock(op->c->d.state);
    for (size_t i = 0; i < op->nreps; i++) {
        struct op_replica *rep = &op->reps[i];
        if (rep->skipped || !rep->ok || rep->linked)
            continue;
        const struct node_obs *o = state_obs(op->c->d.state, rep->m.id);
        if (o != NULL && o->role == ROLE_REPLICA && o->link == LINK_UP &&
            o->master_port == op->cand.port && strcmp(o->master_host, op->cand.host) == 0)
            rep->linked = 1;
        else
            all = 0;
    }
    state_unlock(op->c->d.state);
    return all;
}

static void on_verify_tick(uv_timer_t *t)
{
    struct op *op = t->data;
    if (op->ending)
        return;
    int all = all_linked(op);
    if (!all && clock_mono_ms() < op->deadline_mono)
        return;
    uv_timer_stop(&op->timer);
    step_close(op, all ? "every replica linked" : "not every replica linked in time");
    const char *argv[] = { "INFO", "stats" };
    if (op_cmd(op, &op->cand, node_timeout(op), on_verify_stats, 2, argv) != 0)
        op_end(op, "done", "done");
}

/* ---- switchover ------------------------------------------------------------ */

static int is_unknown_command(const char *err)
{
    return strncmp(err, "ERR unknown command", 19) == 0;
}


static void on_handoff(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (!r->ok && is_unknown_command(r->err)) {
        say_step(op, "%s has no FAILOVER (%s): pausing its writes instead", op->old.name, r->err);
        op_next(op, ST_PAUSE);
        return;
    }
    if (!r->ok) {
        op_end(op, "aborted", "FAILOVER on %s refused: %s (nothing changed)", op->old.name, r->err);
        return;
    }
    char addr[CTL_HOST_MAX + 16];
    fleet_addr_format(addr, sizeof(addr), op->cand.host, op->cand.port);
    say_step(op, "%s accepted FAILOVER TO %s TIMEOUT %lld", op->old.name, addr,
             (long long)op->timeout_ms);
    op_next(op, ST_WAIT);
}

static void on_wait_info(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    const char *text = r->ok && r->reply->type == REDIS_REPLY_STRING ? r->reply->str : "";
    if (strstr(text, "master_failover_state:no-failover") != NULL &&
        strstr(text, "role:master") != NULL) {
        op_end(op, "aborted", "%s could not catch up with %s within %lld ms: the master "
               "aborted the hand-off and accepts writes again; nothing changed", op->cand.name,
               op->old.name, (long long)op->timeout_ms);
        return;
    }
    if (clock_mono_ms() > op->deadline_mono + 5000)
        op_end(op, "failed", "%s neither handed over nor aborted in time", op->old.name);
}

static void on_wait_role(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    op->role_inflight = 0;
    if (cmd_answered(op))
        return;
    const char *role = r->ok ? role_of(r->reply) : "";
    if (strcmp(role, "slave") == 0 && r->reply->elements >= 3 &&
        r->reply->element[1]->type == REDIS_REPLY_STRING &&
        strcmp(r->reply->element[1]->str, op->cand.host) == 0 &&
        r->reply->element[2]->type == REDIS_REPLY_INTEGER &&
        r->reply->element[2]->integer == op->cand.port) {
        uv_timer_stop(&op->timer);
        say_step(op, "%s handed over and replicates from %s", op->old.name, op->cand.name);
        op_next(op, ST_CONFIRM);
        return;
    }
    if (clock_mono_ms() > op->deadline_mono) {
        const char *argv[] = { "INFO", "replication" };
        if (op_cmd(op, &op->old, node_timeout(op), on_wait_info, 2, argv) != 0)
            op_end(op, "failed", "%s unreachable during the hand-off", op->old.name);
    }
}

static void on_wait_tick(uv_timer_t *t)
{
    struct op *op = t->data;
    if (op->ending)
        return;
    if (op->role_inflight)
        return;
    const char *argv[] = { "ROLE" };
    if (op_cmd(op, &op->old, node_timeout(op), on_wait_role, 1, argv) == 0)
        op->role_inflight = 1;
    else if (clock_mono_ms() > op->deadline_mono + 5000)
        op_end(op, "failed", "%s unreachable during the hand-off", op->old.name);
}

/* ---- switchover by pausing writes (the master has no FAILOVER) -------------- */

static void on_detached_reply(void *arg, const struct act_result *r)
{
    char *what = arg;
    if (!r->ok)
        ctl_log_warning("switchover: %s: %s", what, r->err);
    free(what);
}

/* A command whose answer the operation does not wait for (it may end first):
 * the callback owns a copy of the description, not the operation. */
static void send_detached(struct op *op, const struct op_member *m, int argc, const char **argv)
{
    char what[200];
    snprintf(what, sizeof(what), "%s on %s", argv[0], m->name);
    char *copy = strdup(what);
    if (copy == NULL)
        return;
    if (actor_cmd_argv(op->c->actor, m->id, m->host, m->port, node_timeout(op),
                       on_detached_reply, copy, argc, argv) != 0)
        free(copy);
}

/* Undo what the pause changed on the old master: its writers resume (or, once
 * it is a replica, are answered READONLY) and its heartbeat returns. */
static void release_pause(struct op *op)
{
    if (!op->paused)
        return;
    op->paused = 0;
    char period[16];
    snprintf(period, sizeof(period), "%d", CTL_PING_PERIOD_S);
    const char *unpause[] = { "CLIENT", "UNPAUSE" };
    const char *ping[] = { "CONFIG", "SET", "repl-ping-replica-period", period };
    send_detached(op, &op->old, 2, unpause);
    send_detached(op, &op->old, 4, ping);
}

static void on_pause_ping(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (!r->ok)   /* only a heartbeat may then cost a full resync: go on */
        say_step(op, "%s kept its heartbeat (%s)", op->old.name, r->err);
}

static void on_pause(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    if (!r->ok) {
        release_pause(op);
        op_end(op, "aborted", "%s offers neither FAILOVER nor CLIENT PAUSE WRITE (%s); "
               "nothing changed", op->old.name, r->err);
        return;
    }
    say_step(op, "%s paused its writes for at most %lld ms", op->old.name,
             (long long)(op->timeout_ms + PAUSE_MARGIN_MS));
}

static void on_pause_info(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    if (cmd_answered(op))
        return;
    const char *text = r->ok && r->reply->type == REDIS_REPLY_STRING ? r->reply->str : "";
    int64_t offset = info_field(text, "master_repl_offset");
    if (strstr(text, "role:master") == NULL || offset < 0) {
        release_pause(op);
        op_end(op, "aborted", "%s: no master offset after the pause (%s); writes resumed, "
               "nothing changed", op->old.name, r->ok ? "not a master" : r->err);
        return;
    }
    op->pause_target = offset;
    say_step(op, "%s stands at offset %lld", op->old.name, (long long)offset);
    op_next(op, ST_CATCHUP);
}

/* Pipelined on the old master's connection, answered in order: heartbeat
 * off, writes paused, then the offset that no write can move any more. */
static void do_pause(struct op *op)
{
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)(op->timeout_ms + PAUSE_MARGIN_MS));
    const char *ping[] = { "CONFIG", "SET", "repl-ping-replica-period", PAUSE_PING_PERIOD };
    const char *pause[] = { "CLIENT", "PAUSE", ms, "WRITE" };
    const char *info[] = { "INFO", "replication" };
    op->paused = 1;            /* from here on, every way out releases it */
    if (op_cmd(op, &op->old, node_timeout(op), on_pause_ping, 4, ping) != 0 ||
        op_cmd(op, &op->old, node_timeout(op), on_pause, 4, pause) != 0 ||
        op_cmd(op, &op->old, node_timeout(op), on_pause_info, 2, info) != 0) {
        release_pause(op);
        op_end(op, "aborted", "cannot reach %s", op->old.name);
    }
}

static void catchup_abort(struct op *op, int64_t offset)
{
    uv_timer_stop(&op->timer);
    release_pause(op);
    char where[80];
    if (offset >= 0)
        snprintf(where, sizeof(where), "offset %lld of %lld", (long long)offset,
                 (long long)op->pause_target);
    else
        snprintf(where, sizeof(where), "it did not answer in time");
    op_end(op, "aborted", "%s could not catch up with %s within %lld ms (%s): writes resumed "
           "on %s; nothing changed", op->cand.name, op->old.name, (long long)op->timeout_ms,
           where, op->old.name);
}

static void on_catchup_info(void *arg, const struct act_result *r)
{
    struct op *op = arg;
    op->role_inflight = 0;
    if (cmd_answered(op))
        return;
    const char *text = r->ok && r->reply->type == REDIS_REPLY_STRING ? r->reply->str : "";
    int64_t offset = info_field(text, "slave_repl_offset");
    if (offset >= op->pause_target && strstr(text, "master_link_status:up") != NULL) {
        uv_timer_stop(&op->timer);
        say_step(op, "%s caught up: offset %lld", op->cand.name, (long long)offset);
        op_next(op, ST_PROMOTE);
        return;
    }
    if (clock_mono_ms() > op->deadline_mono)
        catchup_abort(op, offset);
}

static void on_catchup_tick(uv_timer_t *t)
{
    struct op *op = t->data;
    if (op->ending)
        return;
    if (op->role_inflight) {
        /* A candidate too slow to answer is too slow to catch up: the
         * master's writers must not wait for its answer past the timeout. */
        if (clock_mono_ms() > op->deadline_mono)
            catchup_abort(op, -1);
        return;
    }
    const char *argv[] = { "INFO", "replication" };
    if (op_cmd(op, &op->cand, node_timeout(op), on_catchup_info, 2, argv) == 0)
        op->role_inflight = 1;
    else if (clock_mono_ms() > op->deadline_mono)
        catchup_abort(op, -1);
}

/* ---- the step machine ------------------------------------------------------- */

static void op_next(struct op *op, int step)
{
    if (op->ending)
        return;
    step_close(op, "ok");
    step_open(op, step);
    if (op_persist(op, "running", 0) != STORE_OK) {
        op_end(op, "failed", "cannot record step %s in the database", step_name(step));
        return;
    }
    char port[16], tmo[24];
    switch (step) {
    case ST_HANDOFF: {
        snprintf(port, sizeof(port), "%d", op->cand.port);
        snprintf(tmo, sizeof(tmo), "%lld", (long long)op->timeout_ms);
        const char *argv[] = { "FAILOVER", "TO", op->cand.host, port, "TIMEOUT", tmo };
        if (op_cmd(op, &op->old, node_timeout(op), on_handoff, 6, argv) != 0)
            op_end(op, "aborted", "cannot reach %s", op->old.name);
        break;
    }
    case ST_WAIT:
        op->deadline_mono = clock_mono_ms() + op->timeout_ms;
        (void)uv_timer_start(&op->timer, on_wait_tick, WAIT_POLL_MS, WAIT_POLL_MS);
        break;
    case ST_PAUSE:
        do_pause(op);
        break;
    case ST_CATCHUP:
        op->deadline_mono = clock_mono_ms() + op->timeout_ms;
        (void)uv_timer_start(&op->timer, on_catchup_tick, 0, WAIT_POLL_MS);
        break;
    case ST_PROMOTE: {
        const char *argv[] = { "REPLICAOF", "NO", "ONE" };
        if (op_cmd(op, &op->cand, node_timeout(op), on_promote, 3, argv) != 0)
            op_end(op, "failed", "cannot reach %s (nothing changed: rolled back)", op->cand.name);
        break;
    }
    case ST_CONFIRM: {
        op->deadline_mono = clock_mono_ms() + 3000;
        const char *argv[] = { "ROLE" };
        if (op_cmd(op, &op->cand, node_timeout(op), on_confirm_role, 1, argv) != 0)
            op_end(op, "failed", "cannot reach %s to confirm", op->cand.name);
        break;
    }
    case ST_TOPOLOGY:
        do_topology(op);
        break;
    case ST_REPOINT:
        do_repoint(op);
        break;
    case ST_VERIFY:
        op->deadline_mono = clock_mono_ms() + VERIFY_TIMEOUT_MS;
        (void)uv_timer_start(&op->timer, on_verify_tick, 0, VERIFY_POLL_MS);
        break;
    }
}

static struct op *op_new(struct control *c, struct ccluster *cl, int kind,
                         const struct op_member *old_master, const struct op_member *cand,
                         const struct op_member *others, size_t nothers, const char *reason)
{
    struct op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    if (uv_timer_init(c->d.loop, &op->timer) != 0) {
        free(op);
        return NULL;
    }
    op->timer.data = op;
    op->c = c;
    op->cl = cl;
    op->kind = kind;
    snprintf(op->cluster, sizeof(op->cluster), "%s", cl->name);
    op->old = *old_master;
    op->cand = *cand;
    /* Every other member follows the new master, the old one too. */
    for (size_t i = 0; i < nothers && op->nreps < PLAN_MAX_MEMBERS; i++)
        op->reps[op->nreps++].m = others[i];
    if (old_master->id != 0)
        op->reps[op->nreps++].m = *old_master;
    snprintf(op->reason, sizeof(op->reason), "%s", reason);
    snprintf(op->requested_by, sizeof(op->requested_by), "%s",
             kind == OP_AUTOMATIC ? "planner" : "api");
    op->steps = json_array();
    op->created_at = op->started_at = clock_wall_ms();
    op->started_mono = clock_mono_ms();
    op->sync_full_before = op->sync_partial_before = -1;
    op->sync_full_after = op->sync_partial_after = -1;
    return op;
}

static void op_discard(struct op *op)
{
    uv_close((uv_handle_t *)&op->timer, op_free);
}

/* Claim the row of a scheduled switchover (status scheduled -> running) and
 * adopt its identity, so this run updates that row. */
struct sched_row {
    int found;
    char requested_by[32];
    int64_t created_at;
    int64_t scheduled_at;
};

static int take_sched_row(void *arg, const struct store_failover *f)
{
    struct sched_row *s = arg;
    s->found = 1;
    snprintf(s->requested_by, sizeof(s->requested_by), "%s", f->requested_by ? f->requested_by : "api");
    s->created_at = f->created_at;
    s->scheduled_at = f->scheduled_at;
    return 0;
}

int failover_start(struct control *c, struct ccluster *cl, int kind,
                   const struct op_member *old_master, const struct op_member *cand,
                   const struct op_member *others, size_t nothers, const char *reason,
                   json_t *candidates, int64_t timeout_ms, int64_t scheduled_id,
                   struct waiter *w)
{
    if (cl->op != NULL) {
        json_decref(candidates);
        return -1;
    }
    struct op *op = op_new(c, cl, kind, old_master, cand, others, nothers, reason);
    if (op == NULL) {
        json_decref(candidates);
        return -1;
    }
    op->candidates = candidates != NULL ? candidates : json_array();
    op->timeout_ms = kind == OP_SWITCHOVER
                         ? (timeout_ms > 0 ? timeout_ms : DEFAULT_SWITCHOVER_TIMEOUT_MS)
                         : 0;
    int first = kind == OP_SWITCHOVER ? ST_HANDOFF : ST_PROMOTE;
    step_open(op, first);
    if (scheduled_id > 0) {
        struct sched_row sr = { 0 };
        if (store_failover_get(c->d.st, scheduled_id, take_sched_row, &sr) != STORE_OK ||
            store_failover_claim(c->d.st, scheduled_id, "scheduled", "running") != STORE_OK) {
            op_discard(op);
            return -1;
        }
        op->id = scheduled_id;
        snprintf(op->requested_by, sizeof(op->requested_by), "%s", sr.requested_by);
        op->created_at = sr.created_at;
    }
    /* The row goes in first: the unique index refuses a second running
     * operation of this cluster, whoever asked for it. */
    int rc = op_persist(op, "running", 0);
    if (rc != STORE_OK) {
        if (rc == STORE_ECONSTRAINT)
            ctl_log_warning("failover of %s refused by the database: another one is running",
                            cl->name);
        op_discard(op);
        return -1;
    }
    cl->op = op;
    pthread_mutex_lock(&c->mu);
    c->ops_running++;
    pthread_mutex_unlock(&c->mu);
    if (w != NULL) {
        pthread_mutex_lock(&w->mu);
        w->refs++;
        pthread_mutex_unlock(&w->mu);
        op->w = w;
    }
    struct ev e;
    ev_init(&e, kind == OP_SWITCHOVER ? EV_SWITCHOVER_STARTED : EV_FAILOVER_STARTED, cl->name,
            cand->name, kind == OP_AUTOMATIC ? "planner" : "api");
    ev_printf(&e, "#%lld %s of %s: %s -> %s: %s", (long long)op->id, failover_kind_name(kind),
              cl->name, old_master->name[0] ? old_master->name : "(none)", cand->name, reason);
    snprintf(e.old_host, sizeof(e.old_host), "%s", old_master->host);
    e.old_port = old_master->port;
    snprintf(e.new_host, sizeof(e.new_host), "%s", cand->host);
    e.new_port = cand->port;
    events_emit(c->d.events, &e);
    /* op_next re-opens the first step: drop the provisional entry. */
    json_array_clear(op->steps);
    op->step = 0;
    op_next(op, first);
    return 0;
}

void failover_abort_all(struct control *c, const char *why)
{
    for (size_t i = 0; i < c->nclusters; i++) {
        struct op *op = c->clusters[i]->op;
        if (op == NULL)
            continue;
        /* The row stays "running": the next kvfleetd finishes or rolls it
         * back (failover_recover). Only the waiter and the handles go. */
        if (op->w != NULL) {
            ctl_waiter_reply(op->w, 503, "unavailable", "%s", why);
            ctl_waiter_release(op->w);
            op->w = NULL;
        }
        op->ending = 1;
        c->clusters[i]->op = NULL;
        uv_timer_stop(&op->timer);
        uv_close((uv_handle_t *)&op->timer, op_free);
    }
}

/* ---- recovery after a restart -------------------------------------------- */

struct recover_row {
    int64_t id;
    char cluster[CTL_NAME_MAX + 1];
    int kind;
    char step[32];
    char old_master[CTL_NAME_MAX + 1];
    char new_master[CTL_NAME_MAX + 1];
    char reason[PLAN_REASON_LEN * 2];
    char requested_by[32];
    int64_t created_at, timeout_ms;
    char *candidates, *steps;
};

struct recover_list {
    struct recover_row rows[16];
    int n;
};

static int collect_running(void *arg, const struct store_failover *f)
{
    struct recover_list *l = arg;
    if (l->n >= 16)
        return 0;
    struct recover_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof(*r));
    r->id = f->id;
    snprintf(r->cluster, sizeof(r->cluster), "%s", f->cluster);
    r->kind = kind_parse(f->kind);
    snprintf(r->step, sizeof(r->step), "%s", f->step ? f->step : "");
    snprintf(r->old_master, sizeof(r->old_master), "%s", f->old_master ? f->old_master : "");
    snprintf(r->new_master, sizeof(r->new_master), "%s", f->new_master ? f->new_master : "");
    snprintf(r->reason, sizeof(r->reason), "%s", f->reason ? f->reason : "");
    snprintf(r->requested_by, sizeof(r->requested_by), "%s", f->requested_by ? f->requested_by : "");
    r->created_at = f->created_at;
    r->timeout_ms = f->timeout_ms;
    r->candidates = f->candidates ? strdup(f->candidates) : NULL;
    r->steps = f->steps ? strdup(f->steps) : NULL;
    return 0;
}

/* Members of the row's cluster by name, with what we observe of the
 * candidate now. */
struct recover_view {
    const struct recover_row *row;
    int found;
    struct op_member old_master, cand, others[PLAN_MAX_MEMBERS];
    size_t nothers;
    int cand_role, cand_state;
};

static void take_recover_view(struct control *c, void *arg, const struct fleet_cluster *fc,
                              const struct plan_input *in, const struct plan_output *out)
{
    (void)fc;
    (void)out;
    struct recover_view *v = arg;
    int64_t cand_id = 0;
    const struct node_obs *co = NULL;
    if (in->master != NULL && strcmp(in->master->name, v->row->new_master) == 0) {
        cand_id = in->master->id;      /* the topology step already ran */
        co = in->master->obs;
    }
    for (size_t i = 0; i < in->nreplicas && cand_id == 0; i++)
        if (strcmp(in->replicas[i].name, v->row->new_master) == 0) {
            cand_id = in->replicas[i].id;
            co = in->replicas[i].obs;
        }
    if (cand_id == 0)
        return;
    v->found = 1;
    v->cand_role = co->role;
    v->cand_state = co->state;
    ctl_plan_members(in, cand_id, &v->old_master, &v->cand, v->others, &v->nothers);
    if (in->master != NULL && in->master->id == cand_id) {
        /* Rebuild: the desired master is the candidate; the old master is
         * among the replicas. */
        v->cand = v->old_master;
        memset(&v->old_master, 0, sizeof(v->old_master));
        for (size_t i = 0; i < v->nothers; i++)
            if (strcmp(v->others[i].name, v->row->old_master) == 0) {
                v->old_master = v->others[i];
                v->others[i] = v->others[--v->nothers];
                break;
            }
    }
    (void)c;
}

static void mark_row(struct control *c, const struct recover_row *r, const char *status,
                     const char *error)
{
    struct store_failover f = {
        .id = r->id, .cluster = r->cluster, .kind = failover_kind_name(r->kind),
        .status = status, .step = r->step[0] ? r->step : NULL, .reason = r->reason,
        .old_master = r->old_master[0] ? r->old_master : NULL,
        .new_master = r->new_master[0] ? r->new_master : NULL, .candidates = r->candidates,
        .steps = r->steps, .replicas = "[]", .error = error, .requested_by = r->requested_by,
        .timeout_ms = r->timeout_ms, .created_at = r->created_at,
        .finished_at = clock_wall_ms(),
    };
    if (store_begin(c->d.st) == STORE_OK) {
        if (store_failover_update(c->d.st, &f) == STORE_OK)
            (void)store_commit(c->d.st);
        else
            store_rollback(c->d.st);
    }
    events_say(c->d.events, EV_FAILOVER_FAILED, r->cluster, r->new_master, "failover",
               "#%lld %s after a kvfleetd restart: %s", (long long)r->id, status, error);
}

static void resume_row(struct control *c, const struct recover_row *r)
{
    struct recover_view v = { .row = r };
    if (ctl_with_plan(c, 0, r->cluster, 0, 0, 0, NULL, take_recover_view, &v) != 0 || !v.found) {
        mark_row(c, r, "aborted", "the cluster or the candidate no longer exists");
        return;
    }
    /* The observation is at least one poll old: the candidate's role says
     * how far the interrupted operation got. */
    int promoted = v.cand_state == NODE_UP && v.cand_role == ROLE_MASTER;
    int step;
    if (promoted)
        step = ST_CONFIRM;            /* it is master: confirm, then finish */
    else if (r->kind != OP_SWITCHOVER && v.cand_state == NODE_UP)
        step = ST_PROMOTE;            /* promotion is idempotent: take it again */
    else {
        mark_row(c, r, "aborted",
                 r->kind == OP_SWITCHOVER
                     ? "interrupted before the hand-off completed; the master keeps its role"
                     : "the candidate is not reachable; nothing more was changed");
        return;
    }
    struct ccluster *cl = ctl_cluster(c, 0, r->cluster);
    if (cl == NULL || cl->op != NULL) {
        mark_row(c, r, "aborted", "another operation is running");
        return;
    }
    struct op *op = op_new(c, cl, r->kind, &v.old_master, &v.cand, v.others, v.nothers, r->reason);
    if (op == NULL)
        return;
    op->id = r->id;
    op->created_at = r->created_at;
    snprintf(op->requested_by, sizeof(op->requested_by), "%s", r->requested_by);
    op->timeout_ms = r->timeout_ms;
    json_error_t je;
    json_t *steps = r->steps != NULL ? json_loads(r->steps, 0, &je) : NULL;
    if (json_is_array(steps)) {
        json_decref(op->steps);
        op->steps = steps;
    } else {
        json_decref(steps);
    }
    op->candidates = r->candidates != NULL ? json_loads(r->candidates, 0, &je) : json_array();
    if (op->candidates == NULL)
        op->candidates = json_array();
    cl->op = op;
    pthread_mutex_lock(&c->mu);
    c->ops_running++;
    pthread_mutex_unlock(&c->mu);
    events_say(c->d.events, EV_FAILOVER_STEP, r->cluster, r->new_master, "failover",
               "#%lld resumed after a kvfleetd restart at step %s (it stopped in %s)",
               (long long)r->id, step_name(step), r->step);
    op_next(op, step);
}

void failover_recover(struct control *c)
{
    struct recover_list *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return;
    if (store_failovers_query(c->d.st, NULL, "running", 0, 16, collect_running, l) != STORE_OK)
        ctl_log_warning("cannot read interrupted failovers: %s", store_errmsg(c->d.st));
    for (int i = 0; i < l->n; i++) {
        resume_row(c, &l->rows[i]);
        free(l->rows[i].candidates);
        free(l->rows[i].steps);
    }
    free(l);
}

/* ---- scheduled switchovers ------------------------------------------------- */

struct due_list {
    int64_t ids[16];
    char cluster[16][CTL_NAME_MAX + 1];
    char cand[16][CTL_NAME_MAX + 1];
    int64_t timeout[16];
    int n;
    int64_t now;
};

static int collect_due(void *arg, const struct store_failover *f)
{
    struct due_list *d = arg;
    if (d->n >= 16 || f->scheduled_at > d->now)
        return 0;
    d->ids[d->n] = f->id;
    snprintf(d->cluster[d->n], sizeof(d->cluster[0]), "%s", f->cluster);
    snprintf(d->cand[d->n], sizeof(d->cand[0]), "%s", f->new_master ? f->new_master : "");
    d->timeout[d->n] = f->timeout_ms;
    d->n++;
    return 0;
}

void failover_run_schedules(struct control *c)
{
    struct due_list d = { .now = clock_wall_ms() };
    /* Twice a second on the loop: never wait for the store here (an API
     * call may hold it up to the busy timeout); try again next time. */
    if (store_failovers_query_nowait(c->d.st, NULL, "scheduled", 0, 16, collect_due, &d) !=
        STORE_OK)
        return;
    for (int i = 0; i < d.n; i++) {
        struct request rq;
        memset(&rq, 0, sizeof(rq));
        rq.type = REQ_SWITCHOVER;
        snprintf(rq.cluster, sizeof(rq.cluster), "%s", d.cluster[i]);
        snprintf(rq.candidate, sizeof(rq.candidate), "%s", d.cand[i]);
        rq.timeout_ms = d.timeout[i];
        rq.scheduled_id = d.ids[i];
        ctl_run_scheduled(c, &rq);
    }
}

/* ---- any thread ----------------------------------------------------------- */

int failover_schedule(struct store *st, const char *cluster, const char *candidate,
                      int64_t timeout_ms, int64_t scheduled_at, const char *actor, int64_t *id)
{
    struct store_failover f = {
        .cluster = cluster, .kind = "switchover", .status = "scheduled",
        .reason = "scheduled switchover", .new_master = candidate, .requested_by = actor,
        .timeout_ms = timeout_ms, .scheduled_at = scheduled_at, .created_at = clock_wall_ms(),
    };
    int rc = store_begin(st);
    if (rc != STORE_OK)
        return rc;
    rc = store_failover_insert(st, &f, id);
    if (rc != STORE_OK) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}

int failover_cancel(struct store *st, int64_t id)
{
    return store_failover_claim(st, id, "scheduled", "cancelled");
}
