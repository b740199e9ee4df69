/* monitor: MONITOR and the command feed (see monitor.h for the format and
 * for what 7.0 shows). Monitors are few and the feed runs once per command
 * only while one exists, so a plain array of clients is enough. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "mem.h"
#include "util.h"

static struct client **monitors;
static int monitor_n, monitor_cap;

int monitor_count(void)
{
    return monitor_n;
}

static int monitor_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* A monitor is a replica-like client in 7.0: it may still run commands
 * that do not touch the keyspace (PING, CLIENT, SUBSCRIBE, RESET, QUIT). */
static const char *monitor_guard(client *c, const cmd_def *cmd, void *priv)
{
    (void)priv;
    if (!(c->flags & CLIENT_MONITOR))
        return NULL;
    if (cmd->flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE))
        return "ERR Replica can't interact with the keyspace";
    return NULL;
}

void monitor_command(client *c)
{
    /* A client that expects one reply per command (inside EXEC, a script)
     * cannot become a stream. */
    if (c->flags & (CLIENT_IN_EXEC | CLIENT_SCRIPT | CLIENT_FAKE)) {
        reply_error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    /* Already a monitor or a replica: ignored without a reply, as 7.0. */
    if (c->flags & (CLIENT_MONITOR | CLIENT_REPLICA))
        return;
    static int guard_added;
    if (!guard_added) {
        cmd_add_guard(monitor_guard, NULL);
        guard_added = 1;
    }
    if (monitor_n == monitor_cap) {
        monitor_cap = monitor_cap ? monitor_cap * 2 : 4;
        monitors = mem_realloc(monitors, sizeof(*monitors) * (size_t)monitor_cap);
    }
    monitors[monitor_n++] = c;
    c->flags |= CLIENT_MONITOR;
    reply_ok(c);
}

void monitor_remove(client *c)
{
    if (!(c->flags & CLIENT_MONITOR))
        return;
    c->flags &= ~(uint32_t)CLIENT_MONITOR;
    for (int i = 0; i < monitor_n; i++) {
        if (monitors[i] == c) {
            memmove(&monitors[i], &monitors[i + 1], sizeof(*monitors) * (size_t)(monitor_n - i - 1));
            monitor_n--;
            break;
        }
    }
    if (monitor_n == 0) {
        mem_free(monitors);
        monitors = NULL;
        monitor_cap = 0;
    }
}

/* Whether argument j of this command line is a secret 7.0 redacts. */
static int monitor_redacted(int argc, const resp_arg *argv, int j)
{
    if (j == 0)
        return 0;
    if (monitor_arg_is(&argv[0], "auth"))
        return 1;
    int hello = monitor_arg_is(&argv[0], "hello");
    int migrate = monitor_arg_is(&argv[0], "migrate");
    if (!hello && !migrate)
        return 0;
    for (int i = hello ? 2 : 6; i < argc && i < j; i++) {
        if (monitor_arg_is(&argv[i], "auth"))
            return j == i + 1 || (hello && j == i + 2);
        if (migrate && monitor_arg_is(&argv[i], "auth2"))
            return j == i + 1 || j == i + 2;
    }
    return 0;
}


kstr monitor_format_line(kstr out, const client *c, int64_t now_us, int dbid, int argc, const resp_arg *argv)
{
    out = kstr_catfmt(out, "%lld.%06lld ", (long long)(now_us / 1000000), (long long)(now_us % 1000000));
    if (c->flags & CLIENT_SCRIPT)
        out = kstr_catfmt(out, "[%d lua] ", dbid);
    else
        out = kstr_catfmt(out, "[%d %s] ", dbid, c->addr);
    for (int j = 0; j < argc; j++) {
        if (j > 0)
            out = kstr_cat(out, " ", 1);
        if (monitor_redacted(argc, argv, j))
            out = kstr_cat_cstr(out, "\"(redacted)\"");
        else
            out = kstr_cat_repr(out, argv[j].ptr, argv[j].len);
    }
    return out;
}

void monitor_feed_args(client *c, int dbid, int argc, const resp_arg *argv)
{
    if (monitor_n == 0)
        return;
    kstr line = kstr_cat(kstr_empty(128), "+", 1);
    line = monitor_format_line(line, c, util_us_now(), dbid, argc, argv);
    line = kstr_cat(line, "\r\n", 2);
    for (int i = 0; i < monitor_n; i++)
        if (monitors[i]->srv == c->srv)
            reply_raw(monitors[i], line, kstr_len(line));
    kstr_free(line);
}

/* The flags 7.0 gives this exact command: its COMMAND INFO entry (the
 * subcommand's for a container) when the agent has one, else the table's.
 * Returns 1 when the entry or flags say admin or skip_monitor. */
static int monitor_info_hides(const cmd_info_entry *e)
{
    /* resp2: *10 / $n / name / :arity / *K / K lines of +flag */
    const char *p = e->resp2, *end = e->resp2 + e->resp2_len;
    for (int line = 0; line < 4 && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    if (p >= end || *p != '*')
        return 0;
    long k = strtol(p + 1, NULL, 10);
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return 0;
    p = nl + 1;
    for (long i = 0; i < k && p < end; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        if (nl - p < 2)
            return 0;
        size_t len = (size_t)(nl - p) - 2; /* without "+" ... "\r" */
        if ((len == 5 && memcmp(p + 1, "admin", 5) == 0) ||
            (len == 12 && memcmp(p + 1, "skip_monitor", 12) == 0))
            return 1;
        p = nl + 1;
    }
    return 0;
}

static int monitor_hides(const cmd_def *cmd, int argc, const resp_arg *argv)
{
    char full[96];
    size_t nlen = strlen(cmd->name);
    if (argc >= 2 && argv[1].len < 48 && nlen < 40) {
        memcpy(full, cmd->name, nlen);
        full[nlen] = '|';
        for (size_t i = 0; i < argv[1].len; i++)
            full[nlen + 1 + i] = (char)tolower((unsigned char)argv[1].ptr[i]);
        const cmd_info_entry *e = cmd_info_lookup(full, nlen + 1 + argv[1].len);
        if (e)
            return monitor_info_hides(e);
    }
    const cmd_info_entry *e = cmd_info_lookup(cmd->name, nlen);
    if (e)
        return monitor_info_hides(e);
    return (cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR)) != 0;
}

void monitor_feed_call(client *c, const cmd_def *cmd, int argc, const resp_arg *argv)
{
    if (monitor_n == 0 || argc == 0)
        return;
    /* A blocked command re-run once its key is ready was shown when it
     * blocked; nothing is shown while a dataset is loading. */
    if ((c->flags & CLIENT_UNBLOCKED) || c->srv->loading)
        return;
    if (monitor_hides(cmd, argc, argv))
        return;
    monitor_feed_args(c, c->db->id, argc, argv);
}
