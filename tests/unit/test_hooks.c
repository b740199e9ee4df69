/* test_hooks.c - failover hooks: the command gets every KVFLEET_* variable,
 * /dev/null as stdin and no daemon descriptors, its output is logged within
 * a budget and its exit status reported; a command over its timeout is
 * killed with everything it started (SIGTERM, then SIGKILL when ignored)
 * while hooks_fire() keeps returning at once; the webhook posts the JSON
 * body to a libmicrohttpd server of the test's own, retries 5xx with
 * backoff, gives up after 1 + retries attempts, does not hang on a closed
 * port, stops backing off at hooks_stop() and never logs credentials.
 *
 * Timing bounds are loose on purpose: `make test` runs this under
 * valgrind, which slows the process (not the hooks' children) many times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../server/config.h"
#include "../../server/hooks.h"
#include "../../server/log.h"
#include "../../server/version.h"

/* Slack added to every "finished within" bound, for valgrind. */
#define SLACK_MS 3000
#define GRACE_MS 1000   /* hooks.c's SIGTERM -> SIGKILL grace */

static char dir[64];
static char log_path[128];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- files and the log ---- */

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    fclose(fp);
    return buf;
}

static long log_mark(void)
{
    struct stat st;
    return stat(log_path, &st) == 0 ? (long)st.st_size : 0;
}

/* The log written since mark (malloc'd). */
static char *log_since(long mark)
{
    char *all = read_file(log_path);
    assert_non_null(all);
    char *out = strdup(all + mark);
    assert_non_null(out);
    free(all);
    return out;
}

static void path_in_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Wait for a file to appear (written by a hook). */
static char *wait_file(const char *name, int timeout_ms)
{
    char p[256];
    path_in_dir(p, sizeof(p), name);
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        char *s = read_file(p);
        if (s != NULL && s[0] != '\0')
            return s;
        free(s);
        if (now_ms() > end)
            return NULL;
        sleep_ms(10);
    }
}

/* ---- results reported by the hooks ---- */

struct result {
    int64_t id;
    char hook[16];
    int ok;
    char detail[512];
    int64_t at_ms;
    int arg_ok;         /* the callback got hooks_start's arg */
};

static pthread_mutex_t res_mu = PTHREAD_MUTEX_INITIALIZER;
static struct result results[32];
static int nresults;

static void on_result(void *arg, const struct hook_failover *f, const char *hook, int ok,
                      const char *detail)
{
    /* Hook thread: record, never assert here (cmocka longjmps). */
    pthread_mutex_lock(&res_mu);
    if (nresults < 32) {
        struct result *r = &results[nresults++];
        r->id = f->failover_id;
        snprintf(r->hook, sizeof(r->hook), "%s", hook);
        r->ok = ok;
        snprintf(r->detail, sizeof(r->detail), "%s", detail);
        r->at_ms = now_ms();
        r->arg_ok = arg == (void *)&results;
    }
    pthread_mutex_unlock(&res_mu);
}

static void results_reset(void)
{
    pthread_mutex_lock(&res_mu);
    nresults = 0;
    memset(results, 0, sizeof(results));
    pthread_mutex_unlock(&res_mu);
}

static int results_count(void)
{
    pthread_mutex_lock(&res_mu);
    int n = nresults;
    pthread_mutex_unlock(&res_mu);
    return n;
}

/* Wait until n results are in; returns how many there are. */
static int wait_results(int n, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (results_count() < n && now_ms() < end)
        sleep_ms(5);
    return results_count();
}

/* ---- fixtures ---- */

static void make_event(struct hook_failover *f, int64_t id, const char *kind)
{
    memset(f, 0, sizeof(*f));
    f->failover_id = id;
    snprintf(f->cluster, sizeof(f->cluster), "orders");
    snprintf(f->kind, sizeof(f->kind), "%s", kind);
    snprintf(f->old_master, sizeof(f->old_master), "db1");
    snprintf(f->old_host, sizeof(f->old_host), "10.0.0.1");
    f->old_port = 6379;
    snprintf(f->new_master, sizeof(f->new_master), "db2");
    snprintf(f->new_host, sizeof(f->new_host), "10.0.0.2");
    f->new_port = 6380;
    /* Shell metacharacters: must arrive verbatim, never be interpreted. */
    snprintf(f->reason, sizeof(f->reason), "master db1 down: \"quoted\" 'single' $HOME `id` ; exit 9");
    f->ts_ms = 1769860800123LL;   /* 2026-01-31T12:00:00.123Z */
}

