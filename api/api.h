/* api.h - kvfleetd REST API (JSON under /api/v1).
 *
 * Transport-free core: api_handle() takes a parsed request (method, path,
 * query getter, body, Authorization header) and produces a status and a JSON
 * body, so routing, auth and validation are unit-tested without a socket.
 * api/http.c glues it to libmicrohttpd. */
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

struct api_ctx {
    struct fleet *fleet;
    struct state *state;      /* observations (lock order: fleet -> state) */
    struct control *ctl;      /* NULL in unit tests: operations answer 503 */
    struct store *st;
    const struct cfg *cfg;
    struct monitor *mon;      /* NULL in unit tests */
    int64_t started_ms;
    int node_timeout_ms;      /* blocking RESP calls (discover, detach) */
};

struct api_req {
    const char *method;
    const char *path;
    const char *(*query)(void *arg, const char *key);  /* may be NULL */
    void *query_arg;
    const char *body;
    size_t body_len;
    const char *authorization;                          /* header or NULL */
};

struct api_resp {
    int status;
    char *body;               /* malloc'd JSON text */
};

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
};

#define API_MAX_PARAMS 2
#define API_PARAM_MAX 128

struct api_match {
    int route;                /* enum api_route; API_R_NONE when status != 0 */
    int status;               /* 0 matched, 404 no such path, 405 wrong method */
    int mutating;
    int nparams;
    char params[API_MAX_PARAMS][API_PARAM_MAX + 1];
    char allow[64];           /* methods allowed on the path (405) */
};

/* Pure: match method + path against the route table. */
void api_route_match(const char *method, const char *path, struct api_match *m);

/* Dispatch one request: auth, routing, handler. Always fills resp. */
void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp);

/* Constant-time check of "Bearer <token>". */
int api_auth_ok(const char *header, const char *token);

/* ---- helpers (json.c) ---- */
void api_error(struct api_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Takes ownership of a malloc'd JSON text (NULL -> 500). */
void api_reply_text(struct api_resp *r, int status, char *text);
/* Steals the reference to j. */
void api_reply(struct api_resp *r, int status, json_t *j);
/* Parse the body as a JSON object whose keys are all in `allowed` (NULL
 * terminated). On failure sets a 400 response and returns NULL. */
json_t *api_parse_object(const struct api_req *req, struct api_resp *r,
                         const char *const *allowed);
/* Check that an object only has allowed keys; prefix names nested objects. */
int api_check_fields(json_t *obj, const char *const *allowed, const char *prefix,
                     struct api_resp *r);
void api_time_iso(int64_t ms, char *buf, size_t len);
/* Integer milliseconds since the epoch, or ISO 8601 UTC
 * ("2026-01-31T12:00:00Z", optional .mmm). 0, or -1 when neither. */
int api_parse_time(const char *s, int64_t *out);
json_t *api_time_json(int64_t ms);   /* null for 0 */
void api_fleet_error(struct api_resp *r, const struct fleet_err *e);
const char *api_query(const struct api_req *req, const char *key);

/* ---- handlers ---- */
typedef void (*api_handler)(struct api_ctx *ctx, const struct api_req *req,
                            const struct api_match *m, struct api_resp *r);
void api_h_health(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_nodes(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_node(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_clusters(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_cluster(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_cluster_master(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_cluster_replicas(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_cluster_replica(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_discover(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_monitor_reset(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_events(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_switchover(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_failover(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_failover_plan(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_cluster_failovers(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_failover_one(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_failover_ack(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_node_primary(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);
void api_h_node_replica(struct api_ctx *, const struct api_req *, const struct api_match *, struct api_resp *);

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
