/* handlers_clusters.c - /api/v1/clusters... : replication groups. */
#include "api.h"
#include "../server/metrics.h"
#include "jbuf.h"
#include "../server/discover.h"
#include "../server/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_settings(struct jbuf *b, const struct cluster_settings *s)
{
    jb_raw(b, "{");
    jb_key(b, "max_lag_on_failover");
    jb_int(b, s->max_lag_on_failover);
    jb_raw(b, ",");
    jb_key(b, "min_replicas_to_write");
    jb_int(b, s->min_replicas_to_write);
    jb_raw(b, ",");
    jb_key(b, "lag_threshold_bytes");
    jb_int(b, s->lag_threshold_bytes);
    jb_raw(b, ",");
    jb_key(b, "lag_threshold_ms");
    jb_int(b, s->lag_threshold_ms);
    jb_raw(b, ",");
    jb_key(b, "down_after_ms");
    jb_int(b, s->down_after_ms);
    jb_raw(b, ",");
    jb_key(b, "auto_failover");
    jb_bool(b, s->auto_failover != 0);
    jb_raw(b, ",");
    jb_key(b, "failover_cooldown_ms");
    jb_int(b, s->failover_cooldown_ms);
    jb_raw(b, "}");
}

/* Common fields of a member; leaves the object open. */
static void write_member(struct jbuf *b, const struct health_member *hm)
{
    const struct node_obs *o = hm->obs;
    jb_raw(b, "{");
    jb_key(b, "node");
    jb_str(b, hm->name);
    jb_raw(b, ",");
    jb_key(b, "host");
    jb_str(b, hm->host);
    jb_raw(b, ",");
    jb_key(b, "port");
    jb_int(b, hm->port);
    jb_raw(b, ",");
    jb_key(b, "state");
    jb_str(b, health_state_name(o->state));
    jb_raw(b, ",");
    jb_key(b, "role");
    jb_str(b, health_role_name(o->role));
    jb_raw(b, ",");
    jb_key(b, "offset");
    jb_int_or_null(b, o->offset);
    jb_raw(b, ",");
    jb_key(b, "maintenance");
    jb_bool(b, hm->maintenance);
}

/* One cluster object. last_failover: NULL leaves the field out (the
 * single-cluster views), otherwise raw JSON text ("null" or an object)
 * written as "last_failover" (GET /clusters?detail=full). */