static void make_cfg(struct cfg *c, const char *cmd, int cmd_timeout_ms, const char *url,
                     int retries, int url_timeout_ms)
{
    cfg_init(c);
    if (cmd != NULL) {
        c->on_failover = strdup(cmd);
        assert_non_null(c->on_failover);
    }
    c->on_failover_timeout_ms = cmd_timeout_ms;
    if (url != NULL) {
        c->failover_webhook = strdup(url);
        assert_non_null(c->failover_webhook);
    }
    c->failover_webhook_retries = retries;
    c->failover_webhook_timeout_ms = url_timeout_ms;
}

static struct hooks *start(const char *cmd, int cmd_timeout_ms, const char *url, int retries,
                           int url_timeout_ms)
{
    struct cfg c;
    struct hooks *h = NULL;
    make_cfg(&c, cmd, cmd_timeout_ms, url, retries, url_timeout_ms);
    results_reset();
    assert_int_equal(hooks_start(&h, &c, on_result, &results), 0);
    cfg_free(&c);   /* the hooks keep their own copies */
    assert_non_null(h);
    return h;
}

/* Fire and return how long hooks_fire() took. */
static int64_t fire_timed(struct hooks *h, const struct hook_failover *f)
{
    int64_t t = now_ms();
    hooks_fire(h, f);
    return now_ms() - t;
}

/* The test process is a child subreaper (see main): a hook's background
 * process lands here once its shell is gone. Wait for it to die (bounded)
 * and return its wait status. */
static int reap_orphan(pid_t pid, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t p = waitpid(pid, &status, WNOHANG);
        if (p == pid)
            return status;
        if (p < 0) {
            /* Not ours (yet): still the shell's child, or gone already. */
            if (kill(pid, 0) != 0 && errno == ESRCH)
                return -1;
        }
        assert_true(now_ms() < end);
        sleep_ms(10);
    }
}

/* ---- pure helpers ---- */

static void test_webhook_body(void **state)
{
    (void)state;
    struct hook_failover f;
    make_event(&f, 42, "switchover");
    char *body = hooks_webhook_body(&f);
    assert_non_null(body);
    json_error_t err;
    json_t *j = json_loads(body, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "event")), "failover");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "cluster")), "orders");
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "switchover");
    json_t *om = json_object_get(j, "old_master"), *nm = json_object_get(j, "new_master");
    assert_string_equal(json_string_value(json_object_get(om, "name")), "db1");
    assert_string_equal(json_string_value(json_object_get(om, "host")), "10.0.0.1");
    assert_int_equal(json_integer_value(json_object_get(om, "port")), 6379);
    assert_string_equal(json_string_value(json_object_get(nm, "name")), "db2");
    assert_string_equal(json_string_value(json_object_get(nm, "host")), "10.0.0.2");
    assert_int_equal(json_integer_value(json_object_get(nm, "port")), 6380);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), f.reason);
    assert_string_equal(json_string_value(json_object_get(j, "time")), "2026-01-31T12:00:00.123Z");
    json_decref(j);
    free(body);

    /* No old master: null. Invalid UTF-8 in the reason: still valid JSON. */
    f.old_master[0] = f.old_host[0] = '\0';
    f.old_port = 0;
    snprintf(f.reason, sizeof(f.reason), "bad \xff byte");
    body = hooks_webhook_body(&f);
    assert_non_null(body);
    j = json_loads(body, 0, &err);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "old_master")));
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "bad ? byte");
    json_decref(j);
    free(body);
}

