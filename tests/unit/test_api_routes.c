/* test_api_routes.c - route matching (pure): one row per method, HEAD on
 * GET rows, 405 with the methods of every row of a pattern, the dashboard
 * catch-all losing to every API route; percent-decoding per segment (an
 * escaped NUL or control character is a 400, never another route); the
 * query string check; bearer token comparison; entity tags and
 * If-None-Match parsing; ISO 8601 times; listing pages. */
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

static void expect_bad(const char *method, const char *path)
{
    struct api_match m;
    api_route_match(method, path, &m);
    assert_int_equal(m.status, 400);
    assert_int_equal(m.route, API_R_NONE);
    assert_int_equal(m.row, -1);
    assert_non_null(m.why);
}

/* The reliability issue: a %00 cut MHD's decoded URL short, so
 * DELETE /clusters/c3%00/replicas/m2 deleted cluster c3. Routing now
 * splits the raw path first and refuses what decodes to a control
 * character, whatever the route. */
static void test_escaped_nul_and_controls(void **state)
{
    (void)state;
    expect_bad("DELETE", "/api/v1/clusters/c3%00/replicas/m2");
    expect_bad("PATCH", "/api/v1/nodes/victim%00anything");
    expect_bad("DELETE", "/api/v1/nodes/victim%00anything");
    expect_bad("GET", "/api/v1/nodes/victim%00");
    expect_bad("GET", "/api/v1/nodes/%00");
    expect_bad("GET", "/api/v1%00/nodes");
    expect_bad("GET", "/index.html%00.js");                 /* the dashboard too */
    expect_bad("GET", "/api/v1/nodes/a%01b");
    expect_bad("GET", "/api/v1/nodes/a%0Ab");
    expect_bad("GET", "/api/v1/nodes/a%0d%0aX-Injected:%201");
    expect_bad("GET", "/api/v1/nodes/a%1fb");
    expect_bad("GET", "/api/v1/nodes/a%7Fb");
    expect_bad("GET", "/api/v1/nodes/a\x01b");             /* raw control byte */
    expect_bad("GET", "/api/v1/nodes/a b");                /* raw space */
    expect_bad("GET", "/api/v1/nodes/a\xc3\xa9");          /* raw non-ASCII */
    /* Malformed escapes and what is not UTF-8 once decoded. */
    expect_bad("GET", "/api/v1/nodes/a%zz");
    expect_bad("GET", "/api/v1/nodes/a%4");
    expect_bad("GET", "/api/v1/nodes/a%");
    expect_bad("GET", "/api/v1/nodes/%ff");
    expect_bad("GET", "/api/v1/nodes/%c3");                /* truncated sequence */
    expect_bad("GET", "/api/v1/nodes/%c0%af");             /* overlong '/' */
    expect_bad("GET", "/api/v1/nodes/%ed%a0%80");          /* surrogate */
    struct api_match m;
    api_route_match("GET", "/api/v1/nodes/%00", &m);
    assert_non_null(strstr(m.why, "control character"));
    /* Escapes that decode to something fine still route as before. */
    expect_route("GET", "/api/v1/no%64es", API_R_NODES, NULL, NULL);
    expect_route("GET", "/api/v1/nodes/caf%C3%A9", API_R_NODE, "caf\xc3\xa9", NULL);
    expect_route("GET", "/api/v1/nodes/%5B::1%5D:6381", API_R_NODE, "[::1]:6381", NULL);
    expect_route("DELETE", "/api/v1/nodes/a%25b", API_R_NODE, "a%b", NULL);
    /* An escaped '/' stays inside its segment: a name no node has, never
     * a route of its own. */
    expect_route("DELETE", "/api/v1/clusters/c3%2Freplicas%2Fm2", API_R_CLUSTER,
                 "c3/replicas/m2", NULL);
    expect_route("DELETE", "/api/v1/clusters/c3/replicas/m2", API_R_CLUSTER_REPLICA, "c3", "m2");
    expect_route("GET", "/js%2Fapp.js", API_R_STATIC, "js/app.js", NULL);
    /* Not a path at all: nothing to serve. */
    api_route_match("GET", "*", &m);
    assert_int_equal(m.status, 404);
    api_route_match("GET", "", &m);
    assert_int_equal(m.status, 404);
}

static void test_query_check(void **state)
{
    (void)state;
    assert_null(api_query_check(""));
    assert_null(api_query_check("cluster=c1&limit=3"));
    assert_null(api_query_check("since=2026-12-05T10:00:00%2B02:00"));
    assert_null(api_query_check("since=2026-12-05T10:00:00+02:00"));   /* '+' is fine */
    assert_null(api_query_check("node=caf%C3%A9"));
    assert_null(api_query_check("cluster="));
    assert_non_null(api_query_check("cluster=a%00b"));
    assert_non_null(api_query_check("cluster=a%0ab"));
    assert_non_null(api_query_check("cluster=a%7f"));
    assert_non_null(api_query_check("cluster=%ff"));
    assert_non_null(api_query_check("cluster=%g1"));
    assert_non_null(api_query_check("cluster=a b"));
    assert_non_null(api_query_check("cluster=a%"));
}

