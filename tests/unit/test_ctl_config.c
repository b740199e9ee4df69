/* test_ctl_config.c - kvfleetd configuration: line splitting, directives,
 * file errors with line numbers, command-line overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/config.h"

static void free_args(char **argv, int argc)
{
    for (int i = 0; i < argc; i++)
        free(argv[i]);
}

static void test_split(void **state)
{
    (void)state;
    char *argv[CFG_MAX_ARGS];
    char err[128];
    int n = cfg_split_line("  api-token \"a b\\\"c\\x41\"  'x y' plain ", argv, CFG_MAX_ARGS, err,
                           sizeof(err));
    assert_int_equal(n, 4);
    assert_string_equal(argv[0], "api-token");
    assert_string_equal(argv[1], "a b\"cA");
    assert_string_equal(argv[2], "x y");
    assert_string_equal(argv[3], "plain");
    free_args(argv, n);
    assert_int_equal(cfg_split_line("a \"unterminated", argv, CFG_MAX_ARGS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unbalanced"));
    assert_int_equal(cfg_split_line("a \"x\"y", argv, CFG_MAX_ARGS, err, sizeof(err)), -1);
    assert_int_equal(cfg_split_line("   ", argv, CFG_MAX_ARGS, err, sizeof(err)), 0);
    n = cfg_split_line("k \"\"", argv, CFG_MAX_ARGS, err, sizeof(err));
    assert_int_equal(n, 2);
    assert_string_equal(argv[1], "");
    free_args(argv, n);
}

static void test_defaults_and_apply(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    cfg_init(&c);
    assert_string_equal(c.http_host, "127.0.0.1");
    assert_int_equal(c.http_port, 7480);
    assert_string_equal(c.db_path, "./kvfleet.db");
    assert_int_equal(c.monitor_interval_ms, 250);
    assert_null(c.api_token);
    char *a1[] = { "http-bind", "0.0.0.0:9000" };
    assert_int_equal(cfg_apply(&c, 2, a1, err, sizeof(err)), 0);
    assert_string_equal(c.http_host, "0.0.0.0");
    assert_int_equal(c.http_port, 9000);
    char *a2[] = { "monitor-interval-ms", "abc" };
    assert_int_equal(cfg_apply(&c, 2, a2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "monitor-interval-ms"));
    char *a3[] = { "daemonize", "maybe" };
    assert_int_equal(cfg_apply(&c, 2, a3, err, sizeof(err)), -1);
    char *a4[] = { "no-such-thing", "1" };
    assert_int_equal(cfg_apply(&c, 2, a4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no-such-thing"));
    char *a5[] = { "loglevel" };
    assert_int_equal(cfg_apply(&c, 1, a5, err, sizeof(err)), -1);
    char *a6[] = { "http-bind", "127.0.0.1:99999" };
    assert_int_equal(cfg_apply(&c, 2, a6, err, sizeof(err)), -1);
    char *a7[] = { "API-TOKEN", "tok" };
    assert_int_equal(cfg_apply(&c, 2, a7, err, sizeof(err)), 0);
    assert_string_equal(c.api_token, "tok");
    cfg_free(&c);
}

/* metrics-auth: /metrics is open by default (scrapers rarely carry a
 * token); yes puts it behind api-token. */
static void test_metrics_auth(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    cfg_init(&c);
    assert_int_equal(c.metrics_auth, 0);
    char *on[] = { "metrics-auth", "yes" };
    assert_int_equal(cfg_apply(&c, 2, on, err, sizeof(err)), 0);
    assert_int_equal(c.metrics_auth, 1);
    char *off[] = { "Metrics-Auth", "no" };
    assert_int_equal(cfg_apply(&c, 2, off, err, sizeof(err)), 0);
    assert_int_equal(c.metrics_auth, 0);
    char *bad[] = { "metrics-auth", "sometimes" };
    assert_int_equal(cfg_apply(&c, 2, bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "metrics-auth"));
    assert_int_equal(c.metrics_auth, 0);
    char *missing[] = { "metrics-auth" };
    assert_int_equal(cfg_apply(&c, 1, missing, err, sizeof(err)), -1);
    cfg_free(&c);
}

static void test_bind_and_loopback(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(cfg_parse_bind("[::1]:8080", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8080);
    assert_int_equal(cfg_parse_bind("8081", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(cfg_parse_bind(":80", host, sizeof(host), &port), -1);
    assert_int_equal(cfg_parse_bind("h:0", host, sizeof(host), &port), -1);
    assert_true(cfg_host_is_loopback("127.0.0.1"));
    assert_true(cfg_host_is_loopback("127.1.2.3"));
    assert_true(cfg_host_is_loopback("::1"));
    assert_true(cfg_host_is_loopback("localhost"));
    assert_false(cfg_host_is_loopback("0.0.0.0"));
    assert_false(cfg_host_is_loopback("10.0.0.1"));
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_file_and_overrides(void **state)
{
    (void)state;
    char path[] = "/tmp/kvfleetd-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# comment\n\nhttp-bind 127.0.0.1:7777\nmonitor-interval-ms 100\n"
                     "api-token \"from file\"\n");
    struct cfg c;
    char err[2048];
    cfg_init(&c);
    char *argv[] = { "kvfleetd", path, "--monitor-interval-ms", "500", "--loglevel", "debug" };
    assert_int_equal(cfg_load_args(&c, 6, argv, err, sizeof(err)), 0);
    assert_int_equal(c.http_port, 7777);
    assert_int_equal(c.monitor_interval_ms, 500);   /* command line wins */
    assert_string_equal(c.api_token, "from file");
    cfg_free(&c);

    write_file(path, "http-bind 127.0.0.1:7777\n\nmonitor-timeout-ms forever\n");
    cfg_init(&c);
    char *argv2[] = { "kvfleetd", path };
    assert_int_equal(cfg_load_args(&c, 2, argv2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "FATAL CONFIG FILE ERROR"));
    assert_non_null(strstr(err, "at line 3"));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "monitor-timeout-ms forever"));
    cfg_free(&c);

    write_file(path, "api-token \"s3cret-value\n");
    cfg_init(&c);
    assert_int_equal(cfg_load_args(&c, 2, argv2, err, sizeof(err)), -1);
    assert_null(strstr(err, "s3cret-value"));          /* secrets are not echoed */
    assert_non_null(strstr(err, "at line 1"));
    cfg_free(&c);

    cfg_init(&c);
    char *argv3[] = { "kvfleetd", "--db-path" };
    assert_int_equal(cfg_load_args(&c, 2, argv3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "command line"));
    cfg_free(&c);

    unlink(path);
    cfg_init(&c);
    assert_int_equal(cfg_load_args(&c, 2, argv2, err, sizeof(err)), -1);   /* missing file */
    cfg_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_defaults_and_apply),
        cmocka_unit_test(test_metrics_auth),
        cmocka_unit_test(test_bind_and_loopback),
        cmocka_unit_test(test_file_and_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
