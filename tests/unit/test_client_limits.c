/* Unit tests for the client limits of networking.c and reply.c: a reply that
 * passes client-output-buffer-limit or maxmemory is stopped while it is
 * produced (the loop of SRANDMEMBER with a count of -2^63+1 ends, its output
 * is freed, the client is marked to close), normal replies are untouched,
 * and maxmemory-clients accepts bytes or a percentage of maxmemory as Redis
 * 7.0 does. The network side (eviction order, slow readers, RSS) is in
 * tests/e2e/test_engine_limits.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "reply.h"

#define MB (1024ULL * 1024)

/* A client with a connection as far as the limits are concerned: fake
 * clients (RDB load, scripts) are never limited. Its close is only queued
 * (client_close_async), which h_client_free undoes. */
static client *limited_client(srv *s)
{
    client *c = h_client_new(s);
    c->flags &= ~CLIENT_FAKE;
    return c;
}

static void release_client(client *c)
{
    c->flags |= CLIENT_FAKE;
    h_client_free(c);
}

static int set_cfg(srv *s, const char *name, const char *value, char *err, size_t errlen)
{
    return cfg_set(&s->config, name, value, strlen(value), err, errlen);
}

static void test_obuf_hard_limit_stops_runaway_reply(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = limited_client(s);
    char err[256];
    assert_int_equal(set_cfg(s, "client-output-buffer-limit", "normal 1mb 0 0", err, sizeof(err)), 0);
    free(h_run(c, "SADD s a b c"));
    /* Without the check inside reply_*, this would not return. */
    char *out = h_run(c, "SRANDMEMBER s -9223372036854775807");
    assert_string_equal(out, "");
    free(out);
    assert_true(c->flags & CLIENT_CLOSE_ASAP);
    assert_true(reply_is_discarded(c));
    assert_int_equal(s->stats.client_obuf_limit_disconnections, 1);
    assert_int_equal(client_output_bytes(c), 0);
    release_client(c);
    h_srv_free(s);
}

static void test_maxmemory_stops_runaway_reply(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = limited_client(s);
    free(h_run(c, "SADD s a b c"));
    s->config.maxmemory = srv_used_memory(s) + 8 * MB;
    char *out = h_run(c, "SRANDMEMBER s -9223372036854775807");
    assert_string_equal(out, "");
    free(out);
    assert_true(c->flags & CLIENT_CLOSE_ASAP);
    assert_int_equal(s->stats.client_maxmemory_disconnections, 1);
    assert_true(srv_used_memory(s) <= s->config.maxmemory);
    release_client(c);
    h_srv_free(s);
}

/* Replies that fit are byte for byte what they were, limits or not. */
static void test_normal_replies_unchanged(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = limited_client(s);
    char err[256];
    assert_int_equal(set_cfg(s, "client-output-buffer-limit", "normal 1mb 512kb 10", err, sizeof(err)), 0);
    assert_int_equal(set_cfg(s, "maxmemory-clients", "16mb", err, sizeof(err)), 0);
    s->config.maxmemory = srv_used_memory(s) + 64 * MB;
    free(h_run(c, "SADD s a"));
    assert_true(h_expect(c, "SRANDMEMBER s -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"));
    /* 300 KB of reply: several output blocks, under every limit. */
    char *out = h_run(c, "SRANDMEMBER s -50000");
    assert_int_equal(strlen(out), strlen("*50000\r\n") + 50000 * strlen("$1\r\na\r\n"));
    free(out);
    assert_false(c->flags & CLIENT_CLOSE_ASAP);
    assert_int_equal(s->stats.client_obuf_limit_disconnections, 0);
    assert_int_equal(s->stats.client_maxmemory_disconnections, 0);
    release_client(c);
    h_srv_free(s);
}

static void keep_value(void *priv, const char *name, const char *value)
{
    (void)name;
    snprintf(priv, 64, "%s", value);
}

/* CONFIG GET of one directive */
static const char *cfg_value(srv *s, const char *name)
{
    static char value[64];
    value[0] = '\0';
    cfg_get(&s->config, name, strlen(name), keep_value, value);
    return value;
}

static void test_maxmemory_clients_syntax(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    char err[256];
    assert_string_equal(cfg_value(s, "maxmemory-clients"), "0");
    assert_int_equal(set_cfg(s, "maxmemory-clients", "10%", err, sizeof(err)), 0);
    assert_string_equal(cfg_value(s, "maxmemory-clients"), "10%");
    assert_int_equal(set_cfg(s, "maxmemory-clients", "101%", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "percentage argument must be less or equal to 100"));
    assert_int_equal(set_cfg(s, "maxmemory-clients", "abc", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "argument must be a memory or percent value"));
    assert_int_equal(set_cfg(s, "maxmemory-clients", "-1", err, sizeof(err)), -1);
    assert_int_equal(set_cfg(s, "maxmemory-clients", "5mb", err, sizeof(err)), 0);
    assert_string_equal(cfg_value(s, "maxmemory-clients"), "5242880");
    assert_int_equal(set_cfg(s, "maxmemory-clients", "0%", err, sizeof(err)), 0);
    assert_string_equal(cfg_value(s, "maxmemory-clients"), "0");
    h_srv_free(s);
}

static void test_eviction_limit(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    s->config.maxmemory_clients = 0;
    assert_int_equal(client_eviction_limit(s), 0);
    s->config.maxmemory_clients = -10;      /* 10% */
    s->config.maxmemory = 0;
    assert_int_equal(client_eviction_limit(s), 0);  /* a percentage of nothing: off */
    s->config.maxmemory = 100 * MB;
    assert_int_equal(client_eviction_limit(s), 10 * MB);
    s->config.maxmemory_clients = 1024;     /* never below 128 KB */
    assert_int_equal(client_eviction_limit(s), 128 * 1024);
    s->config.maxmemory_clients = (long long)(64 * MB);
    assert_int_equal(client_eviction_limit(s), 64 * MB);
    h_srv_free(s);
}

static void test_no_evict_flag(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "CLIENT NO-EVICT on", "+OK\r\n"));
    assert_true(c->flags & CLIENT_NO_EVICT);
    char *line = client_info_line(c, kstr_empty(256));
    assert_non_null(strstr(line, " flags=e "));
    kstr_free(line);
    assert_true(h_expect(c, "CLIENT NO-EVICT off", "+OK\r\n"));
    assert_false(c->flags & CLIENT_NO_EVICT);
    assert_true(h_expect(c, "CLIENT NO-EVICT maybe", "-ERR syntax error\r\n"));
    /* tot-mem is what maxmemory-clients counts */
    line = client_info_line(c, kstr_empty(256));
    char want[64];
    snprintf(want, sizeof(want), " tot-mem=%zu ", client_memory_usage(c));
    assert_non_null(strstr(line, want));
    kstr_free(line);
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obuf_hard_limit_stops_runaway_reply),
        cmocka_unit_test(test_maxmemory_stops_runaway_reply),
        cmocka_unit_test(test_normal_replies_unchanged),
        cmocka_unit_test(test_maxmemory_clients_syntax),
        cmocka_unit_test(test_eviction_limit),
        cmocka_unit_test(test_no_evict_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
