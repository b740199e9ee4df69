/* hooks.c - the failover hook worker (see hooks.h).
 *
 * One thread takes failovers off a small ring buffer and, for each, runs
 * the `on-failover` command and then posts the webhook. The command runs
 * as `/bin/sh -c` in its own process group, so a timeout can kill whatever
 * it started, with stdin from /dev/null and stdout+stderr on one pipe that
 * is logged line by line within a budget. Its lifetime is a small state
 * machine driven by poll() on that pipe: running -> (exit) draining, or
 * running -> (timeout) SIGTERM to the group -> (grace) SIGKILL to the
 * group. The leader is always reaped; its exit is first observed with
 * WNOWAIT so its zombie keeps the group id reserved while we may still
 * signal the group. Exit is checked on every wakeup: pipe EOF (usually
 * the moment of exit) or a short tick. No pidfd: valgrind, under which
 * the unit tests run, does not know pidfd_open, and a tick costs nothing
 * next to a hook that runs for at most its timeout.
 *
 * The webhook is a libcurl POST of a JSON body with per-attempt timeout and
 * exponential backoff between attempts; the backoff sleeps on the stop
 * condition so hooks_stop() never waits for it. */
#include "hooks.h"
#include "log.h"
#include "version.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Failovers are rare; 64 pending ones means the hooks are hopelessly
 * behind and older news is worth more than a growing backlog. */
#define HOOKS_QUEUE_MAX 64
/* Between SIGTERM and SIGKILL, and again for the exit after SIGKILL. */
#define HOOKS_KILL_GRACE_MS 1000
/* After the shell exits, how long a background process still holding the
 * output pipe may keep us reading it. */
#define HOOKS_DRAIN_MS 200
/* Child-exit polling period while its output pipe is open (EOF wakes us
 * at exit anyway). Once the pipe is closed exit is usually imminent: the
 * tick starts at 1 ms and doubles up to the same 50 ms, in case the hook
 * just closed its output and carries on. */
#define HOOKS_TICK_MS 50
/* Output logging budget per run: the rest is counted, not logged. */
#define HOOKS_OUT_MAX_BYTES (64 * 1024)
#define HOOKS_OUT_MAX_LINES 200
#define HOOKS_LINE_MAX 512
/* Reads per wakeup, so a child flooding the pipe cannot starve the timeout. */
#define HOOKS_READS_PER_WAKE 16
#define HOOKS_BACKOFF_FIRST_MS 500
#define HOOKS_BACKOFF_MAX_MS 30000
/* Leaders that survived SIGKILL + grace (uninterruptible sleep): reaped later. */
#define HOOKS_STRAY_MAX 8

#define HOOKS_ENV_COUNT 10

struct hooks {
    char *command;              /* NULL: no command hook */
    int command_timeout_ms;
    char *webhook;              /* NULL: no webhook */
    char *webhook_masked;       /* what the log shows */
    int webhook_retries;
    int webhook_timeout_ms;
    int curl_ready;
    hook_result_fn on_result;
    void *arg;

    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;        /* CLOCK_MONOTONIC: work queued or stopping */
    int stopping;
    size_t qhead, qlen;
    struct hook_failover queue[HOOKS_QUEUE_MAX];

    pid_t stray[HOOKS_STRAY_MAX];   /* worker thread only */
    int nstray;
};

