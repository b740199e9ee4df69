/* monitor.c - RESP polls on libuv + hiredis async (see monitor.h).
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
#include "health.h"
#include "log.h"
#include "redis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mnode {
    struct monitor *m;
    int64_t id;
    char host[256];
    int port;
    redisAsyncContext *ac;
    uv_timer_t tick;
    uv_timer_t deadline;
    int open_handles;
    int in_flight;
    int removed;
    int failing;               /* last poll failed: poll fast */
    uint64_t sent_ns;          /* monotonic, poll start */
    uint64_t last_ok_ns;       /* monotonic, for inter-poll gaps */
    int auth_failed;           /* AUTH answered an error on this connection */
    char auth_err[120];
    int auth_warned;
    uint64_t stats_ns;         /* monotonic, last poll that asked for the stats */
};

/* The clients, memory and keyspace sections feed /metrics only: asked for
 * every few seconds, so the replication poll that failover depends on stays
 * as cheap as it was. */
#define STATS_PERIOD_NS (5000ull * 1000 * 1000)
#define INFO_POLL "INFO server persistence stats replication"
#define INFO_POLL_STATS "INFO server persistence stats replication clients memory keyspace"

static void poll_start(struct mnode *n);

static void hist_add(uint32_t *hist, double ms)
{
    size_t b = ms >= MONITOR_HIST_MS ? MONITOR_HIST_MS : (size_t)ms;
    hist[b]++;
}

static double hist_pct(const uint32_t *hist, uint64_t samples, uint64_t want)
{
    uint64_t acc = 0;
    for (size_t i = 0; i <= MONITOR_HIST_MS && samples > 0; i++) {
        acc += hist[i];
        if (acc >= want)
            return (double)i + 1;      /* upper edge of the bucket */
    }
    return 0;
}

void monitor_stats_get(struct monitor *m, struct monitor_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&m->stats_mu);
    out->polls_ok = m->polls_ok;
    out->polls_failed = m->polls_failed;
    out->timeouts = m->timeouts;
    out->gap_samples = m->gap_samples;
    out->gap_max_ms = m->gap_max_ms;
    out->nodes = m->nodes_count;
    out->gap_p50_ms = hist_pct(m->gap_hist, m->gap_samples, (m->gap_samples + 1) / 2);
    out->gap_p99_ms = hist_pct(m->gap_hist, m->gap_samples, (m->gap_samples * 99 + 99) / 100);
    out->poll_p50_ms = hist_pct(m->poll_hist, m->poll_samples, (m->poll_samples + 1) / 2);
    out->poll_p99_ms = hist_pct(m->poll_hist, m->poll_samples, (m->poll_samples * 99 + 99) / 100);
    pthread_mutex_unlock(&m->stats_mu);
}

void monitor_stats_reset(struct monitor *m)
{
    pthread_mutex_lock(&m->stats_mu);
    m->polls_ok = m->polls_failed = m->timeouts = 0;
    memset(m->gap_hist, 0, sizeof(m->gap_hist));
    memset(m->poll_hist, 0, sizeof(m->poll_hist));
    m->gap_samples = m->poll_samples = 0;
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
    poll_start(t->data);
}

static struct mnode *node_add(struct monitor *m, const struct monitor_target *t)
{
    struct mnode *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->m = m;
    n->id = t->id;
    snprintf(n->host, sizeof(n->host), "%s", t->host);
    n->port = t->port;
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
    uint64_t first = (uint64_t)(t->id * 7919) % iv;
    if (uv_timer_start(&n->tick, on_tick, first, iv) != 0) {
        node_remove(n);
        return NULL;
    }
    return n;
}

static struct mnode *find_node(struct monitor *m, int64_t id)
{
    for (size_t j = 0; j < m->nnodes; j++)
        if (m->nodes[j]->id == id)
            return m->nodes[j];
    return NULL;
}

static int grow(struct monitor *m)
{
    if (m->nnodes < m->cap)
        return 0;
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct mnode **p = realloc(m->nodes, cap * sizeof(*p));
    if (p == NULL)
        return -1;
    m->nodes = p;
    m->cap = cap;
    return 0;
}

