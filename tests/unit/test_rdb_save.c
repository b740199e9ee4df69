/* test_rdb_save: the persistence commands through the command table (exact
 * reply bytes), in a temporary directory: SAVE writes a file a fresh
 * server loads back, DEBUG RELOAD keeps the data, keys already expired are
 * dropped at load, argument errors, INFO persistence counters, BGSAVE's
 * reply, and a corrupt file refused at start-up with the offset in the
 * message and the file left as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "rdb.h"

static char test_dir[PATH_MAX];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(test_dir, sizeof(test_dir), "/tmp/kv-test-rdb-XXXXXX");
    if (!mkdtemp(test_dir) || chdir(test_dir) != 0)
        return -1;
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    if (chdir("/") != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static srv *new_server(void)
{
    srv *s = h_srv_new_with("save \"\"\n");
    char err[1024];
    int rc = rdb_module_init(s, err, sizeof(err));
    if (rc != 0)
        fail_msg("rdb_module_init: %s", err);
    return s;
}

static void free_server(srv *s)
{
    rdb_module_release(s);
    h_srv_free(s);
}

static int has_info(client *c, const char *line)
{
    char *out = h_run(c, "INFO persistence");
    int found = strstr(out, line) != NULL;
    if (!found)
        fprintf(stderr, "INFO lacks %s:\n%s\n", line, out);
    free(out);
    return found;
}

static void test_save_and_load(void **state)
{
    (void)state;
    unlink("dump.rdb");
    srv *s = new_server();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "SET a 1", "+OK\r\n"));
    assert_true(h_expect(c, "RPUSH l x y z", ":3\r\n"));
    assert_true(h_expect(c, "HSET h f v", ":1\r\n"));
    assert_true(h_expect(c, "SET t v EX 1000", "+OK\r\n"));
    assert_true(has_info(c, "rdb_changes_since_last_save:6\r\n"));
    assert_true(h_expect(c, "SAVE", "+OK\r\n"));
    assert_true(has_info(c, "rdb_changes_since_last_save:0\r\n"));
    assert_true(has_info(c, "rdb_saves:1\r\n"));
    assert_true(has_info(c, "rdb_last_bgsave_status:ok\r\n"));
    assert_int_equal(access("dump.rdb", R_OK), 0);
    assert_true(h_expect(c, "SAVE x", "-ERR wrong number of arguments for 'save' command\r\n"));
    assert_true(h_expect(c, "BGSAVE foo", "-ERR syntax error\r\n"));
    assert_true(h_expect(c, "BGSAVE a b", "-ERR syntax error\r\n"));
    char *ls = h_run(c, "LASTSAVE");
    assert_true(ls[0] == ':' && atoll(ls + 1) > 1600000000);
    free(ls);
    assert_false(rdb_writes_refused(s));
    h_client_free(c);
    free_server(s);

    s = new_server();
    c = h_client_new(s);
    assert_true(h_expect(c, "GET a", "$1\r\n1\r\n"));
    assert_true(h_expect(c, "LRANGE l 0 -1", "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"));
    assert_true(h_expect(c, "HGET h f", "$1\r\nv\r\n"));
    char *ttl = h_run(c, "TTL t");
    assert_true(strcmp(ttl, ":1000\r\n") == 0 || strcmp(ttl, ":999\r\n") == 0);
    free(ttl);
    assert_true(has_info(c, "rdb_last_load_keys_loaded:4\r\n"));
    assert_true(h_expect(c, "DEBUG RELOAD", "+OK\r\n"));
    assert_true(h_expect(c, "DBSIZE", ":4\r\n"));
    h_client_free(c);
    free_server(s);
}

static void test_expired_dropped(void **state)
{
    (void)state;
    unlink("dump.rdb");
    srv *s = new_server();
    client *c = h_client_new(s);
    /* Written at a time long past: its TTL is over when the file loads. */
    h_set_time(s, 1000000);
    assert_true(h_expect(c, "SET gone v PX 5000", "+OK\r\n"));
    assert_true(h_expect(c, "SET kept v", "+OK\r\n"));
    assert_true(h_expect(c, "SAVE", "+OK\r\n"));
    h_client_free(c);
    free_server(s);
    s = new_server();
    c = h_client_new(s);
    assert_true(h_expect(c, "EXISTS gone", ":0\r\n"));
    assert_true(h_expect(c, "EXISTS kept", ":1\r\n"));
    assert_true(has_info(c, "rdb_last_load_keys_expired:1\r\n"));
    h_client_free(c);
    free_server(s);
}

static void test_bgsave_reply(void **state)
{
    (void)state;
    unlink("dump.rdb");
    srv *s = new_server();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "SET a 1", "+OK\r\n"));
    assert_true(h_expect(c, "BGSAVE", "+Background saving started\r\n"));
    assert_true(rdb_bgsave_in_progress(s));
    assert_true(h_expect(c, "BGSAVE", "-ERR Background save already in progress\r\n"));
    assert_true(h_expect(c, "SAVE", "-ERR Background save already in progress\r\n"));
    assert_true(has_info(c, "rdb_bgsave_in_progress:1\r\n"));
    h_client_free(c);
    free_server(s);   /* stops the child */
}

static void test_corrupt_refused(void **state)
{
    (void)state;
    unlink("dump.rdb");
    srv *s = new_server();
    client *c = h_client_new(s);
    assert_true(h_expect(c, "SET a hello", "+OK\r\n"));
    assert_true(h_expect(c, "SAVE", "+OK\r\n"));
    h_client_free(c);
    free_server(s);
    /* Cut the file in half. */
    struct stat sb;
    assert_int_equal(stat("dump.rdb", &sb), 0);
    assert_int_equal(truncate("dump.rdb", sb.st_size / 2), 0);
    assert_int_equal(stat("dump.rdb", &sb), 0);
    s = h_srv_new_with("save \"\"\n");
    char err[1024];
    assert_int_equal(rdb_module_init(s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "offset "));
    assert_non_null(strstr(err, "dump.rdb"));
    free_server(s);
    struct stat after;
    assert_int_equal(stat("dump.rdb", &after), 0);
    assert_int_equal(after.st_size, sb.st_size);
    unlink("dump.rdb");
}

int main(void)
{
    (void)h_srv_new;   /* the harness helper every file gets; we use _with */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_and_load),
        cmocka_unit_test(test_expired_dropped),
        cmocka_unit_test(test_bgsave_reply),
        cmocka_unit_test(test_corrupt_refused),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