/* ---- time ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-01-31T12:00:00.123Z" */
static void iso_time(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char day[32];
    if (gmtime_r(&secs, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

/* ---- pure helpers ---- */

/* Append n bytes of s, truncating at outlen - 1. */
static void append(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
    if (*o + 1 >= outlen)
        return;
    if (n > outlen - 1 - *o)
        n = outlen - 1 - *o;
    memcpy(out + *o, s, n);
    *o += n;
    out[*o] = '\0';
}

void hooks_mask_url(const char *url, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    out[0] = '\0';
    const char *sep = strstr(url, "://");
    const char *auth = sep != NULL ? sep + 3 : url;
    const char *auth_end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++)   /* the last '@': passwords may hold one */
        if (*p == '@')
            at = p;
    append(out, outlen, &o, url, (size_t)(auth - url));
    if (at != NULL) {
        append(out, outlen, &o, "***", 3);
        auth = at;
    }
    append(out, outlen, &o, auth, (size_t)(auth_end - auth));
    /* Query strings often carry tokens (?token=...): hide them too. */
    const char *q = strchr(auth_end, '?');
    if (q == NULL) {
        append(out, outlen, &o, auth_end, strlen(auth_end));
    } else {
        append(out, outlen, &o, auth_end, (size_t)(q - auth_end));
        append(out, outlen, &o, "?***", 4);
    }
}

/* A JSON string; node names and reasons should be UTF-8, but a stray byte
 * must not cost the whole notification, so invalid input is sent with its
 * non-ASCII bytes replaced by '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *master_json(const char *name, const char *host, int port)
{
    if (name[0] == '\0' && host[0] == '\0')
        return json_null();
    json_t *m = json_object();
    if (m == NULL)
        return NULL;
    if (json_object_set_new(m, "name", jstr(name)) != 0 ||
        json_object_set_new(m, "host", jstr(host)) != 0 ||
        json_object_set_new(m, "port", json_integer(port)) != 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

char *hooks_webhook_body(const struct hook_failover *f)
{
    char when[40];
    iso_time(f->ts_ms, when, sizeof(when));
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    char *body = NULL;
    if (json_object_set_new(o, "event", json_string("failover")) == 0 &&
        json_object_set_new(o, "id", json_integer(f->failover_id)) == 0 &&
        json_object_set_new(o, "cluster", jstr(f->cluster)) == 0 &&
        json_object_set_new(o, "kind", jstr(f->kind)) == 0 &&
        json_object_set_new(o, "old_master", master_json(f->old_master, f->old_host, f->old_port)) == 0 &&
        json_object_set_new(o, "new_master", master_json(f->new_master, f->new_host, f->new_port)) == 0 &&
        json_object_set_new(o, "reason", jstr(f->reason)) == 0 &&
        json_object_set_new(o, "time", json_string(when)) == 0)
        body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return body;
}

/* ---- worker plumbing ---- */

static int hooks_is_stopping(struct hooks *h)
{
    pthread_mutex_lock(&h->mu);
    int s = h->stopping;
    pthread_mutex_unlock(&h->mu);
    return s;
}

/* Sleep up to ms unless hooks_stop() is called. Returns 1 when stopping. */
static int wait_unless_stopping(struct hooks *h, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    while (!h->stopping && pthread_cond_timedwait(&h->cond, &h->mu, &ts) != ETIMEDOUT)
        ;
    int s = h->stopping;
    pthread_mutex_unlock(&h->mu);
    return s;
}

static void report(struct hooks *h, const struct hook_failover *f, const char *hook, int ok,
                   const char *detail)
{
    if (ok)
        ctl_log_notice("hooks: failover %lld (cluster %s): %s ok: %s", (long long)f->failover_id,
                       f->cluster, hook, detail);
    else
        ctl_log_warning("hooks: failover %lld (cluster %s): %s failed: %s", (long long)f->failover_id,
                        f->cluster, hook, detail);
    if (h->on_result != NULL)
        h->on_result(h->arg, f, hook, ok, detail);
}

/* ---- command hook: environment ---- */

static const char *const env_names[HOOKS_ENV_COUNT] = {
    "KVFLEET_FAILOVER_ID", "KVFLEET_CLUSTER", "KVFLEET_KIND", "KVFLEET_OLD_MASTER",
    "KVFLEET_OLD_MASTER_HOST", "KVFLEET_OLD_MASTER_PORT", "KVFLEET_NEW_MASTER",
    "KVFLEET_NEW_MASTER_HOST", "KVFLEET_NEW_MASTER_PORT", "KVFLEET_REASON",
};

struct hook_env {
    char **envp;                     /* NULL-terminated, entries borrowed or from vars */
    char *vars[HOOKS_ENV_COUNT];     /* our "NAME=value" strings */
};

/* A daemon started by a previous hook (or by hand) may carry KVFLEET_*
 * values already: ours must replace them, not sit next to them. */
static int env_is_ours(const char *entry)
{
    for (int i = 0; i < HOOKS_ENV_COUNT; i++) {
        size_t n = strlen(env_names[i]);
        if (strncmp(entry, env_names[i], n) == 0 && entry[n] == '=')
            return 1;
    }
    return 0;
}

static void env_free(struct hook_env *e)
{
    for (int i = 0; i < HOOKS_ENV_COUNT; i++)
        free(e->vars[i]);
    free(e->envp);
}

static void port_str(int port, char *buf, size_t len)
{
    if (port > 0)
        snprintf(buf, len, "%d", port);
    else
        buf[0] = '\0';
}

/* Built before spawning: nothing may be allocated between fork and exec. */
static int env_build(struct hook_env *e, const struct hook_failover *f)
{
    char id[32], oport[16], nport[16];
    snprintf(id, sizeof(id), "%lld", (long long)f->failover_id);
    port_str(f->old_port, oport, sizeof(oport));
    port_str(f->new_port, nport, sizeof(nport));
    const char *values[HOOKS_ENV_COUNT] = {
        id, f->cluster, f->kind, f->old_master, f->old_host, oport,
        f->new_master, f->new_host, nport, f->reason,
    };
    memset(e, 0, sizeof(*e));
    size_t n = 0;
    for (char **p = environ; p != NULL && *p != NULL; p++)
        n++;
    e->envp = calloc(n + HOOKS_ENV_COUNT + 1, sizeof(char *));
    if (e->envp == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_is_ours(environ[i]))
            e->envp[k++] = environ[i];
    for (int i = 0; i < HOOKS_ENV_COUNT; i++) {
        if (asprintf(&e->vars[i], "%s=%s", env_names[i], values[i]) < 0) {
            e->vars[i] = NULL;
            env_free(e);
            return -1;
        }
        e->envp[k++] = e->vars[i];
    }
    e->envp[k] = NULL;
    return 0;
}

/* ---- command hook: output ---- */

/* Splits the child's output into log lines and enforces the budget. */
struct cmd_out {
    int64_t id;
    char line[HOOKS_LINE_MAX + 1];
    size_t len;
    size_t logged_bytes, dropped_bytes;
    int logged_lines, dropped_lines;
};

static void out_emit(struct cmd_out *o)
{
    if (o->len > 0 && o->line[o->len - 1] == '\r')
        o->len--;
    o->line[o->len] = '\0';
    if (o->logged_lines >= HOOKS_OUT_MAX_LINES || o->logged_bytes + o->len > HOOKS_OUT_MAX_BYTES) {
        o->dropped_lines++;
        o->dropped_bytes += o->len;
    } else {
        /* One log line per output line: control bytes would forge new ones. */
        for (size_t i = 0; i < o->len; i++)
            if ((unsigned char)o->line[i] < 0x20 || o->line[i] == 0x7f)
                o->line[i] = o->line[i] == '\t' ? ' ' : '?';
        ctl_log_notice("hooks: failover %lld command: %s", (long long)o->id, o->line);
        o->logged_lines++;
        o->logged_bytes += o->len;
    }
    o->len = 0;
}

static void out_feed(struct cmd_out *o, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            out_emit(o);
            continue;
        }
        o->line[o->len++] = buf[i];
        if (o->len == HOOKS_LINE_MAX)   /* over-long line: split, never grow */
            out_emit(o);
    }
}