static void test_mask_url(void **state)
{
    (void)state;
    char out[256];
    hooks_mask_url("https://user:pa@ss@example.com:8443/hook?token=abc#x", out, sizeof(out));
    assert_string_equal(out, "https://***@example.com:8443/hook?***");
    hooks_mask_url("http://example.com/x/y", out, sizeof(out));
    assert_string_equal(out, "http://example.com/x/y");
    hooks_mask_url("http://u@h", out, sizeof(out));
    assert_string_equal(out, "http://***@h");
    hooks_mask_url("http://h/p@q?s", out, sizeof(out));   /* '@' in the path is not userinfo */
    assert_string_equal(out, "http://h/p@q?***");
    hooks_mask_url("http://user:secret@host/", out, 12);
    assert_string_equal(out, "http://***@");   /* truncated, still masked */
}

static void test_nothing_configured(void **state)
{
    (void)state;
    struct hooks *h = start(NULL, 1000, NULL, 3, 1000);
    struct hook_failover f;
    make_event(&f, 1, "manual");
    assert_true(fire_timed(h, &f) < 50);
    sleep_ms(100);
    assert_int_equal(results_count(), 0);
    hooks_stop(h);
    hooks_fire(NULL, &f);
    hooks_stop(NULL);
}

/* ---- command hook ---- */

static void check_env_file(const char *name, int64_t id, const char *kind)
{
    char *got = wait_file(name, 100);
    assert_non_null(got);
    struct hook_failover f;
    make_event(&f, id, kind);
    char want[2048];
    /* Sorted like `sort` in the C locale; the stale KVFLEET_CLUSTER from the
     * test's own environment must be replaced, not duplicated. */
    snprintf(want, sizeof(want),
             "KVFLEET_CLUSTER=orders\n"
             "KVFLEET_FAILOVER_ID=%lld\n"
             "KVFLEET_KIND=%s\n"
             "KVFLEET_NEW_MASTER=db2\n"
             "KVFLEET_NEW_MASTER_HOST=10.0.0.2\n"
             "KVFLEET_NEW_MASTER_PORT=6380\n"
             "KVFLEET_OLD_MASTER=db1\n"
             "KVFLEET_OLD_MASTER_HOST=10.0.0.1\n"
             "KVFLEET_OLD_MASTER_PORT=6379\n"
             "KVFLEET_REASON=%s\n"
             "KVFLEET_TEST_DIR=%s\n"
             "KVFLEET_TEST_INHERITED=yes\n",
             (long long)id, kind, f.reason, dir);
    assert_string_equal(got, want);
    free(got);
}

