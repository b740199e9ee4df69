/* routes.c - the route table, request dispatch and bearer-token auth.
 *
 * A route row is one method, one pattern, one handler, one auth policy and
 * one content type. api_route_match() is a pure function of (method, path):
 * it compares the path against the patterns, where "{}" captures one segment
 * and a trailing "{*}" captures the rest of the path (the dashboard files).
 * An unknown path is 404; a known path with the wrong method is 405 with the
 * methods of every row of that pattern (HEAD wherever GET is).
 *
 * api_handle() then checks the row's auth policy, runs its handler and turns
 * a 200 GET into a 304 when the client already holds that entity. */
#include "api.h"
#include "../server/log.h"

#include <stdio.h>
#include <string.h>

struct route {
    const char *method;
    const char *pattern;
    int id;                   /* enum api_route: the resource, shared by its methods */
    api_handler handler;
    enum api_auth auth;
    const char *ctype;        /* default content type; NULL: the handler picks it */
};

/* Order matters only for the last row: the dashboard's catch-all is tried
 * after every other pattern failed (see match_pass). */
static const struct route routes[] = {
    { "GET", "/api/v1/health", API_R_HEALTH, api_h_health, API_AUTH_READ, API_CT_JSON },
    { "GET", "/api/v1/nodes", API_R_NODES, api_h_nodes_get, API_AUTH_READ, API_CT_JSON },
    { "POST", "/api/v1/nodes", API_R_NODES, api_h_nodes_post, API_AUTH_WRITE, API_CT_JSON },
    { "GET", "/api/v1/nodes/{}", API_R_NODE, api_h_node_get, API_AUTH_READ, API_CT_JSON },
    { "PATCH", "/api/v1/nodes/{}", API_R_NODE, api_h_node_patch, API_AUTH_WRITE, API_CT_JSON },
    { "DELETE", "/api/v1/nodes/{}", API_R_NODE, api_h_node_delete, API_AUTH_WRITE, API_CT_JSON },
    { "GET", "/api/v1/clusters", API_R_CLUSTERS, api_h_clusters_get, API_AUTH_READ, API_CT_JSON },
    { "POST", "/api/v1/clusters", API_R_CLUSTERS, api_h_clusters_post, API_AUTH_WRITE,
      API_CT_JSON },
    { "GET", "/api/v1/clusters/{}", API_R_CLUSTER, api_h_cluster_get, API_AUTH_READ, API_CT_JSON },
    { "PATCH", "/api/v1/clusters/{}", API_R_CLUSTER, api_h_cluster_patch, API_AUTH_WRITE,
      API_CT_JSON },
    { "DELETE", "/api/v1/clusters/{}", API_R_CLUSTER, api_h_cluster_delete, API_AUTH_WRITE,
      API_CT_JSON },
    { "GET", "/api/v1/clusters/{}/master", API_R_CLUSTER_MASTER, api_h_cluster_master,
      API_AUTH_READ, API_CT_JSON },
    { "POST", "/api/v1/clusters/{}/replicas", API_R_CLUSTER_REPLICAS, api_h_cluster_replicas,
      API_AUTH_WRITE, API_CT_JSON },
    { "DELETE", "/api/v1/clusters/{}/replicas/{}", API_R_CLUSTER_REPLICA, api_h_cluster_replica,
      API_AUTH_WRITE, API_CT_JSON },
    { "POST", "/api/v1/discover", API_R_DISCOVER, api_h_discover, API_AUTH_WRITE, API_CT_JSON },
    { "GET", "/api/v1/events", API_R_EVENTS, api_h_events, API_AUTH_READ, API_CT_JSON },
    { "POST", "/api/v1/monitor/stats/reset", API_R_MONITOR_RESET, api_h_monitor_reset,
      API_AUTH_WRITE, API_CT_JSON },
    { "POST", "/api/v1/clusters/{}/switchover", API_R_CLUSTER_SWITCHOVER, api_h_switchover_post,
      API_AUTH_WRITE, API_CT_JSON },
    { "DELETE", "/api/v1/clusters/{}/switchover", API_R_CLUSTER_SWITCHOVER,
      api_h_switchover_delete, API_AUTH_WRITE, API_CT_JSON },
    { "POST", "/api/v1/clusters/{}/failover", API_R_CLUSTER_FAILOVER, api_h_failover,
      API_AUTH_WRITE, API_CT_JSON },
    { "GET", "/api/v1/clusters/{}/failover/plan", API_R_CLUSTER_PLAN, api_h_failover_plan,
      API_AUTH_READ, API_CT_JSON },
    { "GET", "/api/v1/clusters/{}/failovers", API_R_CLUSTER_FAILOVERS, api_h_cluster_failovers,
      API_AUTH_READ, API_CT_JSON },
    { "GET", "/api/v1/failovers/{}", API_R_FAILOVER, api_h_failover_one_get, API_AUTH_READ,
      API_CT_JSON },
    { "DELETE", "/api/v1/failovers/{}", API_R_FAILOVER, api_h_failover_one_delete,
      API_AUTH_WRITE, API_CT_JSON },
    { "POST", "/api/v1/failovers/{}/ack", API_R_FAILOVER_ACK, api_h_failover_ack, API_AUTH_WRITE,
      API_CT_JSON },
    { "GET", "/api/v1/nodes/{}/primary", API_R_NODE_PRIMARY, api_h_node_primary, API_AUTH_READ,
      API_CT_JSON },
    { "GET", "/api/v1/nodes/{}/replica", API_R_NODE_REPLICA, api_h_node_replica, API_AUTH_READ,
      API_CT_JSON },
    { "GET", "/metrics", API_R_METRICS, api_h_metrics, API_AUTH_METRICS, API_CT_PROMETHEUS },
    { "GET", "/{*}", API_R_STATIC, api_h_static, API_AUTH_NONE, NULL },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Paths under the API never fall back to dashboard files: a mistyped API
 * URL must answer a JSON 404 "no such endpoint", not a file lookup. */
#define API_PREFIX "/api"

size_t api_route_count(void)
{
    return NROUTES;
}

const char *api_route_method(size_t row)
{
    return row < NROUTES ? routes[row].method : "other";
}

static int is_catch_all(const struct route *r)
{
    return strstr(r->pattern, "{*}") != NULL;
}

const char *api_route_name(size_t row)
{
    if (row >= NROUTES)
        return "none";
    /* One name for every file: a label per file would let any client grow
     * the metrics without bound. */
    return is_catch_all(&routes[row]) ? "static" : routes[row].pattern;
}

/* Capture one path segment for "{}" at s; returns its length or -1. */
static int capture(const char *s, int rest, struct api_match *m, int np)
{
    const char *end = rest ? NULL : strchr(s, '/');
    size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
    if ((!rest && len == 0) || len > API_PARAM_MAX || np == API_MAX_PARAMS)
        return -1;
    memcpy(m->params[np], s, len);
    m->params[np][len] = '\0';
    return (int)len;
}

/* Match one pattern; fills params on success. */
static int pattern_match(const char *pat, const char *path, struct api_match *m)
{
    int np = 0;
    const char *p = pat, *s = path;
    while (*p != '\0') {
        if (p[0] == '{' && (p[1] == '}' || (p[1] == '*' && p[2] == '}'))) {
            int rest = p[1] == '*';
            int len = capture(s, rest, m, np);
            if (len < 0)
                return 0;
            np++;
            s += len;
            p += rest ? 3 : 2;
        } else {
            if (*p != *s)
                return 0;
            p++;
            s++;
        }
    }
    if (*s == '/' && s[1] == '\0')
        s++;                           /* tolerate one trailing slash */
    if (*s != '\0')
        return 0;
    m->nparams = np;
    return 1;
}

/* HEAD is answered by the GET row: same handler, MHD sends no body. */
static int method_ok(const char *row_method, const char *method)
{
    return strcmp(row_method, method) == 0 ||
           (strcmp(row_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* 1 when the ", "-separated list already names method. */
static int allow_has(const char *allow, const char *method)
{
    size_t l = strlen(method);
    for (const char *p = allow; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        if (n == l && memcmp(p, method, l) == 0)
            return 1;
        if (e == NULL)
            break;
        p = e + 2;
    }
    return 0;
}

static void allow_add_one(char *allow, size_t cap, const char *method)
{
    size_t n = strlen(allow);
    if (!allow_has(allow, method))
        snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", method);
}

static void allow_add(struct api_match *m, const char *method)
{
    allow_add_one(m->allow, sizeof(m->allow), method);
    if (strcmp(method, "GET") == 0)
        allow_add_one(m->allow, sizeof(m->allow), "HEAD");
}

/* One pass over the rows of one kind (catch-all or not). Returns 1 when a
 * row takes the request; a matching path with other methods fills allow. */
static int match_pass(const char *method, const char *path, struct api_match *m, int catch_all)
{
    for (size_t i = 0; i < NROUTES; i++) {
        if (is_catch_all(&routes[i]) != catch_all || !pattern_match(routes[i].pattern, path, m))
            continue;
        if (method_ok(routes[i].method, method)) {
            m->route = routes[i].id;
            m->row = (int)i;
            return 1;
        }
        allow_add(m, routes[i].method);
    }
    return 0;
}

static int under_api(const char *path)
{
    size_t n = strlen(API_PREFIX);
    return strncmp(path, API_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void api_route_match(const char *method, const char *path, struct api_match *m)
{
    memset(m, 0, sizeof(*m));
    m->row = -1;
    if (match_pass(method, path, m, 0))
        return;
    /* The dashboard only gets paths no API route knows, in any method. */
    if (m->allow[0] == '\0' && !under_api(path) && match_pass(method, path, m, 1))
        return;
    m->route = API_R_NONE;
    m->nparams = 0;
    m->status = m->allow[0] != '\0' ? 405 : 404;
}

int api_auth_ok(const char *header, const char *token)
{
    static const char prefix[] = "Bearer ";
    if (header == NULL || token == NULL)
        return 0;
    if (strncmp(header, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const unsigned char *a = (const unsigned char *)header + sizeof(prefix) - 1;
    const unsigned char *b = (const unsigned char *)token;
    size_t la = strlen((const char *)a), lb = strlen((const char *)b);
    /* Walk the full length of the expected token whatever the input, and
     * fold the length difference into the result: no early exit. */
    unsigned diff = (unsigned)(la ^ lb);
    for (size_t i = 0; i < lb; i++) {
        unsigned char ca = i < la ? a[i] : 0;
        diff |= (unsigned)(ca ^ b[i]);
    }
    return diff == 0;
}

/* Without api-token there is nothing to check: the bind address guards
 * the API (main.c refuses a non-loopback bind without a token). */
static int auth_needed(const struct cfg *cfg, enum api_auth policy)
{
    if (cfg->api_token == NULL)
        return 0;
    switch (policy) {
    case API_AUTH_NONE: return 0;
    case API_AUTH_READ: return cfg->api_auth_reads;
    case API_AUTH_WRITE: return 1;
    case API_AUTH_METRICS: return cfg->metrics_auth;
    }
    return 1;
}

static int is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Conditional GET: every 200 JSON read gets a strong ETag of its body
 * (handlers that know a better tag, like the dashboard files, set their
 * own), and a client that already holds it gets 304 without a body. The
 * dashboard polls every second: most polls then cost a hash, not a
 * transfer and a parse. no-cache makes browsers revalidate every time. */
static void conditional_get(const struct api_req *req, struct api_resp *r)
{
    if (!is_read(req->method) || r->status != 200)
        return;
    if (r->etag[0] == '\0') {
        if (r->content_type == NULL || strcmp(r->content_type, API_CT_JSON) != 0)
            return;
        api_etag_of(r->body, r->len, r->etag);
        r->cache_control = "no-cache";
    }
    if (req->if_none_match != NULL && api_etag_match(req->if_none_match, r->etag)) {
        api_resp_release(r);
        r->status = 304;
        r->content_type = NULL;
    }
}

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp)
{
    struct api_match m;
    api_resp_init(resp);
    api_route_match(req->method, req->path, &m);
    if (m.status == 404) {
        api_error(resp, 404, "not_found", "no such endpoint: %s", req->path);
        return;
    }
    if (m.status == 405) {
        api_error(resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
                  req->method, req->path, m.allow);
        snprintf(resp->allow, sizeof(resp->allow), "%s", m.allow);
        return;
    }
    const struct route *rt = &routes[m.row];
    resp->row = m.row;
    if (auth_needed(ctx->cfg, rt->auth) && !api_auth_ok(req->authorization, ctx->cfg->api_token)) {
        api_error(resp, 401, "unauthorized", "missing or invalid bearer token");
        return;
    }
    if (rt->ctype != NULL)
        resp->content_type = rt->ctype;
    rt->handler(ctx, req, &m, resp);
    if (resp->body == NULL)
        api_error(resp, 500, "internal", "handler produced no response");
    conditional_get(req, resp);
}