static int64_t t_ok(const char *s)
{
    int64_t v = -42;
    assert_int_equal(api_parse_time(s, &v), 0);
    return v;
}

static void t_bad(const char *s)
{
    int64_t v = -42;
    assert_int_equal(api_parse_time(s, &v), -1);
    assert_int_equal(v, -42);                            /* untouched */
}

/* Expected values from `date -u -d <UTC time> +%s` (times 1000). */
static void test_parse_time(void **state)
{
    (void)state;
    /* Milliseconds since the epoch, as before. */
    assert_int_equal(t_ok("0"), 0);
    assert_int_equal(t_ok("1796428800000"), 1796428800000LL);
    /* The Z form, as before, with and without a fraction. */
    assert_int_equal(t_ok("2026-01-31T12:00:00Z"), 1769860800000LL);
    assert_int_equal(t_ok("2026-01-31T12:00:00.123Z"), 1769860800123LL);
    assert_int_equal(t_ok("2026-01-31T12:00:00.5Z"), 1769860800500LL);
    assert_int_equal(t_ok("2026-01-31T12:00:00.123987Z"), 1769860800123LL);   /* truncated */
    assert_int_equal(t_ok("2026-01-31T12:00:00"), 1769860800000LL);           /* no zone: UTC */
    assert_int_equal(t_ok("2026-01-31t12:00:00z"), 1769860800000LL);          /* RFC 3339 */
    assert_int_equal(t_ok("2026-01-31T12:00:00+00:00"), 1769860800000LL);
    /* Offsets: local time minus the offset. */
    assert_int_equal(t_ok("2026-12-05T10:00:00+02:00"), 1796457600000LL);   /* 08:00Z */
    assert_int_equal(t_ok("2026-12-05T10:00:00-05:30"), 1796484600000LL);   /* 15:30Z */
    assert_int_equal(t_ok("2026-12-05T10:00:00+0200"), 1796457600000LL);
    assert_int_equal(t_ok("2026-12-05T10:00:00-0530"), 1796484600000LL);
    assert_int_equal(t_ok("2026-12-05T10:00:00+02"), 1796457600000LL);
    assert_int_equal(t_ok("2026-12-05T10:00:00.250+02:00"), 1796457600250LL);
    assert_int_equal(t_ok("2026-12-05T01:00:00+02:00"), 1796425200000LL);   /* the day before */
    assert_int_equal(t_ok("2026-12-05T10:00:00 02:00"), 1796457600000LL);   /* form-decoded '+' */
    assert_int_equal(t_ok("2026-12-05T12:45Z"), 1796474700000LL);          /* no seconds */
    /* A bare date: midnight UTC. */
    assert_int_equal(t_ok("2026-12-05"), 1796428800000LL);
    assert_int_equal(t_ok("2024-02-29"), 1709164800000LL);                  /* leap day */
    assert_int_equal(t_ok("2000-03-01"), 951868800000LL);
    assert_int_equal(t_ok("1970-01-01"), 0);
    /* Refused. */
    const char *bad[] = {
        "", "yesterday", "-5", "+5", " 5", "5ms", "2026-12-5", "2026-12-05Z", "2026-12-05T",
        "2026-12-05 10:00:00Z", "2026-02-29", "2026-13-01", "2026-00-10", "2026-12-32",
        "2026-12-05T24:00:00Z", "2026-12-05T10:60:00Z", "2026-12-05T10:00:61Z",
        "2026-12-05T10:00:00.Z", "2026-12-05T10:00:00+24:00", "2026-12-05T10:00:00+02:60",
        "2026-12-05T10:00:00+02:", "2026-12-05T10:00:00+2", "2026-12-05T10:00:00+02:00Z",
        "2026-12-05T10:00:00+020", "2026-12-05T10:00:00Zjunk", "2026-12-05T1:00:00Z",
        "1969-12-31", "1970-01-01T00:00:00+01:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        t_bad(bad[i]);
}

/* next_cursor only when a further row exists: the store is asked for
 * limit + 1 rows. */
static void test_page(void **state)
{
    (void)state;
    struct api_page p;
    api_page_init(&p, 2);                  /* exactly full, nothing follows */
    api_page_add(&p, 9, json_integer(9));
    api_page_add(&p, 7, json_integer(7));
    json_t *c = api_page_cursor(&p);
    assert_true(json_is_null(c));
    json_decref(c);
    assert_int_equal(json_array_size(p.arr), 2);
    json_decref(p.arr);
    api_page_init(&p, 2);                  /* one more row: a next page */
    api_page_add(&p, 9, json_integer(9));
    api_page_add(&p, 7, json_integer(7));
    api_page_add(&p, 4, json_integer(4));
    c = api_page_cursor(&p);
    assert_string_equal(json_string_value(c), "7");
    json_decref(c);
    assert_int_equal(json_array_size(p.arr), 2);  /* the extra row is not shown */
    json_decref(p.arr);
    api_page_init(&p, 5);                  /* short page */
    api_page_add(&p, 3, json_integer(3));
    c = api_page_cursor(&p);
    assert_true(json_is_null(c));
    json_decref(c);
    json_decref(p.arr);
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
        cmocka_unit_test(test_escaped_nul_and_controls),
        cmocka_unit_test(test_query_check),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
