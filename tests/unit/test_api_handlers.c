/* test_api_handlers.c - request validation and error statuses through
 * api_handle(), without a socket: 400 (malformed JSON with line/column,
 * unknown field), 401, 404, 405, 409, 422, 503, idempotent registration, and
 * that a failed call changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../api/api.h"

struct env {
    char dir[64];
    char path[128];
    struct cfg cfg;
    struct store *st;
    struct fleet fleet;
    struct state state;
    struct api_ctx ctx;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -1;
    snprintf(e->dir, sizeof(e->dir), "/tmp/kvfleet-api-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    snprintf(e->path, sizeof(e->path), "%s/api.db", e->dir);
    cfg_init(&e->cfg);
    char err[512];
    if (store_open(&e->st, e->path, err, sizeof(err)) != STORE_OK)
        return -1;
    if (fleet_init(&e->fleet, e->st, err, sizeof(err)) != 0)
        return -1;
    if (state_init(&e->state) != 0)
        return -1;
    e->ctx.fleet = &e->fleet;
    e->ctx.state = &e->state;
    e->ctx.st = e->st;
    e->ctx.cfg = &e->cfg;
    e->ctx.node_timeout_ms = 200;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fleet_destroy(&e->fleet);
    state_destroy(&e->state);
    store_close(e->st);
    cfg_free(&e->cfg);
    char p[200];
    const char *sfx[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, sfx[i]);
        unlink(p);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

struct kv { const char *k, *v; };

static const char *qget(void *arg, const char *key)
{
    const struct kv *q = arg;
    for (; q != NULL && q->k != NULL; q++)
        if (strcmp(q->k, key) == 0)
            return q->v;
    return NULL;
}

/* Perform a request; returns the status and leaves the body in *body. */
static int call(struct env *e, const char *method, const char *path, const char *body,
                const char *auth, const struct kv *query, json_t **out)
{
    struct api_req req = { .method = method, .path = path, .body = body,
                           .body_len = body ? strlen(body) : 0, .authorization = auth,
                           .query = qget, .query_arg = (void *)query };
    struct api_resp r;
    api_handle(&e->ctx, &req, &r);
    assert_non_null(r.body);
    json_error_t jerr;
    json_t *j = json_loads(r.body, 0, &jerr);
    assert_non_null(j);
    free(r.body);
    if (out != NULL)
        *out = j;
    else
        json_decref(j);
    return r.status;
}

static const char *err_code(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static const char *err_msg(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "message"));
}

static void add_node(struct env *e, const char *name, int port)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"host\":\"127.0.0.1\",\"port\":%d,\"name\":\"%s\"}", port, name);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", body, NULL, NULL, NULL), 201);
}

static void test_node_register_and_idempotence(void **state)
{
    struct env *e = *state;
    json_t *j;
    assert_int_equal(call(e, "POST", "/api/v1/nodes",
                          "{\"host\":\"127.0.0.1\",\"port\":1,\"name\":\"a\",\"priority\":5,\"tags\":[\"x\"]}",
                          NULL, NULL, &j), 201);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "a");
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 5);
    json_decref(j);
    /* Same registration again: 200 with the existing node. */
    assert_int_equal(call(e, "POST", "/api/v1/nodes",
                          "{\"host\":\"127.0.0.1\",\"port\":1,\"name\":\"a\"}", NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 5);
    json_decref(j);
    /* Same address without a name: also the existing node. */
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"127.0.0.1\",\"port\":1}", NULL,
                          NULL, NULL), 200);
    /* Name taken at another address, address taken by another name: 409. */
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"127.0.0.1\",\"port\":2,\"name\":\"a\"}",
                          NULL, NULL, &j), 409);
    assert_string_equal(err_code(j), "conflict");
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"127.0.0.1\",\"port\":1,\"name\":\"b\"}",
                          NULL, NULL, NULL), 409);
    /* Default name host:port. */
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"127.0.0.1\",\"port\":3}", NULL,
                          NULL, &j), 201);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "127.0.0.1:3");
    json_decref(j);
}