static void write_cluster(struct jbuf *b, struct api_ctx *ctx, const struct fleet_cluster *c,
                          int detailed, const char *last_failover)
{
    /* Hot path (GET /clusters/{name}): no heap scratch for usual sizes, and
     * no health derivation: the control loop derived it when it changed. */
    enum { SMALL = 16 };
    struct health_member reps_small[SMALL];
    struct fleet *f = ctx->fleet;
    size_t cap = 0;
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i]->cluster_id == c->id)
            cap++;
    struct health_member *reps = reps_small;
    if (cap > SMALL) {
        reps = malloc(cap * sizeof(*reps));
        if (reps == NULL) {
            b->failed = 1;
            return;
        }
    } else {
        cap = SMALL;
    }
    struct health_member master;
    int has_master = 0;
    size_t n = fleet_cluster_members(f, ctx->state, c, &master, &has_master, reps, NULL, cap);
    const struct health_report *rep = state_cluster_health(ctx->state, c->id);
    static const struct health_report not_yet = {
        .level = HEALTH_DEGRADED, .nreasons = 1, .reasons = { "not evaluated yet" } };
    if (rep == NULL)
        rep = &not_yet;

    jb_raw(b, "{");
    jb_key(b, "name");
    jb_str(b, c->name);
    jb_raw(b, ",");
    jb_key(b, "master");
    if (!has_master) {
        jb_raw(b, "null");
    } else if (detailed) {
        write_member(b, &master);
        jb_raw(b, ",");
        jb_key(b, "fenced");
        jb_bool(b, master.obs->fenced);
        jb_raw(b, "}");
    } else {
        jb_str(b, master.name);
    }
    jb_raw(b, ",");
    jb_key(b, "replicas");
    jb_raw(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            jb_raw(b, ",");
        if (!detailed) {
            jb_str(b, reps[i].name);
            continue;
        }
        const struct node_obs *o = reps[i].obs;
        write_member(b, &reps[i]);
        jb_raw(b, ",");
        jb_key(b, "replicating_from");
        if (o->role == ROLE_REPLICA) {
            char buf[FLEET_HOST_MAX + 16];
            fleet_addr_format(buf, sizeof(buf), o->master_host, o->master_port);
            jb_str(b, buf);
        } else {
            jb_raw(b, "null");
        }
        jb_raw(b, ",");
        jb_key(b, "link");
        jb_str(b, health_link_name(o->role == ROLE_REPLICA ? o->link : LINK_NONE));
        jb_raw(b, ",");
        jb_key(b, "lag_bytes");
        jb_int_or_null(b, o->lag_bytes);
        jb_raw(b, ",");
        jb_key(b, "lag_seconds");
        if (o->lag_ms >= 0)
            jb_double(b, (double)o->lag_ms / 1000.0);
        else
            jb_raw(b, "null");
        jb_raw(b, ",");
        jb_key(b, "in_sync");
        jb_bool(b, o->in_sync && o->state == NODE_UP);
        jb_raw(b, "}");
    }
    jb_raw(b, "],");
    jb_key(b, "health");
    jb_str(b, health_level_name(rep->level));
    jb_raw(b, ",");
    jb_key(b, "reasons");
    jb_raw(b, "[");
    for (int i = 0; i < rep->nreasons; i++) {
        if (i > 0)
            jb_raw(b, ",");
        jb_str(b, rep->reasons[i]);
    }
    jb_raw(b, "],");
    jb_key(b, "settings");
    write_settings(b, &c->settings);
    jb_raw(b, ",");
    jb_key(b, "created_at");
    jb_time(b, c->created_at);
    if (last_failover != NULL) {
        jb_raw(b, ",");
        jb_key(b, "last_failover");
        jb_raw(b, last_failover);
    }
    jb_raw(b, "}");
    if (reps != reps_small)
        free(reps);
}

void api_cluster_write(struct jbuf *b, struct api_ctx *ctx, const struct fleet_cluster *c,
                       int detailed)
{
    write_cluster(b, ctx, c, detailed, NULL);
}

json_t *api_cluster_json(struct api_ctx *ctx, const struct fleet_cluster *c, int detailed)
{
    struct jbuf b;
    jb_init(&b, 1024);
    api_cluster_write(&b, ctx, c, detailed);
    char *text = jb_finish(&b);
    json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return j;
}

static void reply_cluster(struct api_ctx *ctx, const char *name, int status, struct api_resp *r)
{
    struct jbuf b;
    jb_init(&b, 1024);
    api_read_lock(ctx);
    struct fleet_cluster *c = fleet_cluster_by_name(ctx->fleet, name);
    if (c != NULL)
        api_cluster_write(&b, ctx, c, 1);
    api_read_unlock(ctx);
    if (c == NULL) {
        jb_free(&b);
        api_error(r, 404, "not_found", "cluster '%s' not found", name);
        return;
    }
    api_reply_text(r, status, jb_finish(&b));
}

/* Parse a settings object over the defaults in *s. */
static int parse_settings(json_t *js, struct cluster_settings *s, struct api_resp *r)
{
    static const char *const allowed[] = { "max_lag_on_failover", "min_replicas_to_write",
                                           "lag_threshold_bytes", "lag_threshold_ms",
                                           "down_after_ms", "failover_cooldown_ms",
                                           "auto_failover", NULL };
    if (js == NULL)
        return 0;
    if (!json_is_object(js)) {
        api_error(r, 422, "unprocessable", "'settings' must be an object");
        return -1;
    }
    if (api_check_fields(js, allowed, "settings.", r) != 0)
        return -1;
    int64_t *dst[] = { &s->max_lag_on_failover, &s->min_replicas_to_write,
                       &s->lag_threshold_bytes, &s->lag_threshold_ms, &s->down_after_ms,
                       &s->failover_cooldown_ms };
    for (int i = 0; i < 6; i++) {
        json_t *v = json_object_get(js, allowed[i]);
        if (v == NULL)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            api_error(r, 422, "unprocessable", "settings.%s must be a non-negative integer",
                      allowed[i]);
            return -1;
        }
        *dst[i] = json_integer_value(v);
    }
    json_t *af = json_object_get(js, "auto_failover");
    if (af != NULL) {
        if (!json_is_boolean(af)) {
            api_error(r, 422, "unprocessable", "settings.auto_failover must be true or false");
            return -1;
        }
        s->auto_failover = json_is_true(af);
    }
    return 0;
}

