/* config.c - parse kvfleetd.conf and command-line overrides (see config.h). */
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
}

void cfg_init(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->http_host, sizeof(c->http_host), "127.0.0.1");
    c->http_port = 7480;
    c->http_threads = 2;
    c->http_timeout_ms = 10000;
    c->http_max_connections = 256;
    c->http_max_connections_per_ip = 64;
    c->db_path = xstrdup("./kvfleet.db");
    c->monitor_interval_ms = 250;
    c->monitor_timeout_ms = 1000;
    c->down_after_failures = 2;
    c->reconcile = 1;
    c->reconcile_min_interval_ms = 2000;
    c->loglevel = CTL_LOG_NOTICE;
    snprintf(c->sentinel_host, sizeof(c->sentinel_host), "127.0.0.1");
    c->sentinel_port = 26379;
    c->on_failover_timeout_ms = 10000;
    c->failover_webhook_retries = 3;
    c->failover_webhook_timeout_ms = 5000;
}

void cfg_free(struct cfg *c)
{
    free(c->db_path);
    free(c->api_token);
    free(c->node_auth);
    free(c->node_user);
    free(c->logfile);
    free(c->pidfile);
    free(c->on_failover);
    free(c->failover_webhook);
    memset(c, 0, sizeof(*c));
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

int cfg_split_line(const char *line, char **argv, int max, char *err, size_t errlen)
{
    int argc = 0;
    const char *p = line;
    char *buf = malloc(strlen(line) + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        size_t n = 0;
        int inq = 0, ins = 0, done = 0;
        while (!done) {
            if (inq) {
                if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                    buf[n++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                    p += 4;
                } else if (p[0] == '\\' && p[1]) {
                    char ch;
                    switch (p[1]) {
                    case 'n': ch = '\n'; break;
                    case 'r': ch = '\r'; break;
                    case 't': ch = '\t'; break;
                    case 'b': ch = '\b'; break;
                    case 'a': ch = '\a'; break;
                    default: ch = p[1]; break;
                    }
                    buf[n++] = ch;
                    p += 2;
                } else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1])) {
                        snprintf(err, errlen, "closing quote must be followed by a space");
                        goto fail;
                    }
                    done = 1;
                    p++;
                } else if (*p == '\0') {
                    snprintf(err, errlen, "unbalanced quotes in configuration line");
                    goto fail;
                } else {
                    buf[n++] = *p++;
                }
            } else if (ins) {
                if (p[0] == '\\' && p[1] == '\'') {
                    buf[n++] = '\'';
                    p += 2;
                } else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1])) {
                        snprintf(err, errlen, "closing quote must be followed by a space");
                        goto fail;
                    }
                    done = 1;
                    p++;
                } else if (*p == '\0') {
                    snprintf(err, errlen, "unbalanced quotes in configuration line");
                    goto fail;
                } else {
                    buf[n++] = *p++;
                }
            } else {
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = 1;
                    break;
                case '"':
                    inq = 1;
                    p++;
                    break;
                case '\'':
                    ins = 1;
                    p++;
                    break;
                default:
                    buf[n++] = *p++;
                    break;
                }
            }
        }
        if (argc == max) {
            snprintf(err, errlen, "too many arguments (at most %d)", max);
            goto fail;
        }
        buf[n] = '\0';
        argv[argc] = strdup(buf);
        if (argv[argc] == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        argc++;
    }
    free(buf);
    return argc;
fail:
    free(buf);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return -1;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_yesno(const char *s)
{
    if (strcasecmp(s, "yes") == 0) return 1;
    if (strcasecmp(s, "no") == 0) return 0;
    return -1;
}

int cfg_parse_bind(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        size_t hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= hostlen)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            if (hostlen < 10)
                return -1;
            snprintf(host, hostlen, "127.0.0.1");
            return parse_int(s, 1, 65535, port);
        }
        size_t hl = (size_t)(colon - s);
        if (hl == 0 || hl >= hostlen)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    return parse_int(colon + 1, 1, 65535, port);
}

int cfg_host_is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcasecmp(host, "localhost") == 0;
}

#define NEED(n) do { if (argc != (n) + 1) { \
    snprintf(err, errlen, "'%s' takes exactly %d argument%s", name, n, (n) == 1 ? "" : "s"); \
    return -1; } } while (0)