static void test_command_env_output_status(void **state)
{
    (void)state;
    long mark = log_mark();
    /* The expected list is exact: variables of the caller's shell (the e2e
     * runner's KVFLEET_BIN...) must not leak into it. */
    assert_int_equal(unsetenv("KVFLEET_BIN"), 0);
    assert_int_equal(unsetenv("KVFLEET_TOOLS"), 0);
    assert_int_equal(setenv("KVFLEET_CLUSTER", "stale", 1), 0);
    assert_int_equal(setenv("KVFLEET_TEST_INHERITED", "yes", 1), 0);
    const char *cmd =
        "env | grep '^KVFLEET_' | LC_ALL=C sort > \"$KVFLEET_TEST_DIR/env.$KVFLEET_FAILOVER_ID\"; "
        "readlink /proc/$$/fd/0 > \"$KVFLEET_TEST_DIR/stdin.$KVFLEET_FAILOVER_ID\"; "
        /* The raw environment the shell was given: sh itself would hide a duplicate. */
        "tr '\\0' '\\n' < /proc/$$/environ | grep '^KVFLEET_CLUSTER=' "
        "> \"$KVFLEET_TEST_DIR/raw.$KVFLEET_FAILOVER_ID\"; "
        /* The shell's own descriptors, printed to the hook's output: no
         * pipeline or redirection, during which the shell itself would hold
         * extra descriptors for a moment (a pipeline made this test flaky). */
        "LC_ALL=C ls -m /proc/$$/fd; "
        "echo \"out line $KVFLEET_FAILOVER_ID\"; echo 'err line' >&2; printf 'no newline'; "
        "[ \"$KVFLEET_KIND\" = manual ]";
    /* The daemon's stdin is a pipe here: the hook must get /dev/null. */
    int in_pipe[2], saved_in = dup(0);
    assert_true(saved_in >= 0);
    assert_int_equal(pipe(in_pipe), 0);
    assert_int_equal(dup2(in_pipe[0], 0), 0);
    struct hooks *h = start(cmd, 5000, NULL, 0, 1000);
    struct hook_failover f;
    make_event(&f, 7, "manual");
    hooks_fire(h, &f);
    make_event(&f, 8, "automatic");
    hooks_fire(h, &f);
    assert_int_equal(wait_results(2, 5000 + SLACK_MS), 2);
    hooks_stop(h);
    assert_int_equal(dup2(saved_in, 0), 0);
    assert_int_equal(close(saved_in), 0);
    assert_int_equal(close(in_pipe[0]), 0);
    assert_int_equal(close(in_pipe[1]), 0);
    assert_int_equal(unsetenv("KVFLEET_CLUSTER"), 0);

    assert_int_equal(results[0].id, 7);
    assert_true(results[0].arg_ok);
    assert_string_equal(results[0].hook, "command");
    assert_int_equal(results[0].ok, 1);
    assert_non_null(strstr(results[0].detail, "exit 0 in "));
    assert_int_equal(results[1].id, 8);
    assert_int_equal(results[1].ok, 0);
    assert_non_null(strstr(results[1].detail, "exit 1 in "));

    check_env_file("env.7", 7, "manual");
    check_env_file("env.8", 8, "automatic");
    char *raw = wait_file("raw.7", 100);
    assert_non_null(raw);
    assert_string_equal(raw, "KVFLEET_CLUSTER=orders\n");
    free(raw);
    char *in = wait_file("stdin.7", 100);
    assert_non_null(in);
    assert_string_equal(in, "/dev/null\n");
    free(in);

    char *log = log_since(mark);
    /* no daemon descriptor leaked into the hook */
    assert_non_null(strstr(log, "hooks: failover 7 command: 0, 1, 2\n"));
    assert_non_null(strstr(log, "hooks: failover 7 command: out line 7\n"));
    assert_non_null(strstr(log, "hooks: failover 7 command: err line\n"));
    assert_non_null(strstr(log, "hooks: failover 7 command: no newline\n"));
    assert_non_null(strstr(log, "hooks: failover 8 command: out line 8\n"));
    assert_non_null(strstr(log, "command failed: exit 1 in "));
    assert_null(strstr(log, "grep '^KVFLEET_'"));   /* the command itself is never logged */
    free(log);
    assert_int_equal(unsetenv("KVFLEET_TEST_INHERITED"), 0);
}

static void test_command_output_budget(void **state)
{
    (void)state;
    long mark = log_mark();
    const char *cmd = "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done; "
                      "printf '\\033[31mred\\r\\n'";
    struct hooks *h = start(cmd, 10000, NULL, 0, 1000);
    struct hook_failover f;
    make_event(&f, 3, "manual");
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 10000 + SLACK_MS), 1);
    hooks_stop(h);
    assert_int_equal(results[0].ok, 1);
    char *log = log_since(mark);
    assert_non_null(strstr(log, "command: line 0\n"));
    assert_non_null(strstr(log, "command: line 199\n"));
    assert_null(strstr(log, "command: line 200\n"));
    assert_non_null(strstr(log, "801 more line(s)"));
    free(log);

    /* Control bytes cannot forge log lines; CRLF is one line end. */
    mark = log_mark();
    h = start("printf 'a\\033[31mb\\r\\nc\\rd\\n'", 10000, NULL, 0, 1000);
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 10000 + SLACK_MS), 1);
    hooks_stop(h);
    log = log_since(mark);
    assert_non_null(strstr(log, "command: a?[31mb\n"));
    assert_non_null(strstr(log, "command: c?d\n"));
    free(log);
}

/* A hook that sleeps past its timeout: killed with its background child,
 * reported within timeout + grace, and hooks_fire() stays instant. */
