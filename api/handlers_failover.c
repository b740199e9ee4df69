/* handlers_failover.c - operator actions on masters, failover history and
 * load-balancer checks:
 *   POST and DELETE /api/v1/clusters/{name}/switchover, POST .../failover,
 *   GET .../failover/plan (the planner's dry run), GET .../failovers,
 *   GET and DELETE /api/v1/failovers/{id}, POST /api/v1/failovers/{id}/ack,
 *   GET /api/v1/nodes/{name}/primary and .../replica?max_lag_bytes=N.
 * Operations run on the control loop; these handlers only ask and wait. */
#include "api.h"
#include "../server/failover.h"
#include "../server/planner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int no_control(struct api_ctx *ctx, struct api_resp *r)
{
    if (ctx->ctl != NULL)
        return 0;
    api_error(r, 503, "unavailable", "the control loop is not running");
    return 1;
}

/* ---- one failover as JSON -------------------------------------------------- */

static json_t *json_or_text(const char *text)
{
    json_error_t je;
    json_t *j = text != NULL ? json_loads(text, 0, &je) : NULL;
    return j != NULL ? j : json_array();
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *steps_json(const char *text)
{
    /* Steps are stored with millisecond times; readers get ISO 8601 too. */
    json_t *steps = json_or_text(text);
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
        json_t *a = json_object_get(st, "started_at"), *b = json_object_get(st, "finished_at");
        if (json_is_integer(a))
            json_object_set_new(st, "started", api_time_json(json_integer_value(a)));
        if (json_is_integer(b)) {
            json_object_set_new(st, "finished", api_time_json(json_integer_value(b)));
            if (json_is_integer(a))
                json_object_set_new(st, "duration_ms",
                                    json_integer(json_integer_value(b) - json_integer_value(a)));
        }
    }
    return steps;
}

static json_t *failover_json(const struct store_failover *f)
{
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}",
                          "id", (json_int_t)f->id, "cluster", f->cluster, "kind", f->kind,
                          "status", f->status, "step", str_or_null(f->step),
                          "reason", f->reason != NULL ? f->reason : "",
                          "old_master", str_or_null(f->old_master),
                          "new_master", str_or_null(f->new_master),
                          "candidates", json_or_text(f->candidates),
                          "steps", steps_json(f->steps),
                          "replicas", json_or_text(f->replicas),
                          "error", str_or_null(f->error),
                          "created_at", api_time_json(f->created_at),
                          "requested_by", f->requested_by != NULL ? f->requested_by : "");
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "started_at", api_time_json(f->started_at));
    json_object_set_new(j, "finished_at", api_time_json(f->finished_at));
    if (f->started_at > 0 && f->finished_at > 0)
        json_object_set_new(j, "duration_ms", json_integer(f->finished_at - f->started_at));
    json_object_set_new(j, "scheduled_at", api_time_json(f->scheduled_at));
    json_object_set_new(j, "timeout_ms", f->timeout_ms > 0 ? json_integer(f->timeout_ms)
                                                           : json_null());
    json_object_set_new(j, "acknowledged", f->acked_at > 0
                            ? json_pack("{s:o,s:o,s:o}", "at", api_time_json(f->acked_at), "by",
                                        str_or_null(f->acked_by), "comment",
                                        str_or_null(f->ack_comment))
                            : json_null());
    return j;
}

struct one {
    json_t *j;
};

static int take_one(void *arg, const struct store_failover *f)
{
    struct one *o = arg;
    o->j = failover_json(f);
    return 0;
}

static void reply_failover(struct api_ctx *ctx, int64_t id, int status, struct api_resp *r)
{
    struct one o = { NULL };
    int rc = store_failover_get(ctx->st, id, take_one, &o);
    if (rc == STORE_ENOTFOUND)
        api_error(r, 404, "not_found", "failover %lld not found", (long long)id);
    else if (rc != STORE_OK || o.j == NULL)
        api_error(r, 503, "unavailable", "cannot read failover %lld: %s", (long long)id,
                  store_errmsg(ctx->st));
    else
        api_reply(r, status, o.j);
}

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int cluster_exists(struct api_ctx *ctx, const char *name)
{
    fleet_rdlock(ctx->fleet);
    int ok = fleet_cluster_by_name(ctx->fleet, name) != NULL;
    fleet_unlock(ctx->fleet);
    return ok;
}

