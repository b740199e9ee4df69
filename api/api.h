/* api.h - kvfleetd HTTP API: JSON under /api/v1, /metrics, dashboard files.
 *
 * Transport-free core: api_handle() takes a parsed request (method, path,
 * query getter, body, Authorization and If-None-Match headers) and produces
 * a status, a body with its content type and the few headers the API sets,
 * so routing, auth, validation and conditional GETs are unit-tested without
 * a socket. api/http.c glues it to libmicrohttpd.
 *
 * One route row = one method + one pattern + one handler + one auth policy
 * + one content type (routes.c). HEAD is served by the GET row (MHD sends
 * the headers only). A path matched with another method is 405 listing the
 * methods of every row with that pattern. */
#ifndef KVFLEET_API_H
#define KVFLEET_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../server/config.h"
#include "../server/fleet.h"
#include "../server/control.h"
#include "../server/monitor.h"
#include "../server/state.h"
#include "../server/store.h"

#define API_BODY_LIMIT (1024 * 1024)

/* Content types of route rows and responses (static strings). */
#define API_CT_JSON "application/json"
#define API_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

struct api_reqstats;
struct api_web_file;
struct metrics;
struct writer;

struct api_ctx {
    struct fleet *fleet;
    struct state *state;      /* observations (lock order: fleet -> state) */
    struct control *ctl;      /* NULL in unit tests: operations answer 503 */
    struct store *st;
    const struct cfg *cfg;
    struct monitor *mon;      /* NULL in unit tests */
    struct api_reqstats *reqstats;   /* per-route counters; NULL: not counted */
    struct metrics *metrics;  /* controller counters for /metrics; NULL in unit tests */
    struct writer *writer;    /* journal writer (its counters); NULL in unit tests */
    /* Dashboard files; NULL: the ones embedded from web/ at build time
     * (unit tests point this at a fixture table). */
    const struct api_web_file *web_files;
    size_t nweb_files;
    int64_t started_ms;
    int node_timeout_ms;      /* blocking RESP calls (discover, detach) */
};

/* Limits kvfleetd applies itself, so that the answer is a JSON 414 / 431
 * rather than libmicrohttpd's HTML page; http.c gives MHD a connection
 * buffer (HTTP_CONN_MEMORY, 128 KiB) well above them. */
#define API_URL_MAX 8192          /* request target: path and query */
#define API_HEADERS_MAX 16384     /* header fields, names and values */

struct api_req {
    const char *method;
    /* The path as sent, still percent-encoded: routing splits it into
     * segments first and decodes each one, so an escaped '/' or NUL can
     * never turn into another route (routes.c). */
    const char *path;
    const char *query_string;   /* raw, after '?'; NULL: none (or not checked) */
    const char *(*query)(void *arg, const char *key);  /* may be NULL */
    void *query_arg;
    const char *body;
    size_t body_len;
    const char *authorization;                          /* header or NULL */
    const char *if_none_match;                          /* header or NULL */
    /* Transport facts (http.c); NULL / 0 in unit tests that do not care. */
    const char *version;        /* "HTTP/1.1", "HTTP/1.0"; NULL: not checked */
    int host_headers;           /* number of Host header fields */
    size_t header_bytes;        /* names and values of every header field */
};

#define API_ETAG_MAX 48

/* A response. The body is binary-safe (len bytes); it is either owned
 * (malloc'd, `owned` == `body`, released by api_resp_release) or static data
 * that outlives the response (embedded dashboard files: owned == NULL). */
struct api_resp {
    int status;
    const char *body;
    size_t len;
    char *owned;
    const char *content_type;   /* static string; NULL: no body */
    const char *cache_control;  /* static string or NULL */
    char etag[API_ETAG_MAX];    /* quoted entity tag, "" when none */
    char allow[64];             /* the Allow header of a 405, "" otherwise */
    int row;                    /* route row that answered, -1: none (stats) */
};

void api_resp_init(struct api_resp *r);
/* Free an owned body and forget the body (headers stay). */
void api_resp_release(struct api_resp *r);

