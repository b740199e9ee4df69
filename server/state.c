/* state.c - observed state and its derivations (see state.h). */
#include "state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int state_init(struct state *s)
{
    memset(s, 0, sizeof(*s));
    return pthread_rwlock_init(&s->lock, NULL) == 0 ? 0 : -1;
}

void state_destroy(struct state *s)
{
    for (size_t i = 0; i < s->nnodes; i++)
        free(s->nodes[i]);
    for (size_t i = 0; i < s->nclusters; i++)
        free(s->clusters[i]);
    free(s->nodes);
    free(s->clusters);
    pthread_rwlock_destroy(&s->lock);
    memset(s, 0, sizeof(*s));
}

void state_rdlock(struct state *s) { pthread_rwlock_rdlock(&s->lock); }
void state_wrlock(struct state *s) { pthread_rwlock_wrlock(&s->lock); }
void state_unlock(struct state *s) { pthread_rwlock_unlock(&s->lock); }

struct node_obs *state_obs(struct state *s, int64_t node_id)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i]->id == node_id)
            return &s->nodes[i]->obs;
    return NULL;
}

struct node_obs *state_obs_get_or_add(struct state *s, int64_t node_id)
{
    struct node_obs *o = state_obs(s, node_id);
    if (o != NULL)
        return o;
    if (s->nnodes == s->ncap) {
        size_t cap = s->ncap ? s->ncap * 2 : 64;
        struct state_node **p = realloc(s->nodes, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        s->nodes = p;
        s->ncap = cap;
    }
    struct state_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->id = node_id;
    health_obs_init(&n->obs);
    s->nodes[s->nnodes++] = n;
    s->version++;
    return &n->obs;
}

void state_forget_node(struct state *s, int64_t node_id)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        if (s->nodes[i]->id == node_id) {
            free(s->nodes[i]);
            s->nodes[i] = s->nodes[--s->nnodes];
            s->version++;
            return;
        }
    }
}