API_HANDLER(api_h_clusters_post)
{
    (void)m;
    static const char *const allowed[] = { "name", "master", "replicas", "settings", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    json_t *name = json_object_get(j, "name"), *master = json_object_get(j, "master");
    json_t *reps = json_object_get(j, "replicas");
    const char **names = NULL;
    struct cluster_settings s;
    health_settings_default(&s);
    if (!json_is_string(name)) {
        api_error(r, 422, "unprocessable", "'name' is required and must be a string");
        goto out;
    }
    if (!json_is_string(master)) {
        api_error(r, 422, "unprocessable", "'master' is required and must be a node name");
        goto out;
    }
    if (reps != NULL && !json_is_array(reps)) {
        api_error(r, 422, "unprocessable", "'replicas' must be an array of node names");
        goto out;
    }
    size_t n = reps != NULL ? json_array_size(reps) : 0;
    names = calloc(n + 1, sizeof(*names));
    if (names == NULL) {
        api_error(r, 500, "internal", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(reps, i);
        if (!json_is_string(v)) {
            api_error(r, 422, "unprocessable", "'replicas' must be an array of node names");
            goto out;
        }
        names[i] = json_string_value(v);
    }
    if (parse_settings(json_object_get(j, "settings"), &s, r) != 0)
        goto out;
    struct fleet_err e;
    if (fleet_cluster_create(ctx->fleet, json_string_value(name), json_string_value(master),
                             names, n, &s, "api", &e) != 0)
        api_fleet_error(r, &e);
    else
        reply_cluster(ctx, json_string_value(name), 201, r);
out:
    free(names);
    json_decref(j);
}

/* ---- GET /clusters?detail=full: every card of the dashboard at once ---- */

/* A cluster's newest failover, rendered before the fleet lock is taken. */
struct last_fo {
    char *cluster;
    char *json;
};

struct last_fos {
    struct last_fo *v;
    size_t n, cap;
    int failed;              /* out of memory: the request answers 500 */
};

/* The summary of one failover row: the fields of GET .../failovers without
 * the candidates, steps and replicas documents, which a card does not show
 * and which make up most of a row's bytes. duration_ms is null until it
 * finished (the history omits it), so every object has the same keys. */
static char *last_fo_json(const struct store_failover *f)
{
    struct jbuf b;
    jb_init(&b, 512);
    jb_raw(&b, "{");
    jb_key(&b, "id");
    jb_int(&b, f->id);
    const struct { const char *k, *v; } texts[] = {
        { "kind", f->kind }, { "status", f->status }, { "step", f->step },
        { "reason", f->reason != NULL ? f->reason : "" }, { "error", f->error },
        { "old_master", f->old_master }, { "new_master", f->new_master },
        { "requested_by", f->requested_by != NULL ? f->requested_by : "" },
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        jb_raw(&b, ",");
        jb_key(&b, texts[i].k);
        jb_str(&b, texts[i].v);
    }
    const struct { const char *k; int64_t ms; } times[] = {
        { "created_at", f->created_at }, { "scheduled_at", f->scheduled_at },
        { "started_at", f->started_at }, { "finished_at", f->finished_at },
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        jb_raw(&b, ",");
        jb_key(&b, times[i].k);
        jb_time(&b, times[i].ms);
    }
    jb_raw(&b, ",");
    jb_key(&b, "duration_ms");
    if (f->started_at > 0 && f->finished_at > 0)
        jb_int(&b, f->finished_at - f->started_at);
    else
        jb_raw(&b, "null");
    jb_raw(&b, ",");
    jb_key(&b, "timeout_ms");
    jb_int_or_null(&b, f->timeout_ms > 0 ? f->timeout_ms : -1);
    jb_raw(&b, ",");
    jb_key(&b, "acknowledged");
    if (f->acked_at > 0) {
        jb_raw(&b, "{");
        jb_key(&b, "at");
        jb_time(&b, f->acked_at);
        jb_raw(&b, ",");
        jb_key(&b, "by");
        jb_str(&b, f->acked_by);
        jb_raw(&b, ",");
        jb_key(&b, "comment");
        jb_str(&b, f->ack_comment);
        jb_raw(&b, "}");
    } else {
        jb_raw(&b, "null");
    }
    jb_raw(&b, "}");
    return jb_finish(&b);
}

static int take_last_fo(void *arg, const struct store_failover *f)
{
    struct last_fos *a = arg;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct last_fo *v = realloc(a->v, cap * sizeof(*v));
        if (v == NULL) {
            a->failed = 1;
            return 0;        /* keep reading: the store's statement must finish */
        }
        a->v = v;
        a->cap = cap;
    }
    char *name = strdup(f->cluster != NULL ? f->cluster : "");
    char *json = last_fo_json(f);
    if (name == NULL || json == NULL) {
        free(name);
        free(json);
        a->failed = 1;
        return 0;
    }
    a->v[a->n++] = (struct last_fo){ name, json };
    return 0;
}

static int last_fo_cmp(const void *x, const void *y)
{
    return strcmp(((const struct last_fo *)x)->cluster, ((const struct last_fo *)y)->cluster);
}

static const char *last_fo_find(const struct last_fos *a, const char *cluster)
{
    struct last_fo key = { (char *)cluster, NULL };
    const struct last_fo *hit = a->n > 0 ? bsearch(&key, a->v, a->n, sizeof(*a->v), last_fo_cmp)
                                          : NULL;
    return hit != NULL ? hit->json : "null";
}

static void last_fos_free(struct last_fos *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].cluster);
        free(a->v[i].json);
    }
    free(a->v);
}

