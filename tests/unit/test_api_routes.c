/* test_api_routes.c - route matching (pure): one row per method, HEAD on
 * GET rows, 405 with the methods of every row of a pattern, the dashboard
 * catch-all losing to every API route; bearer token comparison; entity tags
 * and If-None-Match parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../api/api.h"

static void expect_route(const char *method, const char *path, int route, const char *p0,
                         const char *p1)
{
    struct api_match m;
    api_route_match(method, path, &m);
    assert_int_equal(m.status, 0);
    assert_int_equal(m.route, route);
    if (p0 != NULL)
        assert_string_equal(m.params[0], p0);
    if (p1 != NULL)
        assert_string_equal(m.params[1], p1);
}

static void test_matches(void **state)
{
    (void)state;
    expect_route("GET", "/api/v1/health", API_R_HEALTH, NULL, NULL);
    expect_route("GET", "/api/v1/nodes", API_R_NODES, NULL, NULL);
    expect_route("POST", "/api/v1/nodes", API_R_NODES, NULL, NULL);
    expect_route("GET", "/api/v1/nodes/", API_R_NODES, NULL, NULL);
    expect_route("PATCH", "/api/v1/nodes/n1", API_R_NODE, "n1", NULL);
    expect_route("DELETE", "/api/v1/nodes/127.0.0.1:7001", API_R_NODE, "127.0.0.1:7001", NULL);
    expect_route("GET", "/api/v1/clusters/c1", API_R_CLUSTER, "c1", NULL);
    expect_route("GET", "/api/v1/clusters/c1/master", API_R_CLUSTER_MASTER, "c1", NULL);
    expect_route("POST", "/api/v1/clusters/c1/replicas", API_R_CLUSTER_REPLICAS, "c1", NULL);
    expect_route("DELETE", "/api/v1/clusters/c1/replicas/n3", API_R_CLUSTER_REPLICA, "c1", "n3");
    expect_route("POST", "/api/v1/discover", API_R_DISCOVER, NULL, NULL);
    expect_route("GET", "/api/v1/events", API_R_EVENTS, NULL, NULL);
    expect_route("HEAD", "/api/v1/events", API_R_EVENTS, NULL, NULL);
    expect_route("POST", "/api/v1/monitor/stats/reset", API_R_MONITOR_RESET, NULL, NULL);
}

/* Each method of a resource is its own row (own handler, own auth). */
static void test_one_row_per_method(void **state)
{
    (void)state;
    struct api_match get, patch, del, head;
    api_route_match("GET", "/api/v1/nodes/a", &get);
    api_route_match("PATCH", "/api/v1/nodes/a", &patch);
    api_route_match("DELETE", "/api/v1/nodes/a", &del);
    api_route_match("HEAD", "/api/v1/nodes/a", &head);
    assert_int_equal(get.route, API_R_NODE);
    assert_int_equal(patch.route, API_R_NODE);
    assert_true(get.row != patch.row && patch.row != del.row && get.row != del.row);
    assert_int_equal(head.row, get.row);                 /* HEAD is served by GET */
    assert_string_equal(api_route_method((size_t)get.row), "GET");
    assert_string_equal(api_route_method((size_t)patch.row), "PATCH");
    assert_string_equal(api_route_name((size_t)del.row), "/api/v1/nodes/{}");
    assert_int_equal(get.row >= 0 && (size_t)get.row < api_route_count(), 1);
    assert_string_equal(api_route_name(api_route_count()), "none");
}