/* Answer an operation the control loop ran. */
static void reply_operation(struct api_ctx *ctx, const struct control_reply *cr,
                            struct api_resp *r)
{
    if (cr->status == 200 && cr->failover_id > 0) {
        reply_failover(ctx, cr->failover_id, 200, r);
        return;
    }
    if (cr->failover_id > 0) {
        /* Failed or aborted, but recorded: the body says why and where. */
        struct one o = { NULL };
        (void)store_failover_get(ctx->st, cr->failover_id, take_one, &o);
        json_t *err = json_pack("{s:s,s:s}", "code", cr->code[0] ? cr->code : "conflict",
                                "message", cr->msg);
        json_t *body = json_pack("{s:o,s:o}", "error", err, "failover",
                                 o.j != NULL ? o.j : json_null());
        api_reply(r, cr->status, body);
        return;
    }
    api_error(r, cr->status ? cr->status : 500, cr->code[0] ? cr->code : "error", "%s", cr->msg);
}

/* ---- POST/DELETE /clusters/{name}/switchover ------------------------------ */

/* scheduled_at: ISO 8601 UTC or milliseconds since the epoch. */
static int parse_when(json_t *v, int64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    return json_is_string(v) ? api_parse_time(json_string_value(v), out) : -1;
}

API_HANDLER(api_h_switchover_post)
{
    const char *cluster = m->params[0];
    static const char *const allowed[] = { "candidate", "timeout_ms", "scheduled_at", NULL };
    json_t *j = req->body_len > 0 ? api_parse_object(req, r, allowed) : json_object();
    if (j == NULL)
        return;
    json_t *cand = json_object_get(j, "candidate"), *tmo = json_object_get(j, "timeout_ms");
    json_t *when = json_object_get(j, "scheduled_at");
    int64_t timeout_ms = 5000, at = 0;
    if (cand != NULL && !json_is_string(cand)) {
        api_error(r, 422, "unprocessable", "'candidate' must be a node name");
    } else if (tmo != NULL && (!json_is_integer(tmo) || json_integer_value(tmo) < 100 ||
                               json_integer_value(tmo) > 600000)) {
        api_error(r, 422, "unprocessable", "'timeout_ms' must be an integer between 100 and 600000");
    } else if (when != NULL && parse_when(when, &at) != 0) {
        api_error(r, 422, "unprocessable",
                  "'scheduled_at' must be ISO 8601 UTC like 2026-12-31T23:00:00Z");
    } else if (!cluster_exists(ctx, cluster)) {
        api_error(r, 404, "not_found", "cluster '%s' not found", cluster);
    } else if (!no_control(ctx, r)) {
        if (tmo != NULL)
            timeout_ms = json_integer_value(tmo);
        const char *cname = cand != NULL ? json_string_value(cand) : NULL;
        if (at > store_now_ms()) {
            int64_t id = 0;
            int rc = failover_schedule(ctx->st, cluster, cname, timeout_ms, at, "api", &id);
            if (rc != STORE_OK) {
                api_error(r, 503, "unavailable", "cannot schedule: %s", store_errmsg(ctx->st));
            } else {
                events_say(ctx->fleet->events, EV_SWITCHOVER_SCHEDULED, cluster, cname, "api",
                           "switchover #%lld scheduled", (long long)id);
                reply_failover(ctx, id, 202, r);
            }
        } else {
            struct control_reply cr;
            control_switchover(ctx->ctl, cluster, cname, timeout_ms, 0, &cr);
            reply_operation(ctx, &cr, r);
        }
    }
    json_decref(j);
}

struct sched_find {
    int64_t id;
};

static int take_first_id(void *arg, const struct store_failover *f)
{
    struct sched_find *s = arg;
    if (s->id == 0)
        s->id = f->id;
    return 0;
}

