/* test_api_routes.c - route matching (pure) and bearer token comparison. */
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

static void test_mutating_flag(void **state)
{
    (void)state;
    struct api_match m;
    api_route_match("GET", "/api/v1/nodes", &m);
    assert_false(m.mutating);
    api_route_match("POST", "/api/v1/nodes", &m);
    assert_true(m.mutating);
    api_route_match("DELETE", "/api/v1/clusters/x", &m);
    assert_true(m.mutating);
}

static void test_not_found(void **state)
{
    (void)state;
    struct api_match m;
    const char *paths[] = { "/", "/api", "/api/v1", "/api/v2/nodes", "/api/v1/nodesx",
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
    assert_string_equal(m.allow, "GET, POST");
    api_route_match("PUT", "/api/v1/nodes/a", &m);
    assert_int_equal(m.status, 405);
    api_route_match("GET", "/api/v1/discover", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "POST");
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
        cmocka_unit_test(test_mutating_flag),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
