/* monitor.c - RESP monitor on libuv + hiredis async (see monitor.h).
 *
 * Connection life cycle, and why it is careful:
 *   hiredis calls every pending reply callback with a NULL reply when a
 *   context is freed or disconnected, and the context must never be freed
 *   twice. So a node's `ac` pointer is the single owner: whoever drops it
 *   sets n->ac = NULL *before* freeing, and every callback ignores a context
 *   that is no longer n->ac. A NULL reply on the current context means hiredis
 *   is already tearing it down: we forget it and do not free it.
 *   Timeouts are ours (hiredis 0.14 has no async timeout): each poll arms a
 *   deadline timer; when it fires the context is freed and the poll fails.
 *   Nodes are freed only after both their uv timers are closed. */
#include "monitor.h"
#include "info.h"
#include "log.h"
#include "reconcile.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_INTERVAL_MS 5000
#define MAX_EVENTS 8

struct mnode {
    struct monitor *m;
    int64_t id;
    char host[FLEET_HOST_MAX + 1];
    int port;
    redisAsyncContext *ac;
    uv_timer_t tick;
    uv_timer_t deadline;
    int open_handles;
    int in_flight;
    int removed;
    int masterauth_set;
    uint64_t last_ok_ns;       /* monotonic, for inter-poll gaps */
    int64_t last_action_ms;    /* reconcile rate limit */
    int auth_warned;
};

struct pending_event {
    char cluster[FLEET_NAME_MAX + 1];
    int has_cluster;
    char kind[32];
    char msg[320];
};

static void poll_start(struct mnode *n);

/* ---- hiredis <-> libuv glue ----------------------------------------------
 * Our own adapter rather than hiredis' adapters/libuv.h: when the socket is in
 * error (connection refused, reset), libuv reports the poll with a negative
 * status and no events, and that adapter then does nothing, so a refused
 * connect would only fail at our deadline. Here an error status is handed to
 * hiredis as "readable and writable": it then reads the socket error and
 * disconnects at once. */
struct uvredis {
    redisAsyncContext *ac;    /* NULL once hiredis cleaned up */
    uv_poll_t poll;
    int events;
};

static void uvredis_on_poll(uv_poll_t *h, int status, int events)
{
    struct uvredis *u = h->data;
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE;
    if (u->ac != NULL && (events & UV_READABLE))
        redisAsyncHandleRead(u->ac);
    /* The read may have freed the context (cleanup sets u->ac = NULL). */
    if (u->ac != NULL && (events & UV_WRITABLE))
        redisAsyncHandleWrite(u->ac);
}

static void uvredis_update(struct uvredis *u)
{
    if (u->events != 0)
        (void)uv_poll_start(&u->poll, u->events, uvredis_on_poll);
    else
        (void)uv_poll_stop(&u->poll);
}

static void uvredis_add_read(void *p)
{
    struct uvredis *u = p;
    u->events |= UV_READABLE;
    uvredis_update(u);
}

static void uvredis_del_read(void *p)
{
    struct uvredis *u = p;
    u->events &= ~UV_READABLE;
    uvredis_update(u);
}

static void uvredis_add_write(void *p)
{
    struct uvredis *u = p;
    u->events |= UV_WRITABLE;
    uvredis_update(u);
}

static void uvredis_del_write(void *p)
{
    struct uvredis *u = p;
    u->events &= ~UV_WRITABLE;
    uvredis_update(u);
}

static void uvredis_closed(uv_handle_t *h)
{
    free(h->data);
}

static void uvredis_cleanup(void *p)
{
    struct uvredis *u = p;
    u->ac = NULL;
    uv_close((uv_handle_t *)&u->poll, uvredis_closed);
}

