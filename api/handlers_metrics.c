/* handlers_metrics.c - GET /metrics: the Prometheus text format (0.0.4).
 *
 * Three sources, each read where it lives:
 *  - the fleet and the observations (under the API read locks, fleet ->
 *    state): per-node series named as redis_exporter names them, with
 *    `cluster` and `node` labels, so Grafana boards built for it work; and
 *    the per-cluster verdicts (masters seen, master up, health);
 *  - the planner, asked per cluster after the locks are released (it takes
 *    them itself): how many replicas could be promoted now;
 *  - counters: the controller's (metrics.h), the journal writer's, the HTTP
 *    request counters (reqstats.h).
 * The route row gives the content type and the auth policy (metrics-auth).
 * Series of a node that is not up are left out except redis_up, as
 * redis_exporter does, so a stale figure is never shown as current. */
#include "api.h"
#include "reqstats.h"
#include "../server/metrics.h"
#include "../server/planner.h"
#include "../server/prom.h"
#include "../server/version.h"
#include "../server/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-node series -------------------------------------------------------- */

struct node_view {
    const struct fleet_node *n;
    const char *cluster;       /* "" outside any cluster */
    const struct node_obs *o;
};

static const char *cluster_name_of(const struct fleet *f, int64_t id)
{
    for (size_t i = 0; i < f->nclusters && id != 0; i++)
        if (f->clusters[i]->id == id)
            return f->clusters[i]->name;
    return "";
}

static int node_up(const struct node_view *v)
{
    return v->o->state == NODE_UP;
}

/* A gauge per node from a figure of its observation (< 0: unknown, left
 * out). */
typedef int64_t (*node_figure)(const struct node_obs *o);

static int64_t fig_slaves(const struct node_obs *o) { return o->replicas_connected; }
static int64_t fig_offset(const struct node_obs *o) { return o->offset; }
static int64_t fig_clients(const struct node_obs *o) { return o->stats.connected_clients; }
static int64_t fig_memory(const struct node_obs *o) { return o->stats.used_memory; }
static int64_t fig_commands(const struct node_obs *o) { return o->stats.commands_processed; }

static void write_node_figure(struct prom *p, const struct node_view *v, size_t n,
                              const char *name, const char *type, const char *help,
                              node_figure fig)
{
    prom_family(p, name, type, help);
    for (size_t i = 0; i < n; i++) {
        int64_t x = node_up(&v[i]) ? fig(v[i].o) : -1;
        if (x < 0)
            continue;
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, NULL };
        prom_sample(p, name, l, (double)x);
    }
}

static const char *info_role(int role)
{
    return role == ROLE_MASTER ? "master" : role == ROLE_REPLICA ? "slave" : "unknown";
}

static void write_up_and_info(struct prom *p, const struct node_view *v, size_t n)
{
    prom_family(p, "redis_up", "gauge", "1 when the node's last poll succeeded.");
    for (size_t i = 0; i < n; i++) {
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, NULL };
        prom_sample(p, "redis_up", l, node_up(&v[i]) ? 1 : 0);
    }
    prom_family(p, "redis_instance_info", "gauge", "The node's role, version and run id.");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]))
            continue;
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name,
                            "role", info_role(v[i].o->role), "redis_version", v[i].o->version,
                            "run_id", v[i].o->run_id, NULL };
        prom_sample(p, "redis_instance_info", l, 1);
    }
}

static void write_link(struct prom *p, const struct node_view *v, size_t n)
{
    prom_family(p, "redis_master_link_up", "gauge",
                "Replicas: 1 when the replication link to the master is up.");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]) || v[i].o->role != ROLE_REPLICA)
            continue;
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, NULL };
        prom_sample(p, "redis_master_link_up", l, v[i].o->link == LINK_UP ? 1 : 0);
    }
}

/* A master's replicas as its INFO lists them. */
static void write_slaves(struct prom *p, const struct node_view *v, size_t n, int lag)
{
    const char *name = lag ? "redis_connected_slave_lag_seconds"
                           : "redis_connected_slave_offset_bytes";
    prom_family(p, name, "gauge",
                lag ? "Seconds since each replica's last acknowledgement, as its master reports."
                    : "Each replica's acknowledged offset, as its master reports.");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]))
            continue;
        for (int s = 0; s < v[i].o->nslaves; s++) {
            const struct info_slave *sl = &v[i].o->slaves[s];
            int64_t x = lag ? sl->lag : sl->offset;
            if (x < 0)
                continue;
            char port[16];
            snprintf(port, sizeof(port), "%d", sl->port);
            const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, "slave_ip", sl->ip,
                                "slave_port", port, "slave_state", sl->state, NULL };
            prom_sample(p, name, l, (double)x);
        }
    }
}