static struct state_cluster *cluster_entry(struct state *s, int64_t id, int add)
{
    for (size_t i = 0; i < s->nclusters; i++)
        if (s->clusters[i]->id == id)
            return s->clusters[i];
    if (!add)
        return NULL;
    if (s->nclusters == s->ccap) {
        size_t cap = s->ccap ? s->ccap * 2 : 32;
        struct state_cluster **p = realloc(s->clusters, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        s->clusters = p;
        s->ccap = cap;
    }
    struct state_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->id = id;
    s->clusters[s->nclusters++] = c;
    return c;
}

const struct health_report *state_cluster_health(struct state *s, int64_t cluster_id)
{
    struct state_cluster *c = cluster_entry(s, cluster_id, 0);
    return c != NULL ? &c->report : NULL;
}

void state_forget_cluster(struct state *s, int64_t cluster_id)
{
    for (size_t i = 0; i < s->nclusters; i++) {
        if (s->clusters[i]->id == cluster_id) {
            free(s->clusters[i]);
            s->clusters[i] = s->clusters[--s->nclusters];
            s->version++;
            return;
        }
    }
}

const char *state_fail_name(int kind)
{
    switch (kind) {
    case FAIL_TIMEOUT: return "timeout";
    case FAIL_REFUSED: return "connection refused";
    case FAIL_LOADING: return "loading";
    case FAIL_AUTH: return "authentication failed";
    case FAIL_OTHER: return "error";
    default: return "none";
    }
}

static void change(struct state_changes *out, enum ev_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void change(struct state_changes *out, enum ev_kind kind, const char *fmt, ...)
{
    out->persist = 1;
    if (out->n >= STATE_MAX_CHANGES)
        return;
    struct state_change *c = &out->c[out->n++];
    c->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
}

static void set_state(struct node_obs *o, int state, int64_t wall_ms)
{
    o->state = state;
    o->state_since = wall_ms;
}

/* Role, master and link transitions of one successful poll. */
static void role_changes(const struct node_obs *o, const struct info_repl *in,
                         struct state_changes *out)
{
    if (o->role != ROLE_UNKNOWN && o->role != in->role) {
        if (in->role == ROLE_REPLICA)
            change(out, EV_NODE_ROLE, "role changed from master to replica of %s:%d",
                   in->master_host, in->master_port);
        else
            change(out, EV_NODE_ROLE, "role changed from replica to master");
    } else if (o->role == ROLE_REPLICA && in->role == ROLE_REPLICA &&
               (strcmp(o->master_host, in->master_host) != 0 ||
                o->master_port != in->master_port)) {
        change(out, EV_NODE_MASTER, "now replicates from %s:%d (was %s:%d)", in->master_host,
               in->master_port, o->master_host, o->master_port);
    } else if (o->role == ROLE_UNKNOWN) {
        out->persist = 1;
    }
    if (in->role == ROLE_REPLICA && o->role == ROLE_REPLICA && o->link != in->link)
        change(out, in->link == LINK_UP ? EV_LINK_UP : EV_LINK_DOWN,
               "replication link to %s:%d is %s", in->master_host, in->master_port,
               in->link == LINK_UP ? "up" : "down");
    else if (in->role == ROLE_REPLICA && o->role != ROLE_REPLICA && in->link == LINK_UP)
        change(out, EV_LINK_UP, "replication link to %s:%d is up", in->master_host,
               in->master_port);
}

/* A new run id means the process restarted: remember what it held before,
 * so the planner can refuse a master that came back empty or older. */
static void restart_check(struct node_obs *o, const struct info_repl *in, int64_t mono_ms,
                          struct state_changes *out)
{
    if (in->run_id[0] == '\0')
        return;
    if (o->run_id[0] != '\0' && strcmp(o->run_id, in->run_id) != 0) {
        snprintf(o->prev_run_id, sizeof(o->prev_run_id), "%s", o->run_id);
        o->prev_offset = o->offset;
        o->restart_mono = mono_ms;
        change(out, EV_NODE_RESTARTED,
               "process restarted (run id %.8s -> %.8s, offset %lld -> %lld, uptime %lld s)",
               o->run_id, in->run_id, (long long)o->offset, (long long)in->offset,
               (long long)in->uptime_s);
    }
    snprintf(o->run_id, sizeof(o->run_id), "%s", in->run_id);
}

/* The figures only /metrics shows: the stats sections come every few polls
 * and are kept between them. */
static void copy_metrics(struct node_obs *o, const struct info_repl *in)
{
    snprintf(o->version, sizeof(o->version), "%s", in->version);
    if (in->stats.present)
        o->stats = in->stats;
    o->nslaves = in->nslaves < OBS_MAX_SLAVES ? in->nslaves : OBS_MAX_SLAVES;
    memcpy(o->slaves, in->slaves, (size_t)o->nslaves * sizeof(o->slaves[0]));
}

void state_apply_ok(struct node_obs *o, const struct info_repl *in, int64_t wall_ms,
                    int64_t mono_ms, int64_t poll_us, struct state_changes *out)
{
    memset(out, 0, sizeof(*out));
    if (o->state != NODE_UP) {
        change(out, EV_NODE_UP, "node is up (role %s)%s", health_role_name(in->role),
               in->loading ? ", loading its dataset" : "");
        set_state(o, NODE_UP, wall_ms);
    }
    role_changes(o, in, out);
    restart_check(o, in, mono_ms, out);
    /* The restart check guards a master's data; a replica that restarted
     * follows its master, and must not carry the mark into a promotion. */
    if (in->role == ROLE_REPLICA)
        o->restart_mono = 0;
    if (in->fenced && !o->fenced)
        change(out, EV_NODE_FENCED, "node reports it is fenced (writes refused until confirmed)");
    o->role = in->role;
    snprintf(o->master_host, sizeof(o->master_host), "%s",
             in->role == ROLE_REPLICA ? in->master_host : "");
    o->master_port = in->role == ROLE_REPLICA ? in->master_port : 0;
    o->link = in->link;
    if (in->role == ROLE_REPLICA && in->link == LINK_UP)
        o->link_up_mono = mono_ms;
    o->offset = in->offset;
    o->failures = 0;
    o->first_fail_mono = 0;
    o->fail_kind = FAIL_NONE;
    o->fail_msg[0] = '\0';
    o->last_ok_ms = wall_ms;
    o->last_ok_mono = mono_ms;
    o->poll_us = poll_us;
    o->replicas_connected = in->connected_slaves;
    o->uptime_s = in->uptime_s;
    o->loading = in->loading;
    o->fenced = in->fenced;
    o->fence_known = in->fence_known;
    o->master_last_io_s = in->role == ROLE_REPLICA ? in->master_last_io_s : -1;
    o->link_down_since_s = in->role == ROLE_REPLICA ? in->link_down_since_s : -1;
    o->replica_priority = in->replica_priority;
    o->sync_full = in->sync_full;
    copy_metrics(o, in);
    o->failover_state = in->failover_state;
    snprintf(o->replid, sizeof(o->replid), "%s", in->replid);
    if (in->role == ROLE_MASTER && in->offset >= 0)
        health_ring_push(&o->ring, wall_ms, in->offset);
}

/* The anchor of "failing for down_after_ms": the last good poll, or the
 * first failure of a node never seen up. */
static int64_t fail_anchor(const struct node_obs *o)
{
    return o->last_ok_mono > 0 ? o->last_ok_mono : o->first_fail_mono;
}

static void judge_down(struct node_obs *o, const struct state_down_rule *rule, int64_t wall_ms,
                       int64_t mono_ms, struct state_changes *out)
{
    if (o->failures == 0 || o->state == NODE_DOWN)
        return;
    int64_t failing_ms = mono_ms - fail_anchor(o);
    if (o->failures >= rule->min_failures && failing_ms >= rule->down_after_ms) {
        change(out, EV_NODE_DOWN, "node is down: %s for %lld ms (%s)", o->fail_msg,
               (long long)failing_ms, state_fail_name(o->fail_kind));
        set_state(o, NODE_DOWN, wall_ms);
    } else if (o->state != NODE_SUSPECT) {
        change(out, EV_NODE_SUSPECT, "poll failed: %s (%s)", o->fail_msg,
               state_fail_name(o->fail_kind));
        set_state(o, NODE_SUSPECT, wall_ms);
    }
}

void state_apply_fail(struct node_obs *o, int kind, const char *why,
                      const struct state_down_rule *rule, int64_t wall_ms, int64_t mono_ms,
                      struct state_changes *out)
{
    memset(out, 0, sizeof(*out));
    if (o->failures++ == 0)
        o->first_fail_mono = mono_ms;
    o->fail_kind = kind;
    snprintf(o->fail_msg, sizeof(o->fail_msg), "%s", why);
    judge_down(o, rule, wall_ms, mono_ms, out);
}

void state_apply_age(struct node_obs *o, const struct state_down_rule *rule, int64_t wall_ms,
                     int64_t mono_ms, struct state_changes *out)
{
    memset(out, 0, sizeof(*out));
    judge_down(o, rule, wall_ms, mono_ms, out);
}

void state_refresh_cluster(struct state *s, int64_t cluster_id,
                           const struct health_member *master, const struct health_member *replicas,
                           const int64_t *replica_ids, size_t n,
                           const struct cluster_settings *settings, int64_t wall_ms,
                           struct state_changes *changes_out)
{
    struct health_replica views_small[16], *views = views_small;
    memset(changes_out, 0, n * sizeof(*changes_out));
    if (n > 16) {
        views = malloc(n * sizeof(*views));
        if (views == NULL)
            return;
    }
    struct state_cluster *c = cluster_entry(s, cluster_id, 1);
    struct health_report rep;
    health_cluster_eval(master, replicas, n, settings, wall_ms, &rep, views);
    if (c != NULL)
        c->report = rep;
    for (size_t i = 0; i < n; i++) {
        struct node_obs *o = state_obs(s, replica_ids[i]);
        struct state_changes *ch = &changes_out[i];
        memset(ch, 0, sizeof(*ch));
        if (o == NULL)
            continue;
        const struct health_replica *v = &views[i];
        o->lag_bytes = v->lag_bytes;
        o->lag_ms = v->lag_ms;
        o->in_sync = v->in_sync;
        /* Alerts with hysteresis: raised once, cleared once. */
        if (v->lag_high && !o->lag_alert) {
            o->lag_alert = 1;
            change(ch, EV_LAG_HIGH,
                   "replica lags %lld bytes / %lld ms (thresholds %lld bytes / %lld ms)",
                   (long long)v->lag_bytes, (long long)v->lag_ms,
                   (long long)settings->lag_threshold_bytes,
                   (long long)settings->lag_threshold_ms);
        } else if (!v->lag_high && o->lag_alert && v->lag_bytes >= 0 && v->link == LINK_UP) {
            /* Only a live link can say the lag is over: a link that went down
             * is not a recovery (and would flap lag.high/lag.ok). */
            o->lag_alert = 0;
            change(ch, EV_LAG_OK, "replica lag back under threshold (%lld bytes)",
                   (long long)v->lag_bytes);
        }
    }
    s->version++;
    if (views != views_small)
        free(views);
}
