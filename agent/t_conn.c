/* t_conn: connection commands: PING ECHO QUIT SELECT AUTH HELLO RESET and
 * CLIENT with its subcommands. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "util.h"
#include "mem.h"
#include "log.h"
#include "multi.h"
#include "pubsub.h"
#include "blocking.h"
#include "monitor.h"
#include "pause.h"
#include "acl.h"
#include "tracking.h"

#define KV_VERSION "7.0.15"

static int conn_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static void cmd_ping(client *c)
{
    if (c->argc > 2) {
        cmd_reply_arity(c);
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp_version == 2) {
        reply_array(c, 2);
        reply_bulk(c, "pong", 4);
        if (c->argc == 1)
            reply_bulk(c, "", 0);
        else
            reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
        return;
    }
    if (c->argc == 1)
        reply_raw(c, "+PONG\r\n", 7);
    else
        reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
}

static void cmd_echo(client *c)
{
    reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
}

static void cmd_quit(client *c)
{
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void cmd_select(client *c)
{
    long long id;
    if (!util_str_to_ll(c->argv[1].ptr, c->argv[1].len, &id)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    /* Redis reads an int: an integer outside its range has its own text. */
    if (id < -2147483648LL || id > 2147483647LL) {
        reply_error(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (client_select_db(c, (int)id) != 0) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    reply_ok(c);
}

/* Returns 1 when authenticated, 0 after replying WRONGPASS (the failure
 * is in ACL LOG). user NULL: AUTH <password>, the default user. */
static int conn_authenticate(client *c, const resp_arg *user, const resp_arg *pass)
{
    if (!acl_authenticate(c, user ? user->ptr : NULL, user ? user->len : 0, pass->ptr, pass->len)) {
        log_msg(LOG_VERBOSE, "Failed AUTH from %s", c->addr);
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return 0;
    }
    return 1;
}

static void cmd_auth(client *c)
{
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc == 2 && !acl_default_needs_auth(c->srv)) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    const resp_arg *user = c->argc == 3 ? &c->argv[1] : NULL;
    const resp_arg *pw = &c->argv[c->argc - 1];
    if (conn_authenticate(c, user, pw))
        reply_ok(c);
}

/* Names the client (an empty name clears it). Returns 0 after replying the
 * error for a name with spaces or control characters. */
static int conn_set_name(client *c, const resp_arg *n)
{
    for (size_t i = 0; i < n->len; i++) {
        unsigned char ch = (unsigned char)n->ptr[i];
        if (ch < '!' || ch > '~') {
            reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
            return 0;
        }
    }
    kstr_free(c->name);
    c->name = n->len ? kstr_new(n->ptr, n->len) : NULL;
    return 1;
}