/* DELETE /clusters/{name}/switchover: cancel its scheduled switchover. */
API_HANDLER(api_h_switchover_delete)
{
    (void)req;
    const char *cluster = m->params[0];
    struct sched_find s = { 0 };
    if (store_failovers_query(ctx->st, cluster, "scheduled", 0, 1, take_first_id, &s) !=
        STORE_OK) {
        api_error(r, 503, "unavailable", "%s", store_errmsg(ctx->st));
        return;
    }
    if (s.id == 0 || failover_cancel(ctx->st, s.id) != STORE_OK) {
        api_error(r, 404, "not_found", "cluster '%s' has no scheduled switchover", cluster);
        return;
    }
    events_say(ctx->fleet->events, EV_SWITCHOVER_CANCELLED, cluster, NULL, "api",
               "scheduled switchover #%lld cancelled", (long long)s.id);
    reply_failover(ctx, s.id, 200, r);
}

/* ---- POST /clusters/{name}/failover ---------------------------------------- */

void api_h_failover(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m,
                    struct api_resp *r)
{
    static const char *const allowed[] = { "candidate", "force", NULL };
    const char *cluster = m->params[0];
    json_t *j = req->body_len > 0 ? api_parse_object(req, r, allowed) : json_object();
    if (j == NULL)
        return;
    json_t *cand = json_object_get(j, "candidate"), *force = json_object_get(j, "force");
    if (cand != NULL && !json_is_string(cand)) {
        api_error(r, 422, "unprocessable", "'candidate' must be a node name");
    } else if (force != NULL && !json_is_boolean(force)) {
        api_error(r, 422, "unprocessable", "'force' must be true or false");
    } else if (!cluster_exists(ctx, cluster)) {
        api_error(r, 404, "not_found", "cluster '%s' not found", cluster);
    } else if (!no_control(ctx, r)) {
        struct control_reply cr;
        control_failover(ctx->ctl, cluster, cand != NULL ? json_string_value(cand) : NULL,
                         force != NULL && json_is_true(force), &cr);
        reply_operation(ctx, &cr, r);
    }
    json_decref(j);
}

/* ---- GET /clusters/{name}/failover/plan ------------------------------------ */

static json_t *action_json(const struct plan_action *a)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "action", planner_action_name(a->type), "node",
                          a->node, "reason", a->reason);
    if (j != NULL && a->type == PLAN_REPLICAOF) {
        char target[300];
        fleet_addr_format(target, sizeof(target), a->target_host, a->target_port);
        json_object_set_new(j, "target", json_string(target));
    }
    if (j != NULL) {
        const char *cmd = a->type == PLAN_REPLICAOF ? "REPLICAOF <target>"
                        : a->type == PLAN_FAILOVER ? "REPLICAOF NO ONE, then re-point the others"
                                                   : "REPLICAOF NO ONE";
        json_object_set_new(j, "command", json_string(cmd));
    }
    return j;
}

static void plan_to_json(void *arg, const struct plan_input *in, const struct plan_output *out)
{
    json_t **dst = arg;
    json_t *cands = json_array(), *acts = json_array();
    for (size_t i = 0; cands != NULL && i < out->ncand; i++) {
        const struct plan_candidate *c = &out->cand[i];
        json_t *e = json_pack("{s:s,s:b,s:o,s:o,s:o,s:i,s:s}", "node", c->m->name, "eligible",
                              c->eligible, "rank", c->rank > 0 ? json_integer(c->rank) : json_null(),
                              "offset", c->m->obs->offset >= 0 ? json_integer(c->m->obs->offset)
                                                               : json_null(),
                              "lag_bytes", c->lag_bytes >= 0 ? json_integer(c->lag_bytes)
                                                             : json_null(),
                              "priority", c->m->priority, "reason", c->reason);
        if (e != NULL)
            json_array_append_new(cands, e);
    }
    for (size_t i = 0; acts != NULL && i < out->nact; i++)
        json_array_append_new(acts, action_json(&out->act[i]));
    *dst = json_pack("{s:s,s:o,s:s,s:s,s:b,s:b,s:o,s:o}", "cluster", in->cluster, "master",
                     in->master != NULL ? json_string(in->master->name) : json_null(),
                     "master_verdict", planner_master_verdict_name(out->master), "verdict",
                     out->verdict, "failover_blocked", out->failover_blocked,
                     "operation_in_progress", in->op_in_progress, "candidates", cands,
                     "actions", acts);
    if (*dst != NULL) {
        json_object_set_new(*dst, "settings",
                            json_pack("{s:I,s:b,s:I,s:I}", "down_after_ms",
                                      (json_int_t)in->settings->down_after_ms, "auto_failover",
                                      (int)in->settings->auto_failover, "failover_cooldown_ms",
                                      (json_int_t)in->settings->failover_cooldown_ms,
                                      "max_lag_on_failover",
                                      (json_int_t)in->settings->max_lag_on_failover));
        json_object_set_new(*dst, "dry_run", json_true());
    }
}