static int uvredis_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data != NULL)
        return REDIS_ERR;
    struct uvredis *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return REDIS_ERR;
    if (uv_poll_init(loop, &u->poll, ac->c.fd) != 0) {
        free(u);
        return REDIS_ERR;
    }
    u->ac = ac;
    u->poll.data = u;
    ac->ev.data = u;
    ac->ev.addRead = uvredis_add_read;
    ac->ev.delRead = uvredis_del_read;
    ac->ev.addWrite = uvredis_add_write;
    ac->ev.delWrite = uvredis_del_write;
    ac->ev.cleanup = uvredis_cleanup;
    return REDIS_OK;
}

static uint64_t mono_ns(void) { return uv_hrtime(); }

static void stats_gap(struct monitor *m, uint64_t gap_ns)
{
    double ms = (double)gap_ns / 1e6;
    size_t b = ms >= MONITOR_HIST_MS ? MONITOR_HIST_MS : (size_t)ms;
    pthread_mutex_lock(&m->stats_mu);
    m->gap_hist[b]++;
    m->gap_samples++;
    if (ms > m->gap_max_ms)
        m->gap_max_ms = ms;
    pthread_mutex_unlock(&m->stats_mu);
}

static void stats_add(struct monitor *m, uint64_t *ctr)
{
    pthread_mutex_lock(&m->stats_mu);
    (*ctr)++;
    pthread_mutex_unlock(&m->stats_mu);
}

void monitor_stats_get(struct monitor *m, struct monitor_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&m->stats_mu);
    out->polls_ok = m->polls_ok;
    out->polls_failed = m->polls_failed;
    out->timeouts = m->timeouts;
    out->reconcile_actions = m->actions;
    out->gap_samples = m->gap_samples;
    out->gap_max_ms = m->gap_max_ms;
    out->nodes = m->nodes_count;
    uint64_t acc = 0, p50 = (m->gap_samples + 1) / 2, p99 = (m->gap_samples * 99 + 99) / 100;
    int got50 = 0;
    for (size_t i = 0; i <= MONITOR_HIST_MS && m->gap_samples > 0; i++) {
        acc += m->gap_hist[i];
        if (!got50 && acc >= p50) {
            out->gap_p50_ms = (double)i + 1;
            got50 = 1;
        }
        if (acc >= p99) {
            out->gap_p99_ms = (double)i + 1;   /* upper edge of the bucket */
            break;
        }
    }
    pthread_mutex_unlock(&m->stats_mu);
}

void monitor_stats_reset(struct monitor *m)
{
    pthread_mutex_lock(&m->stats_mu);
    m->polls_ok = m->polls_failed = m->timeouts = m->actions = 0;
    memset(m->gap_hist, 0, sizeof(m->gap_hist));
    m->gap_samples = 0;
    m->gap_max_ms = 0;
    pthread_mutex_unlock(&m->stats_mu);
}

/* ---- node life cycle ---------------------------------------------------- */

static void node_handle_closed(uv_handle_t *h)
{
    struct mnode *n = h->data;
    if (--n->open_handles == 0)
        free(n);
}

/* Drop the connection we own (never call from a NULL-reply path). */
static void drop_conn(struct mnode *n)
{
    redisAsyncContext *ac = n->ac;
    n->ac = NULL;
    n->masterauth_set = 0;
    if (ac != NULL)
        redisAsyncFree(ac);
}

static void node_remove(struct mnode *n)
{
    n->removed = 1;
    n->in_flight = 0;
    drop_conn(n);
    uv_timer_stop(&n->tick);
    uv_timer_stop(&n->deadline);
    uv_close((uv_handle_t *)&n->tick, node_handle_closed);
    uv_close((uv_handle_t *)&n->deadline, node_handle_closed);
}

static void on_tick(uv_timer_t *t)
{
    struct mnode *n = t->data;
    poll_start(n);
}