static void test_command_timeout_kills_group(void **state)
{
    (void)state;
    const int timeout = 300;
    const char *cmd = "sleep 30 & echo $! > \"$KVFLEET_TEST_DIR/child.$KVFLEET_FAILOVER_ID\"; "
                      "echo started; wait";
    struct hooks *h = start(cmd, timeout, NULL, 0, 1000);
    struct hook_failover f;
    make_event(&f, 11, "automatic");
    int64_t t0 = now_ms();
    assert_true(fire_timed(h, &f) < 50);
    char *pid_s = wait_file("child.11", SLACK_MS);
    assert_non_null(pid_s);
    pid_t child = (pid_t)atoi(pid_s);
    free(pid_s);
    assert_true(child > 0);

    /* While the slow hook runs, more failovers queue instantly. */
    make_event(&f, 12, "automatic");
    assert_true(fire_timed(h, &f) < 50);
    make_event(&f, 13, "automatic");
    assert_true(fire_timed(h, &f) < 50);

    assert_true(wait_results(1, timeout + GRACE_MS + SLACK_MS) >= 1);
    int64_t took = results[0].at_ms - t0;
    assert_int_equal(results[0].id, 11);
    assert_int_equal(results[0].ok, 0);
    assert_string_equal(results[0].detail, "killed after 300 ms timeout");
    assert_true(took >= timeout);
    assert_true(took < timeout + GRACE_MS + SLACK_MS);

    /* The background sleep was in the group: it died of the SIGTERM. */
    int st = reap_orphan(child, GRACE_MS + SLACK_MS);
    assert_true(st == -1 || (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM));

    /* Stop while event 12 may be running: bounded by its timeout + grace;
     * event 13 is dropped, never run. */
    int64_t t1 = now_ms();
    hooks_stop(h);
    assert_true(now_ms() - t1 < timeout + 2 * GRACE_MS + SLACK_MS);
    int n = results_count();
    assert_true(n == 1 || n == 2);
    char *c12 = wait_file("child.12", 0);
    if (c12 != NULL) {
        (void)reap_orphan((pid_t)atoi(c12), GRACE_MS + SLACK_MS);
        free(c12);
    }
    assert_null(wait_file("child.13", 0));
    /* Every shell was reaped by the hooks: no child of ours is left. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* A hook that ignores SIGTERM (and whose child does too) gets SIGKILL after
 * the grace period. */
static void test_command_sigkill_after_grace(void **state)
{
    (void)state;
    const int timeout = 300;
    const char *cmd = "trap '' TERM; "
                      "sleep 30 & echo $! > \"$KVFLEET_TEST_DIR/child.$KVFLEET_FAILOVER_ID\"; wait";
    struct hooks *h = start(cmd, timeout, NULL, 0, 1000);
    struct hook_failover f;
    make_event(&f, 21, "automatic");
    int64_t t0 = now_ms();
    hooks_fire(h, &f);
    char *pid_s = wait_file("child.21", SLACK_MS);
    assert_non_null(pid_s);
    pid_t child = (pid_t)atoi(pid_s);
    free(pid_s);
    assert_int_equal(wait_results(1, timeout + 2 * GRACE_MS + SLACK_MS), 1);
    int64_t took = results[0].at_ms - t0;
    assert_int_equal(results[0].ok, 0);
    assert_string_equal(results[0].detail, "killed after 300 ms timeout");
    assert_true(took >= timeout + GRACE_MS - 50);
    assert_true(took < timeout + 2 * GRACE_MS + SLACK_MS);
    int st = reap_orphan(child, GRACE_MS + SLACK_MS);
    assert_true(st == -1 || (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
    hooks_stop(h);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

static void test_command_cannot_start_is_reported(void **state)
{
    (void)state;
    struct hooks *h = start("/nonexistent/hook-script", 2000, NULL, 0, 1000);
    struct hook_failover f;
    make_event(&f, 31, "manual");
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 2000 + SLACK_MS), 1);
    hooks_stop(h);
    assert_int_equal(results[0].ok, 0);
    assert_non_null(strstr(results[0].detail, "exit 127 in "));
}

/* ---- webhook against a local libmicrohttpd server ---- */

struct upload {
    char buf[8192];
    size_t len;
};

struct websrv {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    int requests;
    int statuses[8];       /* answers in order, then default_status */
    int nstatuses;
    int default_status;
    char method[16], ctype[128], ua[128], path[128], body[8192];
};

static void upload_done(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void websrv_record(struct websrv *s, struct MHD_Connection *c, const char *url,
                          const char *method, const struct upload *u, int *status)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    pthread_mutex_lock(&s->mu);
    *status = s->requests < s->nstatuses ? s->statuses[s->requests] : s->default_status;
    s->requests++;
    snprintf(s->method, sizeof(s->method), "%s", method);
    snprintf(s->ctype, sizeof(s->ctype), "%s", ct ? ct : "");
    snprintf(s->ua, sizeof(s->ua), "%s", ua ? ua : "");
    snprintf(s->path, sizeof(s->path), "%s", url);
    memcpy(s->body, u->buf, u->len);
    s->body[u->len] = '\0';
    pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result websrv_request(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct websrv *s = cls;
    struct upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        if (n > sizeof(u->buf) - 1 - u->len)
            n = sizeof(u->buf) - 1 - u->len;
        memcpy(u->buf + u->len, upload_data, n);
        u->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    int status;
    websrv_record(s, c, url, method, u, &status);
    static char reply[] = "{}";
    struct MHD_Response *r = MHD_create_response_from_buffer(2, reply, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct websrv *websrv_start(int default_status, const int *statuses, int n)
{
    struct websrv *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
    s->default_status = default_status;
    for (int i = 0; i < n && i < 8; i++)
        s->statuses[s->nstatuses++] = statuses[i];
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, websrv_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_NOTIFY_COMPLETED, upload_done, NULL, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
    return s;
}

static int websrv_requests(struct websrv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void websrv_stop(struct websrv *s)
{
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void websrv_url(struct websrv *s, char *url, size_t len)
{
    snprintf(url, len, "http://127.0.0.1:%d/hook", s->port);
}

/* Command and webhook both set: the command runs first, then the POST with
 * the JSON body, content type and user agent. */
static void test_webhook_body_headers(void **state)
{
    (void)state;
    struct websrv *s = websrv_start(200, NULL, 0);
    char url[128];
    websrv_url(s, url, sizeof(url));
    struct hooks *h = start("exit 0", 2000, url, 3, 2000);
    struct hook_failover f;
    make_event(&f, 42, "manual");
    hooks_fire(h, &f);
    assert_int_equal(wait_results(2, 2000 + 2000 + SLACK_MS), 2);
    hooks_stop(h);
    assert_string_equal(results[0].hook, "command");
    assert_int_equal(results[0].ok, 1);
    /* Reported as soon as it exits: no wait for a drain deadline. */
    int ms = -1;
    assert_int_equal(sscanf(results[0].detail, "exit 0 in %d ms", &ms), 1);
    assert_true(ms >= 0 && ms < 190);
    assert_string_equal(results[1].hook, "webhook");
    assert_int_equal(results[1].ok, 1);
    assert_string_equal(results[1].detail, "HTTP 200 after 1 attempt");
    assert_int_equal(websrv_requests(s), 1);
    assert_string_equal(s->method, "POST");
    assert_string_equal(s->path, "/hook");
    assert_string_equal(s->ctype, "application/json");
    assert_string_equal(s->ua, "kvfleetd/" KVFLEETD_VERSION);
    char *want = hooks_webhook_body(&f);
    assert_non_null(want);
    assert_string_equal(s->body, want);
    free(want);
    json_error_t err;
    json_t *j = json_loads(s->body, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "new_master"), "name")),
                        "db2");
    json_decref(j);
    websrv_stop(s);
}

static void test_webhook_retry_then_success(void **state)
{
    (void)state;
    const int answers[] = { 500, 500, 200 };
    struct websrv *s = websrv_start(200, answers, 3);
    char url[128];
    websrv_url(s, url, sizeof(url));
    struct hooks *h = start(NULL, 1000, url, 3, 2000);
    struct hook_failover f;
    make_event(&f, 43, "automatic");
    int64_t t0 = now_ms();
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 500 + 1000 + 3 * 2000 + SLACK_MS), 1);
    int64_t took = results[0].at_ms - t0;
    hooks_stop(h);
    assert_string_equal(results[0].hook, "webhook");
    assert_int_equal(results[0].ok, 1);
    assert_string_equal(results[0].detail, "HTTP 200 after 3 attempts");
    assert_int_equal(websrv_requests(s), 3);
    assert_true(took >= 500 + 1000 - 50);   /* backoff 500 ms, then 1 s */
    websrv_stop(s);
}

static void test_webhook_gives_up(void **state)
{
    (void)state;
    struct websrv *s = websrv_start(500, NULL, 0);
    char url[128];
    websrv_url(s, url, sizeof(url));
    struct hooks *h = start(NULL, 1000, url, 2, 2000);
    struct hook_failover f;
    make_event(&f, 44, "automatic");
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 500 + 1000 + 3 * 2000 + SLACK_MS), 1);
    hooks_stop(h);
    assert_int_equal(results[0].ok, 0);
    assert_string_equal(results[0].detail, "HTTP 500, gave up after 3 attempts");
    assert_int_equal(websrv_requests(s), 3);
    websrv_stop(s);
}

