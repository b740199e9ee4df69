/* handlers_nodes.c - /api/v1/nodes (GET, POST) and /api/v1/nodes/{name} (GET,
 * PATCH, DELETE). */
#include "api.h"
#include "discover.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>


void api_read_lock(struct api_ctx *ctx)
{
    fleet_rdlock(ctx->fleet);
    state_rdlock(ctx->state);
}

void api_read_unlock(struct api_ctx *ctx)
{
    state_unlock(ctx->state);
    fleet_unlock(ctx->fleet);
}

const struct node_obs *api_obs(struct api_ctx *ctx, int64_t node_id)
{
    const struct node_obs *o = state_obs(ctx->state, node_id);
    return o != NULL ? o : health_obs_unobserved();
}

json_t *api_node_json(struct api_ctx *ctx, const struct fleet_node *n)
{
    struct fleet *f = ctx->fleet;
    const struct fleet_cluster *c = fleet_cluster_by_id(f, n->cluster_id);
    const struct node_obs *o = api_obs(ctx, n->id);
    json_t *tags = json_loads(n->tags, 0, NULL);
    if (tags == NULL)
        tags = json_array();
    json_t *status = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}",
                               "state", health_state_name(o->state),
                               "since", api_time_json(o->state_since),
                               "role", health_role_name(o->role) ? json_string(health_role_name(o->role)) : json_null(),
                               "link", health_link_name(o->link) ? json_string(health_link_name(o->link)) : json_null(),
                               "offset", o->offset >= 0 ? json_integer(o->offset) : json_null(),
                               "last_poll_ok", api_time_json(o->last_ok_ms));
    if (status != NULL)
        json_object_set_new(status, "last_poll_age_ms",
                            o->last_ok_ms > 0 ? json_integer(store_now_ms() - o->last_ok_ms)
                                              : json_null());
    if (status != NULL) {
        json_object_set_new(status, "run_id", o->run_id[0] ? json_string(o->run_id) : json_null());
        json_object_set_new(status, "fenced", json_boolean(o->fenced));
        json_object_set_new(status, "loading", json_boolean(o->loading));
        json_object_set_new(status, "poll_ms", json_real((double)o->poll_us / 1000.0));
        if (o->failures > 0)
            json_object_set_new(status, "last_error",
                                json_pack("{s:s,s:s,s:i}", "kind", state_fail_name(o->fail_kind),
                                          "message", o->fail_msg, "failures", o->failures));
    }
    if (status != NULL && o->role == ROLE_REPLICA) {
        char buf[FLEET_HOST_MAX + 16];
        fleet_addr_format(buf, sizeof(buf), o->master_host, o->master_port);
        json_object_set_new(status, "replicating_from", json_string(buf));
    }
    return json_pack("{s:s,s:s,s:i,s:i,s:b,s:o,s:o,s:o,s:o,s:o}",
                     "name", n->name, "host", n->host, "port", n->port,
                     "priority", n->priority, "maintenance", n->maintenance,
                     "tags", tags,
                     "cluster", c != NULL ? json_string(c->name) : json_null(),
                     "first_seen", api_time_json(n->first_seen),
                     "last_seen", api_time_json(n->last_seen),
                     "status", status != NULL ? status : json_null());
}

static void reply_node(struct api_ctx *ctx, const char *name, int status, struct api_resp *r)
{
    api_read_lock(ctx);
    struct fleet_node *n = fleet_node_by_name(ctx->fleet, name);
    json_t *j = n != NULL ? api_node_json(ctx, n) : NULL;
    api_read_unlock(ctx);
    if (n == NULL)
        api_error(r, 404, "not_found", "node '%s' not found", name);
    else
        api_reply(r, status, j);
}

/* The run_id line of an INFO server reply into out ("" when absent). */
static void run_id_of(const char *info, size_t len, char *out, size_t outlen)
{
    static const char key[] = "run_id:";
    out[0] = '\0';
    for (const char *p = info, *end = info + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
            size_t v = n - (sizeof(key) - 1);
            while (v > 0 && (p[sizeof(key) - 2 + v] == '\r'))
                v--;
            snprintf(out, outlen, "%.*s", (int)v, p + sizeof(key) - 1);
            return;
        }
        p += n + 1;
    }
}

