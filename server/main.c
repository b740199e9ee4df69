/* main.c - kvfleetd entry point: configuration, store, control loop, HTTP API.
 *
 *   kvfleetd [config-file] [--directive value ...]
 *
 * Threads: the main thread runs the libuv loop (monitor, planner, actor,
 * failover engine, signals); libmicrohttpd runs the API in its own threads;
 * the writer thread journals events; the hooks thread runs failover hooks.
 * Start-up opens the store first, which refuses a database another kvfleetd
 * has open (its lock file): nothing else starts, not even the pidfile.
 * Shutdown on SIGTERM/SIGINT: stop accepting HTTP, stop the control loop
 * (final status flush), drain the writer, close the store. Everything is in
 * SQLite, so a restart resumes where it stopped, a failover included. */
#include "config.h"
#include "control.h"
#include "events.h"
#include "fleet.h"
#include "hooks.h"
#include "metrics.h"
#include "log.h"
#include "sentinel.h"
#include "sentinel_view.h"
#include "state.h"
#include "store.h"
#include "version.h"
#include "writer.h"
#include "../api/api.h"
#include "../api/http.h"
#include "../api/reqstats.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

struct daemon_ctx {
    struct cfg cfg;
    struct store *st;
    struct fleet fleet;
    struct state state;
    struct events *events;
    struct control *ctl;
    struct hooks *hooks;
    struct writer *writer;
    struct metrics *metrics;
    struct api_ctx api;
    struct api_server http;
    struct sentinel_view sentinel_view;
    struct sentinel *sentinel;       /* NULL: sentinel-bind no */
    uv_signal_t sigterm, sigint;
    int stopping;
};