int cfg_apply(struct cfg *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *name = argv[0];
    int yn;
    if (strcasecmp(name, "http-bind") == 0) {
        NEED(1);
        if (cfg_parse_bind(argv[1], c->http_host, sizeof(c->http_host), &c->http_port) != 0) {
            snprintf(err, errlen, "http-bind: expected host:port with port 1-65535");
            return -1;
        }
    } else if (strcasecmp(name, "http-threads") == 0) {
        NEED(1);
        if (parse_int(argv[1], 1, 64, &c->http_threads) != 0) {
            snprintf(err, errlen, "http-threads: expected an integer between 1 and 64");
            return -1;
        }
    } else if (strcasecmp(name, "http-timeout-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 100, 3600000, &c->http_timeout_ms) != 0) {
            snprintf(err, errlen, "http-timeout-ms: expected an integer between 100 and 3600000");
            return -1;
        }
    } else if (strcasecmp(name, "http-max-connections") == 0) {
        NEED(1);
        if (parse_int(argv[1], 1, 10000, &c->http_max_connections) != 0) {
            snprintf(err, errlen, "http-max-connections: expected an integer between 1 and 10000");
            return -1;
        }
    } else if (strcasecmp(name, "http-max-connections-per-ip") == 0) {
        NEED(1);
        if (parse_int(argv[1], 0, 10000, &c->http_max_connections_per_ip) != 0) {
            snprintf(err, errlen,
                     "http-max-connections-per-ip: expected an integer between 0 (no cap) and 10000");
            return -1;
        }
    } else if (strcasecmp(name, "db-path") == 0) {
        NEED(1);
        if (argv[1][0] == '\0') {
            snprintf(err, errlen, "db-path: must not be empty");
            return -1;
        }
        set_str(&c->db_path, argv[1]);
    } else if (strcasecmp(name, "api-token") == 0) {
        NEED(1);
        free(c->api_token);
        c->api_token = argv[1][0] ? xstrdup(argv[1]) : NULL;
    } else if (strcasecmp(name, "api-auth-reads") == 0) {
        NEED(1);
        if ((yn = parse_yesno(argv[1])) < 0) {
            snprintf(err, errlen, "api-auth-reads: argument must be 'yes' or 'no'");
            return -1;
        }
        c->api_auth_reads = yn;
    } else if (strcasecmp(name, "metrics-auth") == 0) {
        NEED(1);
        if ((yn = parse_yesno(argv[1])) < 0) {
            snprintf(err, errlen, "metrics-auth: argument must be 'yes' or 'no'");
            return -1;
        }
        c->metrics_auth = yn;
    } else if (strcasecmp(name, "node-auth") == 0) {
        NEED(1);
        free(c->node_auth);
        c->node_auth = argv[1][0] ? xstrdup(argv[1]) : NULL;
    } else if (strcasecmp(name, "node-user") == 0) {
        NEED(1);
        free(c->node_user);
        c->node_user = argv[1][0] ? xstrdup(argv[1]) : NULL;
    } else if (strcasecmp(name, "monitor-interval-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 10, 60000, &c->monitor_interval_ms) != 0) {
            snprintf(err, errlen, "monitor-interval-ms: expected an integer between 10 and 60000");
            return -1;
        }
    } else if (strcasecmp(name, "monitor-timeout-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 10, 600000, &c->monitor_timeout_ms) != 0) {
            snprintf(err, errlen, "monitor-timeout-ms: expected an integer between 10 and 600000");
            return -1;
        }
    } else if (strcasecmp(name, "monitor-down-after-failures") == 0) {
        NEED(1);
        if (parse_int(argv[1], 1, 1000, &c->down_after_failures) != 0) {
            snprintf(err, errlen, "monitor-down-after-failures: expected an integer between 1 and 1000");
            return -1;
        }
    } else if (strcasecmp(name, "reconcile") == 0) {
        NEED(1);
        if ((yn = parse_yesno(argv[1])) < 0) {
            snprintf(err, errlen, "reconcile: argument must be 'yes' or 'no'");
            return -1;
        }
        c->reconcile = yn;
    } else if (strcasecmp(name, "reconcile-min-interval-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 0, 3600000, &c->reconcile_min_interval_ms) != 0) {
            snprintf(err, errlen, "reconcile-min-interval-ms: expected an integer between 0 and 3600000");
            return -1;
        }
    } else if (strcasecmp(name, "logfile") == 0) {
        NEED(1);
        set_str(&c->logfile, argv[1]);
    } else if (strcasecmp(name, "loglevel") == 0) {
        NEED(1);
        int lv = ctl_log_level_parse(argv[1]);
        if (lv < 0) {
            snprintf(err, errlen, "loglevel: must be one of debug, verbose, notice, warning");
            return -1;
        }
        c->loglevel = lv;
    } else if (strcasecmp(name, "daemonize") == 0) {
        NEED(1);
        if ((yn = parse_yesno(argv[1])) < 0) {
            snprintf(err, errlen, "daemonize: argument must be 'yes' or 'no'");
            return -1;
        }
        c->daemonize = yn;
    } else if (strcasecmp(name, "pidfile") == 0) {
        NEED(1);
        set_str(&c->pidfile, argv[1]);
    } else if (strcasecmp(name, "sentinel-bind") == 0) {
        NEED(1);
        if (strcasecmp(argv[1], "no") == 0 || strcmp(argv[1], "0") == 0) {
            c->sentinel_port = 0;
        } else if (cfg_parse_bind(argv[1], c->sentinel_host, sizeof(c->sentinel_host),
                                  &c->sentinel_port) != 0) {
            snprintf(err, errlen, "sentinel-bind: expected host:port with port 1-65535, or 'no'");
            return -1;
        }
    } else if (strcasecmp(name, "on-failover") == 0) {
        NEED(1);
        free(c->on_failover);
        c->on_failover = argv[1][0] ? xstrdup(argv[1]) : NULL;
    } else if (strcasecmp(name, "on-failover-timeout-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 100, 3600000, &c->on_failover_timeout_ms) != 0) {
            snprintf(err, errlen, "on-failover-timeout-ms: expected an integer between 100 and 3600000");
            return -1;
        }
    } else if (strcasecmp(name, "failover-webhook") == 0) {
        NEED(1);
        if (argv[1][0] != '\0' && strncasecmp(argv[1], "http://", 7) != 0 &&
            strncasecmp(argv[1], "https://", 8) != 0) {
            snprintf(err, errlen, "failover-webhook: expected an http:// or https:// URL");
            return -1;
        }
        free(c->failover_webhook);
        c->failover_webhook = argv[1][0] ? xstrdup(argv[1]) : NULL;
    } else if (strcasecmp(name, "failover-webhook-retries") == 0) {
        NEED(1);
        if (parse_int(argv[1], 0, 20, &c->failover_webhook_retries) != 0) {
            snprintf(err, errlen, "failover-webhook-retries: expected an integer between 0 and 20");
            return -1;
        }
    } else if (strcasecmp(name, "failover-webhook-timeout-ms") == 0) {
        NEED(1);
        if (parse_int(argv[1], 100, 600000, &c->failover_webhook_timeout_ms) != 0) {
            snprintf(err, errlen, "failover-webhook-timeout-ms: expected an integer between 100 and 600000");
            return -1;
        }
    } else {
        snprintf(err, errlen, "Bad directive or wrong number of arguments: unknown directive '%s'", name);
        return -1;
    }
    return 0;
}