static void out_finish(struct cmd_out *o)
{
    if (o->len > 0)
        out_emit(o);
    if (o->dropped_lines > 0)
        ctl_log_notice("hooks: failover %lld command: %d more line(s), %zu byte(s) of output not logged",
                       (long long)o->id, o->dropped_lines, o->dropped_bytes);
}

/* ---- command hook: process ---- */

enum cmd_phase { CMD_RUN, CMD_DRAIN, CMD_TERM, CMD_KILL, CMD_DONE };

struct cmd_run {
    pid_t pid;
    int pipe_fd;        /* read end, -1 once at EOF */
    int exited;         /* leader is a zombie (or was reaped elsewhere) */
    int tick_ms;        /* exit polling period while the pipe is closed */
    int unknown_status; /* reaped elsewhere (SIGCHLD ignored by someone) */
    int timed_out;
    int stray;          /* leader survived SIGKILL + grace */
    enum cmd_phase phase;
    int64_t started, deadline, phase_end;
    struct cmd_out out;
};

static int spawn_command(const char *command, char **envp, int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        return rc;
    rc = posix_spawnattr_init(&at);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    /* The daemon's sockets and database must not leak into a hook (a
     * background process left by it would keep the API port bound). */
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    /* Own process group: a timeout kills everything the hook started. The
     * daemon's blocked and ignored signals are not the hook's business. */
    if (rc == 0)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSIGDEF);
    if (rc == 0)
        rc = posix_spawnattr_setpgroup(&at, 0);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (rc == 0) {
        char *argv[] = { "sh", "-c", (char *)command, NULL };
        rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, envp);
    }
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Has the leader exited? Looks without reaping (WNOWAIT): its zombie keeps
 * the process group id from being reused while we may still signal it. */