/* A port nobody listens on: fails fast, no hang; credentials and the query
 * string never reach the log. */
static void test_webhook_unreachable(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    assert_int_equal(close(fd), 0);   /* bound, never listened: connections are refused */
    char url[160];
    snprintf(url, sizeof(url), "http://alice:s3cret@127.0.0.1:%d/hook?token=t0ken",
             ntohs(sin.sin_port));

    long mark = log_mark();
    struct hooks *h = start(NULL, 1000, url, 1, 2000);
    struct hook_failover f;
    make_event(&f, 45, "automatic");
    int64_t t0 = now_ms();
    hooks_fire(h, &f);
    assert_int_equal(wait_results(1, 500 + 2 * 2000 + SLACK_MS), 1);
    int64_t took = results[0].at_ms - t0;
    hooks_stop(h);
    assert_int_equal(results[0].ok, 0);
    assert_non_null(strstr(results[0].detail, "gave up after 2 attempts"));
    assert_true(took < 500 + SLACK_MS);   /* refused at once, only the backoff waits */
    char *log = log_since(mark);
    assert_null(strstr(log, "s3cret"));
    assert_null(strstr(log, "t0ken"));
    assert_null(strstr(results[0].detail, "s3cret"));
    assert_non_null(strstr(log, "http://***@127.0.0.1:"));
    free(log);
}

