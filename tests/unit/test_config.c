/* Unit tests for agent/config.c: Redis 7.0 defaults, every kind of
 * directive, the fatal error text (checked against redis-server 7.0.15),
 * command-line overrides, CONFIG GET patterns and CONFIG SET errors, and
 * that our spec's example and Debian's stock redis.conf load unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define MB (1024ULL * 1024)

/* ---- helpers ------------------------------------------------------------ */

typedef struct got {
    char buf[8192];
    size_t len;
    int count;
} got;

static void collect(void *priv, const char *name, const char *value)
{
    got *g = priv;
    g->len += (size_t)snprintf(g->buf + g->len, sizeof(g->buf) - g->len, "%s=%s;", name, value);
    g->count++;
}

/* CONFIG GET of one pattern, as "name=value;" pairs */
static const char *get(const cfg *c, const char *pattern)
{
    static got g;
    memset(&g, 0, sizeof(g));
    cfg_get(c, pattern, strlen(pattern), collect, &g);
    return g.buf;
}

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/kvfleet_test_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Loads text as a file plus overrides; returns cfg_load's result. */
static int load(cfg *c, const char *text, int argc, char **argv, char *err, size_t errlen)
{
    char *path = text ? write_tmp(text) : NULL;
    cfg_init(c);
    int rc = cfg_load(c, path, argc, argv, err, errlen);
    if (path)
        unlink(path);
    return rc;
}

/* The message for a bad line, with the temporary file's path taken out so
 * it can be compared with redis-server's own output. */