static void check_exited(struct cmd_run *r)
{
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
            r->exited = si.si_pid == r->pid;
            return;
        }
        if (errno == EINTR)
            continue;
        /* ECHILD: reaped behind our back (SIGCHLD set to SIG_IGN). */
        r->exited = 1;
        r->unknown_status = 1;
        return;
    }
}

/* Read what the pipe holds now; closes it at EOF. */
static void pipe_read(struct cmd_run *r)
{
    char buf[4096];
    for (int i = 0; i < HOOKS_READS_PER_WAKE; i++) {
        ssize_t n = read(r->pipe_fd, buf, sizeof(buf));
        if (n > 0) {
            out_feed(&r->out, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0)
            ctl_log_warning("hooks: reading the command's output: %s", strerror(errno));
        close(r->pipe_fd);
        r->pipe_fd = -1;
        return;
    }
}

static void signal_group(struct cmd_run *r, int sig)
{
    if (kill(-r->pid, sig) != 0 && errno != ESRCH)
        ctl_log_warning("hooks: kill(-%d, %d): %s", (int)r->pid, sig, strerror(errno));
}

/* Advance the state machine for the time `now`. */
static void cmd_step(struct cmd_run *r, int timeout_ms, int64_t now)
{
    switch (r->phase) {
    case CMD_RUN:
        if (r->exited) {
            r->phase = CMD_DRAIN;
            r->phase_end = now + HOOKS_DRAIN_MS;
        } else if (now >= r->deadline) {
            ctl_log_warning("hooks: failover %lld command: still running after %d ms, "
                            "sending SIGTERM to its process group", (long long)r->out.id, timeout_ms);
            r->timed_out = 1;
            signal_group(r, SIGTERM);
            r->phase = CMD_TERM;
            r->phase_end = now + HOOKS_KILL_GRACE_MS;
        }
        break;
    case CMD_DRAIN:
        if (r->pipe_fd < 0 || now >= r->phase_end)
            r->phase = CMD_DONE;
        break;
    case CMD_TERM:
        /* Pipe EOF tells us every process that had the output is gone;
         * SIGKILL also takes whatever ignored SIGTERM or closed it. */
        if ((r->exited && r->pipe_fd < 0) || now >= r->phase_end) {
            signal_group(r, SIGKILL);
            r->phase = CMD_KILL;
            r->phase_end = now + HOOKS_KILL_GRACE_MS;
        }
        break;
    case CMD_KILL:
        if (r->exited && (r->pipe_fd < 0 || now >= r->phase_end)) {
            r->phase = CMD_DONE;
        } else if (now >= r->phase_end) {
            r->stray = 1;
            r->phase = CMD_DONE;
        }
        break;
    case CMD_DONE:
        break;
    }
}

/* Sleep until output, the leader's exit or the current phase's deadline. */
static void cmd_wait(struct cmd_run *r, int64_t now)
{
    int64_t until = r->phase == CMD_RUN ? r->deadline : r->phase_end;
    int64_t ms = until > now ? until - now : 0;
    struct pollfd p = { .fd = r->pipe_fd, .events = POLLIN };
    nfds_t n = r->pipe_fd >= 0 ? 1 : 0;
    int64_t tick = HOOKS_TICK_MS;
    if (n == 0) {
        if (r->tick_ms == 0)
            r->tick_ms = 1;
        else if (r->tick_ms < HOOKS_TICK_MS)
            r->tick_ms *= 2;
        if (r->tick_ms < tick)
            tick = r->tick_ms;
    }
    if (!r->exited && ms > tick)
        ms = tick;
    if (poll(&p, n, (int)ms) < 0 && errno != EINTR)
        ctl_log_warning("hooks: poll: %s", strerror(errno));
    if (r->pipe_fd >= 0)
        pipe_read(r);
    if (!r->exited)
        check_exited(r);
}

static void cmd_describe(struct cmd_run *r, int status, int timeout_ms, char *detail, size_t len,
                         int *ok)
{
    long long ms = (long long)(mono_ms() - r->started);
    *ok = 0;
    if (r->timed_out && r->stray)
        snprintf(detail, len, "killed after %d ms timeout; pid %d still not gone after SIGKILL",
                 timeout_ms, (int)r->pid);
    else if (r->timed_out)
        snprintf(detail, len, "killed after %d ms timeout", timeout_ms);
    else if (r->unknown_status)
        snprintf(detail, len, "exited after %lld ms, status unknown (reaped elsewhere)", ms);
    else if (WIFEXITED(status)) {
        *ok = WEXITSTATUS(status) == 0;
        snprintf(detail, len, "exit %d in %lld ms", WEXITSTATUS(status), ms);
    } else if (WIFSIGNALED(status))
        snprintf(detail, len, "killed by signal %d (%s) after %lld ms", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), ms);
    else
        snprintf(detail, len, "ended with status 0x%x after %lld ms", (unsigned)status, ms);
}