static void test_validation_errors(void **state)
{
    struct env *e = *state;
    json_t *j;
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\": \"h\",\n \"port\": }", NULL,
                          NULL, &j), 400);
    assert_string_equal(err_code(j), "bad_json");
    assert_non_null(strstr(err_msg(j), "line 2"));
    assert_non_null(strstr(err_msg(j), "column"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1,\"colour\":1}",
                          NULL, NULL, &j), 400);
    assert_string_equal(err_code(j), "unknown_field");
    assert_non_null(strstr(err_msg(j), "colour"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "[1,2]", NULL, NULL, NULL), 400);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", NULL, NULL, NULL, NULL), 400);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":70000}", NULL,
                          NULL, &j), 422);
    assert_non_null(strstr(err_msg(j), "70000"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":\"6379\"}", NULL,
                          NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"port\":6379}", NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"bad host\",\"port\":1}", NULL,
                          NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1,\"name\":\"a/b\"}",
                          NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1,\"tags\":[1]}",
                          NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "GET", "/api/v1/nope", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(call(e, "PUT", "/api/v1/nodes", NULL, NULL, NULL, &j), 405);
    assert_string_equal(err_code(j), "method_not_allowed");
    json_decref(j);
    assert_int_equal(call(e, "GET", "/api/v1/nodes/ghost", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(call(e, "PATCH", "/api/v1/nodes/ghost", "{\"priority\":1}", NULL, NULL, NULL), 404);
    assert_int_equal(call(e, "DELETE", "/api/v1/nodes/ghost", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(fleet_cluster_by_name(&e->fleet, "x") == NULL, 1);
    assert_int_equal((int)e->fleet.nnodes, 0);       /* nothing was created */
}

static void test_clusters(void **state)
{
    struct env *e = *state;
    json_t *j;
    add_node(e, "m", 1);
    add_node(e, "r1", 2);
    add_node(e, "r2", 3);
    add_node(e, "x", 4);
    int64_t events_before = store_events_count(e->st);
    /* Unknown member: 422 and nothing created. */
    assert_int_equal(call(e, "POST", "/api/v1/clusters",
                          "{\"name\":\"c\",\"master\":\"m\",\"replicas\":[\"r1\",\"ghost\"]}", NULL,
                          NULL, &j), 422);
    assert_non_null(strstr(err_msg(j), "ghost"));
    json_decref(j);
    assert_null(fleet_cluster_by_name(&e->fleet, "c"));
    assert_int_equal(fleet_node_by_name(&e->fleet, "r1")->cluster_id, 0);
    assert_int_equal(store_events_count(e->st), events_before);
    /* Unknown settings key: 400 naming it. */
    assert_int_equal(call(e, "POST", "/api/v1/clusters",
                          "{\"name\":\"c\",\"master\":\"m\",\"settings\":{\"bogus\":1}}", NULL, NULL,
                          &j), 400);
    assert_non_null(strstr(err_msg(j), "settings.bogus"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/clusters",
                          "{\"name\":\"c\",\"master\":\"m\",\"replicas\":[\"m\"]}", NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/clusters",
                          "{\"name\":\"c\",\"master\":\"m\",\"replicas\":[\"r1\",\"r2\"],"
                          "\"settings\":{\"min_replicas_to_write\":1}}", NULL, NULL, &j), 201);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "master"), "node")), "m");
    assert_int_equal(json_array_size(json_object_get(j, "replicas")), 2);
    assert_non_null(json_object_get(j, "health"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/clusters", "{\"name\":\"c\",\"master\":\"x\"}", NULL,
                          NULL, NULL), 409);
    /* A node in two clusters. */
    assert_int_equal(call(e, "POST", "/api/v1/clusters", "{\"name\":\"d\",\"master\":\"x\",\"replicas\":[\"r1\"]}",
                          NULL, NULL, &j), 422);
    assert_non_null(strstr(err_msg(j), "one cluster"));
    json_decref(j);
    assert_null(fleet_cluster_by_name(&e->fleet, "d"));
    /* Master lookup. */
    assert_int_equal(call(e, "GET", "/api/v1/clusters/c/master", NULL, NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "port")), 1);
    json_decref(j);
    assert_int_equal(call(e, "GET", "/api/v1/clusters/zz/master", NULL, NULL, NULL, NULL), 404);
    /* Add / remove replicas. */
    assert_int_equal(call(e, "POST", "/api/v1/clusters/c/replicas", "{\"node\":\"x\"}", NULL, NULL, NULL), 200);
    int64_t ev_before = store_events_count(e->st);
    assert_int_equal(call(e, "POST", "/api/v1/clusters/c/replicas", "{\"node\":\"x\"}", NULL, NULL, NULL), 200);
    assert_int_equal(store_events_count(e->st), ev_before);        /* idempotent: no change */
    assert_int_equal(call(e, "POST", "/api/v1/clusters/c/replicas", "{\"node\":\"m\"}", NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/clusters/zz/replicas", "{\"node\":\"x\"}", NULL, NULL, NULL), 404);
    assert_int_equal(call(e, "DELETE", "/api/v1/clusters/c/replicas/m", NULL, NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "DELETE", "/api/v1/clusters/c/replicas/ghost", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(call(e, "DELETE", "/api/v1/clusters/c/replicas/x", NULL, NULL, NULL, &j), 200);
    assert_false(json_is_true(json_object_get(j, "detached")));   /* nothing listens on port 4 */
    json_decref(j);
    /* Node still in a cluster cannot be deleted. */
    assert_int_equal(call(e, "DELETE", "/api/v1/nodes/r1", NULL, NULL, NULL, NULL), 409);
    assert_int_equal(call(e, "DELETE", "/api/v1/nodes/x", NULL, NULL, NULL, NULL), 200);
    /* Settings. */
    assert_int_equal(call(e, "PATCH", "/api/v1/clusters/c", "{\"settings\":{\"lag_threshold_bytes\":-1}}",
                          NULL, NULL, NULL), 422);
    assert_int_equal(call(e, "PATCH", "/api/v1/clusters/c", "{\"master\":\"r1\"}", NULL, NULL, NULL), 400);
    assert_int_equal(call(e, "PATCH", "/api/v1/clusters/c", "{\"settings\":{\"lag_threshold_bytes\":5}}",
                          NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "settings"), "lag_threshold_bytes")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "settings"), "min_replicas_to_write")), 1);
    json_decref(j);
    /* Lists and filters. */
    assert_int_equal(call(e, "GET", "/api/v1/clusters", NULL, NULL, NULL, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "clusters")), 1);
    json_decref(j);
    struct kv q[] = { { "cluster", "c" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/nodes", NULL, NULL, q, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3);
    json_decref(j);
    struct kv q2[] = { { "role", "boss" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/nodes", NULL, NULL, q2, NULL), 400);
    /* Delete. */
    assert_int_equal(call(e, "DELETE", "/api/v1/clusters/c", NULL, NULL, NULL, NULL), 200);
    assert_int_equal(call(e, "GET", "/api/v1/clusters/c", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(fleet_node_by_name(&e->fleet, "r1")->cluster_id, 0);
}

static void test_auth(void **state)
{
    struct env *e = *state;
    e->cfg.api_token = strdup("t0ken");
    json_t *j;
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1}", NULL, NULL, &j), 401);
    assert_string_equal(err_code(j), "unauthorized");
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1}", "Bearer nope",
                          NULL, NULL), 401);
    assert_int_equal(call(e, "GET", "/api/v1/nodes", NULL, NULL, NULL, NULL), 200);  /* reads open */
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":1}", "Bearer t0ken",
                          NULL, NULL), 201);
    e->cfg.api_auth_reads = 1;
    assert_int_equal(call(e, "GET", "/api/v1/nodes", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(call(e, "GET", "/api/v1/nodes", NULL, "Bearer t0ken", NULL, NULL), 200);
}

static void test_db_unavailable(void **state)
{
    struct env *e = *state;
    add_node(e, "a", 1);
    assert_int_equal(store_set_query_only(e->st, 1), STORE_OK);
    json_t *j;
    assert_int_equal(call(e, "POST", "/api/v1/nodes", "{\"host\":\"h\",\"port\":2}", NULL, NULL, &j), 503);
    assert_string_equal(err_code(j), "unavailable");
    json_decref(j);
    assert_int_equal(call(e, "PATCH", "/api/v1/nodes/a", "{\"maintenance\":true}", NULL, NULL, NULL), 503);
    /* Nothing half-applied in memory. */
    assert_int_equal((int)e->fleet.nnodes, 1);
    assert_int_equal(fleet_node_by_name(&e->fleet, "a")->maintenance, 0);
    /* Reads keep working. */
    assert_int_equal(call(e, "GET", "/api/v1/nodes/a", NULL, NULL, NULL, NULL), 200);
    assert_int_equal(store_set_query_only(e->st, 0), STORE_OK);
    assert_int_equal(call(e, "PATCH", "/api/v1/nodes/a", "{\"maintenance\":true}", NULL, NULL, &j), 200);
    assert_true(json_is_true(json_object_get(j, "maintenance")));
    json_decref(j);
}

static void test_events_paging(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        add_node(e, name, 100 + i);
    }
    json_t *j;
    struct kv q[] = { { "limit", "2" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, q, &j), 200);
    json_t *evs = json_object_get(j, "events");
    assert_int_equal(json_array_size(evs), 2);
    json_int_t first = json_integer_value(json_object_get(json_array_get(evs, 0), "id"));
    json_int_t second = json_integer_value(json_object_get(json_array_get(evs, 1), "id"));
    assert_true(first > second);                                      /* newest first */
    const char *cursor = json_string_value(json_object_get(j, "next_cursor"));
    assert_non_null(cursor);
    char cur[32];
    snprintf(cur, sizeof(cur), "%s", cursor);
    json_decref(j);
    struct kv q2[] = { { "limit", "2" }, { "cursor", cur }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, q2, &j), 200);
    evs = json_object_get(j, "events");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "id")), second - 1);
    json_decref(j);
    struct kv q3[] = { { "node", "n3" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, q3, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "events"), 0), "actor")), "api");
    json_decref(j);
    struct kv q4[] = { { "since", "2999-01-01T00:00:00Z" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, q4, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 0);
    json_decref(j);
    struct kv bad1[] = { { "limit", "0" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, bad1, NULL), 400);
    struct kv bad2[] = { { "since", "yesterday" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, bad2, NULL), 400);
    struct kv bad3[] = { { "cursor", "-4" }, { NULL, NULL } };
    assert_int_equal(call(e, "GET", "/api/v1/events", NULL, NULL, bad3, NULL), 400);
}

static void test_health_and_discover_errors(void **state)
{
    struct env *e = *state;
    json_t *j;
    assert_int_equal(call(e, "GET", "/api/v1/health", NULL, NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_non_null(json_object_get(j, "version"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "database"), "status")), "ok");
    json_decref(j);
    /* Nothing listens on port 1: 422 with the reason. */
    assert_int_equal(call(e, "POST", "/api/v1/discover", "{\"host\":\"127.0.0.1\",\"port\":1}", NULL,
                          NULL, &j), 422);
    assert_non_null(strstr(err_msg(j), "127.0.0.1:1"));
    json_decref(j);
    assert_int_equal(call(e, "POST", "/api/v1/discover", "{\"host\":\"127.0.0.1\",\"port\":0}", NULL,
                          NULL, NULL), 422);
    assert_int_equal(call(e, "POST", "/api/v1/discover", "{\"host\":\"127.0.0.1\"", NULL, NULL, NULL), 400);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_node_register_and_idempotence),
        T(test_validation_errors),
        T(test_clusters),
        T(test_auth),
        T(test_db_unavailable),
        T(test_events_paging),
        T(test_health_and_discover_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