static void test_metrics_and_static(void **state)
{
    (void)state;
    struct api_match m;
    expect_route("GET", "/metrics", API_R_METRICS, NULL, NULL);
    expect_route("GET", "/", API_R_STATIC, "", NULL);
    expect_route("HEAD", "/", API_R_STATIC, "", NULL);
    expect_route("GET", "/index.html", API_R_STATIC, "index.html", NULL);
    expect_route("GET", "/js/app.js", API_R_STATIC, "js/app.js", NULL);
    expect_route("GET", "/docs/", API_R_STATIC, "docs/", NULL);
    api_route_match("GET", "/app.js", &m);
    assert_string_equal(api_route_name((size_t)m.row), "static");
    /* The API always wins, and unknown API paths never become file lookups. */
    const char *api_paths[] = { "/api", "/api/", "/api/v1", "/api/v1/nope", "/api/v2/nodes" };
    for (size_t i = 0; i < sizeof(api_paths) / sizeof(api_paths[0]); i++) {
        api_route_match("GET", api_paths[i], &m);
        assert_int_equal(m.status, 404);
        assert_int_equal(m.row, -1);
    }
    expect_route("GET", "/apiary.html", API_R_STATIC, "apiary.html", NULL);
    api_route_match("POST", "/metrics", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD");
    api_route_match("POST", "/index.html", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD");
    /* A static path longer than a parameter is simply unknown. */
    char longp[400] = "/";
    memset(longp + 1, 'x', 200);
    api_route_match("GET", longp, &m);
    assert_int_equal(m.status, 404);
}

static void test_not_found(void **state)
{
    (void)state;
    struct api_match m;
    const char *paths[] = { "/api", "/api/v1", "/api/v2/nodes", "/api/v1/nodesx",
                            "/api/v1/nodes/a/b", "/api/v1/clusters/c1/replicas/n/x",
                            "/api/v1/clusters//master", "/api/v1/nodes//" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        api_route_match("GET", paths[i], &m);
        assert_int_equal(m.status, 404);
        assert_int_equal(m.route, API_R_NONE);
    }
    /* A segment longer than the parameter buffer is not a match. */
    char longp[400] = "/api/v1/nodes/";
    memset(longp + strlen(longp), 'x', 200);
    api_route_match("GET", longp, &m);
    assert_int_equal(m.status, 404);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    struct api_match m;
    api_route_match("DELETE", "/api/v1/nodes", &m);
    assert_int_equal(m.status, 405);
    assert_int_equal(m.row, -1);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    api_route_match("PUT", "/api/v1/nodes/a", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD, PATCH, DELETE");
    api_route_match("GET", "/api/v1/discover", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "POST");
    api_route_match("HEAD", "/api/v1/clusters/c/switchover", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "POST, DELETE");
    api_route_match("FROB", "/api/v1/failovers/3", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD, DELETE");
}

static void test_etag(void **state)
{
    (void)state;
    char a[API_ETAG_MAX], b[API_ETAG_MAX], c[API_ETAG_MAX];
    api_etag_of("{\"nodes\":[]}", 12, a);
    api_etag_of("{\"nodes\":[]}", 12, b);
    api_etag_of("{\"nodes\":[1]}", 13, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 18);                     /* quotes + 16 hex digits */
    assert_int_equal(a[0], '"');
    api_etag_of("", 0, b);
    assert_string_equal(b, "\"cbf29ce484222325\"");     /* FNV-1a 64 offset basis */
    assert_true(api_etag_match(a, a));
    assert_true(api_etag_match("\"x\", \"y\"", "\"y\""));
    assert_true(api_etag_match("\"x\",\"y\"", "\"x\""));
    assert_true(api_etag_match("W/\"y\"", "\"y\""));      /* weak comparison */
    assert_true(api_etag_match("*", "\"y\""));
    assert_true(api_etag_match(" * ", "\"y\""));
    assert_false(api_etag_match("\"x\"", "\"y\""));
    assert_false(api_etag_match("\"yy\"", "\"y\""));
    assert_false(api_etag_match("y", "\"y\""));             /* unquoted: malformed */
    assert_false(api_etag_match("", "\"y\""));
    assert_false(api_etag_match("W/", "\"y\""));
    assert_false(api_etag_match("\"y", "\"y\""));          /* unterminated */
    assert_false(api_etag_match("*x", "\"y\""));
    assert_false(api_etag_match(NULL, "\"y\""));
    assert_false(api_etag_match("\"y\"", ""));
}

static void test_auth(void **state)
{
    (void)state;
    assert_true(api_auth_ok("Bearer s3cret", "s3cret"));
    assert_false(api_auth_ok("Bearer s3cre", "s3cret"));
    assert_false(api_auth_ok("Bearer s3cretx", "s3cret"));
    assert_false(api_auth_ok("Bearer S3cret", "s3cret"));
    assert_false(api_auth_ok("bearer s3cret", "s3cret"));
    assert_false(api_auth_ok("s3cret", "s3cret"));
    assert_false(api_auth_ok("Bearer ", "s3cret"));
    assert_false(api_auth_ok(NULL, "s3cret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_one_row_per_method),
        cmocka_unit_test(test_metrics_and_static),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
