/* config.h - kvfleetd configuration.
 *
 * Same syntax as redis.conf: one `directive value...` per line, '#' starts a
 * comment line, values may be "double quoted" (with \n \t \" \\ \xHH escapes)
 * or 'single quoted'. Command-line `--directive value...` pairs are applied
 * after the file and override it. */
#ifndef KVFLEET_CTL_CONFIG_H
#define KVFLEET_CTL_CONFIG_H

#include <stddef.h>

#define CFG_MAX_ARGS 16

struct cfg {
    char http_host[256];
    int http_port;
    int http_threads;
    /* Hostile-client limits of the HTTP API (api/http.c, README "API
     * limits"): a complete request within http_timeout_ms of connecting
     * (or of the previous answer), and as long idle at most; connection caps
     * in all and per client address (0: no per-address cap). */
    int http_timeout_ms;
    int http_max_connections;
    int http_max_connections_per_ip;
    char *db_path;
    char *api_token;          /* NULL: no auth */
    int api_auth_reads;
    int metrics_auth;         /* GET /metrics needs the token too (metrics-auth yes) */
    char *node_auth;          /* NULL: no AUTH towards nodes */
    char *node_user;          /* ACL user for node-auth (AUTH user pass); NULL: the default user */
    int monitor_interval_ms;
    int monitor_timeout_ms;
    int down_after_failures;  /* consecutive failed polls before a node is down */
    int reconcile;            /* reconcile desired vs observed topology */
    int reconcile_min_interval_ms;
    char *logfile;
    int loglevel;
    int daemonize;
    char *pidfile;
    /* Sentinel-compatible RESP port (sentinel.h); port 0: disabled. */
    char sentinel_host[256];
    int sentinel_port;
    /* Failover hooks (hooks.h). */
    char *on_failover;            /* command run through /bin/sh, NULL: none */
    int on_failover_timeout_ms;   /* the command is killed after this */
    char *failover_webhook;       /* http(s) URL receiving a JSON POST, NULL: none */
    int failover_webhook_retries; /* attempts after the first one */
    int failover_webhook_timeout_ms;
};

/* Fill defaults. */
void cfg_init(struct cfg *c);
void cfg_free(struct cfg *c);

/* Split one config line into at most `max` arguments (malloc'd, caller frees
 * each with free()). Returns the count, or -1 on unbalanced quotes / too many
 * arguments, with a reason in err. Pure: no I/O. */
int cfg_split_line(const char *line, char **argv, int max, char *err, size_t errlen);

/* Apply one directive with its values. Returns 0 or -1 with a reason. */
int cfg_apply(struct cfg *c, int argc, char **argv, char *err, size_t errlen);

/* Load the file (if path != NULL) then the command line overrides.
 * argv here is main's argv; argv[1] may be the file. On error returns -1 and
 * writes a complete multi-line message (Redis' FATAL CONFIG FILE ERROR
 * style: file, line, the offending line, the reason) to err. */
int cfg_load_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen);

/* Parse "host:port", "[v6]:port" or "port". */
int cfg_parse_bind(const char *s, char *host, size_t hostlen, int *port);

/* 1 when the host is a loopback address (127.0.0.0/8, ::1, localhost). */
int cfg_host_is_loopback(const char *host);

#endif