void api_h_failover_plan(struct api_ctx *ctx, const struct api_req *req,
                         const struct api_match *m, struct api_resp *r)
{
    const char *cluster = m->params[0];
    const char *cand = api_query(req, "candidate"), *force = api_query(req, "force");
    if (no_control(ctx, r))
        return;
    if (force != NULL && strcmp(force, "true") != 0 && strcmp(force, "false") != 0) {
        api_error(r, 400, "bad_request", "force must be true or false");
        return;
    }
    json_t *j = NULL;
    int rc = control_plan(ctx->ctl, cluster, cand, force != NULL && strcmp(force, "true") == 0,
                          plan_to_json, &j);
    if (rc == 404)
        api_error(r, 404, "not_found", "cluster '%s' not found", cluster);
    else if (rc != 0 || j == NULL)
        api_error(r, 503, "unavailable", "the planner did not answer");
    else
        api_reply(r, 200, j);
    if (rc != 0)
        json_decref(j);
}

/* ---- history ---------------------------------------------------------------- */

static int take_list(void *arg, const struct store_failover *f)
{
    api_page_add(arg, f->id, failover_json(f));
    return 0;
}

void api_h_cluster_failovers(struct api_ctx *ctx, const struct api_req *req,
                             const struct api_match *m, struct api_resp *r)
{
    const char *cluster = m->params[0];
    const char *limit = api_query(req, "limit"), *cursor = api_query(req, "cursor");
    const char *status = api_query(req, "status");
    int64_t lim = 50, before = 0;
    if (limit != NULL && (parse_id(limit, &lim) != 0 || lim > 1000)) {
        api_error(r, 400, "bad_request", "limit must be an integer between 1 and 1000");
        return;
    }
    if (cursor != NULL && parse_id(cursor, &before) != 0) {
        api_error(r, 400, "bad_request", "cursor must be a value returned as next_cursor");
        return;
    }
    if (!cluster_exists(ctx, cluster)) {
        api_error(r, 404, "not_found", "cluster '%s' not found", cluster);
        return;
    }
    struct api_page page;
    api_page_init(&page, (int)lim);
    /* One more row than shown: next_cursor only when there is a next page. */
    if (store_failovers_query(ctx->st, cluster, status, before, (int)lim + 1, take_list, &page) !=
        STORE_OK) {
        json_decref(page.arr);
        api_error(r, 503, "unavailable", "cannot read failovers: %s", store_errmsg(ctx->st));
        return;
    }
    api_reply(r, 200, json_pack("{s:o,s:o}", "failovers", page.arr, "next_cursor",
                                api_page_cursor(&page)));
}

/* The id in the path, or a 404 (a non-number names no failover). */
static int path_id(const struct api_match *m, int64_t *id, struct api_resp *r)
{
    if (parse_id(m->params[0], id) == 0)
        return 0;
    api_error(r, 404, "not_found", "failover '%s' not found", m->params[0]);
    return -1;
}

API_HANDLER(api_h_failover_one_get)
{
    (void)req;
    int64_t id;
    if (path_id(m, &id, r) == 0)
        reply_failover(ctx, id, 200, r);
}