static void usage(void)
{
    fprintf(stderr,
            "Usage: kvfleetd [config-file] [--directive value ...]\n"
            "       kvfleetd --version\n"
            "Directives: http-bind, http-threads, http-timeout-ms, http-max-connections,\n"
            "  http-max-connections-per-ip, db-path, api-token, api-auth-reads,\n"
            "  node-auth, node-user, monitor-interval-ms, monitor-timeout-ms,\n"
            "  monitor-down-after-failures, reconcile, reconcile-min-interval-ms,\n"
            "  logfile, loglevel, daemonize, pidfile, sentinel-bind, metrics-auth,\n"
            "  on-failover, on-failover-timeout-ms, failover-webhook,\n"
            "  failover-webhook-retries, failover-webhook-timeout-ms\n");
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        (void)dup2(fd, STDIN_FILENO);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    int ok = fprintf(fp, "%d\n", (int)getpid()) > 0;
    if (fclose(fp) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void on_signal(uv_signal_t *sig, int signum)
{
    struct daemon_ctx *d = sig->data;
    if (d->stopping)
        return;
    d->stopping = 1;
    ctl_log_warning("Received %s, shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    api_http_stop(&d->http);         /* joins the HTTP threads */
    sentinel_stop(d->sentinel);      /* closes its clients; later events are dropped */
    control_stop(d->ctl);            /* final flush, closes node handles */
    uv_signal_stop(&d->sigterm);
    uv_signal_stop(&d->sigint);
    uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
    uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
}

static void on_fleet_change(void *arg)
{
    control_topology_changed(arg);
}

/* Hook outcomes become journal events (called on the hooks thread). */
static void on_hook_result(void *arg, const struct hook_failover *f, const char *hook, int ok,
                           const char *detail)
{
    struct events *es = arg;
    events_say(es, strcmp(hook, "webhook") == 0 ? EV_HOOK_WEBHOOK : EV_HOOK_COMMAND, f->cluster,
               f->new_master, "hooks", "failover #%lld: %s hook %s: %s", (long long)f->failover_id,
               hook, ok ? "succeeded" : "failed", detail);
}

/* The Sentinel-compatible port (sentinel-bind; port 0: disabled) on the
 * control loop. A bind failure is fatal, like the API's. */
static int start_sentinel(struct daemon_ctx *d, uv_loop_t *loop, char *err, size_t errlen)
{
    if (d->cfg.sentinel_port == 0)
        return 0;
    sentinel_view_init(&d->sentinel_view, &d->fleet, &d->state);
    struct sentinel_provider p = sentinel_view_provider(&d->sentinel_view);
    struct sentinel_config sc = { d->cfg.sentinel_host, d->cfg.sentinel_port, KVFLEETD_VERSION };
    if (events_subscribe(d->events, sentinel_view_on_event, &d->sentinel_view) != 0)
        return -1;
    if (sentinel_start(&d->sentinel, loop, &sc, &p, err, errlen) != 0)
        return -1;
    d->sentinel_view.port = d->sentinel;
    ctl_log_notice("Sentinel-compatible port listening on %s:%d", d->cfg.sentinel_host,
                   d->cfg.sentinel_port);
    return 0;
}

int main(int argc, char **argv)
{
    static struct daemon_ctx d;
    char err[2048];

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage();
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
        printf("kvfleetd v=%s\n", KVFLEETD_VERSION);
        return 0;
    }
    cfg_init(&d.cfg);
    if (cfg_load_args(&d.cfg, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s", err);
        cfg_free(&d.cfg);
        return 1;
    }
    if (!cfg_host_is_loopback(d.cfg.http_host) && d.cfg.api_token == NULL) {
        fprintf(stderr,
                "\n*** FATAL CONFIG ERROR (kvfleetd) ***\n"
                "http-bind %s:%d is not a loopback address and no api-token is set;\n"
                "refusing to expose an unauthenticated API. Set api-token or bind 127.0.0.1.\n",
                d.cfg.http_host, d.cfg.http_port);
        cfg_free(&d.cfg);
        return 1;
    }
    if (d.cfg.daemonize && daemonize() != 0) {
        fprintf(stderr, "kvfleetd: cannot daemonize: %s\n", strerror(errno));
        return 1;
    }
    if (ctl_log_open(d.cfg.logfile, d.cfg.loglevel) != 0) {
        fprintf(stderr, "kvfleetd: cannot open logfile %s: %s\n", d.cfg.logfile, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    ctl_log_notice("kvfleetd %s starting, pid=%d", KVFLEETD_VERSION, (int)getpid());
    int rc = 1, own_pidfile = 0;
    if (store_open(&d.st, d.cfg.db_path, err, sizeof(err)) != STORE_OK) {
        ctl_log_warning("FATAL: %s", err);
        if (d.cfg.logfile != NULL && !d.cfg.daemonize)
            fprintf(stderr, "kvfleetd: FATAL: %s\n", err);
        goto out_cfg;
    }
    ctl_log_notice("database %s open, schema version %d", d.cfg.db_path,
                   store_schema_version(d.st));
    /* Only once the store is ours: store_open() refuses a second kvfleetd
     * on the same database, which must not overwrite the pidfile of the
     * one that runs. */
    if (d.cfg.pidfile != NULL) {
        if (write_pidfile(d.cfg.pidfile) == 0)
            own_pidfile = 1;
        else
            ctl_log_warning("cannot write pidfile %s: %s", d.cfg.pidfile, strerror(errno));
    }
    if (fleet_init(&d.fleet, d.st, err, sizeof(err)) != 0) {
        ctl_log_warning("FATAL: %s", err);
        goto out_store;
    }
    ctl_log_notice("loaded %zu node(s), %zu cluster(s)", d.fleet.nnodes, d.fleet.nclusters);

    if (state_init(&d.state) != 0) {
        ctl_log_warning("FATAL: cannot initialise the observed state");
        goto out_fleet;
    }
    if (writer_start(&d.writer, d.st) != 0) {
        ctl_log_warning("FATAL: cannot start the journal writer thread");
        goto out_fleet;
    }
    if ((d.events = events_new(d.writer)) == NULL) {
        ctl_log_warning("FATAL: out of memory");
        goto out_fleet;
    }
    d.fleet.events = d.events;
    if (hooks_start(&d.hooks, &d.cfg, on_hook_result, d.events) != 0) {
        ctl_log_warning("FATAL: cannot start the failover hooks");
        goto out_fleet;
    }
    if ((d.metrics = metrics_new()) == NULL) {
        ctl_log_warning("FATAL: out of memory");
        goto out_fleet;
    }
    uv_loop_t *loop = uv_default_loop();
    struct control_deps deps = { .loop = loop, .cfg = &d.cfg, .fleet = &d.fleet,
                                 .state = &d.state, .st = d.st, .events = d.events,
                                 .writer = d.writer, .hooks = d.hooks, .metrics = d.metrics };
    if (control_start(&d.ctl, &deps) != 0) {
        ctl_log_warning("FATAL: cannot start the control loop");
        goto out_fleet;
    }
    d.fleet.on_change = on_fleet_change;
    d.fleet.on_change_arg = d.ctl;

    d.api.fleet = &d.fleet;
    d.api.state = &d.state;
    d.api.ctl = d.ctl;
    d.api.st = d.st;
    d.api.cfg = &d.cfg;
    d.api.mon = control_monitor(d.ctl);
    d.api.metrics = d.metrics;
    d.api.writer = d.writer;
    d.api.started_ms = store_now_ms();
    d.api.node_timeout_ms = d.cfg.monitor_timeout_ms;
    /* Request counters for /metrics; freed after the HTTP threads joined. */
    if ((d.api.reqstats = api_reqstats_new()) == NULL) {
        ctl_log_warning("FATAL: out of memory");
        goto out_fleet;
    }

    if (uv_signal_init(loop, &d.sigterm) != 0 || uv_signal_init(loop, &d.sigint) != 0) {
        ctl_log_warning("FATAL: cannot install signal handlers");
        goto out_fleet;
    }
    d.sigterm.data = d.sigint.data = &d;
    if (uv_signal_start(&d.sigterm, on_signal, SIGTERM) != 0 ||
        uv_signal_start(&d.sigint, on_signal, SIGINT) != 0) {
        ctl_log_warning("FATAL: cannot install signal handlers");
        goto out_fleet;
    }
    if (start_sentinel(&d, loop, err, sizeof(err)) != 0 ||
        api_http_start(&d.http, &d.api, d.cfg.http_host, d.cfg.http_port, d.cfg.http_threads, err,
                       sizeof(err)) != 0) {
        ctl_log_warning("FATAL: %s", err);
        if (d.cfg.logfile != NULL && !d.cfg.daemonize)
            fprintf(stderr, "kvfleetd: FATAL: %s\n", err);
        d.stopping = 1;
        sentinel_stop(d.sentinel);
        control_stop(d.ctl);
        uv_close((uv_handle_t *)&d.sigterm, on_handle_closed);
        uv_close((uv_handle_t *)&d.sigint, on_handle_closed);
        (void)uv_run(loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    ctl_log_notice("API listening on http://%s:%d/api/v1 (auth %s), monitoring every %d ms",
                   d.cfg.http_host, d.cfg.http_port, d.cfg.api_token ? "on" : "off",
                   d.cfg.monitor_interval_ms);
    (void)uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
    ctl_log_notice("kvfleetd stopped");
out_loop:
    if (uv_loop_close(loop) != 0)
        ctl_log_warning("event loop closed with handles still open");
    /* The hooks thread emits events the Sentinel port would publish: stop
     * it before the port goes. */
    hooks_stop(d.hooks);
    d.hooks = NULL;
    d.sentinel_view.port = NULL;
    sentinel_free(d.sentinel);
out_fleet:
    hooks_stop(d.hooks);              /* bounded: the running hook's timeout at most */
    control_free(d.ctl);
    writer_stop(d.writer);            /* drains the loop's last writes */
    events_free(d.events);
    fleet_destroy(&d.fleet);
    state_destroy(&d.state);
    api_reqstats_free(d.api.reqstats);
    metrics_free(d.metrics);
out_store:
    /* Ours to remove whenever we wrote it, a failed start included (a
     * refused start never wrote it: it belongs to the running kvfleetd);
     * before store_close() releases the database to a successor, which
     * then writes its own. */
    if (own_pidfile)
        (void)unlink(d.cfg.pidfile);
    store_close(d.st);
out_cfg:
    ctl_log_close();
    cfg_free(&d.cfg);
    return rc;
}