static void expect_load_error(const char *text, const char *line_no, const char *shown,
                              const char *reason)
{
    cfg c;
    char err[1024], want[1024], norm[1024];
    char *path = write_tmp(text);
    char *abs = realpath(path, NULL);
    assert_non_null(abs);
    cfg_init(&c);
    assert_int_equal(cfg_load(&c, path, 0, NULL, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
             "Reading the configuration file %s, at line %s\n>>> '%s'\n%s",
             abs, line_no, shown, reason);
    snprintf(norm, sizeof(norm), "%s", err);
    assert_string_equal(norm, want);
    cfg_free(&c);
    unlink(path);
    free(abs);
}

static void expect_set_error(cfg *c, const char *name, const char *value, const char *err_want)
{
    char err[512];
    assert_int_equal(cfg_set(c, name, value, strlen(value), err, sizeof(err)), -1);
    assert_string_equal(err, err_want);
}

static void set_ok(cfg *c, const char *name, const char *value)
{
    char err[512] = "";
    if (cfg_set(c, name, value, strlen(value), err, sizeof(err)) != 0)
        fail_msg("CONFIG SET %s %s: %s", name, value, err);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    cfg c;
    cfg_init(&c);
    assert_int_equal(c.port, 6379);
    assert_int_equal(c.bind_count, 2);
    /* kvfleet binds loopback unless told otherwise (Redis: "* -::*"). */
    assert_string_equal(c.bind[0], "127.0.0.1");
    assert_string_equal(c.bind[1], "-::1");
    assert_int_equal(c.protected_mode, 1);
    assert_int_equal(c.tcp_backlog, 511);
    assert_int_equal(c.timeout, 0);
    assert_int_equal(c.tcp_keepalive, 300);
    assert_int_equal(c.maxclients, 10000);
    assert_int_equal(c.daemonize, 0);
    assert_null(c.pidfile);
    assert_null(c.logfile);
    assert_int_equal(c.loglevel, 2);
    assert_int_equal(c.databases, 16);
    assert_null(c.requirepass);
    assert_int_equal(c.maxmemory, 0);
    assert_int_equal(c.maxmemory_policy, MAXMEM_NOEVICTION);
    assert_int_equal(c.maxmemory_samples, 5);
    assert_int_equal(c.proto_max_bulk_len, 512 * MB);
    assert_int_equal(c.client_query_buffer_limit, 1024 * MB);
    assert_int_equal(c.obuf_limits[0].hard, 0);
    assert_int_equal(c.obuf_limits[1].hard, 256 * MB);
    assert_int_equal(c.obuf_limits[1].soft, 64 * MB);
    assert_int_equal(c.obuf_limits[1].soft_seconds, 60);
    assert_int_equal(c.obuf_limits[2].hard, 32 * MB);
    assert_int_equal(c.hz, 10);
    assert_int_equal(c.active_expire_effort, 1);
    assert_string_equal(c.dbfilename, "dump.rdb");
    assert_int_equal(c.save_point_count, 3);
    assert_int_equal(c.save_points[2].seconds, 60);
    assert_int_equal(c.save_points[2].changes, 10000);
    assert_int_equal(c.rdbcompression, 1);
    assert_int_equal(c.rdbchecksum, 1);
    assert_int_equal(c.stop_writes_on_bgsave_error, 1);
    assert_int_equal(c.appendonly, 0);
    assert_string_equal(c.appendfilename, "appendonly.aof");
    assert_string_equal(c.appendfsync, "everysec");
    assert_null(c.replicaof_host);
    assert_int_equal(c.repl_backlog_size, 1 * MB);
    assert_int_equal(c.repl_backlog_ttl, 3600);
    assert_int_equal(c.replica_read_only, 1);
    assert_int_equal(c.replica_serve_stale_data, 1);
    assert_int_equal(c.min_replicas_to_write, 0);
    assert_int_equal(c.min_replicas_max_lag, 10);
    assert_int_equal(c.repl_ping_replica_period, 10);
    assert_int_equal(c.repl_timeout, 60);
    assert_int_equal(c.replica_priority, 100);
    assert_int_equal(c.repl_diskless_sync, 1);
    assert_int_equal(c.repl_diskless_sync_delay, 5);
    assert_int_equal(c.repl_diskless_load, 0);
    assert_int_equal(c.replica_announced, 1);
    assert_int_equal(c.hash_max_listpack_entries, 512);
    assert_int_equal(c.hash_max_listpack_value, 64);
    assert_int_equal(c.set_max_intset_entries, 512);
    assert_int_equal(c.zset_max_listpack_entries, 128);
    assert_int_equal(c.zset_max_listpack_value, 64);
    assert_int_equal(c.list_max_listpack_size, -2);
    assert_int_equal(c.slowlog_log_slower_than, 10000);
    assert_int_equal(c.slowlog_max_len, 128);
    assert_int_equal(c.notify_keyspace_events, 0);
    assert_null(c.config_file);

    /* and as CONFIG GET shows them (texts from redis-server 7.0.15) */
    assert_string_equal(get(&c, "save"), "save=3600 1 300 100 60 10000;");
    assert_string_equal(get(&c, "client-output-buffer-limit"),
                        "client-output-buffer-limit=normal 0 0 0 slave 268435456 67108864 60 "
                        "pubsub 33554432 8388608 60;");
    assert_string_equal(get(&c, "bind"), "bind=127.0.0.1 -::1;");
    assert_string_equal(get(&c, "proto-max-bulk-len"), "proto-max-bulk-len=536870912;");
    assert_string_equal(get(&c, "maxmemory-policy"), "maxmemory-policy=noeviction;");
    assert_string_equal(get(&c, "loglevel"), "loglevel=notice;");
    assert_string_equal(get(&c, "pidfile"), "pidfile=;");
    assert_string_equal(get(&c, "replicaof"), "replicaof=;");
    assert_string_equal(get(&c, "appendonly"), "appendonly=no;");
    assert_string_equal(get(&c, "repl-diskless-load"), "repl-diskless-load=disabled;");
    assert_string_equal(get(&c, "lazyfree-lazy-eviction"), "lazyfree-lazy-eviction=no;");
    assert_string_equal(get(&c, "auto-aof-rewrite-min-size"), "auto-aof-rewrite-min-size=67108864;");
    assert_string_equal(get(&c, "oom-score-adj-values"), "oom-score-adj-values=0 200 800;");
    char cwd[PATH_MAX], want[PATH_MAX + 8];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "dir=%s;", cwd);
    assert_string_equal(get(&c, "dir"), want);
    cfg_free(&c);
}

/* ---- loading ------------------------------------------------------------ */