API_HANDLER(api_h_failover_one_delete)
{
    (void)req;
    int64_t id;
    if (path_id(m, &id, r) != 0)
        return;
    if (failover_cancel(ctx->st, id) != STORE_OK) {
        api_error(r, 409, "conflict", "failover %lld is not a scheduled switchover (only those "
                  "can be cancelled)", (long long)id);
        return;
    }
    events_say(ctx->fleet->events, EV_SWITCHOVER_CANCELLED, NULL, NULL, "api",
               "scheduled switchover #%lld cancelled", (long long)id);
    reply_failover(ctx, id, 200, r);
}

/* Copy the row for an update (text fields point into the store's row only
 * during the callback). */
struct ack_row {
    int found;
    struct store_failover f;
    char *texts[16];
};

static const char *keep(struct ack_row *a, int i, const char *s)
{
    a->texts[i] = s != NULL ? strdup(s) : NULL;
    return a->texts[i];
}

static int take_ack_row(void *arg, const struct store_failover *f)
{
    struct ack_row *a = arg;
    a->found = 1;
    a->f = *f;
    a->f.cluster = keep(a, 0, f->cluster);
    a->f.kind = keep(a, 1, f->kind);
    a->f.status = keep(a, 2, f->status);
    a->f.step = keep(a, 3, f->step);
    a->f.reason = keep(a, 4, f->reason);
    a->f.old_master = keep(a, 5, f->old_master);
    a->f.new_master = keep(a, 6, f->new_master);
    a->f.candidates = keep(a, 7, f->candidates);
    a->f.steps = keep(a, 8, f->steps);
    a->f.replicas = keep(a, 9, f->replicas);
    a->f.error = keep(a, 10, f->error);
    a->f.requested_by = keep(a, 11, f->requested_by);
    a->f.acked_by = keep(a, 12, f->acked_by);
    a->f.ack_comment = keep(a, 13, f->ack_comment);
    return 0;
}

void api_h_failover_ack(struct api_ctx *ctx, const struct api_req *req,
                        const struct api_match *m, struct api_resp *r)
{
    static const char *const allowed[] = { "comment", NULL };
    int64_t id;
    if (path_id(m, &id, r) != 0)
        return;
    json_t *j = req->body_len > 0 ? api_parse_object(req, r, allowed) : json_object();
    if (j == NULL)
        return;
    json_t *comment = json_object_get(j, "comment");
    struct ack_row a;
    memset(&a, 0, sizeof(a));
    if (comment != NULL && (!json_is_string(comment) || strlen(json_string_value(comment)) > 1000)) {
        api_error(r, 422, "unprocessable", "'comment' must be a string of at most 1000 bytes");
        goto out;
    }
    int rc = store_failover_get(ctx->st, id, take_ack_row, &a);
    if (rc == STORE_ENOTFOUND) {
        api_error(r, 404, "not_found", "failover %lld not found", (long long)id);
        goto out;
    }
    if (rc != STORE_OK) {
        api_error(r, 503, "unavailable", "%s", store_errmsg(ctx->st));
        goto out;
    }
    a.f.acked_at = store_now_ms();
    a.f.acked_by = "api";
    a.f.ack_comment = comment != NULL ? json_string_value(comment) : "";
    rc = store_begin(ctx->st);
    if (rc == STORE_OK) {
        rc = store_failover_update(ctx->st, &a.f);
        if (rc == STORE_OK)
            rc = store_commit(ctx->st);
        else
            store_rollback(ctx->st);
    }
    if (rc != STORE_OK) {
        api_error(r, 503, "unavailable", "cannot record the acknowledgement: %s",
                  store_errmsg(ctx->st));
        goto out;
    }
    events_say(ctx->fleet->events, EV_FAILOVER_ACKED, a.f.cluster, NULL, "api",
               "failover #%lld acknowledged%s%s", (long long)id, a.f.ack_comment[0] ? ": " : "",
               a.f.ack_comment);
    if (ctx->ctl != NULL)
        control_failover_acked(ctx->ctl, a.f.cluster, id);
    reply_failover(ctx, id, 200, r);
out:
    for (int i = 0; i < 16; i++)
        free(a.texts[i]);
    json_decref(j);
}

