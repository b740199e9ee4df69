/* control.c - the controller's loop (see control.h).
 *
 * Lock order, everywhere: store (a mutation's transaction) -> fleet -> state.
 * The loop takes the fleet read lock and the state write lock together only
 * to copy what it needs; it never calls the store while holding either, and
 * never waits for an API thread. */
#include "control_int.h"
#include "clock.h"
#include "hooks.h"
#include "log.h"
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 100
#define FLUSH_INTERVAL_MS 5000
#define SCHEDULE_CHECK_MS 500
#define FAILED_RETRY_MS 1000
#define REDIS_DEFAULT_PING_MS 10000

/* ---- small tables ------------------------------------------------------- */

struct cnode *ctl_node(struct control *c, int64_t id)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].id == id)
            return &c->nodes[i];
    if (c->nnodes == c->ncap) {
        size_t cap = c->ncap ? c->ncap * 2 : 64;
        struct cnode *p = realloc(c->nodes, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        c->nodes = p;
        c->ncap = cap;
    }
    struct cnode *n = &c->nodes[c->nnodes++];
    memset(n, 0, sizeof(*n));
    n->id = id;
    return n;
}

struct ccluster *ctl_cluster(struct control *c, int64_t id, const char *name)
{
    for (size_t i = 0; i < c->nclusters; i++) {
        struct ccluster *cl = c->clusters[i];
        if (cl->id == id || (id == 0 && name != NULL && strcmp(cl->name, name) == 0)) {
            if (name != NULL && strcmp(cl->name, name) != 0)
                snprintf(cl->name, sizeof(cl->name), "%s", name);
            return cl;
        }
    }
    if (id == 0)
        return NULL;
    if (c->nclusters == c->ccap) {
        size_t cap = c->ccap ? c->ccap * 2 : 32;
        struct ccluster **p = realloc(c->clusters, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        c->clusters = p;
        c->ccap = cap;
    }
    struct ccluster *cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return NULL;
    cl->id = id;
    if (name != NULL)
        snprintf(cl->name, sizeof(cl->name), "%s", name);
    c->clusters[c->nclusters++] = cl;
    return cl;
}

/* ---- waiters ------------------------------------------------------------ */

static struct waiter *waiter_new(void)
{
    struct waiter *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    w->refs = 1;
    return w;
}

void ctl_waiter_release(struct waiter *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    int left = --w->refs;
    pthread_mutex_unlock(&w->mu);
    if (left == 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

void ctl_waiter_reply(struct waiter *w, int status, const char *code, const char *fmt, ...)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    if (!w->done) {
        w->reply.status = status;
        snprintf(w->reply.code, sizeof(w->reply.code), "%s", code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->reply.msg, sizeof(w->reply.msg), fmt, ap);
        va_end(ap);
        w->done = 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

/* ---- events from observations -------------------------------------------- */

struct node_ref {
    int64_t id;
    char name[CTL_NAME_MAX + 1];
    char host[CTL_HOST_MAX + 1];
    int port;
    int64_t cluster_id;
    char cluster[CTL_NAME_MAX + 1];
    int is_master;
    char master_host[CTL_HOST_MAX + 1];
    int master_port;
    int in_cluster;
};

static void emit_changes(struct control *c, const struct node_ref *r,
                         const struct state_changes *ch)
{
    for (int i = 0; i < ch->n; i++) {
        struct ev e;
        ev_init(&e, ch->c[i].kind, r->in_cluster ? r->cluster : NULL, r->name, "monitor");
        snprintf(e.msg, sizeof(e.msg), "%s", ch->c[i].msg);
        snprintf(e.old_host, sizeof(e.old_host), "%s", r->host);
        e.old_port = r->port;
        snprintf(e.new_host, sizeof(e.new_host), "%s", r->master_host);
        e.new_port = r->master_port;
        e.is_master = r->is_master;
        events_emit(c->d.events, &e);
    }
}

/* ---- node configuration -------------------------------------------------- */

struct cfg_ctx {
    struct control *c;
    int64_t node_id;
    int what;                       /* 0 masteruser / masterauth, 1 ping period */
};

static void on_config_reply(void *arg, const struct act_result *r)
{
    struct cfg_ctx *x = arg;
    struct cnode *n = ctl_node(x->c, x->node_id);
    if (n != NULL) {
        n->config_in_flight = 0;
        if (x->what == 1)
            n->ping_period_ok = r->ok;
    }
    if (!r->ok)
        ctl_log_verbose("act: configuring node %lld: %s", (long long)x->node_id, r->err);
    free(x);
}

static void send_config(struct control *c, const struct node_ref *r, int what, const char *a1,
                        const char *a2)
{
    struct cfg_ctx *x = malloc(sizeof(*x));
    if (x == NULL)
        return;
    x->c = c;
    x->node_id = r->id;
    x->what = what;
    const char *argv[] = { "CONFIG", "SET", a1, a2 };
    if (actor_cmd_argv(c->actor, r->id, r->host, r->port, c->d.cfg->monitor_timeout_ms,
                       on_config_reply, x, 4, argv) != 0)
        free(x);
    else
        ctl_node(c, r->id)->config_in_flight++;
}

/* Once per process of a node (a restart forgets CONFIG SET): replicas need
 * the user and password to reach a master that requires AUTH, and every
 * member pings its replicas every second so their last-I/O age is a
 * heartbeat. */
static void configure_node(struct control *c, const struct node_ref *r, const struct node_obs *o)
{
    struct cnode *n = ctl_node(c, r->id);
    if (n == NULL || !r->in_cluster || o->run_id[0] == '\0' || n->config_in_flight)
        return;
    if (strcmp(n->configured_run_id, o->run_id) == 0)
        return;
    snprintf(n->configured_run_id, sizeof(n->configured_run_id), "%s", o->run_id);
    n->ping_period_ok = 0;
    /* masteruser first, so that a sync attempt falling between the two
     * commands does not try node-auth on the default user. */
    if (c->d.cfg->node_auth != NULL && c->d.cfg->node_user != NULL)
        send_config(c, r, 0, "masteruser", c->d.cfg->node_user);
    if (c->d.cfg->node_auth != NULL)
        send_config(c, r, 0, "masterauth", c->d.cfg->node_auth);
    char period[16];
    snprintf(period, sizeof(period), "%d", CTL_PING_PERIOD_S);
    send_config(c, r, 1, "repl-ping-replica-period", period);
}

/* ---- reconcile actions ----------------------------------------------------- */

struct act_ctx {
    struct control *c;
    enum ev_kind kind;
    char cluster[CTL_NAME_MAX + 1];
    char node[CTL_NAME_MAX + 1];
    char what[300];
    char reason[PLAN_REASON_LEN];
};

static void on_action_reply(void *arg, const struct act_result *r)
{
    struct act_ctx *x = arg;
    struct ev e;
    ev_init(&e, x->kind, x->cluster[0] ? x->cluster : NULL, x->node, "reconciler");
    if (r->ok)
        ev_printf(&e, "%s; sent %s: OK (%lld ms)", x->reason, x->what, (long long)r->elapsed_ms);
    else
        ev_printf(&e, "%s; sent %s: failed: %s", x->reason, x->what, r->err);
    events_emit(x->c->d.events, &e);
    free(x);
}

/* A plan action copied out of the locked topology. */
struct exec_action {
    int type;
    int64_t node_id;
    char node[CTL_NAME_MAX + 1];
    char host[CTL_HOST_MAX + 1];
    int port;
    char target_host[CTL_HOST_MAX + 1];
    int target_port;
    char reason[PLAN_REASON_LEN];
};

static void run_reconcile(struct control *c, const char *cluster, const struct exec_action *a)
{
    struct cnode *n = ctl_node(c, a->node_id);
    int64_t now = clock_mono_ms();
    if (n == NULL || !c->d.cfg->reconcile)
        return;
    if (n->last_action_mono > 0 && now - n->last_action_mono < c->d.cfg->reconcile_min_interval_ms)
        return;
    n->last_action_mono = now;
    struct act_ctx *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return;
    x->c = c;
    snprintf(x->cluster, sizeof(x->cluster), "%s", cluster != NULL ? cluster : "");
    snprintf(x->node, sizeof(x->node), "%s", a->node);
    snprintf(x->reason, sizeof(x->reason), "%s", a->reason);
    int rc;
    if (a->type == PLAN_REPLICAOF) {
        x->kind = EV_RECONCILE_REPLICAOF;
        snprintf(x->what, sizeof(x->what), "REPLICAOF %s %d", a->target_host, a->target_port);
        char port[16];
        snprintf(port, sizeof(port), "%d", a->target_port);
        const char *argv[] = { "REPLICAOF", a->target_host, port };
        rc = actor_cmd_argv(c->actor, a->node_id, a->host, a->port, c->d.cfg->monitor_timeout_ms,
                            on_action_reply, x, 3, argv);
    } else {
        x->kind = a->type == PLAN_CONFIRM ? EV_RECONCILE_CONFIRM : EV_RECONCILE_PROMOTE;
        snprintf(x->what, sizeof(x->what), "REPLICAOF NO ONE");
        const char *argv[] = { "REPLICAOF", "NO", "ONE" };
        rc = actor_cmd_argv(c->actor, a->node_id, a->host, a->port, c->d.cfg->monitor_timeout_ms,
                            on_action_reply, x, 3, argv);
    }
    if (rc != 0) {
        struct act_result r = { .ok = 0 };
        snprintf(r.err, sizeof(r.err), "cannot reach the node to send the command");
        on_action_reply(x, &r);
    }
    pthread_mutex_lock(&c->mu);
    c->reconcile_actions++;
    pthread_mutex_unlock(&c->mu);
}

/* ---- planning -------------------------------------------------------------- */


static struct plan_member to_member(struct control *c, const struct fleet_node *fn)
{
    const struct node_obs *o = state_obs(c->d.state, fn->id);
    struct plan_member m = { .id = fn->id, .name = fn->name, .host = fn->host, .port = fn->port,
                             .priority = fn->priority, .maintenance = fn->maintenance,
                             .obs = o != NULL ? o : health_obs_unobserved() };
    return m;
}

static int64_t ping_period_of(struct control *c, int64_t master_id)
{
    struct cnode *n = ctl_node(c, master_id);
    return n != NULL && n->ping_period_ok ? CTL_PING_PERIOD_S * 1000 : REDIS_DEFAULT_PING_MS;
}

int ctl_with_plan(struct control *c, int64_t cluster_id, const char *cluster_name, int manual,
                  int force, int switchover, const char *want, plan_user fn, void *arg)
{
    struct fleet *f = c->d.fleet;
    fleet_rdlock(f);
    struct fleet_cluster *fc = cluster_id != 0 ? fleet_cluster_by_id(f, cluster_id)
                                               : fleet_cluster_by_name(f, cluster_name);
    if (fc == NULL) {
        fleet_unlock(f);
        return 404;
    }
    struct ccluster *cl = ctl_cluster(c, fc->id, fc->name);
    struct plan_member master, *reps = calloc(f->nnodes + 1, sizeof(*reps));
    struct plan_output *out = malloc(sizeof(*out));
    if (reps == NULL || out == NULL || cl == NULL) {
        fleet_unlock(f);
        free(reps);
        free(out);
        return 503;
    }
    state_rdlock(c->d.state);
    int has_master = 0;
    size_t n = 0;
    for (size_t i = 0; i < f->nnodes && n < PLAN_MAX_MEMBERS; i++) {
        const struct fleet_node *fn = f->nodes[i];
        if (fn->cluster_id != fc->id)
            continue;
        if (fn->id == fc->master_id) {
            master = to_member(c, fn);
            has_master = 1;
        } else {
            reps[n++] = to_member(c, fn);
        }
    }
    int64_t now = clock_mono_ms();
    struct plan_input in = {
        .cluster = fc->name, .settings = &fc->settings, .master = has_master ? &master : NULL,
        .replicas = reps, .nreplicas = n, .now_mono = now,
        .ping_period_ms = has_master ? ping_period_of(c, master.id) : REDIS_DEFAULT_PING_MS,
        .reconcile = c->d.cfg->reconcile, .op_in_progress = cl->op != NULL,
        .last_failover_mono = cl->last_auto_mono, .last_failover_acked = cl->last_auto_acked,
        .manual = manual, .force = force, .want = want, .switchover = switchover,
    };
    planner_run(&in, out);
    fn(c, arg, fc, &in, out);
    state_unlock(c->d.state);
    fleet_unlock(f);
    free(reps);
    free(out);
    return 0;
}

static void copy_member(struct op_member *dst, const struct plan_member *m)
{
    dst->id = m->id;
    snprintf(dst->name, sizeof(dst->name), "%s", m->name);
    snprintf(dst->host, sizeof(dst->host), "%s", m->host);
    dst->port = m->port;
}

void ctl_plan_members(const struct plan_input *in, int64_t chosen, struct op_member *old_master,
                      struct op_member *cand, struct op_member *others, size_t *nothers)
{
    memset(old_master, 0, sizeof(*old_master));
    memset(cand, 0, sizeof(*cand));
    *nothers = 0;
    if (in->master != NULL)
        copy_member(old_master, in->master);
    for (size_t i = 0; i < in->nreplicas; i++) {
        if (in->replicas[i].id == chosen)
            copy_member(cand, &in->replicas[i]);
        else if (*nothers < PLAN_MAX_MEMBERS)
            copy_member(&others[(*nothers)++], &in->replicas[i]);
    }
}

json_t *ctl_candidates_json(const struct plan_output *out)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < out->ncand; i++) {
        const struct plan_candidate *pc = &out->cand[i];
        json_t *j = json_pack("{s:s,s:b,s:i,s:I,s:I,s:s}", "node", pc->m->name, "eligible",
                              pc->eligible, "rank", pc->rank, "offset",
                              (json_int_t)pc->m->obs->offset, "lag_bytes",
                              (json_int_t)pc->lag_bytes, "reason", pc->reason);
        if (j != NULL)
            json_array_append_new(arr, j);
    }
    return arr;
}

/* What the loop takes out of one planning round. */
struct round {
    struct ccluster *cl;
    char cluster[CTL_NAME_MAX + 1];
    int master_verdict;
    int blocked;
    int block_reason;          /* enum plan_block */
    int restart_accepted;
    int64_t master_id;
    char master_name[CTL_NAME_MAX + 1];
    char master_host[CTL_HOST_MAX + 1];
    int master_port;
    char verdict[PLAN_REASON_LEN * 2];
    size_t nact;
    struct exec_action act[PLAN_MAX_MEMBERS + 1];
    /* a failover to start */
    int failover;
    struct op_member old_master, cand, others[PLAN_MAX_MEMBERS];
    size_t nothers;
    json_t *candidates;
};

static void copy_action(struct exec_action *dst, const struct plan_action *a)
{
    memset(dst, 0, sizeof(*dst));
    dst->type = a->type;
    dst->node_id = a->node_id;
    snprintf(dst->node, sizeof(dst->node), "%s", a->node);
    snprintf(dst->host, sizeof(dst->host), "%s", a->host);
    dst->port = a->port;
    if (a->target_host != NULL)
        snprintf(dst->target_host, sizeof(dst->target_host), "%s", a->target_host);
    dst->target_port = a->target_port;
    snprintf(dst->reason, sizeof(dst->reason), "%s", a->reason);
}

static void take_round(struct control *c, void *arg, const struct fleet_cluster *fc,
                       const struct plan_input *in, const struct plan_output *out)
{
    struct round *r = arg;
    r->cl = ctl_cluster(c, fc->id, fc->name);
    snprintf(r->cluster, sizeof(r->cluster), "%s", fc->name);
    r->master_verdict = out->master;
    r->blocked = out->failover_blocked;
    r->block_reason = out->block_reason;
    r->restart_accepted = out->restart_accepted;
    r->master_id = in->master != NULL ? in->master->id : 0;
    if (in->master != NULL) {
        snprintf(r->master_name, sizeof(r->master_name), "%s", in->master->name);
        snprintf(r->master_host, sizeof(r->master_host), "%s", in->master->host);
        r->master_port = in->master->port;
    }
    snprintf(r->verdict, sizeof(r->verdict), "%s", out->verdict);
    for (size_t i = 0; i < out->nact; i++) {
        const struct plan_action *a = &out->act[i];
        if (a->type == PLAN_FAILOVER) {
            r->failover = 1;
            ctl_plan_members(in, a->node_id, &r->old_master, &r->cand, r->others, &r->nothers);
            r->candidates = ctl_candidates_json(out);
            snprintf(r->verdict, sizeof(r->verdict), "%s", a->reason);
        } else if (r->nact < PLAN_MAX_MEMBERS + 1) {
            copy_action(&r->act[r->nact++], a);
        }
    }
}

/* Say once what the failover rules concluded, not at every poll. */
static void announce_verdict(struct control *c, struct round *r)
{
    struct ccluster *cl = r->cl;
    if (r->master_verdict != PLAN_MASTER_FAILED) {
        cl->master_failed_said = 0;
        cl->last_verdict[0] = '\0';
        return;
    }
    if (!cl->master_failed_said) {
        cl->master_failed_said = 1;
        struct ev e;
        ev_init(&e, EV_MASTER_FAILED, r->cluster, r->master_name[0] ? r->master_name : NULL,
                "planner");
        ev_printf(&e, "%s", r->verdict);
        snprintf(e.old_host, sizeof(e.old_host), "%s", r->master_host);
        e.old_port = r->master_port;
        e.is_master = 1;
        events_emit(c->d.events, &e);
    }
    if (r->blocked && strncmp(cl->last_verdict, r->verdict, sizeof(cl->last_verdict) - 1) != 0) {
        snprintf(cl->last_verdict, sizeof(cl->last_verdict), "%.199s", r->verdict);
        metrics_recovery_blocked(c->d.metrics, r->cluster, r->block_reason);
        events_say(c->d.events, EV_FAILOVER_BLOCKED, r->cluster, NULL, "planner", "%s",
                   r->verdict);
    }
}

static void accept_restart(struct control *c, int64_t node_id)
{
    state_wrlock(c->d.state);
    struct node_obs *o = state_obs(c->d.state, node_id);
    if (o != NULL)
        o->restart_mono = 0;
    state_unlock(c->d.state);
}

void ctl_evaluate_cluster(struct control *c, int64_t cluster_id)
{
    struct round *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return;
    if (ctl_with_plan(c, cluster_id, NULL, 0, 0, 0, NULL, take_round, r) != 0 || r->cl == NULL) {
        free(r);
        return;
    }
    if (r->restart_accepted && r->master_id != 0)
        accept_restart(c, r->master_id);
    if (r->failover && !c->recovered) {
        /* Operations interrupted by our own restart are looked at first
         * (failover_recover): until then the cluster may have one running. */
        json_decref(r->candidates);
        r->candidates = NULL;
    } else if (r->failover) {
        int64_t now = clock_mono_ms();
        r->master_verdict = PLAN_MASTER_FAILED;
        announce_verdict(c, r);
        if (now >= r->cl->retry_after_mono)
            (void)failover_start(c, r->cl, OP_AUTOMATIC, &r->old_master, &r->cand, r->others,
                                 r->nothers, r->verdict, r->candidates, 0, 0, NULL);
        else
            json_decref(r->candidates);
        r->candidates = NULL;
    } else {
        announce_verdict(c, r);
    }
    for (size_t i = 0; i < r->nact; i++)
        run_reconcile(c, r->cluster, &r->act[i]);
    json_decref(r->candidates);
    free(r);
}

/* ---- poll results ---------------------------------------------------------- */

static int lookup_node(struct control *c, int64_t id, struct node_ref *r,
                       struct state_down_rule *rule)
{
    struct fleet *f = c->d.fleet;
    fleet_rdlock(f);
    const struct fleet_node *fn = fleet_node_by_id(f, id);
    if (fn == NULL) {
        fleet_unlock(f);
        return -1;
    }
    memset(r, 0, sizeof(*r));
    r->id = id;
    snprintf(r->name, sizeof(r->name), "%s", fn->name);
    snprintf(r->host, sizeof(r->host), "%s", fn->host);
    r->port = fn->port;
    rule->down_after_ms = 1000;
    rule->min_failures = c->d.cfg->down_after_failures;
    const struct fleet_cluster *fc = fleet_cluster_by_id(f, fn->cluster_id);
    if (fc != NULL) {
        r->in_cluster = 1;
        r->cluster_id = fc->id;
        snprintf(r->cluster, sizeof(r->cluster), "%s", fc->name);
        r->is_master = fc->master_id == id;
        rule->down_after_ms = fc->settings.down_after_ms;
        const struct fleet_node *mn = fleet_node_by_id(f, fc->master_id);
        if (mn != NULL && !r->is_master) {
            snprintf(r->master_host, sizeof(r->master_host), "%s", mn->host);
            r->master_port = mn->port;
        }
    }
    fleet_unlock(f);
    return 0;
}

/* A node outside every cluster holds no mastership anyone else claims: if
 * it is fenced, confirm it so it can serve. */
static void confirm_standalone(struct control *c, const struct node_ref *r,
                               const struct node_obs *o)
{
    if (r->in_cluster || !o->fenced || o->role != ROLE_MASTER)
        return;
    struct exec_action a;
    memset(&a, 0, sizeof(a));
    a.type = PLAN_CONFIRM;
    a.node_id = r->id;
    snprintf(a.node, sizeof(a.node), "%s", r->name);
    snprintf(a.host, sizeof(a.host), "%s", r->host);
    a.port = r->port;
    snprintf(a.reason, sizeof(a.reason), "fenced node belongs to no cluster; confirming it");
    run_reconcile(c, NULL, &a);
}

static void on_poll(void *arg, int64_t node_id, const struct poll_result *pr)
{
    struct control *c = arg;
    struct node_ref ref;
    struct state_down_rule rule;
    if (c->stopping || lookup_node(c, node_id, &ref, &rule) != 0)
        return;
    struct state_changes ch;
    struct node_obs snap;
    int64_t wall = clock_wall_ms(), mono = clock_mono_ms();
    state_wrlock(c->d.state);
    struct node_obs *o = state_obs_get_or_add(c->d.state, node_id);
    if (o == NULL) {
        state_unlock(c->d.state);
        return;
    }
    if (pr->ok)
        state_apply_ok(o, &pr->info, wall, mono, pr->duration_us, &ch);
    else
        state_apply_fail(o, pr->fail_kind, pr->why, &rule, wall, mono, &ch);
    snap = *o;
    c->d.state->version++;
    state_unlock(c->d.state);

    if (pr->ok)
        metrics_poll_ok(c->d.metrics, (double)pr->duration_us / 1e6);
    else
        metrics_poll_failed(c->d.metrics, pr->fail_kind);
    emit_changes(c, &ref, &ch);
    if (ch.persist)
        writer_status(c->d.writer, node_id, &snap, 0);
    if (pr->ok) {
        configure_node(c, &ref, &snap);
        confirm_standalone(c, &ref, &snap);
    }
    if (ref.in_cluster)
        ctl_evaluate_cluster(c, ref.cluster_id);
}

/* Health and lag of every cluster, derived once per round (not at read
 * time); lag alerts become events. */
static void refresh_health(struct control *c)
{
    struct fleet *f = c->d.fleet;
    struct pending { struct node_ref ref; struct state_changes ch; } *pend = NULL;
    size_t npend = 0;
    fleet_rdlock(f);
    size_t nn = f->nnodes;
    struct health_member *reps = calloc(nn + 1, sizeof(*reps));
    struct fleet_node **rnodes = calloc(nn + 1, sizeof(*rnodes));
    int64_t *ids = calloc(nn + 1, sizeof(*ids));
    struct state_changes *chs = calloc(nn + 1, sizeof(*chs));
    pend = calloc(nn + 1, sizeof(*pend));
    if (reps == NULL || rnodes == NULL || ids == NULL || chs == NULL || pend == NULL)
        goto out;
    state_wrlock(c->d.state);
    int64_t wall = clock_wall_ms();
    for (size_t ci = 0; ci < f->nclusters; ci++) {
        const struct fleet_cluster *fc = f->clusters[ci];
        struct health_member master;
        int has_master = 0;
        size_t n = fleet_cluster_members(f, c->d.state, fc, &master, &has_master, reps, rnodes,
                                         nn);
        for (size_t i = 0; i < n; i++)
            ids[i] = rnodes[i]->id;
        state_refresh_cluster(c->d.state, fc->id, has_master ? &master : NULL, reps, ids, n,
                              &fc->settings, wall, chs);
        for (size_t i = 0; i < n; i++) {
            if (chs[i].n == 0)
                continue;
            struct pending *p = &pend[npend++];
            memset(&p->ref, 0, sizeof(p->ref));
            p->ref.id = ids[i];
            snprintf(p->ref.name, sizeof(p->ref.name), "%s", rnodes[i]->name);
            snprintf(p->ref.cluster, sizeof(p->ref.cluster), "%s", fc->name);
            snprintf(p->ref.host, sizeof(p->ref.host), "%s", rnodes[i]->host);
            p->ref.port = rnodes[i]->port;
            p->ref.in_cluster = 1;
            p->ch = chs[i];
        }
    }
    state_unlock(c->d.state);
out:
    fleet_unlock(f);
    for (size_t i = 0; i < npend; i++)
        emit_changes(c, &pend[i].ref, &pend[i].ch);
    free(reps);
    free(rnodes);
    free(ids);
    free(chs);
    free(pend);
}

/* ---- topology changes ------------------------------------------------------- */

static void sync_targets(struct control *c)
{
    struct fleet *f = c->d.fleet;
    fleet_rdlock(f);
    struct monitor_target *t = calloc(f->nnodes + 1, sizeof(*t));
    int64_t *keep = calloc(f->nnodes + 1, sizeof(*keep));
    size_t n = 0;
    for (size_t i = 0; t != NULL && keep != NULL && i < f->nnodes; i++) {
        t[n].id = f->nodes[i]->id;
        t[n].host = f->nodes[i]->host;
        t[n].port = f->nodes[i]->port;
        keep[n] = t[n].id;
        n++;
    }
    if (t != NULL && keep != NULL)
        monitor_set_targets(&c->mon, t, n);
    fleet_unlock(f);
    /* Forget observations of nodes that left the fleet. */
    if (keep != NULL) {
        state_wrlock(c->d.state);
        for (size_t i = 0; i < c->d.state->nnodes;) {
            int64_t id = c->d.state->nodes[i]->id;
            int found = 0;
            for (size_t j = 0; j < n && !found; j++)
                found = keep[j] == id;
            if (!found) {
                state_forget_node(c->d.state, id);
                actor_forget(c->actor, id);
            } else {
                i++;
            }
        }
        state_unlock(c->d.state);
    }
    free(t);
    free(keep);
}

static void evaluate_all(struct control *c)
{
    struct fleet *f = c->d.fleet;
    fleet_rdlock(f);
    size_t n = f->nclusters;
    int64_t *ids = calloc(n + 1, sizeof(*ids));
    for (size_t i = 0; ids != NULL && i < n; i++)
        ids[i] = f->clusters[i]->id;
    fleet_unlock(f);
    for (size_t i = 0; ids != NULL && i < n; i++)
        ctl_evaluate_cluster(c, ids[i]);
    free(ids);
}

/* ---- requests from API threads ---------------------------------------------- */

struct req_plan {
    struct request *req;
    int status;
    struct ccluster *cl;
    int have_action;
    struct op_member old_master, cand, others[PLAN_MAX_MEMBERS];
    size_t nothers;
    json_t *candidates;
    char verdict[PLAN_REASON_LEN * 2];
    int block_reason;
};

static void take_request_plan(struct control *c, void *arg, const struct fleet_cluster *fc,
                              const struct plan_input *in, const struct plan_output *out)
{
    struct req_plan *p = arg;
    p->cl = ctl_cluster(c, fc->id, fc->name);
    snprintf(p->verdict, sizeof(p->verdict), "%s", out->verdict);
    p->block_reason = out->block_reason;
    for (size_t i = 0; i < out->nact; i++) {
        if (out->act[i].type != PLAN_FAILOVER)
            continue;
        p->have_action = 1;
        ctl_plan_members(in, out->act[i].node_id, &p->old_master, &p->cand, p->others,
                         &p->nothers);
        snprintf(p->verdict, sizeof(p->verdict), "%s", out->act[i].reason);
        p->candidates = ctl_candidates_json(out);
        return;
    }
}

struct plan_emit_ctx {
    control_plan_emit emit;
    void *arg;
};

static void plan_emit_adapter(struct control *c, void *arg, const struct fleet_cluster *fc,
                              const struct plan_input *in, const struct plan_output *out)
{
    (void)c;
    (void)fc;
    struct plan_emit_ctx *x = arg;
    x->emit(x->arg, in, out);
}

static void handle_plan_request(struct control *c, struct request *rq)
{
    struct plan_emit_ctx x = { rq->emit, rq->emit_arg };
    /* The dry run is what an automatic round would do; an operator's
     * candidate or force shows what their failover call would do. The
     * waiter's lock is held across emit(): an API thread that gave up
     * waiting marked the waiter done, and its emit target is gone. */
    int manual = rq->candidate[0] != '\0' || rq->force;
    struct waiter *w = rq->w;
    pthread_mutex_lock(&w->mu);
    if (!w->done) {
        int rc = ctl_with_plan(c, 0, rq->cluster, manual, rq->force, 0,
                               rq->candidate[0] ? rq->candidate : NULL, plan_emit_adapter, &x);
        w->reply.status = rc == 0 ? 200 : rc;
        snprintf(w->reply.code, sizeof(w->reply.code), "%s", rc == 0 ? "" : "not_found");
        snprintf(w->reply.msg, sizeof(w->reply.msg), "cluster '%s' not found", rq->cluster);
        w->done = 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

static void handle_request(struct control *c, struct request *rq)
{
    if (rq->type == REQ_PLAN) {
        handle_plan_request(c, rq);
        return;
    }
    struct req_plan *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ctl_waiter_reply(rq->w, 503, "unavailable", "out of memory");
        return;
    }
    int sw = rq->type == REQ_SWITCHOVER;
    int rc = ctl_with_plan(c, 0, rq->cluster, !sw, sw ? 0 : rq->force, sw,
                           rq->candidate[0] ? rq->candidate : NULL, take_request_plan, p);
    if (rc != 0) {
        ctl_waiter_reply(rq->w, rc, rc == 404 ? "not_found" : "unavailable",
                         rc == 404 ? "cluster '%s' not found" : "cannot plan for '%s'",
                         rq->cluster);
    } else if (!p->have_action) {
        metrics_recovery_blocked(c->d.metrics, rq->cluster, p->block_reason);
        ctl_waiter_reply(rq->w, 409, "conflict", "%s", p->verdict);
    } else {
        int kind = sw ? OP_SWITCHOVER : OP_MANUAL;
        if (failover_start(c, p->cl, kind, &p->old_master, &p->cand, p->others, p->nothers,
                           p->verdict, p->candidates, rq->timeout_ms, rq->scheduled_id,
                           rq->w) != 0)
            ctl_waiter_reply(rq->w, 409, "conflict", "another failover or switchover of '%s' "
                             "is running", rq->cluster);
        p->candidates = NULL;
    }
    json_decref(p->candidates);
    free(p);
}

void ctl_run_scheduled(struct control *c, struct request *rq)
{
    struct req_plan *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return;
    int rc = ctl_with_plan(c, 0, rq->cluster, 0, 0, 1, rq->candidate[0] ? rq->candidate : NULL,
                           take_request_plan, p);
    const char *why = rc != 0 ? "the cluster no longer exists" : p->verdict;
    if (rc == 0 && p->have_action) {
        if (failover_start(c, p->cl, OP_SWITCHOVER, &p->old_master, &p->cand, p->others,
                           p->nothers, p->verdict, p->candidates, rq->timeout_ms,
                           rq->scheduled_id, NULL) == 0) {
            free(p);
            return;
        }
        p->candidates = NULL;
        why = "another failover or switchover is running";
    }
    json_decref(p->candidates);
    if (store_failover_claim(c->d.st, rq->scheduled_id, "scheduled", "failed") == STORE_OK)
        events_say(c->d.events, EV_SWITCHOVER_ABORTED, rq->cluster, NULL, "scheduler",
                   "scheduled switchover #%lld not started: %s", (long long)rq->scheduled_id, why);
    free(p);
}

static void drain_requests(struct control *c)
{
    pthread_mutex_lock(&c->mu);
    struct request *list = c->requests;
    c->requests = NULL;
    pthread_mutex_unlock(&c->mu);
    /* The list is newest first: answer in arrival order. */
    struct request *rev = NULL;
    while (list != NULL) {
        struct request *next = list->next;
        list->next = rev;
        rev = list;
        list = next;
    }
    while (rev != NULL) {
        struct request *next = rev->next;
        if (c->stopping)
            ctl_waiter_reply(rev->w, 503, "unavailable", "kvfleetd is shutting down");
        else
            handle_request(c, rev);
        ctl_waiter_release(rev->w);
        free(rev);
        rev = next;
    }
}

/* Queue a request and wait (bounded) for the loop's answer. */
static void submit(struct control *c, struct request *rq, int64_t wait_ms,
                   struct control_reply *out)
{
    memset(out, 0, sizeof(*out));
    struct waiter *w = waiter_new();
    if (w == NULL) {
        free(rq);
        out->status = 503;
        snprintf(out->code, sizeof(out->code), "unavailable");
        snprintf(out->msg, sizeof(out->msg), "out of memory");
        return;
    }
    w->refs = 2;
    rq->w = w;
    pthread_mutex_lock(&c->mu);
    rq->next = c->requests;
    c->requests = rq;
    pthread_mutex_unlock(&c->mu);
    (void)uv_async_send(&c->wake);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0)
            break;
    if (w->done) {
        *out = w->reply;
    } else {
        w->done = 1;             /* too late: the loop must not answer into it */
        out->status = 504;
        snprintf(out->code, sizeof(out->code), "timeout");
        snprintf(out->msg, sizeof(out->msg), "no answer within %lld ms; the operation goes on, "
                 "see the failovers history", (long long)wait_ms);
    }
    pthread_mutex_unlock(&w->mu);
    ctl_waiter_release(w);
}

void control_failover(struct control *c, const char *cluster, const char *candidate, int force,
                      struct control_reply *out)
{
    struct request *rq = calloc(1, sizeof(*rq));
    if (rq == NULL) {
        memset(out, 0, sizeof(*out));
        out->status = 503;
        return;
    }
    rq->type = REQ_FAILOVER;
    snprintf(rq->cluster, sizeof(rq->cluster), "%s", cluster);
    snprintf(rq->candidate, sizeof(rq->candidate), "%s", candidate != NULL ? candidate : "");
    rq->force = force;
    submit(c, rq, 30000, out);
}

void control_switchover(struct control *c, const char *cluster, const char *candidate,
                        int64_t timeout_ms, int64_t scheduled_at, struct control_reply *out)
{
    (void)scheduled_at;
    struct request *rq = calloc(1, sizeof(*rq));
    if (rq == NULL) {
        memset(out, 0, sizeof(*out));
        out->status = 503;
        return;
    }
    rq->type = REQ_SWITCHOVER;
    snprintf(rq->cluster, sizeof(rq->cluster), "%s", cluster);
    snprintf(rq->candidate, sizeof(rq->candidate), "%s", candidate != NULL ? candidate : "");
    rq->timeout_ms = timeout_ms;
    submit(c, rq, timeout_ms + 30000, out);
}

void control_failover_acked(struct control *c, const char *cluster, int64_t id)
{
    pthread_mutex_lock(&c->mu);
    /* Applied by the loop at its next round (acks are rare; a cluster table
     * walk under the loop's own lock would be the alternative). */
    snprintf(c->ack_cluster, sizeof(c->ack_cluster), "%s", cluster);
    c->ack_id = id;
    pthread_mutex_unlock(&c->mu);
    (void)uv_async_send(&c->wake);
}

int control_plan(struct control *c, const char *cluster, const char *candidate, int force,
                 control_plan_emit emit, void *arg)
{
    struct request *rq = calloc(1, sizeof(*rq));
    if (rq == NULL)
        return 503;
    rq->type = REQ_PLAN;
    snprintf(rq->cluster, sizeof(rq->cluster), "%s", cluster);
    snprintf(rq->candidate, sizeof(rq->candidate), "%s", candidate != NULL ? candidate : "");
    rq->force = force;
    rq->emit = emit;
    rq->emit_arg = arg;
    struct control_reply r;
    /* emit runs on the loop while this thread waits; after a timeout the
     * loop could still call it, so the wait is long and the request is
     * disarmed below. */
    submit(c, rq, 10000, &r);
    return r.status == 200 ? 0 : r.status;
}

void control_stats_get(struct control *c, struct control_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->reconcile_actions = c->reconcile_actions;
    out->failovers = c->failovers;
    out->failovers_failed = c->failovers_failed;
    out->operations_running = c->ops_running;
    pthread_mutex_unlock(&c->mu);
}

/* ---- loop plumbing ---------------------------------------------------------- */

static void flush_status(struct control *c)
{
    struct fleet *f = c->d.fleet;
    fleet_rdlock(f);
    state_rdlock(c->d.state);
    for (size_t i = 0; i < f->nnodes; i++) {
        const struct fleet_node *fn = f->nodes[i];
        const struct node_obs *o = state_obs(c->d.state, fn->id);
        if (o != NULL && o->state != NODE_UNKNOWN)
            writer_status(c->d.writer, fn->id, o, o->last_ok_ms);
    }
    state_unlock(c->d.state);
    fleet_unlock(f);
}

static void apply_ack(struct control *c)
{
    char cluster[CTL_NAME_MAX + 1];
    pthread_mutex_lock(&c->mu);
    snprintf(cluster, sizeof(cluster), "%s", c->ack_cluster);
    int64_t id = c->ack_id;
    c->ack_cluster[0] = '\0';
    pthread_mutex_unlock(&c->mu);
    if (cluster[0] == '\0')
        return;
    struct ccluster *cl = ctl_cluster(c, 0, cluster);
    if (cl != NULL && (cl->last_auto_id == id || id == 0))
        cl->last_auto_acked = 1;
}

static void on_wake(uv_async_t *a)
{
    struct control *c = a->data;
    if (c->stopping)
        return;
    if (__atomic_exchange_n(&c->topology_dirty, 0, __ATOMIC_ACQ_REL)) {
        sync_targets(c);
        refresh_health(c);
        evaluate_all(c);
        /* Look at everyone now rather than at the next tick, so new clusters
         * are reconciled at once. */
        monitor_poll_all_now(&c->mon);
    }
    apply_ack(c);
    drain_requests(c);
}

static void on_tick(uv_timer_t *t)
{
    struct control *c = t->data;
    if (c->stopping)
        return;
    int64_t now = clock_mono_ms();
    refresh_health(c);
    if (!c->recovered &&
        now - c->started_mono >= 2 * c->d.cfg->monitor_interval_ms + c->d.cfg->monitor_timeout_ms) {
        c->recovered = 1;
        failover_recover(c);
    }
    /* Down-after and cooldowns run out between polls, too. */
    evaluate_all(c);
    if (now - c->last_schedule_check_mono >= SCHEDULE_CHECK_MS) {
        c->last_schedule_check_mono = now;
        failover_run_schedules(c);
    }
    if (now - c->last_flush_mono >= FLUSH_INTERVAL_MS) {
        c->last_flush_mono = now;
        flush_status(c);
    }
}

/* Called by store_load with the store's (read) mutex held: the state lock
 * is taken here, under it, so the order stays store -> (fleet ->) state. */
static int load_status(void *arg, int64_t node_id, const struct node_obs *o)
{
    struct state *s = arg;
    state_wrlock(s);
    struct node_obs *dst = state_obs_get_or_add(s, node_id);
    if (dst != NULL) {
        *dst = *o;
        /* A status from before the restart says nothing about now: keep it
         * for display but judge the node afresh. */
        dst->last_ok_mono = 0;
        dst->link_up_mono = 0;
        if (dst->state != NODE_UNKNOWN)
            dst->state = NODE_UNKNOWN;
    }
    state_unlock(s);
    return 0;
}

int control_start(struct control **out, const struct control_deps *d)
{
    struct control *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->d = *d;
    c->started_mono = clock_mono_ms();
    c->last_flush_mono = c->started_mono;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return -1;
    }
    if ((c->actor = actor_new(d->loop, d->cfg->node_user, d->cfg->node_auth)) == NULL)
        goto fail;
    if (monitor_init(&c->mon, d->loop, d->cfg, on_poll, c) != 0)
        goto fail;
    /* Not under the state lock: store_load takes the store mutex, and the
     * lock order everywhere else is store -> fleet -> state (load_status
     * takes the state lock per row). */
    int rc = store_load(d->st, NULL, NULL, load_status, d->state);
    if (rc != STORE_OK)
        ctl_log_warning("cannot load the last observed status: %s", store_errmsg(d->st));
    if (uv_async_init(d->loop, &c->wake, on_wake) != 0)
        goto fail;
    c->wake.data = c;
    if (uv_timer_init(d->loop, &c->tick) != 0)
        goto fail;
    c->tick.data = c;
    int period = d->cfg->monitor_interval_ms < TICK_MS ? d->cfg->monitor_interval_ms : TICK_MS;
    if (uv_timer_start(&c->tick, on_tick, (uint64_t)period, (uint64_t)period) != 0)
        goto fail;
    sync_targets(c);
    *out = c;
    return 0;
fail:
    actor_free(c->actor);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return -1;
}

void control_topology_changed(struct control *c)
{
    __atomic_store_n(&c->topology_dirty, 1, __ATOMIC_RELEASE);
    (void)uv_async_send(&c->wake);
}

struct monitor *control_monitor(struct control *c) { return &c->mon; }

void control_stop(struct control *c)
{
    if (c->stopping)
        return;
    flush_status(c);
    c->stopping = 1;
    failover_abort_all(c, "kvfleetd is shutting down");
    drain_requests(c);
    monitor_stop(&c->mon);
    uv_timer_stop(&c->tick);
    uv_close((uv_handle_t *)&c->tick, NULL);
    uv_close((uv_handle_t *)&c->wake, NULL);
    actor_free(c->actor);
    c->actor = NULL;
}

void control_free(struct control *c)
{
    if (c == NULL)
        return;
    drain_requests(c);
    pthread_mutex_destroy(&c->mu);
    free(c->nodes);
    for (size_t i = 0; i < c->nclusters; i++)
        free(c->clusters[i]);
    free(c->clusters);
    free(c);
}