static int reap(pid_t pid, int *status)
{
    for (;;) {
        if (waitpid(pid, status, 0) == pid)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Reap leaders that outlived SIGKILL + grace on an earlier run. */
static void reap_strays(struct hooks *h)
{
    for (int i = 0; i < h->nstray;) {
        int status;
        pid_t p = waitpid(h->stray[i], &status, WNOHANG);
        if (p == h->stray[i] || (p < 0 && errno == ECHILD)) {
            h->stray[i] = h->stray[--h->nstray];
        } else {
            i++;
        }
    }
}

static void keep_stray(struct hooks *h, pid_t pid)
{
    ctl_log_warning("hooks: command pid %d did not exit %d ms after SIGKILL; it will be reaped later",
                    (int)pid, HOOKS_KILL_GRACE_MS);
    if (h->nstray < HOOKS_STRAY_MAX)
        h->stray[h->nstray++] = pid;
}

/* Spawn the command with its pipe. Returns 0, or an errno value. */
static int cmd_start(struct hooks *h, const struct hook_failover *f, struct cmd_run *r)
{
    struct hook_env env;
    int fds[2];
    if (env_build(&env, f) != 0)
        return ENOMEM;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        int e = errno;
        env_free(&env);
        return e;
    }
    int rc = fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 ? 0 : errno;
    if (rc == 0)
        rc = spawn_command(h->command, env.envp, fds[1], &r->pid);
    env_free(&env);
    close(fds[1]);          /* only the child writes: EOF when it is done */
    if (rc != 0) {
        close(fds[0]);
        return rc;
    }
    r->pipe_fd = fds[0];
    return 0;
}

static void run_command(struct hooks *h, const struct hook_failover *f)
{
    struct cmd_run r;
    memset(&r, 0, sizeof(r));
    r.out.id = f->failover_id;
    r.started = mono_ms();
    r.deadline = r.started + h->command_timeout_ms;
    reap_strays(h);
    ctl_log_notice("hooks: failover %lld (cluster %s): running the on-failover command",
                   (long long)f->failover_id, f->cluster);
    char detail[256];
    int rc = cmd_start(h, f, &r);
    if (rc != 0) {
        snprintf(detail, sizeof(detail), "cannot start /bin/sh: %s", strerror(rc));
        report(h, f, "command", 0, detail);
        return;
    }
    for (;;) {
        /* Phases only move forward; step until one needs to wait. */
        int64_t now = mono_ms();
        enum cmd_phase before;
        do {
            before = r.phase;
            cmd_step(&r, h->command_timeout_ms, now);
        } while (r.phase != before && r.phase != CMD_DONE);
        if (r.phase == CMD_DONE)
            break;
        cmd_wait(&r, now);
    }
    if (r.pipe_fd >= 0)
        close(r.pipe_fd);
    out_finish(&r.out);
    int status = 0;
    if (r.stray)
        keep_stray(h, r.pid);
    else if (!r.unknown_status && reap(r.pid, &status) != 0)
        r.unknown_status = 1;
    int ok;
    cmd_describe(&r, status, h->command_timeout_ms, detail, sizeof(detail), &ok);
    report(h, f, "command", ok, detail);
}

/* ---- webhook ---- */

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static CURLcode webhook_setup(struct hooks *h, CURL *c, struct curl_slist *hdrs, const char *body,
                              char *errbuf)
{
    CURLcode rc = curl_easy_setopt(c, CURLOPT_URL, h->webhook);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_USERAGENT, "kvfleetd/" KVFLEETD_VERSION);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->webhook_timeout_ms);
    /* Threads + timeouts: no SIGALRM-based resolver timeouts. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    return rc;
}

/* One POST. Returns the HTTP status, or 0 with the reason in err. */
static long webhook_attempt(CURL *c, char *errbuf, char *err, size_t errlen)
{
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return 0;
    }
    long status = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    snprintf(err, errlen, "HTTP %ld", status);
    return status;
}