/* Append formatted text to err (bounded). */
static void errcat(char *err, size_t errlen, const char *fmt, ...)
{
    size_t used = strlen(err);
    if (used + 1 >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
}

static void fatal_msg(char *err, size_t errlen, const char *where, const char *line,
                      const char *reason)
{
    err[0] = '\0';
    errcat(err, errlen, "\n*** FATAL CONFIG FILE ERROR (kvfleetd) ***\n");
    errcat(err, errlen, "%s\n", where);
    errcat(err, errlen, ">>> '%s'\n", line);
    errcat(err, errlen, "%s\n", reason);
}

static int load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        char where[512];
        snprintf(where, sizeof(where), "Reading the configuration file %s", path);
        fatal_msg(err, errlen, where, path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *p = line;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *argv[CFG_MAX_ARGS];
        char reason[256];
        int argc = cfg_split_line(p, argv, CFG_MAX_ARGS, reason, sizeof(reason));
        if (argc > 0) {
            if (cfg_apply(c, argc, argv, reason, sizeof(reason)) != 0)
                rc = -1;
            for (int i = 0; i < argc; i++)
                free(argv[i]);
        } else if (argc < 0) {
            rc = -1;
        }
        if (rc != 0) {
            char where[512];
            snprintf(where, sizeof(where), "Reading the configuration file %s, at line %d",
                     path, lineno);
            /* Never echo secrets, even from a malformed line. */
            const char *shown = p;
            if (strncasecmp(p, "api-token", 9) == 0)
                shown = "api-token <hidden>";
            else if (strncasecmp(p, "node-auth", 9) == 0)
                shown = "node-auth <hidden>";
            fatal_msg(err, errlen, where, shown, reason);
            break;
        }
    }
    if (rc == 0 && ferror(fp)) {
        fatal_msg(err, errlen, path, path, "read error");
        rc = -1;
    }
    free(line);
    fclose(fp);
    return rc;
}

int cfg_load_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen)
{
    int i = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        if (load_file(c, argv[1], err, errlen) != 0)
            return -1;
        i = 2;
    }
    while (i < argc) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
            char reason[300];
            snprintf(reason, sizeof(reason), "expected --directive, got '%s'", argv[i]);
            fatal_msg(err, errlen, "Reading the command line", argv[i], reason);
            return -1;
        }
        char *dargv[CFG_MAX_ARGS];
        int dargc = 0;
        dargv[dargc++] = argv[i] + 2;
        int start = i++;
        while (i < argc && strncmp(argv[i], "--", 2) != 0) {
            if (dargc == CFG_MAX_ARGS) {
                fatal_msg(err, errlen, "Reading the command line", argv[start], "too many arguments");
                return -1;
            }
            dargv[dargc++] = argv[i++];
        }
        char reason[256];
        if (cfg_apply(c, dargc, dargv, reason, sizeof(reason)) != 0) {
            char where[300];
            snprintf(where, sizeof(where), "Reading the command line, argument %d", start);
            fatal_msg(err, errlen, where, argv[start], reason);
            return -1;
        }
    }
    return 0;
}