static void test_every_kind(void **state)
{
    (void)state;
    cfg c;
    char err[1024];
    const char *text =
        "# a comment\n"
        "   # an indented comment\n"
        "\n"
        "PORT 6380\n"                               /* names are case-insensitive */
        "  protected-mode NO  \r\n"                  /* yes/no too, CRLF trimmed */
        "maxmemory 1gb\n"
        "maxmemory-policy Allkeys-LRU\n"
        "loglevel warning\n"
        "requirepass \"sec ret\\x21\"\n"
        "masterauth 'it\\'s'\n"
        "timeout 30\n"
        "slowlog-log-slower-than -1\n"
        "list-max-ziplist-size -1\n"                 /* alias */
        "hash-max-ziplist-entries 100\n"
        "hash-max-listpack-value 1kb\n"              /* memory units in a size */
        "slaveof 10.0.0.1 6379\n"
        "slave-read-only no\n"
        "min-slaves-to-write 2\n"
        "repl-backlog-size 16mb\n"
        "repl-diskless-load swapdb\n"
        "client-output-buffer-limit replica 512mb 128mb 30\n"
        "client-output-buffer-limit pubsub 0 0 0\n"
        "appendfsync always\n"
        "notify-keyspace-events Ex\n"
        "controller http://ctl:8080\n"
        "controller-token tok\n"
        "node-name n1\n"
        "cluster c1\n"
        "hz 1000\n"                                  /* clamped to 500 as Redis does */
        "list-max-ziplist-entries 512\n"             /* deprecated, swallowed */
        "lua-time-limit 7000\n";
    assert_int_equal(load(&c, text, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.port, 6380);
    assert_int_equal(c.protected_mode, 0);
    assert_int_equal(c.maxmemory, 1024 * MB);
    assert_int_equal(c.maxmemory_policy, MAXMEM_ALLKEYS_LRU);
    assert_int_equal(c.loglevel, 3);
    assert_string_equal(c.requirepass, "sec ret!");
    assert_string_equal(c.masterauth, "it's");
    assert_int_equal(c.timeout, 30);
    assert_int_equal(c.slowlog_log_slower_than, -1);
    assert_int_equal(c.list_max_listpack_size, -1);
    assert_int_equal(c.hash_max_listpack_entries, 100);
    assert_int_equal(c.hash_max_listpack_value, 1024);
    assert_string_equal(c.replicaof_host, "10.0.0.1");
    assert_int_equal(c.replicaof_port, 6379);
    assert_int_equal(c.replica_read_only, 0);
    assert_int_equal(c.min_replicas_to_write, 2);
    assert_int_equal(c.repl_backlog_size, 16 * MB);
    assert_int_equal(c.repl_diskless_load, 2);
    assert_int_equal(c.obuf_limits[1].hard, 512 * MB);
    assert_int_equal(c.obuf_limits[1].soft, 128 * MB);
    assert_int_equal(c.obuf_limits[1].soft_seconds, 30);
    assert_int_equal(c.obuf_limits[2].hard, 0);
    assert_string_equal(c.appendfsync, "always");
    assert_int_equal(c.notify_keyspace_events, CFG_NOTIFY_KEYEVENT | CFG_NOTIFY_EXPIRED);
    assert_string_equal(c.controller, "http://ctl:8080");
    assert_string_equal(c.controller_token, "tok");
    assert_string_equal(c.node_name, "n1");
    assert_string_equal(c.cluster, "c1");
    assert_int_equal(c.hz, 500);
    assert_string_equal(get(&c, "replicaof"), "replicaof=10.0.0.1 6379;");
    assert_string_equal(get(&c, "notify-keyspace-events"), "notify-keyspace-events=xE;");
    assert_string_equal(get(&c, "busy-reply-threshold"), "busy-reply-threshold=7000;");
    cfg_free(&c);
}

static void test_save_and_bind(void **state)
{
    (void)state;
    cfg c;
    char err[1024];

    /* the first save line replaces the defaults, later ones add */
    assert_int_equal(load(&c, "save 900 1\nsave 300 10 60 10000\n", 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.save_point_count, 3);
    assert_string_equal(get(&c, "save"), "save=900 1 300 10 60 10000;");
    cfg_free(&c);

    assert_int_equal(load(&c, "save \"\"\n", 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.save_point_count, 0);
    assert_string_equal(get(&c, "save"), "save=;");
    cfg_free(&c);

    assert_int_equal(load(&c, "save \"3600 1 300 100\"\n", 0, NULL, err, sizeof(err)), 0);
    assert_string_equal(get(&c, "save"), "save=3600 1 300 100;");
    cfg_free(&c);

    assert_int_equal(load(&c, "bind 127.0.0.1 -::1 10.0.0.5\n", 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.bind_count, 3);
    assert_string_equal(c.bind[1], "-::1");
    assert_string_equal(get(&c, "bind"), "bind=127.0.0.1 -::1 10.0.0.5;");
    cfg_free(&c);
}

static void test_bad_lines(void **state)
{
    (void)state;
    expect_load_error("port 6380\nport abc\n", "2", "port abc",
                      "argument couldn't be parsed into an integer");
    expect_load_error("daemonize maybe\n", "1", "daemonize maybe", "argument must be 'yes' or 'no'");
    expect_load_error("port 70000\n", "1", "port 70000",
                      "argument must be between 0 and 65535 inclusive");
    expect_load_error("foo bar\n", "1", "foo bar", "Bad directive or wrong number of arguments");
    expect_load_error("maxmemory-policy bad\n", "1", "maxmemory-policy bad",
                      "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                      "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                      "noeviction");
    expect_load_error("maxmemory 12x\n", "1", "maxmemory 12x", "argument must be a memory value");
    expect_load_error("maxmemory -1\n", "1", "maxmemory -1", "argument must be a memory value");
    expect_load_error("save 100\n", "1", "save 100", "Invalid save parameters");
    expect_load_error("save 0 1\n", "1", "save 0 1", "Invalid save parameters");
    expect_load_error("port\n", "1", "port", "wrong number of arguments");
    expect_load_error("port 1 2\n", "1", "port 1 2", "wrong number of arguments");
    expect_load_error("loglevel foo\n", "1", "loglevel foo",
                      "argument(s) must be one of the following: debug, verbose, notice, warning");
    expect_load_error("port \"abc\n", "1", "port \"abc", "Unbalanced quotes in configuration line");
    expect_load_error("x \"a\"b\n", "1", "x \"a\"b", "Unbalanced quotes in configuration line");
    expect_load_error("dir /nonexistent-kvfleet\n", "1", "dir /nonexistent-kvfleet",
                      "No such file or directory");
    expect_load_error("dir /etc/passwd\n", "1", "dir /etc/passwd", "Not a directory");
    expect_load_error("client-output-buffer-limit foo 1 2 3\n", "1",
                      "client-output-buffer-limit foo 1 2 3",
                      "Invalid client class specified in buffer limit configuration.");
    expect_load_error("client-output-buffer-limit master 1 2 3\n", "1",
                      "client-output-buffer-limit master 1 2 3",
                      "Invalid client class specified in buffer limit configuration.");
    expect_load_error("client-output-buffer-limit normal 1 2\n", "1",
                      "client-output-buffer-limit normal 1 2",
                      "Wrong number of arguments in buffer limit configuration.");
    expect_load_error("client-output-buffer-limit normal a 2 3\n", "1",
                      "client-output-buffer-limit normal a 2 3",
                      "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    expect_load_error("replicaof a\n", "1", "replicaof a", "wrong number of arguments");
    expect_load_error("replicaof a b\n", "1", "replicaof a b", "Invalid master port");
    expect_load_error("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "1",
                      "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
                      "Too many bind addresses specified.");
    expect_load_error("notify-keyspace-events Q\n", "1", "notify-keyspace-events Q",
                      "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    expect_load_error("tcp-backlog -1\n", "1", "tcp-backlog -1",
                      "argument must be between 0 and 2147483647 inclusive");
    expect_load_error("maxclients 0\n", "1", "maxclients 0",
                      "argument must be between 1 and 4294967295 inclusive");
    expect_load_error("slowlog-log-slower-than -2\n", "1", "slowlog-log-slower-than -2",
                      "argument must be between -1 and 9223372036854775807 inclusive");
    expect_load_error("proto-max-bulk-len 1\n", "1", "proto-max-bulk-len 1",
                      "argument must be between 1048576 and 9223372036854775807 inclusive");
    expect_load_error("dbfilename a/b\n", "1", "dbfilename a/b",
                      "dbfilename can't be a path, just a filename");
    expect_load_error("hz 010\n", "1", "hz 010", "argument couldn't be parsed into an integer");
    expect_load_error("list-max-ziplist-entries 5 6\n", "1", "list-max-ziplist-entries 5 6",
                      "Bad directive or wrong number of arguments");
    expect_load_error("oom-score-adj-values 1 2 9999\n", "1", "oom-score-adj-values 1 2 9999",
                      "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    expect_load_error("activedefrag yes\n", "1", "activedefrag yes",
                      "Active defragmentation cannot be enabled: it requires a Redis server "
                      "compiled with a modified Jemalloc like the one shipped by default with the "
                      "Redis source distribution");
    /* the line is shown trimmed, and numbered counting comments and blanks */
    expect_load_error("# c\n\n\t  port   \"abc\"  \r\n", "3", "port   \"abc\"",
                      "argument couldn't be parsed into an integer");
}

static void test_missing_file_and_include(void **state)
{
    (void)state;
    cfg c;
    char err[1024];
    cfg_init(&c);
    assert_int_equal(cfg_load(&c, "/nonexistent-kvfleet.conf", 0, NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "Fatal error, can't open config file '/nonexistent-kvfleet.conf': "
                             "No such file or directory");
    cfg_free(&c);

    char inc[64];
    snprintf(inc, sizeof(inc), "%s", write_tmp("port 7001\nmaxmemory 2mb\n"));
    char text[256];
    snprintf(text, sizeof(text), "port 7000\ninclude %s\ndatabases 4\n", inc);
    assert_int_equal(load(&c, text, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.maxmemory, 2 * MB);
    assert_int_equal(c.databases, 4);
    cfg_free(&c);

    /* an error inside the included file names that file and its line */
    FILE *f = fopen(inc, "w");
    assert_non_null(f);
    fputs("port 1\nport x\n", f);
    fclose(f);
    assert_int_equal(load(&c, text, 0, NULL, err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want),
             "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file %s, "
             "at line 2\n>>> 'port x'\nargument couldn't be parsed into an integer", inc);
    assert_string_equal(err, want);
    cfg_free(&c);
    unlink(inc);

    /* include with wildcards: every match, concatenated; no match is fine */
    char dir[] = "/tmp/kvfleet_test_incXXXXXX";
    assert_non_null(mkdtemp(dir));
    char f1[128], f2[128];
    snprintf(f1, sizeof(f1), "%s/a.conf", dir);
    snprintf(f2, sizeof(f2), "%s/b.conf", dir);
    f = fopen(f1, "w");
    assert_non_null(f);
    fputs("port 7100\n", f);
    fclose(f);
    f = fopen(f2, "w");
    assert_non_null(f);
    fputs("maxmemory 3mb\n", f);
    fclose(f);
    snprintf(text, sizeof(text), "include %s/*.conf\ninclude %s/none*.conf\n", dir, dir);
    assert_int_equal(load(&c, text, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.port, 7100);
    assert_int_equal(c.maxmemory, 3 * MB);
    cfg_free(&c);
    /* lines run on across the matched files */
    f = fopen(f2, "w");
    assert_non_null(f);
    fputs("hz x\n", f);
    fclose(f);
    assert_int_equal(load(&c, text, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "*.conf, at line 2\n>>> 'hz x'\n"));
    cfg_free(&c);
    unlink(f1);
    unlink(f2);
    rmdir(dir);
}

static void test_load_string(void **state)
{
    (void)state;
    cfg c;
    char err[1024];
    cfg_init(&c);
    assert_int_equal(cfg_load_string(&c, "port 1\nsave 5 5\nsave 6 6", "/x/r.conf", err,
                                     sizeof(err)), 0);
    assert_int_equal(c.port, 1);
    assert_string_equal(get(&c, "save"), "save=5 5 6 6;");
    assert_int_equal(cfg_load_string(&c, "\nport x", "/x/r.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                             "Reading the configuration file /x/r.conf, at line 2\n"
                             ">>> 'port x'\nargument couldn't be parsed into an integer");
    assert_int_equal(cfg_load_string(&c, "port x", NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Reading the configuration file, at line 1\n"));
    cfg_free(&c);
}

static void test_spec_example(void **state)
{
    (void)state;
    cfg c;
    char err[1024];
    assert_int_equal(load(&c,
                          "port 6380\ndaemonize yes\npidfile /var/run/redis/redis-server_6380.pid\n"
                          "logfile /var/log/redis/redis-server_6380.log\ndbfilename dump_6380.rdb\n",
                          0, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.port, 6380);
    assert_int_equal(c.daemonize, 1);
    assert_string_equal(c.pidfile, "/var/run/redis/redis-server_6380.pid");
    assert_string_equal(c.logfile, "/var/log/redis/redis-server_6380.log");
    assert_string_equal(c.dbfilename, "dump_6380.rdb");
    assert_non_null(c.config_file);
    assert_true(c.config_file[0] == '/');
    cfg_free(&c);
}

static void test_debian_redis_conf(void **state)
{
    (void)state;
    cfg c;
    char err[1024] = "";
    if (access("/etc/redis/redis.conf", R_OK) != 0) {
        skip();
        return;
    }
    cfg_init(&c);
    /* dir /var/lib/redis may be missing on a build machine: point it at / */
    char *over[] = {"--dir", "/"};
    int rc = cfg_load(&c, "/etc/redis/redis.conf", 2, over, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(c.port, 6379);
    assert_int_equal(c.daemonize, 1);
    assert_int_equal(c.bind_count, 2);
    assert_string_equal(c.config_file, "/etc/redis/redis.conf");
    assert_string_equal(get(&c, "proc-title-template"),
                        "proc-title-template={title} {listen-addr} {server-mode};");
    assert_string_equal(get(&c, "client-output-buffer-limit"),
                        "client-output-buffer-limit=normal 0 0 0 slave 268435456 67108864 60 "
                        "pubsub 33554432 8388608 60;");
    cfg_free(&c);
}

/* ---- command-line overrides -------------------------------------------- */

static void test_overrides(void **state)
{
    (void)state;
    cfg c;
    char err[1024];

    char *a1[] = {"--port", "6390", "--save", "", "--requirepass", "--secret", "--bind",
                  "127.0.0.1", "-::1", "--maxmemory", "100mb", "--loglevel", "debug"};
    assert_int_equal(load(&c, "port 1\nsave 10 1\n", 13, a1, err, sizeof(err)), 0);
    assert_int_equal(c.port, 6390);
    assert_int_equal(c.save_point_count, 0);
    /* after a bare option name, a "--word" is its value */
    assert_string_equal(c.requirepass, "--secret");
    assert_int_equal(c.bind_count, 2);
    assert_int_equal(c.maxmemory, 100 * MB);
    assert_int_equal(c.loglevel, 0);
    cfg_free(&c);

    /* --save followed by another option, or last, means save "" */
    char *a2[] = {"--save", "--port", "6391"};
    assert_int_equal(load(&c, NULL, 3, a2, err, sizeof(err)), 0);
    assert_int_equal(c.save_point_count, 0);
    assert_int_equal(c.port, 6391);
    cfg_free(&c);
    char *a3[] = {"--port", "6392", "--save"};
    assert_int_equal(load(&c, NULL, 3, a3, err, sizeof(err)), 0);
    assert_int_equal(c.save_point_count, 0);
    cfg_free(&c);

    /* several words, or name and value in one argument */
    char *a4[] = {"--save", "60", "100", "--port 6393", "--client-output-buffer-limit",
                  "pubsub 1mb 1mb 0"};
    assert_int_equal(load(&c, NULL, 6, a4, err, sizeof(err)), 0);
    assert_string_equal(get(&c, "save"), "save=60 100;");
    assert_int_equal(c.port, 6393);
    assert_int_equal(c.obuf_limits[2].hard, MB);
    cfg_free(&c);

    /* values are quoted back exactly, whatever bytes they hold */
    char *a5[] = {"--requirepass", "a \"b\"\\c\n\x01"};
    assert_int_equal(load(&c, NULL, 2, a5, err, sizeof(err)), 0);
    assert_string_equal(c.requirepass, "a \"b\"\\c\n\x01");
    cfg_free(&c);

    /* errors: numbered after the file's lines (plus the separator line),
     * the value shown quoted as redis-server shows it */
    char *a6[] = {"--port", "abc"};
    assert_int_equal(load(&c, NULL, 2, a6, err, sizeof(err)), -1);
    assert_string_equal(err, "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                             "Reading the configuration file, at line 2\n"
                             ">>> 'port \"abc\"'\nargument couldn't be parsed into an integer");
    cfg_free(&c);

    char *path = write_tmp("# c\n\nport 1\n");
    char *abs = realpath(path, NULL);
    cfg_init(&c);
    char *a7[] = {"--port", "1", "--maxmemory", "a\"b\\c\n"};
    assert_int_equal(cfg_load(&c, path, 4, a7, err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want),
             "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
             "Reading the configuration file %s, at line 6\n"
             ">>> 'maxmemory \"a\\\"b\\\\c\\n\"'\nargument must be a memory value", abs);
    assert_string_equal(err, want);
    cfg_free(&c);
    unlink(path);
    free(abs);

    char *a8[] = {"--port", "1", "--foo"};
    assert_int_equal(load(&c, NULL, 3, a8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ">>> 'foo'\nBad directive or wrong number of arguments"));
    cfg_free(&c);
}

/* ---- CONFIG GET --------------------------------------------------------- */

static void test_config_get(void **state)
{
    (void)state;
    cfg c;
    cfg_init(&c);
    /* an exact name is looked up case-insensitively and echoed as given */
    assert_string_equal(get(&c, "PORT"), "PORT=6379;");
    assert_string_equal(get(&c, "slaveof"), "slaveof=;");
    assert_string_equal(get(&c, "nosuch"), "");
    /* glob patterns match names and aliases, case-insensitively */
    assert_string_equal(get(&c, "*max-*-entries*"),
                        "hash-max-listpack-entries=512;hash-max-ziplist-entries=512;"
                        "set-max-intset-entries=512;zset-max-listpack-entries=128;"
                        "zset-max-ziplist-entries=128;");
    assert_string_equal(get(&c, "MAXMEMORY*"),
                        "maxmemory=0;maxmemory-policy=noeviction;maxmemory-samples=5;"
                        "maxmemory-clients=0;maxmemory-eviction-tenacity=10;");
    assert_string_equal(get(&c, "p?rt"), "port=6379;");
    assert_string_equal(get(&c, "[pq]ort"), "port=6379;");
    /* everything, once per name */
    static got all;
    memset(&all, 0, sizeof(all));
    cfg_get(&c, "*", 1, collect, &all);
    assert_true(all.count > 150);
    assert_non_null(strstr(all.buf, ";appendfsync=everysec;"));
    assert_non_null(strstr(all.buf, ";slave-read-only=yes;"));
    cfg_free(&c);
}

/* ---- CONFIG SET --------------------------------------------------------- */

static const char *applied;
static int apply_fail;
static int apply_hook(void *priv, const char *name, char *err, size_t errlen)
{
    (void)priv;
    applied = name;
    if (apply_fail) {
        snprintf(err, errlen, "Failed to apply %s", name);
        return -1;
    }
    return 0;
}

static void test_config_set(void **state)
{
    (void)state;
    cfg c;
    cfg_init(&c);
    cfg_set_apply_hook(apply_hook, NULL);

    expect_set_error(&c, "foo", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    /* deprecated directives are only swallowed in files */
    expect_set_error(&c, "list-max-ziplist-entries", "3",
                     "ERR Unknown option or number of arguments for CONFIG SET - "
                     "'list-max-ziplist-entries'");
    expect_set_error(&c, "daemonize", "yes",
                     "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set "
                     "immutable config");
    expect_set_error(&c, "slaveof", "no one",
                     "ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set "
                     "immutable config");
    expect_set_error(&c, "dir", "/tmp",
                     "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set "
                     "protected config");
    expect_set_error(&c, "port", "abc",
                     "ERR CONFIG SET failed (possibly related to argument 'port') - argument "
                     "couldn't be parsed into an integer");
    expect_set_error(&c, "hz", "10.5",
                     "ERR CONFIG SET failed (possibly related to argument 'hz') - argument "
                     "couldn't be parsed into an integer");
    expect_set_error(&c, "maxmemory", "1x",
                     "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument "
                     "must be a memory value");
    expect_set_error(&c, "appendonly", "maybe",
                     "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument "
                     "must be 'yes' or 'no'");
    expect_set_error(&c, "timeout", "-1",
                     "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument "
                     "must be between 0 and 2147483647 inclusive");
    expect_set_error(&c, "save", "100",
                     "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save "
                     "parameters");
    /* a multi-word value is split at single spaces: "1  2" has an empty word */
    expect_set_error(&c, "save", "1  2",
                     "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save "
                     "parameters");
    expect_set_error(&c, "client-output-buffer-limit", "normal 1 2",
                     "ERR CONFIG SET failed (possibly related to argument "
                     "'client-output-buffer-limit') - Wrong number of arguments in buffer limit "
                     "configuration.");
    expect_set_error(&c, "client-output-buffer-limit", "pubsub 1 2 3x",
                     "ERR CONFIG SET failed (possibly related to argument "
                     "'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting "
                     "in buffer limit configuration.");
    expect_set_error(&c, "oom-score-adj-values", "1 2",
                     "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') "
                     "- wrong number of arguments");
    assert_null(applied);   /* nothing applied by failed sets */

    set_ok(&c, "hz", "0");
    assert_string_equal(applied, "hz");
    assert_int_equal(c.hz, 1);
    set_ok(&c, "hz", "100000");
    assert_int_equal(c.hz, 500);
    set_ok(&c, "maxmemory", "1KB");
    assert_int_equal(c.maxmemory, 1024);
    set_ok(&c, "maxmemory", "");
    assert_int_equal(c.maxmemory, 0);
    set_ok(&c, "save", "3600 1 300 100");
    assert_string_equal(get(&c, "save"), "save=3600 1 300 100;");
    set_ok(&c, "save", "1 0");
    assert_string_equal(get(&c, "save"), "save=1 0;");
    set_ok(&c, "save", "");
    assert_int_equal(c.save_point_count, 0);
    set_ok(&c, "client-output-buffer-limit", "normal 1mb 2 3 replica 1 2 3");
    assert_string_equal(get(&c, "client-output-buffer-limit"),
                        "client-output-buffer-limit=normal 1048576 2 3 slave 1 2 3 pubsub 33554432 "
                        "8388608 60;");
    set_ok(&c, "bind", "127.0.0.1 -::1");
    assert_string_equal(get(&c, "bind"), "bind=127.0.0.1 -::1;");
    set_ok(&c, "bind", "");
    assert_int_equal(c.bind_count, 0);
    set_ok(&c, "SLAVE-READ-ONLY", "no");
    assert_string_equal(applied, "replica-read-only");
    assert_int_equal(c.replica_read_only, 0);
    set_ok(&c, "maxmemory-policy", "ALLKEYS-LRU");
    assert_string_equal(get(&c, "maxmemory-policy"), "maxmemory-policy=allkeys-lru;");
    set_ok(&c, "notify-keyspace-events", "KEA");
    assert_string_equal(get(&c, "notify-keyspace-events"), "notify-keyspace-events=AKE;");
    set_ok(&c, "notify-keyspace-events", "Emn");
    assert_string_equal(get(&c, "notify-keyspace-events"), "notify-keyspace-events=nEm;");
    set_ok(&c, "zset-max-listpack-value", "2k");
    assert_int_equal(c.zset_max_listpack_value, 2000);
    set_ok(&c, "requirepass", "x y");
    assert_string_equal(c.requirepass, "x y");
    set_ok(&c, "requirepass", "");
    assert_null(c.requirepass);
    set_ok(&c, "lazyfree-lazy-expire", "YES");
    assert_string_equal(get(&c, "lazyfree-lazy-expire"), "lazyfree-lazy-expire=yes;");
    set_ok(&c, "lua-time-limit", "100");
    assert_string_equal(get(&c, "busy-reply-threshold"), "busy-reply-threshold=100;");

    /* a failing apply step puts the old value back */
    apply_fail = 1;
    expect_set_error(&c, "maxmemory", "5mb",
                     "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - Failed to "
                     "apply maxmemory");
    assert_int_equal(c.maxmemory, 0);
    expect_set_error(&c, "save", "10 10",
                     "ERR CONFIG SET failed (possibly related to argument 'save') - Failed to "
                     "apply save");
    assert_int_equal(c.save_point_count, 0);
    apply_fail = 0;

    assert_int_equal(cfg_is_mutable("maxmemory"), 1);
    assert_int_equal(cfg_is_mutable("databases"), 2);
    assert_int_equal(cfg_is_mutable("nosuch"), 0);
    cfg_set_apply_hook(NULL, NULL);
    cfg_free(&c);
}

static void test_protected_configs(void **state)
{
    (void)state;
    cfg c;
    char err[1024];
    assert_int_equal(load(&c, "enable-protected-configs yes\n", 0, NULL, err, sizeof(err)), 0);
    set_ok(&c, "dir", "/");
    assert_string_equal(c.dir, "/");
    set_ok(&c, "dbfilename", "x.rdb");
    expect_set_error(&c, "dbfilename", "a/b",
                     "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
                     "dbfilename can't be a path, just a filename");
    assert_string_equal(c.dbfilename, "x.rdb");
    cfg_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_save_and_bind),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_missing_file_and_include),
        cmocka_unit_test(test_load_string),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_debian_redis_conf),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_config_get),
        cmocka_unit_test(test_config_set),
        cmocka_unit_test(test_protected_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