static void write_keys(struct prom *p, const struct node_view *v, size_t n)
{
    prom_family(p, "redis_db_keys", "gauge", "Keys per database (INFO keyspace).");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]) || !v[i].o->stats.present)
            continue;
        for (int d = 0; d < INFO_MAX_DBS; d++) {
            /* Redis lists only databases that hold keys: db0 is shown at 0. */
            int64_t k = v[i].o->stats.db_keys[d];
            if (k < 0 && d != 0)
                continue;
            char db[16];   /* "db" and any int, so -O1 sees no truncation */
            snprintf(db, sizeof(db), "db%d", d);
            const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, "db", db, NULL };
            prom_sample(p, "redis_db_keys", l, (double)(k < 0 ? 0 : k));
        }
    }
}

static void write_nodes(struct prom *p, const struct node_view *v, size_t n)
{
    write_up_and_info(p, v, n);
    write_node_figure(p, v, n, "redis_connected_slaves", "gauge",
                      "Replicas connected to the node.", fig_slaves);
    write_node_figure(p, v, n, "redis_master_repl_offset", "gauge",
                      "The node's replication offset (a replica's: how far it has applied).",
                      fig_offset);
    write_slaves(p, v, n, 0);
    write_slaves(p, v, n, 1);
    write_link(p, v, n);
    write_node_figure(p, v, n, "redis_connected_clients", "gauge", "Client connections.",
                      fig_clients);
    write_node_figure(p, v, n, "redis_memory_used_bytes", "gauge",
                      "Memory the server has allocated (used_memory).", fig_memory);
    write_keys(p, v, n);
    write_node_figure(p, v, n, "redis_commands_processed_total", "counter",
                      "Commands the server processed, as last polled.", fig_commands);
}

/* ---- per-cluster series ----------------------------------------------------- */

static void write_replica_lag(struct prom *p, const struct node_view *v, size_t n)
{
    prom_family(p, "kvfleet_replica_lag_bytes", "gauge",
                "How far each replica is behind its cluster's master, in bytes.");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]) || v[i].o->role != ROLE_REPLICA || v[i].o->lag_bytes < 0)
            continue;
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, NULL };
        prom_sample(p, "kvfleet_replica_lag_bytes", l, (double)v[i].o->lag_bytes);
    }
    prom_family(p, "kvfleet_replica_lag_seconds", "gauge",
                "How long ago the master was where each replica is now.");
    for (size_t i = 0; i < n; i++) {
        if (!node_up(&v[i]) || v[i].o->role != ROLE_REPLICA || v[i].o->lag_ms < 0)
            continue;
        const char *l[] = { "cluster", v[i].cluster, "node", v[i].n->name, NULL };
        prom_sample(p, "kvfleet_replica_lag_seconds", l, (double)v[i].o->lag_ms / 1000.0);
    }
}

static void write_clusters(struct prom *p, struct api_ctx *ctx, const struct node_view *v,
                           size_t n)
{
    const struct fleet *f = ctx->fleet;
    prom_family(p, "kvfleet_cluster_masters", "gauge",
                "Members of the cluster that are up and claim to be master (must be 1).");
    for (size_t c = 0; c < f->nclusters; c++) {
        int masters = 0;
        for (size_t i = 0; i < n; i++)
            masters += v[i].n->cluster_id == f->clusters[c]->id && node_up(&v[i]) &&
                       v[i].o->role == ROLE_MASTER;
        const char *l[] = { "cluster", f->clusters[c]->name, NULL };
        prom_sample(p, "kvfleet_cluster_masters", l, masters);
    }
    prom_family(p, "kvfleet_cluster_master_up", "gauge",
                "1 when the cluster's desired master is up and answers as a master.");
    for (size_t c = 0; c < f->nclusters; c++) {
        int up = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i].n->id == f->clusters[c]->master_id)
                up = node_up(&v[i]) && v[i].o->role == ROLE_MASTER;
        const char *l[] = { "cluster", f->clusters[c]->name, NULL };
        prom_sample(p, "kvfleet_cluster_master_up", l, up);
    }
    prom_family(p, "kvfleet_cluster_health", "gauge",
                "The cluster's health: 1 on the current value, 0 on the others.");
    static const int levels[] = { HEALTH_HEALTHY, HEALTH_DEGRADED, HEALTH_FAILING };
    for (size_t c = 0; c < f->nclusters; c++) {
        const struct health_report *h = state_cluster_health(ctx->state, f->clusters[c]->id);
        for (size_t k = 0; k < 3; k++) {
            const char *l[] = { "cluster", f->clusters[c]->name, "health",
                                health_level_name(levels[k]), NULL };
            prom_sample(p, "kvfleet_cluster_health", l, h != NULL && h->level == levels[k]);
        }
    }
}

/* ---- the planner's view, after the locks ------------------------------------ */

static void count_eligible(void *arg, const struct plan_input *in, const struct plan_output *out)
{
    (void)in;
    int *n = arg;
    for (size_t i = 0; i < out->ncand; i++)
        *n += out->cand[i].eligible;
}

static void write_candidates(struct prom *p, struct api_ctx *ctx, char **names, size_t n)
{
    if (ctx->ctl == NULL)
        return;
    prom_family(p, "kvfleet_failover_candidates", "gauge",
                "Replicas the planner could promote now (0: a failover would find none).");
    for (size_t i = 0; i < n; i++) {
        int eligible = 0;
        if (control_plan(ctx->ctl, names[i], NULL, 0, count_eligible, &eligible) != 0)
            continue;              /* deleted meanwhile */
        const char *l[] = { "cluster", names[i], NULL };
        prom_sample(p, "kvfleet_failover_candidates", l, eligible);
    }
}