static int backoff_ms(int attempt)
{
    int64_t ms = HOOKS_BACKOFF_FIRST_MS;
    for (int i = 1; i < attempt && ms < HOOKS_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms > HOOKS_BACKOFF_MAX_MS ? HOOKS_BACKOFF_MAX_MS : (int)ms;
}

/* Attempts until 2xx, retries exhausted, or shutdown. */
static int webhook_deliver(struct hooks *h, const struct hook_failover *f, CURL *c, char *errbuf,
                           char *detail, size_t len)
{
    int attempts = h->webhook_retries + 1;
    char err[CURL_ERROR_SIZE + 32];
    for (int a = 1;; a++) {
        long status = webhook_attempt(c, errbuf, err, sizeof(err));
        if (status >= 200 && status < 300) {
            snprintf(detail, len, "HTTP %ld after %d attempt%s", status, a, a == 1 ? "" : "s");
            return 1;
        }
        if (a >= attempts) {
            snprintf(detail, len, "%s, gave up after %d attempt%s", err, a, a == 1 ? "" : "s");
            return 0;
        }
        int wait = backoff_ms(a);
        ctl_log_warning("hooks: failover %lld webhook %s: attempt %d/%d: %s; retrying in %d ms",
                        (long long)f->failover_id, h->webhook_masked, a, attempts, err, wait);
        if (wait_unless_stopping(h, wait)) {
            snprintf(detail, len, "%s, stopped at shutdown after %d attempt%s", err, a,
                     a == 1 ? "" : "s");
            return 0;
        }
    }
}

static void run_webhook(struct hooks *h, const struct hook_failover *f)
{
    char detail[CURL_ERROR_SIZE + 96];
    char errbuf[CURL_ERROR_SIZE];
    char *body = hooks_webhook_body(f);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = hdrs != NULL ? curl_slist_append(hdrs, "Expect:") : NULL;
    int ok = 0;
    /* "Expect:" off: no 100-continue round trip (and its 1 s stall against
     * servers that ignore it) for bodies over 1 KiB. */
    if (body == NULL || c == NULL || more == NULL) {
        snprintf(detail, sizeof(detail), "out of memory");
    } else {
        hdrs = more;
        CURLcode rc = webhook_setup(h, c, hdrs, body, errbuf);
        if (rc != CURLE_OK)
            snprintf(detail, sizeof(detail), "libcurl setup: %s", curl_easy_strerror(rc));
        else
            ok = webhook_deliver(h, f, c, errbuf, detail, sizeof(detail));
    }
    curl_slist_free_all(hdrs);
    if (c != NULL)
        curl_easy_cleanup(c);
    free(body);
    report(h, f, "webhook", ok, detail);
}

/* ---- thread and API ---- */

static void run_failover(struct hooks *h, const struct hook_failover *f)
{
    if (h->command != NULL)
        run_command(h, f);
    if (h->webhook == NULL)
        return;
    if (h->command != NULL && hooks_is_stopping(h)) {
        ctl_log_warning("hooks: failover %lld (cluster %s): webhook not sent, shutting down",
                        (long long)f->failover_id, f->cluster);
        return;
    }
    run_webhook(h, f);
}

static void *hooks_main(void *arg)
{
    struct hooks *h = arg;
    struct hook_failover f;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->qlen == 0 && !h->stopping)
            pthread_cond_wait(&h->cond, &h->mu);
        if (h->stopping)
            break;
        f = h->queue[h->qhead];
        h->qhead = (h->qhead + 1) % HOOKS_QUEUE_MAX;
        h->qlen--;
        pthread_mutex_unlock(&h->mu);
        run_failover(h, &f);
        pthread_mutex_lock(&h->mu);
    }
    size_t dropped = h->qlen;
    h->qlen = 0;
    pthread_mutex_unlock(&h->mu);
    if (dropped > 0)
        ctl_log_warning("hooks: shutting down: hooks of %zu queued failover(s) not run", dropped);
    reap_strays(h);
    return NULL;
}