void monitor_set_targets(struct monitor *m, const struct monitor_target *t, size_t nt)
{
    if (m->stopping)
        return;
    for (size_t i = 0; i < m->nnodes; i++)
        m->nodes[i]->removed = 1;        /* provisional mark */
    for (size_t i = 0; i < nt; i++) {
        struct mnode *found = find_node(m, t[i].id);
        if (found != NULL) {
            found->removed = 0;
            if (found->port != t[i].port || strcmp(found->host, t[i].host) != 0) {
                drop_conn(found);
                snprintf(found->host, sizeof(found->host), "%s", t[i].host);
                found->port = t[i].port;
            }
            continue;
        }
        struct mnode *n = grow(m) == 0 ? node_add(m, &t[i]) : NULL;
        if (n == NULL) {
            ctl_log_warning("monitor: cannot start monitoring %s:%d", t[i].host, t[i].port);
            continue;
        }
        ctl_log_verbose("monitor: watching %s:%d", t[i].host, t[i].port);
        m->nodes[m->nnodes++] = n;
    }
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

/* ---- results -------------------------------------------------------------- */

static void poll_failed(struct mnode *n, int kind, const char *why)
{
    struct monitor *m = n->m;
    n->in_flight = 0;
    uv_timer_stop(&n->deadline);
    pthread_mutex_lock(&m->stats_mu);
    m->polls_failed++;
    pthread_mutex_unlock(&m->stats_mu);
    /* Poll a failing node faster, so "down after N ms" is judged on time. */
    if (!n->failing && !n->removed && !m->stopping) {
        uint64_t iv = (uint64_t)m->cfg->monitor_interval_ms;
        uint64_t fast = iv < MONITOR_FAST_MS ? iv : MONITOR_FAST_MS;
        (void)uv_timer_start(&n->tick, on_tick, fast, fast);
    }
    n->failing = 1;
    ctl_log_debug("monitor: poll of %s:%d failed: %s", n->host, n->port, why);
    struct poll_result *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return;
    r->ok = 0;
    r->fail_kind = kind;
    snprintf(r->why, sizeof(r->why), "%s", why);
    m->on_result(m->arg, n->id, r);
    free(r);
}

static void poll_ok(struct mnode *n, struct poll_result *r)
{
    struct monitor *m = n->m;
    n->in_flight = 0;
    uv_timer_stop(&n->deadline);
    uint64_t now_ns = uv_hrtime();
    r->duration_us = (int64_t)((now_ns - n->sent_ns) / 1000);
    pthread_mutex_lock(&m->stats_mu);
    if (n->last_ok_ns != 0) {
        double gap = (double)(now_ns - n->last_ok_ns) / 1e6;
        hist_add(m->gap_hist, gap);
        m->gap_samples++;
        if (gap > m->gap_max_ms)
            m->gap_max_ms = gap;
    }
    hist_add(m->poll_hist, (double)r->duration_us / 1000.0);
    m->poll_samples++;
    m->polls_ok++;
    pthread_mutex_unlock(&m->stats_mu);
    n->last_ok_ns = now_ns;
    if (n->failing && !n->removed && !m->stopping) {
        uint64_t iv = (uint64_t)m->cfg->monitor_interval_ms;
        (void)uv_timer_start(&n->tick, on_tick, iv, iv);
    }
    n->failing = 0;
    m->on_result(m->arg, n->id, r);
}

/* ---- hiredis callbacks -------------------------------------------------- */

static void on_auth(redisAsyncContext *ac, void *rp, void *priv)
{
    struct mnode *n = priv;
    redisReply *reply = rp;
    if (reply == NULL || n->ac != ac)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        n->auth_failed = 1;
        snprintf(n->auth_err, sizeof(n->auth_err), "%s", reply->str);
        if (!n->auth_warned) {
            n->auth_warned = 1;
            ctl_log_warning("monitor: AUTH to %s:%d failed: %s", n->host, n->port, reply->str);
        }
    }
}

static int error_kind(const char *err)
{
    if (strncmp(err, "LOADING", 7) == 0)
        return FAIL_LOADING;
    if (strncmp(err, "NOAUTH", 6) == 0 || strncmp(err, "WRONGPASS", 9) == 0 ||
        strncasecmp(err, "ERR invalid password", 20) == 0 || strstr(err, "AUTH") != NULL)
        return FAIL_AUTH;
    return FAIL_OTHER;
}

static int conn_error_kind(const char *err)
{
    if (strcasestr(err, "refused") != NULL)
        return FAIL_REFUSED;
    if (strcasestr(err, "timed out") != NULL)
        return FAIL_TIMEOUT;
    return FAIL_OTHER;
}

