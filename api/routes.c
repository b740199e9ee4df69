/* routes.c - the route table, request dispatch and bearer-token auth.
 *
 * api_route_match() is a pure function of (method, path): it splits the path
 * into segments and compares them against patterns where "{}" captures one
 * segment. An unknown path is 404; a known path with the wrong method is 405
 * with the allowed methods listed. */
#include "api.h"
#include "../server/log.h"

#include <stdio.h>
#include <string.h>

enum { M_GET = 1, M_POST = 2, M_PATCH = 4, M_DELETE = 8 };

struct route {
    const char *pattern;
    int methods;
    int id;
    api_handler handler;
};

static const struct route routes[] = {
    { "/api/v1/health", M_GET, API_R_HEALTH, api_h_health },
    { "/api/v1/nodes", M_GET | M_POST, API_R_NODES, api_h_nodes },
    { "/api/v1/nodes/{}", M_GET | M_PATCH | M_DELETE, API_R_NODE, api_h_node },
    { "/api/v1/clusters", M_GET | M_POST, API_R_CLUSTERS, api_h_clusters },
    { "/api/v1/clusters/{}", M_GET | M_PATCH | M_DELETE, API_R_CLUSTER, api_h_cluster },
    { "/api/v1/clusters/{}/master", M_GET, API_R_CLUSTER_MASTER, api_h_cluster_master },
    { "/api/v1/clusters/{}/replicas", M_POST, API_R_CLUSTER_REPLICAS, api_h_cluster_replicas },
    { "/api/v1/clusters/{}/replicas/{}", M_DELETE, API_R_CLUSTER_REPLICA, api_h_cluster_replica },
    { "/api/v1/discover", M_POST, API_R_DISCOVER, api_h_discover },
    { "/api/v1/events", M_GET, API_R_EVENTS, api_h_events },
    { "/api/v1/monitor/stats/reset", M_POST, API_R_MONITOR_RESET, api_h_monitor_reset },
    { "/api/v1/clusters/{}/switchover", M_POST | M_DELETE, API_R_CLUSTER_SWITCHOVER, api_h_switchover },
    { "/api/v1/clusters/{}/failover", M_POST, API_R_CLUSTER_FAILOVER, api_h_failover },
    { "/api/v1/clusters/{}/failover/plan", M_GET, API_R_CLUSTER_PLAN, api_h_failover_plan },
    { "/api/v1/clusters/{}/failovers", M_GET, API_R_CLUSTER_FAILOVERS, api_h_cluster_failovers },
    { "/api/v1/failovers/{}", M_GET | M_DELETE, API_R_FAILOVER, api_h_failover_one },
    { "/api/v1/failovers/{}/ack", M_POST, API_R_FAILOVER_ACK, api_h_failover_ack },
    { "/api/v1/nodes/{}/primary", M_GET, API_R_NODE_PRIMARY, api_h_node_primary },
    { "/api/v1/nodes/{}/replica", M_GET, API_R_NODE_REPLICA, api_h_node_replica },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static int method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) return M_GET;
    if (strcmp(m, "POST") == 0) return M_POST;
    if (strcmp(m, "PATCH") == 0) return M_PATCH;
    if (strcmp(m, "DELETE") == 0) return M_DELETE;
    return 0;
}

/* Match one pattern; fills params on success. */
static int pattern_match(const char *pat, const char *path, struct api_match *m)
{
    int np = 0;
    const char *p = pat, *s = path;
    while (*p != '\0') {
        if (p[0] == '{' && p[1] == '}') {
            const char *end = strchr(s, '/');
            size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
            if (len == 0 || len > API_PARAM_MAX || np == API_MAX_PARAMS)
                return 0;
            memcpy(m->params[np], s, len);
            m->params[np][len] = '\0';
            np++;
            s += len;
            p += 2;
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

void api_route_match(const char *method, const char *path, struct api_match *m)
{
    memset(m, 0, sizeof(*m));
    int bit = method_bit(method);
    m->mutating = bit != M_GET;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!pattern_match(routes[i].pattern, path, m))
            continue;
        if (bit & routes[i].methods) {
            m->route = routes[i].id;
            return;
        }
        m->status = 405;
        size_t n = 0;
        static const char *names[] = { "GET", "POST", "PATCH", "DELETE" };
        for (int b = 0; b < 4; b++) {
            if (routes[i].methods & (1 << b))
                n += (size_t)snprintf(m->allow + n, sizeof(m->allow) - n, "%s%s", n ? ", " : "",
                                      names[b]);
        }
        return;
    }
    m->status = 404;
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

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp)
{
    struct api_match m;
    resp->status = 0;
    resp->body = NULL;
    api_route_match(req->method, req->path, &m);
    if (m.status == 404) {
        api_error(resp, 404, "not_found", "no such endpoint: %s", req->path);
        return;
    }
    if (m.status == 405) {
        api_error(resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
                  req->method, req->path, m.allow);
        return;
    }
    const char *token = ctx->cfg->api_token;
    if (token != NULL && (m.mutating || ctx->cfg->api_auth_reads) &&
        !api_auth_ok(req->authorization, token)) {
        api_error(resp, 401, "unauthorized", "missing or invalid bearer token");
        return;
    }
    for (size_t i = 0; i < NROUTES; i++) {
        if (routes[i].id == m.route) {
            routes[i].handler(ctx, req, &m, resp);
            break;
        }
    }
    if (resp->body == NULL)
        api_error(resp, 500, "internal", "handler produced no response");
}