static struct mnode *node_add(struct monitor *m, const struct fleet_node *fn)
{
    struct mnode *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->m = m;
    n->id = fn->id;
    snprintf(n->host, sizeof(n->host), "%s", fn->host);
    n->port = fn->port;
    if (uv_timer_init(m->loop, &n->tick) != 0) {
        free(n);
        return NULL;
    }
    n->open_handles = 1;
    n->tick.data = n;
    if (uv_timer_init(m->loop, &n->deadline) != 0) {
        uv_close((uv_handle_t *)&n->tick, node_handle_closed);
        return NULL;
    }
    n->open_handles = 2;
    n->deadline.data = n;
    /* Spread first polls over one interval so 300 nodes do not poll in
     * lock step. */
    uint64_t iv = (uint64_t)m->cfg->monitor_interval_ms;
    uint64_t first = (uint64_t)(fn->id * 7919) % iv;
    if (uv_timer_start(&n->tick, on_tick, first, iv) != 0) {
        node_remove(n);
        return NULL;
    }
    return n;
}

/* Align our node set with the fleet (new nodes, deleted nodes). */
static void sync_nodes(struct monitor *m)
{
    struct fleet *f = m->fleet;
    fleet_rdlock(f);
    for (size_t i = 0; i < m->nnodes; i++)
        m->nodes[i]->removed = 1;        /* provisional mark */
    for (size_t i = 0; i < f->nnodes; i++) {
        const struct fleet_node *fn = f->nodes[i];
        struct mnode *found = NULL;
        for (size_t j = 0; j < m->nnodes; j++) {
            if (m->nodes[j]->id == fn->id) {
                found = m->nodes[j];
                break;
            }
        }
        if (found != NULL) {
            found->removed = 0;
            continue;
        }
        if (m->nnodes == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 64;
            struct mnode **p = realloc(m->nodes, cap * sizeof(*p));
            if (p == NULL) {
                ctl_log_warning("monitor: out of memory adding node %s", fn->name);
                continue;
            }
            m->nodes = p;
            m->cap = cap;
        }
        struct mnode *n = node_add(m, fn);
        if (n == NULL) {
            ctl_log_warning("monitor: cannot start monitoring %s", fn->name);
            continue;
        }
        ctl_log_verbose("monitor: watching %s (%s:%d)", fn->name, fn->host, fn->port);
        m->nodes[m->nnodes++] = n;
    }
    fleet_unlock(f);
    size_t w = 0;
    for (size_t i = 0; i < m->nnodes; i++) {
        struct mnode *n = m->nodes[i];
        if (n->removed) {
            ctl_log_verbose("monitor: stop watching %s:%d", n->host, n->port);
            node_remove(n);
        } else {
            m->nodes[w++] = n;
        }
    }
    m->nnodes = w;
    pthread_mutex_lock(&m->stats_mu);
    m->nodes_count = (int)w;
    pthread_mutex_unlock(&m->stats_mu);
}

/* ---- observation -> fleet ----------------------------------------------- */