/* detail: absent or "summary" -> 0, "full" -> 1, anything else -1. */
static int parse_detail(const char *v)
{
    if (v == NULL || strcmp(v, "summary") == 0)
        return 0;
    if (strcmp(v, "full") == 0)
        return 1;
    return -1;
}

API_HANDLER(api_h_clusters_get)
{
    (void)m;
    int full = parse_detail(api_query(req, "detail"));
    if (full < 0) {
        api_error(r, 400, "bad_request", "detail must be summary or full");
        return;
    }
    struct last_fos fos = { 0 };
    if (full) {
        /* One statement for every cluster's newest failover, read before the
         * fleet lock: SQLite may wait on the journal writer, and topology
         * writers must not queue behind that wait. A cluster created in
         * between simply shows no failover yet. */
        if (store_failovers_latest(ctx->st, take_last_fo, &fos) != STORE_OK) {
            last_fos_free(&fos);
            api_error(r, 503, "unavailable", "cannot read failovers: %s",
                      store_errmsg(ctx->st));
            return;
        }
        if (fos.failed) {
            last_fos_free(&fos);
            api_error(r, 500, "internal", "out of memory");
            return;
        }
        if (fos.n > 1)
            qsort(fos.v, fos.n, sizeof(*fos.v), last_fo_cmp);
    }
    struct jbuf b;
    api_read_lock(ctx);
    /* A detailed card is about 1.5 KiB: size the buffer once. */
    jb_init(&b, full ? 1024 + ctx->fleet->nclusters * 2048 : 16384);
    jb_raw(&b, "{\"clusters\":[");
    for (size_t i = 0; i < ctx->fleet->nclusters; i++) {
        const struct fleet_cluster *c = ctx->fleet->clusters[i];
        if (i > 0)
            jb_raw(&b, ",");
        write_cluster(&b, ctx, c, full, full ? last_fo_find(&fos, c->name) : NULL);
    }
    api_read_unlock(ctx);
    jb_raw(&b, "]}");
    last_fos_free(&fos);
    api_reply_text(r, 200, jb_finish(&b));
}