/* Ask the server being registered for its run id, which tells one server
 * from another whatever address reaches it. It is asked at its first
 * resolved address (numeric: hiredis does no second, unbounded lookup),
 * within the node timeout; "" when it cannot be asked (not running yet,
 * wrong password...): the registration then relies on addresses. */
static void probe_run_id(struct api_ctx *ctx, const struct fleet_ident *id, int port, char *out,
                         size_t outlen)
{
    char addr[64];
    out[0] = '\0';
    fleet_ident_addr(id, 0, addr, sizeof(addr));
    if (addr[0] == '\0')
        return;
    int ms = ctx->node_timeout_ms > 0 ? ctx->node_timeout_ms : 1000;
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(addr, port, tv);
    if (c == NULL || c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return;
    }
    int ok = discover_auth(c, ctx->cfg->node_user, ctx->cfg->node_auth, NULL, 0) == 0;
    redisReply *r = ok ? redisCommand(c, "INFO server") : NULL;
    if (r != NULL && r->type == REDIS_REPLY_STRING)
        run_id_of(r->str, r->len, out, outlen);
    freeReplyObject(r);
    redisFree(c);
}

API_HANDLER(api_h_nodes_post)
{
    (void)m;
    static const char *const allowed[] = { "host", "port", "name", "priority", "tags", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    json_t *host = json_object_get(j, "host"), *port = json_object_get(j, "port");
    json_t *name = json_object_get(j, "name"), *prio = json_object_get(j, "priority");
    json_t *tags = json_object_get(j, "tags");
    char *tags_txt = NULL;
    if (!json_is_string(host)) {
        api_error(r, 422, "unprocessable", "'host' is required and must be a string");
        goto out;
    }
    if (!json_is_integer(port)) {
        api_error(r, 422, "unprocessable", "'port' is required and must be an integer");
        goto out;
    }
    if (json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
        api_error(r, 422, "unprocessable", "port %lld is out of range 1-65535",
                  (long long)json_integer_value(port));
        goto out;
    }
    if (name != NULL && !json_is_string(name)) {
        api_error(r, 422, "unprocessable", "'name' must be a string");
        goto out;
    }
    if (prio != NULL && (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
                         json_integer_value(prio) > 1000000)) {
        api_error(r, 422, "unprocessable", "'priority' must be an integer between 0 and 1000000");
        goto out;
    }
    if (tags != NULL) {
        size_t i;
        json_t *t;
        if (!json_is_array(tags)) {
            api_error(r, 422, "unprocessable", "'tags' must be an array of strings");
            goto out;
        }
        json_array_foreach(tags, i, t) {
            if (!json_is_string(t)) {
                api_error(r, 422, "unprocessable", "'tags' must be an array of strings");
                goto out;
            }
        }
        tags_txt = json_dumps(tags, JSON_COMPACT);
        if (tags_txt == NULL) {
            api_error(r, 500, "internal", "out of memory");
            goto out;
        }
    }
    /* Who the server is (resolved address, run id), found out here before
     * any lock: the fleet compares it with every registered node. */
    struct fleet_ident ident;
    char run_id[48] = "";
    if (fleet_host_valid(json_string_value(host)) &&
        fleet_ident_resolve(json_string_value(host), ctx->node_timeout_ms, &ident) == 0)
        probe_run_id(ctx, &ident, (int)json_integer_value(port), run_id, sizeof(run_id));
    else
        memset(&ident, 0, sizeof(ident));
    struct fleet_node_spec spec = {
        .name = name != NULL ? json_string_value(name) : NULL,
        .host = json_string_value(host),
        .port = (int)json_integer_value(port),
        .priority = prio != NULL ? (int)json_integer_value(prio) : 100,
        .tags = tags_txt,
        .ident = &ident,
        .run_id = run_id,
        .observed = ctx->state,
        .resolve_ms = ctx->node_timeout_ms,
    };
    struct fleet_err e;
    int created = 0;
    char out_name[FLEET_NAME_MAX + 1];
    if (fleet_node_register(ctx->fleet, &spec, "api", &created, out_name, sizeof(out_name), &e) != 0)
        api_fleet_error(r, &e);
    else
        reply_node(ctx, out_name, created ? 201 : 200, r);
out:
    free(tags_txt);
    json_decref(j);
}

static int role_filter(const char *s, int *role)
{
    if (s == NULL) { *role = -1; return 0; }
    if (strcmp(s, "master") == 0) { *role = ROLE_MASTER; return 0; }
    if (strcmp(s, "replica") == 0 || strcmp(s, "slave") == 0) { *role = ROLE_REPLICA; return 0; }
    if (strcmp(s, "unknown") == 0) { *role = ROLE_UNKNOWN; return 0; }
    return -1;
}

static int state_filter(const char *s, int *state)
{
    if (s == NULL) { *state = -1; return 0; }
    if (strcmp(s, "up") == 0) { *state = NODE_UP; return 0; }
    if (strcmp(s, "down") == 0) { *state = NODE_DOWN; return 0; }
    if (strcmp(s, "suspect") == 0) { *state = NODE_SUSPECT; return 0; }
    if (strcmp(s, "unknown") == 0) { *state = NODE_UNKNOWN; return 0; }
    return -1;
}

API_HANDLER(api_h_nodes_get)
{
    (void)m;
    const char *cluster = api_query(req, "cluster");
    int role, state;
    if (role_filter(api_query(req, "role"), &role) != 0) {
        api_error(r, 400, "bad_request", "role must be master, replica or unknown");
        return;
    }
    if (state_filter(api_query(req, "state"), &state) != 0) {
        api_error(r, 400, "bad_request", "state must be up, suspect, down or unknown");
        return;
    }
    json_t *arr = json_array();
    api_read_lock(ctx);
    struct fleet *f = ctx->fleet;
    /* cid -1: any; 0: none (cluster= empty: the nodes a cluster could take,
     * which the dashboard polls every second); -2: no such cluster. */
    int64_t cid = -1;
    if (cluster != NULL && cluster[0] == '\0') {
        cid = 0;
    } else if (cluster != NULL) {
        struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
        cid = c != NULL ? c->id : -2;
    }
    for (size_t i = 0; i < f->nnodes; i++) {
        const struct fleet_node *n = f->nodes[i];
        if (cid != -1 && n->cluster_id != cid)
            continue;
        const struct node_obs *o = api_obs(ctx, n->id);
        if (role >= 0 && o->role != role)
            continue;
        if (state >= 0 && o->state != state)
            continue;
        json_array_append_new(arr, api_node_json(ctx, n));
    }
    api_read_unlock(ctx);
    api_reply(r, 200, json_pack("{s:o}", "nodes", arr));
}

API_HANDLER(api_h_node_patch)
{
    const char *name = m->params[0];
    static const char *const allowed[] = { "priority", "maintenance", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    json_t *prio = json_object_get(j, "priority"), *maint = json_object_get(j, "maintenance");
    int p = 0, mt = 0;
    if (prio != NULL) {
        if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
            json_integer_value(prio) > 1000000) {
            api_error(r, 422, "unprocessable", "'priority' must be an integer between 0 and 1000000");
            goto out;
        }
        p = (int)json_integer_value(prio);
    }
    if (maint != NULL) {
        if (!json_is_boolean(maint)) {
            api_error(r, 422, "unprocessable", "'maintenance' must be true or false");
            goto out;
        }
        mt = json_is_true(maint);
    }
    struct fleet_err e;
    if (fleet_node_patch(ctx->fleet, name, prio ? &p : NULL, maint ? &mt : NULL, "api", &e) != 0)
        api_fleet_error(r, &e);
    else
        reply_node(ctx, name, 200, r);
out:
    json_decref(j);
}

API_HANDLER(api_h_node_get)
{
    (void)req;
    reply_node(ctx, m->params[0], 200, r);
}

API_HANDLER(api_h_node_delete)
{
    (void)req;
    const char *name = m->params[0];
    struct fleet_err e;
    if (fleet_node_delete(ctx->fleet, name, "api", &e) != 0)
        api_fleet_error(r, &e);
    else
        api_reply(r, 200, json_pack("{s:s}", "deleted", name));
}