static void hooks_free(struct hooks *h)
{
    if (h->curl_ready)
        curl_global_cleanup();
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    free(h->command);
    free(h->webhook);
    free(h->webhook_masked);
    free(h);
}

static int hooks_sync_init(struct hooks *h)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(&h->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&h->mu);
        return -1;
    }
    /* Backoff deadlines must not move with the wall clock. */
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&h->mu);
        return -1;
    }
    return 0;
}

static int hooks_copy_cfg(struct hooks *h, const struct cfg *cfg)
{
    h->command_timeout_ms = cfg->on_failover_timeout_ms;
    h->webhook_retries = cfg->failover_webhook_retries;
    h->webhook_timeout_ms = cfg->failover_webhook_timeout_ms;
    if (cfg->on_failover != NULL && cfg->on_failover[0] != '\0') {
        h->command = strdup(cfg->on_failover);
        if (h->command == NULL)
            return -1;
    }
    if (cfg->failover_webhook != NULL && cfg->failover_webhook[0] != '\0') {
        size_t n = strlen(cfg->failover_webhook) + 8;
        h->webhook = strdup(cfg->failover_webhook);
        h->webhook_masked = malloc(n);
        if (h->webhook == NULL || h->webhook_masked == NULL)
            return -1;
        hooks_mask_url(h->webhook, h->webhook_masked, n);
    }
    return 0;
}

