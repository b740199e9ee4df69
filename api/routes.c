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

/* ---- decoding ------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the UTF-8 sequence led by c, 0 when c cannot lead one. */
static size_t utf8_lead_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF): jansson refuses anything else, and a name we cannot even
 * put in an error message must not get that far. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = utf8_lead_len(s[i]);
        if (l == 0 || i + l > n)
            return 0;
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        if ((s[i] == 0xe0 && s[i + 1] < 0xa0) || (s[i] == 0xed && s[i + 1] > 0x9f) ||
            (s[i] == 0xf0 && s[i + 1] < 0x90) || (s[i] == 0xf4 && s[i + 1] > 0x8f))
            return 0;
        i += l;
    }
    return 1;
}

/* Decode n raw URL bytes at s into out (room for n bytes). NULL, or why the
 * bytes are refused. A NUL would cut the C string a handler gets (and run
 * another route or act on another name); the other control characters
 * have no business in a name either. */
static const char *decode(const char *s, size_t n, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return "the URL has a byte that must be percent-encoded";
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return "the URL has a malformed percent escape";
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c < 0x20 || c == 0x7f)
                return "the URL has an escaped control character (%00-%1F or %7F)";
        }
        out[o++] = (char)c;
    }
    if (!utf8_valid((const unsigned char *)out, o))
        return "the URL decodes to invalid UTF-8";
    *outlen = o;
    return NULL;
}

const char *api_query_check(const char *query_string)
{
    size_t n = strlen(query_string), len;
    if (n > API_URL_MAX)
        return "the query string is too long";
    char buf[API_URL_MAX];
    return decode(query_string, n, buf, &len);
}

/* A raw path cut at its '/' and each segment decoded alone, so that an
 * escaped '/' stays inside its segment (a name, which then matches no
 * node) instead of creating a route. */
#define MAX_SEGS 32
struct path_segs {
    int n;                    /* segments recorded */
    int too_many;             /* more than MAX_SEGS: no route is that deep */
    const char *s[MAX_SEGS];
    size_t len[MAX_SEGS];
    char buf[2 * API_URL_MAX + 2];   /* decoded segments, each NUL-terminated */
};

static const char *split_path(const char *path, struct path_segs *ps)
{
    ps->n = 0;
    ps->too_many = 0;
    size_t total = strlen(path);
    if (total > API_URL_MAX)
        return "the path is too long";
    char *w = ps->buf;
    for (const char *seg = path + 1;;) {
        const char *end = strchr(seg, '/');
        size_t rawlen = end != NULL ? (size_t)(end - seg) : strlen(seg), len;
        const char *why = decode(seg, rawlen, w, &len);
        if (why != NULL)
            return why;
        w[len] = '\0';
        if (ps->n < MAX_SEGS) {
            ps->s[ps->n] = w;
            ps->len[ps->n++] = len;
        } else {
            ps->too_many = 1;
        }
        w += len + 1;
        if (end == NULL)
            return NULL;
        seg = end + 1;
    }
}

/* The rest of the path from segment i, joined by '/' (the dashboard's
 * "{*}"), into params[np]. 0 when it does not fit. */
static int capture_rest(const struct path_segs *ps, int i, struct api_match *m, int np)
{
    char *out = m->params[np];
    size_t o = 0;
    if (ps->too_many || np == API_MAX_PARAMS)
        return 0;
    for (int k = i; k < ps->n; k++) {
        if (o + ps->len[k] + (k > i) > API_PARAM_MAX)
            return 0;
        if (k > i)
            out[o++] = '/';
        memcpy(out + o, ps->s[k], ps->len[k]);
        o += ps->len[k];
    }
    out[o] = '\0';
    return 1;
}

/* One "{}" segment into params[np]; 0 when empty or too long. */
static int capture_one(const struct path_segs *ps, int i, struct api_match *m, int np)
{
    if (ps->len[i] == 0 || ps->len[i] > API_PARAM_MAX || np == API_MAX_PARAMS)
        return 0;
    memcpy(m->params[np], ps->s[i], ps->len[i]);
    m->params[np][ps->len[i]] = '\0';
    return 1;
}

static int pat_is(const char *p, size_t plen, const char *what)
{
    return plen == strlen(what) && memcmp(p, what, plen) == 0;
}

/* Match one pattern ("/api/v1/nodes/{}") segment by segment; fills params
 * on success. */