/* ---- load-balancer checks (Patroni style) ----------------------------------- */

static void lb_reply(struct api_resp *r, int ok, const char *node, const char *role,
                     const char *why)
{
    api_reply(r, ok ? 200 : 503,
              json_pack("{s:s,s:s,s:b,s:s}", "node", node, "check", role, "ok", ok, "reason", why));
}

void api_h_node_primary(struct api_ctx *ctx, const struct api_req *req,
                        const struct api_match *m, struct api_resp *r)
{
    (void)req;
    const char *name = m->params[0];
    char why[200] = "";
    int ok = 0, found = 0;
    api_read_lock(ctx);
    const struct fleet_node *n = fleet_node_by_name(ctx->fleet, name);
    if (n != NULL) {
        found = 1;
        const struct fleet_cluster *c = fleet_cluster_by_id(ctx->fleet, n->cluster_id);
        const struct node_obs *o = api_obs(ctx, n->id);
        if (c == NULL || c->master_id != n->id)
            snprintf(why, sizeof(why), "not the desired master of a cluster");
        else if (o->state != NODE_UP)
            snprintf(why, sizeof(why), "node is %s", health_state_name(o->state));
        else if (o->role != ROLE_MASTER)
            snprintf(why, sizeof(why), "node reports role replica");
        else if (o->fenced)
            snprintf(why, sizeof(why), "node is fenced (writes refused)");
        else if (o->loading)
            snprintf(why, sizeof(why), "node is loading its dataset");
        else
            ok = 1, snprintf(why, sizeof(why), "writable master of %s", c->name);
    }
    api_read_unlock(ctx);
    if (!found)
        api_error(r, 404, "not_found", "node '%s' not found", name);
    else
        lb_reply(r, ok, name, "primary", why);
}

void api_h_node_replica(struct api_ctx *ctx, const struct api_req *req,
                        const struct api_match *m, struct api_resp *r)
{
    const char *name = m->params[0];
    const char *ml = api_query(req, "max_lag_bytes");
    int64_t max_lag = -1;
    if (ml != NULL) {
        char *end;
        errno = 0;
        long long v = strtoll(ml, &end, 10);
        if (errno != 0 || end == ml || *end != '\0' || v < 0) {
            api_error(r, 400, "bad_request", "max_lag_bytes must be a non-negative integer");
            return;
        }
        max_lag = v;
    }
    char why[200] = "";
    int ok = 0, found = 0;
    api_read_lock(ctx);
    const struct fleet_node *n = fleet_node_by_name(ctx->fleet, name);
    if (n != NULL) {
        found = 1;
        const struct fleet_cluster *c = fleet_cluster_by_id(ctx->fleet, n->cluster_id);
        const struct fleet_node *mn = c != NULL ? fleet_node_by_id(ctx->fleet, c->master_id) : NULL;
        const struct node_obs *o = api_obs(ctx, n->id);
        if (c == NULL || mn == NULL || c->master_id == n->id)
            snprintf(why, sizeof(why), "not a replica of a cluster");
        else if (o->state != NODE_UP)
            snprintf(why, sizeof(why), "node is %s", health_state_name(o->state));
        else if (o->role != ROLE_REPLICA || o->master_port != mn->port ||
                 strcmp(o->master_host, mn->host) != 0)
            snprintf(why, sizeof(why), "does not replicate from the master %s", mn->name);
        else if (o->link != LINK_UP)
            snprintf(why, sizeof(why), "link to the master is down");
        else if (max_lag >= 0 && (o->lag_bytes < 0 || o->lag_bytes > max_lag))
            snprintf(why, sizeof(why), "lags %lld bytes (max %lld)", (long long)o->lag_bytes,
                     (long long)max_lag);
        else
            ok = 1, snprintf(why, sizeof(why), "linked replica, lag %lld bytes",
                             (long long)(o->lag_bytes < 0 ? 0 : o->lag_bytes));
    }
    api_read_unlock(ctx);
    if (!found)
        api_error(r, 404, "not_found", "node '%s' not found", name);
    else
        lb_reply(r, ok, name, "replica", why);
}