/* ---- controller counters ---------------------------------------------------- */

static void write_http_count(void *arg, const char *route, const char *method, int status,
                             uint64_t count)
{
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    const char *l[] = { "route", route, "method", method, "status", status ? code : "other",
                        NULL };
    prom_sample_u64(arg, "kvfleet_http_requests_total", l, count);
}

static void write_http_hist(void *arg, const char *route, const char *method,
                            const uint64_t *cum, int nbuckets, const double *bounds, double sum,
                            uint64_t count)
{
    struct prom *p = arg;
    /* reqstats hands cumulative counts: back to per-bucket for prom_hist. */
    struct prom_hist h;
    prom_hist_init(&h, bounds, nbuckets - 1);
    for (int i = 0; i < h.nbuckets; i++)
        h.counts[i] = cum[i] - (i > 0 ? cum[i - 1] : 0);
    h.sum = sum;
    h.count = count;
    const char *l[] = { "route", route, "method", method, NULL };
    prom_hist_write(p, "kvfleet_http_request_duration_seconds", l, &h);
}

static void write_process(struct prom *p, struct api_ctx *ctx)
{
    prom_family(p, "kvfleet_build_info", "gauge", "kvfleetd's version.");
    const char *l[] = { "version", KVFLEETD_VERSION, NULL };
    prom_sample(p, "kvfleet_build_info", l, 1);
    prom_family(p, "kvfleet_start_time_seconds", "gauge", "When kvfleetd started (Unix time).");
    prom_sample(p, "kvfleet_start_time_seconds", NULL, (double)ctx->started_ms / 1000.0);
    if (ctx->writer != NULL) {
        struct writer_stats ws;
        writer_stats_get(ctx->writer, &ws);
        prom_family(p, "kvfleet_event_queue_depth", "gauge",
                    "Events and status snapshots waiting for the journal writer.");
        prom_sample_u64(p, "kvfleet_event_queue_depth", NULL, ws.queued);
        prom_family(p, "kvfleet_event_queue_dropped_total", "counter",
                    "Status snapshots dropped because the journal queue was full.");
        prom_sample_u64(p, "kvfleet_event_queue_dropped_total", NULL, ws.dropped);
        prom_family(p, "kvfleet_db_write_errors_total", "counter",
                    "Journal batches the database refused (each is retried).");
        prom_sample_u64(p, "kvfleet_db_write_errors_total", NULL, ws.write_errors);
    }
    if (ctx->reqstats != NULL) {
        prom_family(p, "kvfleet_http_requests_total", "counter",
                    "HTTP requests answered, by route, method and status.");
        api_reqstats_foreach(ctx->reqstats, write_http_count, p);
        prom_family(p, "kvfleet_http_request_duration_seconds", "histogram",
                    "Time to answer HTTP requests, by route and method.");
        api_reqstats_foreach_hist(ctx->reqstats, write_http_hist, p);
    }
}

/* ---- the page ---------------------------------------------------------------- */

/* Everything that needs the read locks; returns the cluster names (for the
 * planner, after the locks) or NULL with *n = 0. */
static char **write_locked(struct prom *p, struct api_ctx *ctx, size_t *n)
{
    *n = 0;
    api_read_lock(ctx);
    const struct fleet *f = ctx->fleet;
    struct node_view *v = calloc(f->nnodes + 1, sizeof(*v));
    char **names = calloc(f->nclusters + 1, sizeof(*names));
    if (v == NULL || names == NULL) {
        api_read_unlock(ctx);
        free(v);
        free(names);
        p->failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < f->nnodes; i++) {
        v[i].n = f->nodes[i];
        v[i].cluster = cluster_name_of(f, f->nodes[i]->cluster_id);
        v[i].o = api_obs(ctx, f->nodes[i]->id);
    }
    write_nodes(p, v, f->nnodes);
    write_clusters(p, ctx, v, f->nnodes);
    write_replica_lag(p, v, f->nnodes);
    for (size_t c = 0; c < f->nclusters; c++) {
        names[*n] = strdup(f->clusters[c]->name);
        if (names[*n] == NULL)
            p->failed = 1;         /* the page is then refused, not shown short */
        else
            (*n)++;
    }
    if (ctx->metrics != NULL)
        metrics_write(ctx->metrics, p, (const char *const *)names, *n);
    api_read_unlock(ctx);
    free(v);
    return names;
}

char *api_metrics_text(struct api_ctx *ctx, size_t *len)
{
    struct prom p;
    prom_init(&p, 64 * 1024);
    size_t n = 0;
    char **names = write_locked(&p, ctx, &n);
    write_candidates(&p, ctx, names, n);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    write_process(&p, ctx);
    return prom_finish(&p, len);
}

API_HANDLER(api_h_metrics)
{
    (void)req;
    (void)m;
    size_t len = 0;
    api_reply_text(r, 200, api_metrics_text(ctx, &len));
}
