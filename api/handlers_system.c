/* handlers_system.c - /api/v1/health, /api/v1/discover, /api/v1/events. */
#include "api.h"
#include "../server/discover.h"
#include "../server/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void api_h_health(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m,
                  struct api_resp *r)
{
    (void)req;
    (void)m;
    int db_ok = store_ping(ctx->st) == STORE_OK;
    json_t *mon = json_null();
    if (ctx->mon != NULL) {
        struct monitor_stats s;
        monitor_stats_get(ctx->mon, &s);
        struct control_stats cs = { 0 };
        if (ctx->ctl != NULL)
            control_stats_get(ctx->ctl, &cs);
        mon = json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:{s:I,s:f,s:f,s:f},s:{s:f,s:f}}",
                        "nodes", s.nodes, "interval_ms", ctx->cfg->monitor_interval_ms,
                        "timeout_ms", ctx->cfg->monitor_timeout_ms,
                        "polls_ok", (json_int_t)s.polls_ok, "polls_failed", (json_int_t)s.polls_failed,
                        "timeouts", (json_int_t)s.timeouts,
                        "reconcile_actions", (json_int_t)cs.reconcile_actions,
                        "inter_poll_ms", "samples", (json_int_t)s.gap_samples,
                        "p50", s.gap_p50_ms, "p99", s.gap_p99_ms, "max", s.gap_max_ms,
                        "poll_duration_ms", "p50", s.poll_p50_ms, "p99", s.poll_p99_ms);
        if (mon != NULL)
            json_object_set_new(mon, "failover",
                                json_pack("{s:I,s:I,s:i}", "completed", (json_int_t)cs.failovers,
                                          "failed", (json_int_t)cs.failovers_failed, "running",
                                          cs.operations_running));
    }
    fleet_rdlock(ctx->fleet);
    json_int_t nn = (json_int_t)ctx->fleet->nnodes, nc = (json_int_t)ctx->fleet->nclusters;
    fleet_unlock(ctx->fleet);
    json_t *j = json_pack("{s:s,s:s,s:I,s:{s:s,s:s,s:i},s:I,s:I,s:o}",
                          "status", db_ok ? "ok" : "failing", "version", KVFLEETD_VERSION,
                          "uptime_ms", (json_int_t)(store_now_ms() - ctx->started_ms),
                          "database", "status", db_ok ? "ok" : "unavailable",
                          "path", store_path(ctx->st), "schema_version",
                          store_schema_version(ctx->st),
                          "nodes", nn, "clusters", nc, "monitor", mon);
    api_reply(r, db_ok ? 200 : 503, j);
}

/* Debug/benchmark helper: restart the monitor's counters. */
void api_h_monitor_reset(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m,
                         struct api_resp *r)
{
    (void)req;
    (void)m;
    if (ctx->mon != NULL)
        monitor_stats_reset(ctx->mon);
    api_reply(r, 200, json_pack("{s:b}", "reset", ctx->mon != NULL));
}