int hooks_start(struct hooks **out, const struct cfg *cfg, hook_result_fn on_result, void *arg)
{
    *out = NULL;
    struct hooks *h = calloc(1, sizeof(*h));
    if (h == NULL || hooks_sync_init(h) != 0) {
        free(h);
        ctl_log_warning("hooks: cannot start: out of memory");
        return -1;
    }
    h->on_result = on_result;
    h->arg = arg;
    if (hooks_copy_cfg(h, cfg) != 0) {
        ctl_log_warning("hooks: cannot start: out of memory");
        hooks_free(h);
        return -1;
    }
    if (h->webhook != NULL) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            ctl_log_warning("hooks: cannot start: libcurl initialisation failed");
            hooks_free(h);
            return -1;
        }
        h->curl_ready = 1;
    }
    if (h->command != NULL || h->webhook != NULL) {
        int rc = pthread_create(&h->thread, NULL, hooks_main, h);
        if (rc != 0) {
            ctl_log_warning("hooks: cannot start the hook thread: %s", strerror(rc));
            hooks_free(h);
            return -1;
        }
        h->thread_started = 1;
    }
    if (h->command != NULL)
        ctl_log_notice("hooks: on-failover command set (timeout %d ms)", h->command_timeout_ms);
    if (h->webhook != NULL)
        ctl_log_notice("hooks: failover webhook %s (%d retries, %d ms per attempt)", h->webhook_masked,
                       h->webhook_retries, h->webhook_timeout_ms);
    *out = h;
    return 0;
}

/* Callers' strings are bounded by their arrays, but a missing terminator
 * must not walk us off the end. */
static void terminate_strings(struct hook_failover *f)
{
    f->cluster[sizeof(f->cluster) - 1] = '\0';
    f->kind[sizeof(f->kind) - 1] = '\0';
    f->old_master[sizeof(f->old_master) - 1] = '\0';
    f->old_host[sizeof(f->old_host) - 1] = '\0';
    f->new_master[sizeof(f->new_master) - 1] = '\0';
    f->new_host[sizeof(f->new_host) - 1] = '\0';
    f->reason[sizeof(f->reason) - 1] = '\0';
}

void hooks_fire(struct hooks *h, const struct hook_failover *f)
{
    if (h == NULL || !h->thread_started)
        return;
    int full = 0;
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        /* Too late: the failover itself is done, only its hooks are lost. */
        full = -1;
    } else if (h->qlen == HOOKS_QUEUE_MAX) {
        full = 1;
    } else {
        struct hook_failover *slot = &h->queue[(h->qhead + h->qlen) % HOOKS_QUEUE_MAX];
        *slot = *f;
        terminate_strings(slot);
        if (slot->ts_ms == 0)
            slot->ts_ms = wall_ms();
        h->qlen++;
        pthread_cond_signal(&h->cond);
    }
    pthread_mutex_unlock(&h->mu);
    if (full != 0)
        ctl_log_warning("hooks: %s: hooks of failover %lld (cluster %.64s) dropped",
                        full > 0 ? "queue full" : "shutting down", (long long)f->failover_id,
                        f->cluster);
}

void hooks_stop(struct hooks *h)
{
    if (h == NULL)
        return;
    if (h->thread_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = 1;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->mu);
        int rc = pthread_join(h->thread, NULL);
        if (rc != 0)
            ctl_log_warning("hooks: joining the hook thread: %s", strerror(rc));
    }
    hooks_free(h);
}
