/* main.c - kvfleetd entry point: configuration, store, monitor, HTTP API.
 *
 *   kvfleetd [config-file] [--directive value ...]
 *
 * Threads: the main thread runs the libuv loop (monitor, signals);
 * libmicrohttpd runs the API in its own threads. Shutdown on SIGTERM/SIGINT:
 * stop accepting HTTP, stop the monitor (final status flush), close the
 * store. Everything is in SQLite, so a restart resumes where it stopped. */
#include "config.h"
#include "fleet.h"
#include "log.h"
#include "monitor.h"
#include "store.h"
#include "version.h"
#include "writer.h"
#include "../api/api.h"
#include "../api/http.h"

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
    struct monitor mon;
    struct writer *writer;
    struct api_ctx api;
    struct api_server http;
    uv_signal_t sigterm, sigint;
    int stopping;
};

static void usage(void)
{
    fprintf(stderr,
            "Usage: kvfleetd [config-file] [--directive value ...]\n"
            "       kvfleetd --version\n"
            "Directives: http-bind, http-threads, db-path, api-token, api-auth-reads,\n"
            "  node-auth, monitor-interval-ms, monitor-timeout-ms,\n"
            "  monitor-down-after-failures, reconcile, reconcile-min-interval-ms,\n"
            "  logfile, loglevel, daemonize, pidfile\n");
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
    monitor_stop(&d->mon);           /* final flush, closes node handles */
    uv_signal_stop(&d->sigterm);
    uv_signal_stop(&d->sigint);
    uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
    uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
}

static void on_fleet_change(void *arg)
{
    monitor_wake(arg);
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
    if (d.cfg.pidfile != NULL && write_pidfile(d.cfg.pidfile) != 0)
        ctl_log_warning("cannot write pidfile %s: %s", d.cfg.pidfile, strerror(errno));
    signal(SIGPIPE, SIG_IGN);

    ctl_log_notice("kvfleetd %s starting, pid=%d", KVFLEETD_VERSION, (int)getpid());
    int rc = 1;
    if (store_open(&d.st, d.cfg.db_path, err, sizeof(err)) != STORE_OK) {
        ctl_log_warning("FATAL: %s", err);
        if (d.cfg.logfile != NULL && !d.cfg.daemonize)
            fprintf(stderr, "kvfleetd: FATAL: %s\n", err);
        goto out_cfg;
    }
    ctl_log_notice("database %s open, schema version %d", d.cfg.db_path,
                   store_schema_version(d.st));
    if (fleet_init(&d.fleet, d.st, err, sizeof(err)) != 0) {
        ctl_log_warning("FATAL: %s", err);
        goto out_store;
    }
    ctl_log_notice("loaded %zu node(s), %zu cluster(s)", d.fleet.nnodes, d.fleet.nclusters);

    if (writer_start(&d.writer, d.st) != 0) {
        ctl_log_warning("FATAL: cannot start the journal writer thread");
        goto out_fleet;
    }
    uv_loop_t *loop = uv_default_loop();
    if (monitor_init(&d.mon, loop, &d.fleet, &d.cfg, d.writer) != 0) {
        ctl_log_warning("FATAL: cannot start the monitor");
        goto out_fleet;
    }
    d.fleet.on_change = on_fleet_change;
    d.fleet.on_change_arg = &d.mon;

    d.api.fleet = &d.fleet;
    d.api.st = d.st;
    d.api.cfg = &d.cfg;
    d.api.mon = &d.mon;
    d.api.started_ms = store_now_ms();
    d.api.node_timeout_ms = d.cfg.monitor_timeout_ms;

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
    if (api_http_start(&d.http, &d.api, d.cfg.http_host, d.cfg.http_port, d.cfg.http_threads, err,
                       sizeof(err)) != 0) {
        ctl_log_warning("FATAL: %s", err);
        if (d.cfg.logfile != NULL && !d.cfg.daemonize)
            fprintf(stderr, "kvfleetd: FATAL: %s\n", err);
        d.stopping = 1;
        monitor_stop(&d.mon);
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
out_fleet:
    writer_stop(d.writer);            /* drains the monitor's last writes */
    fleet_destroy(&d.fleet);
out_store:
    store_close(d.st);
out_cfg:
    if (d.cfg.pidfile != NULL && rc == 0)
        (void)unlink(d.cfg.pidfile);
    ctl_log_close();
    cfg_free(&d.cfg);
    return rc;
}