static int pattern_match(const char *pat, const struct path_segs *ps, struct api_match *m)
{
    int np = 0, i = 0, n = ps->n;
    if (ps->too_many)
        return 0;
    if (strstr(pat, "{*}") == NULL && n > 1 && ps->len[n - 1] == 0)
        n--;                           /* tolerate one trailing slash */
    for (const char *p = pat + 1;;) {
        const char *end = strchr(p, '/');
        size_t plen = end != NULL ? (size_t)(end - p) : strlen(p);
        if (pat_is(p, plen, "{*}")) {
            if (!capture_rest(ps, i, m, np))
                return 0;
            m->nparams = np + 1;
            return 1;
        }
        if (i >= n)
            return 0;
        if (pat_is(p, plen, "{}")) {
            if (!capture_one(ps, i, m, np++))
                return 0;
        } else if (plen != ps->len[i] || memcmp(p, ps->s[i], plen) != 0) {
            return 0;
        }
        i++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (i != n)
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
static int match_pass(const char *method, const struct path_segs *ps, struct api_match *m,
                      int catch_all)
{
    for (size_t i = 0; i < NROUTES; i++) {
        if (is_catch_all(&routes[i]) != catch_all || !pattern_match(routes[i].pattern, ps, m))
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

/* Paths under the API never fall back to dashboard files: a mistyped API
 * URL must answer a JSON 404 "no such endpoint", not a file lookup. */
static int under_api(const struct path_segs *ps)
{
    return ps->n > 0 && pat_is(ps->s[0], ps->len[0], "api");
}

static void no_match(struct api_match *m, int status, const char *why)
{
    m->route = API_R_NONE;
    m->row = -1;
    m->nparams = 0;
    m->status = status;
    m->why = why;
}

void api_route_match(const char *method, const char *path, struct api_match *m)
{
    memset(m, 0, sizeof(*m));
    m->row = -1;
    /* ~16 KiB: on the stack of an MHD worker (default thread stacks). */
    struct path_segs ps;
    if (path[0] != '/') {
        no_match(m, 404, NULL);        /* "*", absolute-form: nothing here */
        return;
    }
    const char *why = split_path(path, &ps);
    if (why != NULL) {
        no_match(m, 400, why);
        return;
    }
    if (match_pass(method, &ps, m, 0))
        return;
    /* The dashboard only gets paths no API route knows, in any method. */
    if (m->allow[0] == '\0' && !under_api(&ps) && match_pass(method, &ps, m, 1))
        return;
    no_match(m, m->allow[0] != '\0' ? 405 : 404, NULL);
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

/* HTTP/1.1 (and anything newer MHD lets through) names its host: RFC 9112
 * section 3.2 asks for a 400 without one, and for any request with more
 * than one. HTTP/1.0 predates the header. */
static const char *host_problem(const struct api_req *req)
{
    if (req->host_headers > 1)
        return "the request has more than one Host header";
    if (req->version != NULL && strcmp(req->version, "HTTP/1.0") != 0 && req->host_headers == 0)
        return "an HTTP/1.1 request must carry a Host header";
    return NULL;
}

/* What is wrong with the request itself, before any route is looked at:
 * sizes first (414, 431: kvfleetd's own limits, below MHD's buffer, so
 * the answer is JSON), then Host, then the query string. 0 when fine. */
static int request_gate(const struct api_req *req, struct api_resp *resp)
{
    size_t target = strlen(req->path) +
                    (req->query_string != NULL ? 1 + strlen(req->query_string) : 0);
    const char *why;
    if (req->header_bytes > API_HEADERS_MAX)
        api_error(resp, 431, "headers_too_large",
                  "request header fields are larger than %d bytes", API_HEADERS_MAX);
    else if (target > API_URL_MAX)
        api_error(resp, 414, "uri_too_long", "request URL is longer than %d bytes", API_URL_MAX);
    else if ((why = host_problem(req)) != NULL)
        api_error(resp, 400, "bad_request", "%s", why);
    else if (req->query_string != NULL && (why = api_query_check(req->query_string)) != NULL)
        api_error(resp, 400, "bad_request", "%s", why);
    else
        return 0;
    return -1;
}

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp)
{
    struct api_match m;
    api_resp_init(resp);
    if (request_gate(req, resp) != 0)
        return;
    api_route_match(req->method, req->path, &m);
    if (m.status == 400) {
        api_error(resp, 400, "bad_request", "%s", m.why);
        return;
    }
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