API_HANDLER(api_h_cluster_patch)
{
    const char *name = m->params[0];
    static const char *const allowed[] = { "settings", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    struct cluster_settings s;
    fleet_rdlock(ctx->fleet);
    struct fleet_cluster *c = fleet_cluster_by_name(ctx->fleet, name);
    if (c != NULL)
        s = c->settings;
    fleet_unlock(ctx->fleet);
    if (c == NULL) {
        api_error(r, 404, "not_found", "cluster '%s' not found", name);
        goto out;
    }
    if (parse_settings(json_object_get(j, "settings"), &s, r) != 0)
        goto out;
    struct fleet_err e;
    if (fleet_cluster_set_settings(ctx->fleet, name, &s, "api", &e) != 0)
        api_fleet_error(r, &e);
    else
        reply_cluster(ctx, name, 200, r);
out:
    json_decref(j);
}

API_HANDLER(api_h_cluster_get)
{
    (void)req;
    reply_cluster(ctx, m->params[0], 200, r);
}

API_HANDLER(api_h_cluster_delete)
{
    (void)req;
    const char *name = m->params[0];
    struct fleet_err e;
    if (fleet_cluster_delete(ctx->fleet, name, "api", &e) != 0) {
        api_fleet_error(r, &e);
        return;
    }
    /* A cluster created later under this name starts its counters at 0. */
    metrics_forget_cluster(ctx->metrics, name);
    api_reply(r, 200, json_pack("{s:s}", "deleted", name));
}

void api_h_cluster_master(struct api_ctx *ctx, const struct api_req *req,
                          const struct api_match *m, struct api_resp *r)
{
    (void)req;
    const char *name = m->params[0];
    api_read_lock(ctx);
    struct fleet_cluster *c = fleet_cluster_by_name(ctx->fleet, name);
    struct fleet_node *n = c != NULL ? fleet_node_by_id(ctx->fleet, c->master_id) : NULL;
    json_t *j = n != NULL ? json_pack("{s:s,s:i,s:s,s:s}", "host", n->host, "port", n->port,
                                      "node", n->name, "state",
                                      health_state_name(api_obs(ctx, n->id)->state))
                          : NULL;
    api_read_unlock(ctx);
    if (c == NULL)
        api_error(r, 404, "not_found", "cluster '%s' not found", name);
    else if (n == NULL)
        api_error(r, 404, "not_found", "cluster '%s' has no master", name);
    else
        api_reply(r, 200, j);
}

void api_h_cluster_replicas(struct api_ctx *ctx, const struct api_req *req,
                            const struct api_match *m, struct api_resp *r)
{
    static const char *const allowed[] = { "node", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    json_t *node = json_object_get(j, "node");
    struct fleet_err e;
    if (!json_is_string(node))
        api_error(r, 422, "unprocessable", "'node' is required and must be a node name");
    else if (fleet_cluster_add_replica(ctx->fleet, m->params[0], json_string_value(node), "api",
                                       &e) != 0)
        api_fleet_error(r, &e);
    else
        reply_cluster(ctx, m->params[0], 200, r);
    json_decref(j);
}

void api_h_cluster_replica(struct api_ctx *ctx, const struct api_req *req,
                           const struct api_match *m, struct api_resp *r)
{
    (void)req;
    const char *cluster = m->params[0], *node = m->params[1];
    char host[FLEET_HOST_MAX + 1];
    int port = 0;
    struct fleet_err e;
    if (fleet_cluster_remove_replica(ctx->fleet, cluster, node, "api", host, sizeof(host), &port,
                                     &e) != 0) {
        api_fleet_error(r, &e);
        return;
    }
    /* The removed node becomes a stand-alone master (best effort: the
     * topology change is already committed). */
    char err[300];
    int detached = discover_detach(host, port, ctx->cfg->node_user, ctx->cfg->node_auth,
                                   ctx->node_timeout_ms, err, sizeof(err)) == 0;
    if (detached)
        events_say(ctx->fleet->events, EV_REPLICA_DETACHED, cluster, node, "api",
                   "sent REPLICAOF NO ONE: OK");
    else
        events_say(ctx->fleet->events, EV_REPLICA_DETACH_FAILED, cluster, node, "api",
                   "REPLICAOF NO ONE failed: %s", err);
    api_read_lock(ctx);
    struct fleet_cluster *c = fleet_cluster_by_name(ctx->fleet, cluster);
    json_t *j = c != NULL ? api_cluster_json(ctx, c, 1) : json_object();
    api_read_unlock(ctx);
    if (j != NULL) {
        json_object_set_new(j, "removed", json_string(node));
        json_object_set_new(j, "detached", json_boolean(detached));
    }
    api_reply(r, 200, j);
}