/* ---- routing (routes.c) ---- */
enum api_route {
    API_R_NONE = 0,
    API_R_HEALTH,
    API_R_NODES,
    API_R_NODE,
    API_R_CLUSTERS,
    API_R_CLUSTER,
    API_R_CLUSTER_MASTER,
    API_R_CLUSTER_REPLICAS,
    API_R_CLUSTER_REPLICA,
    API_R_DISCOVER,
    API_R_EVENTS,
    API_R_MONITOR_RESET,
    API_R_CLUSTER_SWITCHOVER,
    API_R_CLUSTER_FAILOVER,
    API_R_CLUSTER_PLAN,
    API_R_CLUSTER_FAILOVERS,
    API_R_FAILOVER,
    API_R_FAILOVER_ACK,
    API_R_NODE_PRIMARY,
    API_R_NODE_REPLICA,
    API_R_METRICS,
    API_R_STATIC,
};

/* Who may call a route. */
enum api_auth {
    API_AUTH_NONE,            /* never a token (dashboard files) */
    API_AUTH_READ,            /* the token when api-auth-reads yes */
    API_AUTH_WRITE,           /* the token whenever api-token is set */
    API_AUTH_METRICS,         /* the token when metrics-auth yes */
};

#define API_MAX_PARAMS 2
#define API_PARAM_MAX 128

struct api_match {
    int route;                /* enum api_route; API_R_NONE when status != 0 */
    int row;                  /* index in the route table, -1 when status != 0 */
    /* 0 matched, 400 the path cannot be decoded (why says how), 404 no such
     * path, 405 wrong method */
    int status;
    const char *why;          /* static text for a 400, else NULL */
    int nparams;
    char params[API_MAX_PARAMS][API_PARAM_MAX + 1];   /* decoded */
    char allow[64];           /* methods allowed on the path (405) */
};

/* Pure: match method + raw (percent-encoded) path against the route table.
 * The path is split at its '/' first and each segment decoded alone; a
 * segment that decodes to a control character (NUL included) or to
 * invalid UTF-8, a malformed escape or a byte that must be escaped is a
 * 400 whatever the route. */
void api_route_match(const char *method, const char *path, struct api_match *m);

/* Pure: NULL when a raw query string is acceptable (well-formed escapes,
 * no control character, UTF-8 once decoded), else why not (static text). */
const char *api_query_check(const char *query_string);

/* The route table, for the request counters (reqstats.c): the number of
 * rows, and a row's method and its name in metrics (the pattern, or
 * "static" for the dashboard files). */
size_t api_route_count(void);
const char *api_route_method(size_t row);
const char *api_route_name(size_t row);

/* Dispatch one request: routing, auth, handler, conditional GET. Always
 * fills resp (release it with api_resp_release). */
void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp);

/* Constant-time check of "Bearer <token>". */
int api_auth_ok(const char *header, const char *token);

/* ---- entity tags (etag.c) ---- */
/* Strong tag of a body: FNV-1a 64 as "\"<16 hex digits>\"". */
void api_etag_of(const void *data, size_t len, char out[API_ETAG_MAX]);
/* 1 when an If-None-Match header value names etag (or is "*"). Weak
 * comparison, as RFC 9110 asks for If-None-Match: W/"x" matches "x". */
int api_etag_match(const char *if_none_match, const char *etag);