/* hooks_stop() during the backoff returns at once, with the attempt count. */
static void test_webhook_stop_cuts_backoff(void **state)
{
    (void)state;
    struct websrv *s = websrv_start(503, NULL, 0);
    char url[128];
    websrv_url(s, url, sizeof(url));
    struct hooks *h = start(NULL, 1000, url, 10, 2000);
    struct hook_failover f;
    make_event(&f, 46, "automatic");
    hooks_fire(h, &f);
    int64_t end = now_ms() + 500 + 2 * 2000 + SLACK_MS;
    while (websrv_requests(s) < 2 && now_ms() < end)
        sleep_ms(5);
    assert_int_equal(websrv_requests(s), 2);
    sleep_ms(100);   /* into the 1 s backoff after attempt 2 */
    int64_t t0 = now_ms();
    hooks_stop(h);
    assert_true(now_ms() - t0 < 800);
    assert_int_equal(results_count(), 1);
    assert_int_equal(results[0].ok, 0);
    assert_string_equal(results[0].detail, "HTTP 503, stopped at shutdown after 2 attempts");
    assert_int_equal(websrv_requests(s), 2);
    websrv_stop(s);
}

static int setup_all(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kvfleet-hooks-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s/kvfleetd.log", dir);
    if (ctl_log_open(log_path, CTL_LOG_DEBUG) != 0)
        return -1;
    if (setenv("KVFLEET_TEST_DIR", dir, 1) != 0)
        return -1;
    /* Orphaned background processes of the hooks come to us, so the tests
     * can check how they died. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0)
        return -1;
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    ctl_log_close();
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_mask_url),
        cmocka_unit_test(test_nothing_configured),
        cmocka_unit_test(test_command_env_output_status),
        cmocka_unit_test(test_command_output_budget),
        cmocka_unit_test(test_command_timeout_kills_group),
        cmocka_unit_test(test_command_sigkill_after_grace),
        cmocka_unit_test(test_command_cannot_start_is_reported),
        cmocka_unit_test(test_webhook_body_headers),
        cmocka_unit_test(test_webhook_retry_then_success),
        cmocka_unit_test(test_webhook_gives_up),
        cmocka_unit_test(test_webhook_unreachable),
        cmocka_unit_test(test_webhook_stop_cuts_backoff),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