static void cmd_hello(client *c)
{
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!util_str_to_ll(c->argv[1].ptr, c->argv[1].len, &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    /* Redis 7.0 applies AUTH and SETNAME as it reaches them, so a later
     * error (syntax, NOAUTH) still leaves the client renamed. */
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (conn_arg_is(&c->argv[j], "auth") && more >= 2) {
            if (!conn_authenticate(c, &c->argv[j + 1], &c->argv[j + 2]))
                return;
            j += 2;
        } else if (conn_arg_is(&c->argv[j], "setname") && more >= 1) {
            if (!conn_set_name(c, &c->argv[j + 1]))
                return;
            j++;
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len, c->argv[j].ptr);
            return;
        }
    }
    if (!acl_client_authenticated(c)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    /* A bare HELLO keeps the protocol; its reply already speaks the new one. */
    if (ver)
        c->resp_version = (int)ver;
    reply_map(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, KV_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp_version);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, c->srv->is_replica ? "replica" : "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

static void cmd_reset(client *c)
{
    monitor_remove(c);
    if (c->flags & CLIENT_MULTI || c->mstate.count)
        multi_discard(c);
    multi_unwatch_all(c);
    /* A watched key that changed before the RESET must not abort the next
     * transaction: the client starts over clean. */
    c->flags &= ~(uint32_t)(CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    pubsub_unsubscribe_all(c, 0);
    tracking_client_reset(c);
    client_select_db(c, 0);
    c->resp_version = 2;
    kstr_free(c->name);
    c->name = NULL;
    /* Back to the default user, authenticated only if it needs no password. */
    c->user = NULL;
    if (acl_default_needs_auth(c->srv))
        c->flags &= ~CLIENT_AUTHENTICATED;
    reply_simple(c, "RESET");
}

/* ---- CLIENT ------------------------------------------------------------ */

static void client_sub_arity(client *c, const char *sub)
{
    char name[64];
    snprintf(name, sizeof(name), "client|%s", sub);
    reply_error_arity(c, name);
}

static int client_type_matches(client *t, const resp_arg *type)
{
    if (conn_arg_is(type, "normal"))
        return !(t->flags & (CLIENT_REPLICA | CLIENT_MASTER | CLIENT_PUBSUB));
    if (conn_arg_is(type, "replica") || conn_arg_is(type, "slave"))
        return (t->flags & CLIENT_REPLICA) != 0;
    if (conn_arg_is(type, "master"))
        return (t->flags & CLIENT_MASTER) != 0;
    if (conn_arg_is(type, "pubsub"))
        return (t->flags & CLIENT_PUBSUB) != 0;
    return -1;
}

static void client_list(client *c)
{
    const resp_arg *type = NULL;
    int ids_from = 0;
    if (c->argc == 4 && conn_arg_is(&c->argv[2], "type")) {
        type = &c->argv[3];
        if (client_type_matches(c, type) < 0) {
            reply_errorf(c, "ERR Unknown client type '%.*s'", (int)type->len, type->ptr);
            return;
        }
    } else if (c->argc >= 4 && conn_arg_is(&c->argv[2], "id")) {
        ids_from = 3;
        /* Any integer is accepted, as in Redis: ids 0 and below simply
         * match no client. */
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!util_str_to_ll(c->argv[j].ptr, c->argv[j].len, &id)) {
                reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
    } else if (c->argc != 2) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    kstr out = kstr_empty(256);
    for (client *t = c->srv->clients; t; t = t->next) {
        if (type && client_type_matches(t, type) != 1)
            continue;
        if (ids_from) {
            int found = 0;
            for (int j = ids_from; j < c->argc; j++) {
                long long id;
                util_str_to_ll(c->argv[j].ptr, c->argv[j].len, &id);
                if ((uint64_t)id == t->id)
                    found = 1;
            }
            if (!found)
                continue;
        }
        out = client_info_line(t, out);
        out = kstr_cat(out, "\n", 1);
    }
    reply_verbatim(c, out, kstr_len(out), "txt");
    kstr_free(out);
}

static int client_kill_matches(client *c, client *t, int argc, int skipme)
{
    if (t == c && skipme)
        return 0;
    for (int j = 2; j + 1 < argc; j += 2) {
        const resp_arg *f = &c->argv[j], *v = &c->argv[j + 1];
        if (conn_arg_is(f, "id")) {
            long long id;
            util_str_to_ll(v->ptr, v->len, &id);
            if ((uint64_t)id != t->id) return 0;
        } else if (conn_arg_is(f, "addr")) {
            if (strlen(t->addr) != v->len || memcmp(t->addr, v->ptr, v->len) != 0) return 0;
        } else if (conn_arg_is(f, "laddr")) {
            if (strlen(t->laddr) != v->len || memcmp(t->laddr, v->ptr, v->len) != 0) return 0;
        } else if (conn_arg_is(f, "type")) {
            if (client_type_matches(t, v) != 1) return 0;
        } else if (conn_arg_is(f, "user")) {
            const char *name = acl_client_user_name(t);
            if (strlen(name) != v->len || memcmp(name, v->ptr, v->len) != 0) return 0;
        }
    }
    return 1;
}

static void client_kill(client *c)
{
    if (c->argc == 3) {
        /* Old form: CLIENT KILL addr:port */
        for (client *t = c->srv->clients; t; t = t->next) {
            if (strlen(t->addr) == c->argv[2].len && memcmp(t->addr, c->argv[2].ptr, c->argv[2].len) == 0) {
                if (t == c)
                    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
                else
                    client_close(t);
                reply_ok(c);
                return;
            }
        }
        reply_error(c, "ERR No such client");
        return;
    }
    if (c->argc % 2 != 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    int skipme = 1;
    for (int j = 2; j + 1 < c->argc; j += 2) {
        const resp_arg *f = &c->argv[j], *v = &c->argv[j + 1];
        if (conn_arg_is(f, "id")) {
            long long id;
            if (!util_str_to_ll(v->ptr, v->len, &id) || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (conn_arg_is(f, "type")) {
            if (client_type_matches(c, v) < 0) {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)v->len, v->ptr);
                return;
            }
        } else if (conn_arg_is(f, "skipme")) {
            if (conn_arg_is(v, "yes")) skipme = 1;
            else if (conn_arg_is(v, "no")) skipme = 0;
            else { reply_error(c, ERR_SYNTAX); return; }
        } else if (conn_arg_is(f, "user")) {
            /* User names are case sensitive. */
            if (acl_user_find(v->ptr, v->len) == NULL && !(v->len == 7 && memcmp(v->ptr, "default", 7) == 0)) {
                reply_errorf(c, "ERR No such user '%.*s'", (int)v->len, v->ptr);
                return;
            }
        } else if (!conn_arg_is(f, "addr") && !conn_arg_is(f, "laddr")) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    long long killed = 0;
    client *t = c->srv->clients;
    while (t) {
        client *next = t->next;
        if (!(t->flags & CLIENT_CLOSING) && client_kill_matches(c, t, c->argc, skipme)) {
            if (t == c)
                c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            else
                client_close(t);
            killed++;
        }
        t = next;
    }
    reply_int(c, killed);
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR] */
static void client_unblock(client *c)
{
    /* Redis checks the reason before it parses the id. */
    int with_error = 0;
    if (c->argc == 4) {
        if (conn_arg_is(&c->argv[3], "error")) {
            with_error = 1;
        } else if (!conn_arg_is(&c->argv[3], "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &id)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    for (client *t = c->srv->clients; t; t = t->next) {
        if (t->id == (uint64_t)id && (t->flags & CLIENT_BLOCKED)) {
            reply_int(c, blocking_client_unblock(t, with_error));
            return;
        }
    }
    reply_int(c, 0);
}

/* CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the
 * timeout, as 7.0 does; the default mode is ALL. */
static void client_pause(client *c)
{
    int type = PAUSE_ALL;
    if (c->argc == 4) {
        if (conn_arg_is(&c->argv[3], "write")) {
            type = PAUSE_WRITE;
        } else if (!conn_arg_is(&c->argv[3], "all")) {
            reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &ms)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    int64_t now = util_ms_now();
    pause_start(c->srv, type, ms > INT64_MAX - now ? INT64_MAX : now + ms);
    reply_ok(c);
}

static void client_setname(client *c)
{
    if (conn_set_name(c, &c->argv[2]))
        reply_ok(c);
}

static void cmd_client(client *c)
{
    const resp_arg *sub = &c->argv[1];
    if (conn_arg_is(sub, "help") && c->argc != 2) {
        client_sub_arity(c, "help");
    } else if (conn_arg_is(sub, "help")) {
        static const char *help[] = {
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            NULL };
        reply_help(c, "CLIENT", help);
    } else if (conn_arg_is(sub, "id")) {
        if (c->argc != 2) { client_sub_arity(c, "id"); return; }
        reply_int(c, (long long)c->id);
    } else if (conn_arg_is(sub, "getname")) {
        if (c->argc != 2) { client_sub_arity(c, "getname"); return; }
        if (c->name) reply_bulk_kstr(c, c->name); else reply_null(c);
    } else if (conn_arg_is(sub, "setname")) {
        if (c->argc != 3) { client_sub_arity(c, "setname"); return; }
        client_setname(c);
    } else if (conn_arg_is(sub, "list")) {
        client_list(c);
    } else if (conn_arg_is(sub, "info")) {
        if (c->argc != 2) { client_sub_arity(c, "info"); return; }
        kstr out = client_info_line(c, kstr_empty(256));
        out = kstr_cat(out, "\n", 1);
        reply_verbatim(c, out, kstr_len(out), "txt");
        kstr_free(out);
    } else if (conn_arg_is(sub, "kill")) {
        if (c->argc < 3) { client_sub_arity(c, "kill"); return; }
        client_kill(c);
    } else if (conn_arg_is(sub, "no-evict")) {
        if (c->argc != 3) { client_sub_arity(c, "no-evict"); return; }
        /* maxmemory-clients spares this connection (networking.c) */
        if (conn_arg_is(&c->argv[2], "on")) { c->flags |= CLIENT_NO_EVICT; reply_ok(c); }
        else if (conn_arg_is(&c->argv[2], "off")) { c->flags &= ~CLIENT_NO_EVICT; reply_ok(c); }
        else reply_error(c, ERR_SYNTAX);
    } else if (conn_arg_is(sub, "reply")) {
        if (c->argc != 3) { client_sub_arity(c, "reply"); return; }
        if (conn_arg_is(&c->argv[2], "on")) {
            c->flags &= ~(CLIENT_NO_REPLY | CLIENT_REPLY_SKIP_NEXT);
            reply_ok(c);
        } else if (conn_arg_is(&c->argv[2], "off")) {
            c->flags |= CLIENT_NO_REPLY;
        } else if (conn_arg_is(&c->argv[2], "skip")) {
            if (!(c->flags & CLIENT_NO_REPLY))
                c->flags |= CLIENT_REPLY_SKIP_NEXT;
        } else {
            reply_error(c, ERR_SYNTAX);
        }
    } else if (conn_arg_is(sub, "unblock")) {
        if (c->argc != 3 && c->argc != 4) {
            /* Past the arity check, an extra argument is a syntax error. */
            reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                         (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
            return;
        }
        client_unblock(c);
    } else if (conn_arg_is(sub, "pause")) {
        if (c->argc > 4) {
            reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                         (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
            return;
        }
        client_pause(c);
    } else if (conn_arg_is(sub, "unpause")) {
        pause_end(c->srv);
        reply_ok(c);
    } else if (conn_arg_is(sub, "tracking")) {
        tracking_cmd_tracking(c);
    } else if (conn_arg_is(sub, "caching")) {
        tracking_cmd_caching(c);
    } else if (conn_arg_is(sub, "getredir")) {
        tracking_cmd_getredir(c);
    } else if (conn_arg_is(sub, "trackinginfo")) {
        tracking_cmd_trackinginfo(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try CLIENT HELP.", (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

const cmd_def t_conn_commands[] = {
    { "ping", cmd_ping, -1, CMD_FAST | CMD_SENTINEL, 0, 0, 0, "@fast @connection" },
    { "echo", cmd_echo, 2, CMD_FAST, 0, 0, 0, "@fast @connection" },
    { "quit", cmd_quit, -1, CMD_NO_AUTH | CMD_FAST | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0, "@fast @connection" },
    { "select", cmd_select, 2, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@fast @connection" },
    { "auth", cmd_auth, -2, CMD_NO_AUTH | CMD_FAST | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0, "@fast @connection" },
    { "hello", cmd_hello, -1, CMD_NO_AUTH | CMD_FAST | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0, "@fast @connection" },
    { "reset", cmd_reset, 1, CMD_NO_AUTH | CMD_FAST | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0, "@fast @connection" },
    { "client", cmd_client, -2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous @connection" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