/* ---- helpers (json.c) ---- */
void api_error(struct api_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Takes ownership of a malloc'd NUL-terminated text (NULL -> 500) in the
 * route's content type (JSON, or the Prometheus text format for /metrics). */
void api_reply_text(struct api_resp *r, int status, char *text);
/* Steals the reference to j. */
void api_reply(struct api_resp *r, int status, json_t *j);
/* Takes ownership of len bytes of malloc'd data (NULL -> 500), in the
 * route's content type: no strlen, binary-safe. */
void api_reply_owned(struct api_resp *r, int status, char *data, size_t len);
/* Reply with data that outlives the response (never freed): len bytes. */
void api_reply_static(struct api_resp *r, int status, const char *content_type,
                      const void *data, size_t len);
/* Parse the body as a JSON object whose keys are all in `allowed` (NULL
 * terminated). On failure sets a 400 response and returns NULL. */
json_t *api_parse_object(const struct api_req *req, struct api_resp *r,
                         const char *const *allowed);
/* Check that an object only has allowed keys; prefix names nested objects. */
int api_check_fields(json_t *obj, const char *const *allowed, const char *prefix,
                     struct api_resp *r);
void api_time_iso(int64_t ms, char *buf, size_t len);
/* Integer milliseconds since the epoch, or ISO 8601: a date alone
 * ("2026-12-05", midnight UTC) or date 'T' time with optional fraction and
 * zone ("Z", "+02:00", "-0530", "+02"; none: UTC). 0, or -1 when neither. */
int api_parse_time(const char *s, int64_t *out);

/* One page of a newest-first listing (events, failovers). The caller asks
 * the store for limit + 1 rows and adds each; the page keeps `limit` and
 * next_cursor is set only when a further row proved there is more. */
struct api_page {
    json_t *arr;              /* the items shown (owned; NULL out of memory) */
    int limit, count;
    int64_t last_id;          /* id of the last item shown */
    int more;
};
void api_page_init(struct api_page *p, int limit);
void api_page_add(struct api_page *p, int64_t id, json_t *item);   /* steals item */
json_t *api_page_cursor(const struct api_page *p);   /* string id, or null */
json_t *api_time_json(int64_t ms);   /* null for 0 */
void api_fleet_error(struct api_resp *r, const struct fleet_err *e);
const char *api_query(const struct api_req *req, const char *key);

/* ---- handlers: one per route row (method + pattern) ---- */
typedef void (*api_handler)(struct api_ctx *ctx, const struct api_req *req,
                            const struct api_match *m, struct api_resp *r);
#define API_HANDLER(name)                                                                 \
    void name(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m, \
              struct api_resp *r)
API_HANDLER(api_h_health);
API_HANDLER(api_h_nodes_get);
API_HANDLER(api_h_nodes_post);
API_HANDLER(api_h_node_get);
API_HANDLER(api_h_node_patch);
API_HANDLER(api_h_node_delete);
API_HANDLER(api_h_clusters_get);
API_HANDLER(api_h_clusters_post);
API_HANDLER(api_h_cluster_get);
API_HANDLER(api_h_cluster_patch);
API_HANDLER(api_h_cluster_delete);
API_HANDLER(api_h_cluster_master);
API_HANDLER(api_h_cluster_replicas);
API_HANDLER(api_h_cluster_replica);
API_HANDLER(api_h_discover);
API_HANDLER(api_h_monitor_reset);
API_HANDLER(api_h_events);
API_HANDLER(api_h_switchover_post);
API_HANDLER(api_h_switchover_delete);
API_HANDLER(api_h_failover);
API_HANDLER(api_h_failover_plan);
API_HANDLER(api_h_cluster_failovers);
API_HANDLER(api_h_failover_one_get);
API_HANDLER(api_h_failover_one_delete);
API_HANDLER(api_h_failover_ack);
API_HANDLER(api_h_node_primary);
API_HANDLER(api_h_node_replica);
API_HANDLER(api_h_metrics);     /* handlers_metrics.c: Prometheus text format */
/* The whole /metrics page (malloc'd, *len bytes), or NULL when out of memory. */
char *api_metrics_text(struct api_ctx *ctx, size_t *len);
API_HANDLER(api_h_static);      /* handlers_static.c: embedded dashboard files */

/* JSON views shared by handlers (caller holds the fleet lock and the state
 * lock, in that order). */
json_t *api_node_json(struct api_ctx *ctx, const struct fleet_node *n);
json_t *api_cluster_json(struct api_ctx *ctx, const struct fleet_cluster *c, int detailed);
struct jbuf;
void api_cluster_write(struct jbuf *b, struct api_ctx *ctx, const struct fleet_cluster *c,
                       int detailed);
/* Take/release both read locks in order. */
void api_read_lock(struct api_ctx *ctx);
void api_read_unlock(struct api_ctx *ctx);
/* The node's observation (or an "unknown" one); caller holds the locks. */
const struct node_obs *api_obs(struct api_ctx *ctx, int64_t node_id);

#endif