static void push_event(struct pending_event *evs, int *nev, const struct fleet_cluster *c,
                       const char *kind, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void push_event(struct pending_event *evs, int *nev, const struct fleet_cluster *c,
                       const char *kind, const char *fmt, ...)
{
    if (*nev >= MAX_EVENTS)
        return;
    struct pending_event *e = &evs[(*nev)++];
    e->has_cluster = c != NULL;
    if (c != NULL)
        snprintf(e->cluster, sizeof(e->cluster), "%s", c->name);
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* Hand the events and (when changed) the node's status to the writer
 * thread: the loop never waits for SQLite. */
static void persist(struct monitor *m, int64_t node_id, const char *node_name,
                    const struct pending_event *evs, int nev, const struct node_obs *obs)
{
    int64_t now = store_now_ms();
    for (int i = 0; i < nev; i++)
        writer_event(m->writer, now, evs[i].has_cluster ? evs[i].cluster : NULL, node_name,
                     evs[i].kind, "monitor", evs[i].msg);
    if (obs != NULL)
        writer_status(m->writer, node_id, obs, 0);
}

static void poll_failed(struct mnode *n, const char *why)
{
    struct monitor *m = n->m;
    n->in_flight = 0;
    uv_timer_stop(&n->deadline);
    stats_add(m, &m->polls_failed);

    struct pending_event evs[MAX_EVENTS];
    int nev = 0;
    char name[FLEET_NAME_MAX + 1] = "";
    struct node_obs snap;
    int changed = 0;
    fleet_wrlock(m->fleet);
    struct fleet_node *fn = fleet_node_by_id(m->fleet, n->id);
    if (fn != NULL) {
        snprintf(name, sizeof(name), "%s", fn->name);
        struct node_obs *o = &fn->obs;
        o->failures++;
        if (o->failures >= m->cfg->down_after_failures && o->state != NODE_DOWN) {
            const struct fleet_cluster *c = fleet_cluster_by_id(m->fleet, fn->cluster_id);
            o->state = NODE_DOWN;
            o->state_since = store_now_ms();
            push_event(evs, &nev, c, "node.down", "node %s:%d is down: %s", fn->host, fn->port,
                       why);
            changed = 1;
        }
        snap = *o;
    }
    fleet_unlock(m->fleet);
    if (fn == NULL)
        return;
    ctl_log_debug("monitor: poll of %s failed: %s", name, why);
    if (changed)
        persist(m, n->id, name, evs, nev, &snap);
}

static void on_admin_reply(redisAsyncContext *ac, void *r, void *priv)
{
    struct mnode *n = priv;
    redisReply *reply = r;
    if (reply == NULL || n->ac != ac)
        return;
    if (reply->type == REDIS_REPLY_ERROR)
        ctl_log_warning("reconcile: %s:%d answered: %s", n->host, n->port, reply->str);
}

static void reconcile_node(struct mnode *n, const struct reconcile_input *in, const char *name,
                           const char *cluster)
{
    struct monitor *m = n->m;
    const struct cfg *cfg = m->cfg;
    if (n->ac == NULL)
        return;
    /* Replicas need the password to reach a master that requires AUTH. */
    if (cfg->node_auth != NULL && in->is_member && !in->is_desired_master && !n->masterauth_set &&
        !in->maintenance) {
        if (redisAsyncCommand(n->ac, on_admin_reply, n, "CONFIG SET masterauth %s",
                              cfg->node_auth) == REDIS_OK)
            n->masterauth_set = 1;
    }
    struct reconcile_plan plan;
    reconcile_plan(in, &plan);
    if (plan.action == RC_NONE || !cfg->reconcile)
        return;
    int64_t now = store_now_ms();
    if (!reconcile_allowed(n->last_action_ms, now, cfg->reconcile_min_interval_ms))
        return;
    n->last_action_ms = now;
    int rc;
    if (plan.action == RC_PROMOTE)
        rc = redisAsyncCommand(n->ac, on_admin_reply, n, "REPLICAOF NO ONE");
    else
        rc = redisAsyncCommand(n->ac, on_admin_reply, n, "REPLICAOF %s %d", in->master_host,
                               in->master_port);
    stats_add(m, &m->actions);
    char msg[800];
    if (plan.action == RC_PROMOTE)
        snprintf(msg, sizeof(msg), "%s; sent REPLICAOF NO ONE%s", plan.reason,
                 rc == REDIS_OK ? "" : " (send failed)");
    else
        snprintf(msg, sizeof(msg), "%s; sent REPLICAOF %s %d%s", plan.reason, in->master_host,
                 in->master_port, rc == REDIS_OK ? "" : " (send failed)");
    writer_event(m->writer, now, cluster, name,
                 plan.action == RC_PROMOTE ? "reconcile.promote" : "reconcile.replicaof",
                 "reconciler", msg);
}

static void poll_ok(struct mnode *n, const struct info_repl *info)
{
    struct monitor *m = n->m;
    n->in_flight = 0;
    uv_timer_stop(&n->deadline);
    uint64_t now_ns = mono_ns();
    if (n->last_ok_ns != 0)
        stats_gap(m, now_ns - n->last_ok_ns);
    n->last_ok_ns = now_ns;
    stats_add(m, &m->polls_ok);

    int64_t now = store_now_ms();
    struct pending_event evs[MAX_EVENTS];
    int nev = 0, changed = 0;
    char name[FLEET_NAME_MAX + 1], cluster[FLEET_NAME_MAX + 1] = "";
    char mhost[FLEET_HOST_MAX + 1] = "";
    struct node_obs snap;
    struct reconcile_input rin;
    memset(&rin, 0, sizeof(rin));

    fleet_wrlock(m->fleet);
    struct fleet *f = m->fleet;
    struct fleet_node *fn = fleet_node_by_id(f, n->id);
    if (fn == NULL) {
        fleet_unlock(f);
        return;
    }
    snprintf(name, sizeof(name), "%s", fn->name);
    struct node_obs *o = &fn->obs;
    const struct fleet_cluster *c = fleet_cluster_by_id(f, fn->cluster_id);
    if (o->state != NODE_UP) {
        push_event(evs, &nev, c, "node.up", "node %s:%d is up (role %s)", fn->host, fn->port,
                   health_role_name(info->role));
        o->state = NODE_UP;
        o->state_since = now;
        changed = 1;
    }
    if (o->role != ROLE_UNKNOWN && o->role != info->role) {
        if (info->role == ROLE_REPLICA)
            push_event(evs, &nev, c, "node.role", "role changed from master to replica of %s:%d",
                       info->master_host, info->master_port);
        else
            push_event(evs, &nev, c, "node.role", "role changed from replica to master");
        changed = 1;
    } else if (o->role == ROLE_REPLICA && info->role == ROLE_REPLICA &&
               (strcmp(o->master_host, info->master_host) != 0 ||
                o->master_port != info->master_port)) {
        push_event(evs, &nev, c, "node.master", "now replicates from %s:%d (was %s:%d)",
                   info->master_host, info->master_port, o->master_host, o->master_port);
        changed = 1;
    } else if (o->role == ROLE_UNKNOWN) {
        changed = 1;
    }
    if (info->role == ROLE_REPLICA && o->role == ROLE_REPLICA && o->link != info->link) {
        push_event(evs, &nev, c, info->link == LINK_UP ? "link.up" : "link.down",
                   "replication link to %s:%d is %s", info->master_host, info->master_port,
                   info->link == LINK_UP ? "up" : "down");
        changed = 1;
    } else if (info->role == ROLE_REPLICA && o->role != ROLE_REPLICA && info->link == LINK_UP) {
        push_event(evs, &nev, c, "link.up", "replication link to %s:%d is up", info->master_host,
                   info->master_port);
    }
    o->role = info->role;
    snprintf(o->master_host, sizeof(o->master_host), "%s",
             info->role == ROLE_REPLICA ? info->master_host : "");
    o->master_port = info->role == ROLE_REPLICA ? info->master_port : 0;
    o->link = info->link;
    o->offset = info->offset;
    o->failures = 0;
    o->last_ok_ms = now;
    o->replicas_connected = info->connected_slaves;
    fn->last_seen = now;
    if (info->role == ROLE_MASTER && info->offset >= 0)
        health_ring_push(&o->ring, now, info->offset);

    o->lag_bytes = -1;
    o->lag_ms = -1;
    if (c != NULL) {
        snprintf(cluster, sizeof(cluster), "%s", c->name);
        struct fleet_node *mn = fleet_node_by_id(f, c->master_id);
        rin.is_member = 1;
        rin.is_desired_master = mn == fn;
        rin.maintenance = fn->maintenance;
        if (mn != NULL && mn != fn) {
            snprintf(mhost, sizeof(mhost), "%s", mn->host);
            rin.master_host = mhost;
            rin.master_port = mn->port;
            /* Lag alerts, with hysteresis via o->lag_alert. */
            struct health_member hm = { .name = mn->name, .host = mn->host, .port = mn->port,
                                        .maintenance = mn->maintenance, .obs = &mn->obs };
            struct health_member hr = { .name = fn->name, .host = fn->host, .port = fn->port,
                                        .maintenance = fn->maintenance, .obs = o };
            struct health_replica v;
            health_replica_eval(&hm, &hr, &c->settings, now, &v);
            o->lag_bytes = v.lag_bytes;
            o->lag_ms = v.lag_ms;
            if (v.lag_high && !o->lag_alert) {
                o->lag_alert = 1;
                push_event(evs, &nev, c, "lag.high",
                           "replica lags %lld bytes / %lld ms (thresholds %lld bytes / %lld ms)",
                           (long long)v.lag_bytes, (long long)v.lag_ms,
                           (long long)c->settings.lag_threshold_bytes,
                           (long long)c->settings.lag_threshold_ms);
            } else if (!v.lag_high && o->lag_alert && v.lag_bytes >= 0) {
                o->lag_alert = 0;
                push_event(evs, &nev, c, "lag.ok", "replica lag back under threshold (%lld bytes)",
                           (long long)v.lag_bytes);
            }
        }
    }
    snap = *o;
    rin.obs = &snap;
    fleet_unlock(f);

    if (changed || nev > 0)
        persist(m, n->id, name, evs, nev, &snap);
    reconcile_node(n, &rin, name, cluster[0] ? cluster : NULL);
}

/* ---- hiredis callbacks -------------------------------------------------- */

static void on_auth(redisAsyncContext *ac, void *r, void *priv)
{
    struct mnode *n = priv;
    redisReply *reply = r;
    if (reply == NULL || n->ac != ac)
        return;
    if (reply->type == REDIS_REPLY_ERROR && !n->auth_warned) {
        n->auth_warned = 1;
        ctl_log_warning("monitor: AUTH to %s:%d failed: %s", n->host, n->port, reply->str);
    }
}

static void on_info(redisAsyncContext *ac, void *r, void *priv)
{
    struct mnode *n = priv;
    redisReply *reply = r;
    if (n->ac != ac || !n->in_flight)
        return;
    if (reply == NULL) {
        n->ac = NULL;               /* hiredis is freeing it */
        n->masterauth_set = 0;
        poll_failed(n, ac->errstr[0] ? ac->errstr : "connection lost");
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[256];
        snprintf(why, sizeof(why), "INFO failed: %s", reply->str);
        drop_conn(n);
        poll_failed(n, why);
        return;
    }
    struct info_repl info;
    if ((reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) ||
        info_parse_replication(reply->str, reply->len, &info) != 0) {
        drop_conn(n);
        poll_failed(n, "unparsable INFO replication reply");
        return;
    }
    poll_ok(n, &info);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct mnode *n = ac->data;
    if (status == REDIS_OK || n == NULL || n->ac != ac)
        return;
    n->ac = NULL;                   /* hiredis frees it after this callback */
    n->masterauth_set = 0;
    if (n->in_flight)
        poll_failed(n, ac->errstr[0] ? ac->errstr : "connect failed");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct mnode *n = ac->data;
    if (n == NULL || n->ac != ac)
        return;
    n->ac = NULL;
    n->masterauth_set = 0;
    if (n->in_flight)
        poll_failed(n, "disconnected");
}

static void on_deadline(uv_timer_t *t)
{
    struct mnode *n = t->data;
    if (!n->in_flight)
        return;
    drop_conn(n);
    stats_add(n->m, &n->m->timeouts);
    poll_failed(n, "timeout");
}

static void poll_start(struct mnode *n)
{
    struct monitor *m = n->m;
    if (n->in_flight || n->removed || m->stopping)
        return;
    if (n->ac == NULL) {
        redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
        if (ac == NULL) {
            n->in_flight = 1;
            poll_failed(n, "out of memory");
            return;
        }
        if (ac->err) {
            char why[160];
            snprintf(why, sizeof(why), "connect: %s", ac->errstr);
            redisAsyncFree(ac);
            n->in_flight = 1;
            poll_failed(n, why);
            return;
        }
        ac->data = n;
        if (uvredis_attach(ac, m->loop) != REDIS_OK) {
            redisAsyncFree(ac);
            n->in_flight = 1;
            poll_failed(n, "cannot attach to the event loop");
            return;
        }
        redisAsyncSetConnectCallback(ac, on_connect);
        redisAsyncSetDisconnectCallback(ac, on_disconnect);
        n->ac = ac;
        n->masterauth_set = 0;
    }
    n->in_flight = 1;
    if (uv_timer_start(&n->deadline, on_deadline, (uint64_t)m->cfg->monitor_timeout_ms, 0) != 0)
        ctl_log_warning("monitor: cannot arm deadline for %s:%d", n->host, n->port);
    if (m->cfg->node_auth != NULL &&
        redisAsyncCommand(n->ac, on_auth, n, "AUTH %s", m->cfg->node_auth) != REDIS_OK) {
        drop_conn(n);
        poll_failed(n, "cannot send AUTH");
        return;
    }
    if (redisAsyncCommand(n->ac, on_info, n, "INFO replication") != REDIS_OK) {
        drop_conn(n);
        poll_failed(n, "cannot send INFO");
    }
}

/* ---- loop plumbing ------------------------------------------------------ */

static void on_wake(uv_async_t *a)
{
    struct monitor *m = a->data;
    if (m->stopping)
        return;
    sync_nodes(m);
    /* Topology changed: look at everyone now rather than at the next tick,
     * so new clusters are reconciled at once. */
    for (size_t i = 0; i < m->nnodes; i++)
        poll_start(m->nodes[i]);
}

void monitor_flush(struct monitor *m)
{
    struct fleet *f = m->fleet;
    fleet_rdlock(f);
    for (size_t i = 0; i < f->nnodes; i++) {
        const struct fleet_node *fn = f->nodes[i];
        if (fn->obs.state != NODE_UNKNOWN)
            writer_status(m->writer, fn->id, &fn->obs, fn->last_seen);
    }
    fleet_unlock(f);
}

static void on_flush(uv_timer_t *t)
{
    monitor_flush(t->data);
}

int monitor_init(struct monitor *m, uv_loop_t *loop, struct fleet *f, const struct cfg *cfg,
                 struct writer *w)
{
    memset(m, 0, sizeof(*m));
    m->writer = w;
    m->loop = loop;
    m->fleet = f;
    m->cfg = cfg;
    if (pthread_mutex_init(&m->stats_mu, NULL) != 0)
        return -1;
    if (uv_async_init(loop, &m->wake, on_wake) != 0)
        return -1;
    m->wake.data = m;
    if (uv_timer_init(loop, &m->flush) != 0)
        return -1;
    m->flush.data = m;
    if (uv_timer_start(&m->flush, on_flush, FLUSH_INTERVAL_MS, FLUSH_INTERVAL_MS) != 0)
        return -1;
    sync_nodes(m);
    return 0;
}

void monitor_wake(struct monitor *m)
{
    (void)uv_async_send(&m->wake);
}

void monitor_stop(struct monitor *m)
{
    if (m->stopping)
        return;
    m->stopping = 1;
    monitor_flush(m);
    for (size_t i = 0; i < m->nnodes; i++)
        node_remove(m->nodes[i]);
    m->nnodes = 0;
    free(m->nodes);
    m->nodes = NULL;
    uv_timer_stop(&m->flush);
    uv_close((uv_handle_t *)&m->flush, NULL);
    uv_close((uv_handle_t *)&m->wake, NULL);
}