static void on_info(redisAsyncContext *ac, void *rp, void *priv)
{
    struct mnode *n = priv;
    redisReply *reply = rp;
    if (n->ac != ac || !n->in_flight)
        return;
    if (reply == NULL) {
        n->ac = NULL;               /* hiredis is freeing it */
        const char *why = ac->errstr[0] ? ac->errstr : "connection lost";
        poll_failed(n, conn_error_kind(why), why);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[200];
        int kind = n->auth_failed ? FAIL_AUTH : error_kind(reply->str);
        snprintf(why, sizeof(why), "INFO failed: %s%s%s", reply->str,
                 n->auth_failed ? "; AUTH: " : "", n->auth_failed ? n->auth_err : "");
        drop_conn(n);
        poll_failed(n, kind, why);
        return;
    }
    struct poll_result *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        drop_conn(n);
        poll_failed(n, FAIL_OTHER, "out of memory");
        return;
    }
    if ((reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) ||
        info_parse_replication(reply->str, reply->len, &r->info) != 0) {
        free(r);
        drop_conn(n);
        poll_failed(n, FAIL_OTHER, "unparsable INFO reply");
        return;
    }
    r->ok = 1;
    poll_ok(n, r);
    free(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct mnode *n = ac->data;
    if (status == REDIS_OK || n == NULL || n->ac != ac)
        return;
    n->ac = NULL;                   /* hiredis frees it after this callback */
    if (n->in_flight) {
        const char *why = ac->errstr[0] ? ac->errstr : "connect failed";
        poll_failed(n, conn_error_kind(why), why);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct mnode *n = ac->data;
    if (n == NULL || n->ac != ac)
        return;
    n->ac = NULL;
    if (n->in_flight)
        poll_failed(n, FAIL_OTHER, "disconnected");
}

static void on_deadline(uv_timer_t *t)
{
    struct mnode *n = t->data;
    if (!n->in_flight)
        return;
    drop_conn(n);
    pthread_mutex_lock(&n->m->stats_mu);
    n->m->timeouts++;
    pthread_mutex_unlock(&n->m->stats_mu);
    char why[64];
    snprintf(why, sizeof(why), "no reply within %d ms", n->m->cfg->monitor_timeout_ms);
    poll_failed(n, FAIL_TIMEOUT, why);
}

static int connect_node(struct mnode *n)
{
    char err[160];
    redisAsyncContext *ac = redis_uv_connect(n->m->loop, n->host, n->port, n, on_connect,
                                             on_disconnect, err, sizeof(err));
    if (ac == NULL) {
        n->in_flight = 1;
        poll_failed(n, conn_error_kind(err), err);
        return -1;
    }
    n->ac = ac;
    n->auth_failed = 0;
    return 0;
}

static void poll_start(struct mnode *n)
{
    struct monitor *m = n->m;
    if (n->in_flight || n->removed || m->stopping)
        return;
    if (n->ac == NULL && connect_node(n) != 0)
        return;
    n->in_flight = 1;
    n->sent_ns = uv_hrtime();
    if (uv_timer_start(&n->deadline, on_deadline, (uint64_t)m->cfg->monitor_timeout_ms, 0) != 0)
        ctl_log_warning("monitor: cannot arm deadline for %s:%d", n->host, n->port);
    if (m->cfg->node_auth != NULL &&
        redis_uv_auth(n->ac, m->cfg->node_user, m->cfg->node_auth, on_auth, n) != REDIS_OK) {
        drop_conn(n);
        poll_failed(n, FAIL_OTHER, "cannot send AUTH");
        return;
    }
    int with_stats = n->stats_ns == 0 || n->sent_ns - n->stats_ns >= STATS_PERIOD_NS;
    if (with_stats)
        n->stats_ns = n->sent_ns;
    if (redisAsyncCommand(n->ac, on_info, n, with_stats ? INFO_POLL_STATS : INFO_POLL) !=
        REDIS_OK) {
        drop_conn(n);
        poll_failed(n, FAIL_OTHER, "cannot send INFO");
    }
}

void monitor_poll_all_now(struct monitor *m)
{
    for (size_t i = 0; i < m->nnodes; i++)
        poll_start(m->nodes[i]);
}

/* ---- loop plumbing ------------------------------------------------------ */

int monitor_init(struct monitor *m, uv_loop_t *loop, const struct cfg *cfg,
                 monitor_result_cb on_result, void *arg)
{
    memset(m, 0, sizeof(*m));
    m->loop = loop;
    m->cfg = cfg;
    m->on_result = on_result;
    m->arg = arg;
    if (pthread_mutex_init(&m->stats_mu, NULL) != 0)
        return -1;
    return 0;
}

void monitor_stop(struct monitor *m)
{
    if (m->stopping)
        return;
    m->stopping = 1;
    for (size_t i = 0; i < m->nnodes; i++)
        node_remove(m->nodes[i]);
    m->nnodes = 0;
    free(m->nodes);
    m->nodes = NULL;
}