void api_h_discover(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m,
                    struct api_resp *r)
{
    (void)m;
    static const char *const allowed[] = { "host", "port", "name", NULL };
    json_t *j = api_parse_object(req, r, allowed);
    if (j == NULL)
        return;
    json_t *host = json_object_get(j, "host"), *port = json_object_get(j, "port");
    json_t *name = json_object_get(j, "name");
    struct discover_result *res = NULL;
    if (!json_is_string(host) || !fleet_host_valid(json_string_value(host))) {
        api_error(r, 422, "unprocessable", "'host' is required and must be a host name or address");
        goto out;
    }
    if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
        api_error(r, 422, "unprocessable", "'port' is required and must be an integer in 1-65535");
        goto out;
    }
    if (name != NULL && !json_is_string(name)) {
        api_error(r, 422, "unprocessable", "'name' must be a string");
        goto out;
    }
    res = malloc(sizeof(*res));
    if (res == NULL) {
        api_error(r, 500, "internal", "out of memory");
        goto out;
    }
    if (discover_crawl(json_string_value(host), (int)json_integer_value(port),
                       ctx->cfg->node_user, ctx->cfg->node_auth, ctx->node_timeout_ms, res) != 0) {
        api_error(r, res->status, "unprocessable", "discovery failed: %s", res->err);
        goto out;
    }
    char cname[FLEET_HOST_MAX + 16];
    if (name != NULL)
        snprintf(cname, sizeof(cname), "%s", json_string_value(name));
    else
        fleet_addr_format(cname, sizeof(cname), res->nodes[0].host, res->nodes[0].port);
    struct cluster_settings s;
    health_settings_default(&s);
    struct fleet_err e;
    if (fleet_adopt(ctx->fleet, cname, res->nodes, res->n, &s, "api:discover", &e) != 0) {
        api_fleet_error(r, &e);
        goto out;
    }
    json_t *found = json_array();
    for (size_t i = 0; i < res->n; i++) {
        char addr[FLEET_HOST_MAX + 16];
        fleet_addr_format(addr, sizeof(addr), res->nodes[i].host, res->nodes[i].port);
        json_array_append_new(found, json_pack("{s:s,s:s,s:b}", "address", addr, "role",
                                               i == 0 ? "master" : "replica", "reachable",
                                               res->reachable[i]));
    }
    api_read_lock(ctx);
    struct fleet_cluster *c = fleet_cluster_by_name(ctx->fleet, cname);
    json_t *cj = c != NULL ? api_cluster_json(ctx, c, 1) : json_object();
    api_read_unlock(ctx);
    if (cj != NULL)
        json_object_set_new(cj, "discovered", found);
    else
        json_decref(found);
    api_reply(r, 201, cj);
out:
    free(res);
    json_decref(j);
}


static int ev_cb(void *arg, const struct store_event *ev)
{
    json_t *e = json_pack("{s:I,s:o,s:I,s:o,s:o,s:s,s:s,s:s}", "id", (json_int_t)ev->id,
                          "time", api_time_json(ev->ts), "ts_ms", (json_int_t)ev->ts,
                          "cluster", ev->cluster ? json_string(ev->cluster) : json_null(),
                          "node", ev->node ? json_string(ev->node) : json_null(),
                          "kind", ev->kind ? ev->kind : "", "message", ev->message ? ev->message : "",
                          "actor", ev->actor ? ev->actor : "");
    api_page_add(arg, ev->id, e);
    return 0;
}

static int parse_pos(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

void api_h_events(struct api_ctx *ctx, const struct api_req *req, const struct api_match *m,
                  struct api_resp *r)
{
    (void)m;
    struct store_event_filter f = { .cluster = api_query(req, "cluster"),
                                    .node = api_query(req, "node"), .limit = 100 };
    const char *since = api_query(req, "since"), *limit = api_query(req, "limit");
    const char *cursor = api_query(req, "cursor");
    long long v;
    if (since != NULL && api_parse_time(since, &f.since_ms) != 0) {
        api_error(r, 400, "bad_request",
                  "since must be milliseconds since the epoch or ISO 8601 like 2026-01-31T12:00:00Z, "
                  "2026-01-31T14:00:00+02:00 or 2026-01-31");
        return;
    }
    if (limit != NULL) {
        if (parse_pos(limit, 1, 1000, &v) != 0) {
            api_error(r, 400, "bad_request", "limit must be an integer between 1 and 1000");
            return;
        }
        f.limit = (int)v;
    }
    if (cursor != NULL) {
        if (parse_pos(cursor, 1, INT64_MAX, &v) != 0) {
            api_error(r, 400, "bad_request", "cursor must be a value returned as next_cursor");
            return;
        }
        f.before_id = v;
    }
    struct api_page page;
    api_page_init(&page, f.limit);
    f.limit++;                          /* one more row: is there a next page? */
    int rc = store_events_query(ctx->st, &f, ev_cb, &page);
    if (rc != STORE_OK) {
        json_decref(page.arr);
        api_error(r, 503, "unavailable", "cannot read events: %s", store_errmsg(ctx->st));
        return;
    }
    api_reply(r, 200, json_pack("{s:o,s:o}", "events", page.arr, "next_cursor",
                                api_page_cursor(&page)));
}
