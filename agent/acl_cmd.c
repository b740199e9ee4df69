/* acl_cmd: the ACL command and its subcommands, answering as redis-server
 * 7.0.15 does (tests/e2e/compat/acl.txt). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "acl_int.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "mem.h"
#include "util.h"
#include "log.h"
#include "config.h"


static int acl_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* Rules apply to a copy first: one bad rule leaves the user unchanged.
 * A selector given as several arguments ("(+get" "~k)") is one rule. */
static void acl_setuser(client *c)
{
    const resp_arg *name = &c->argv[2];
    for (size_t i = 0; i < name->len; i++) {
        if (isspace((unsigned char)name->ptr[i]) || name->ptr[i] == '\0') {
            reply_error(c, "ERR Usernames can't contain spaces or null characters");
            return;
        }
    }
    acl_user *existing = acl_user_find(name->ptr, name->len);
    acl_user *def = acl_default_user(c->srv);
    int default_was_open = def->nopass && def->enabled;
    acl_read_pubsub_default(c->srv);
    int nargs = c->argc - 3, nrules = 0, bad = 0;
    const char **words = mem_alloc(sizeof(char *) * (size_t)(nargs + 1));
    size_t *lens = mem_alloc(sizeof(size_t) * (size_t)(nargs + 1));
    for (int j = 0; j < nargs; j++) {
        words[j] = c->argv[3 + j].ptr;
        lens[j] = c->argv[3 + j].len;
    }
    char **rules = acl_merge_selector_args(nargs, words, lens, &nrules, &bad);
    mem_free(words);
    mem_free(lens);
    if (!rules) {
        const resp_arg *at = &c->argv[3 + bad];
        reply_errorf(c, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.", (int)at->len, at->ptr);
        return;
    }
    acl_user *u;
    if (existing) {
        u = acl_user_dup(existing);
    } else {
        char *nm = acl_strndup(name->ptr, name->len);
        u = acl_user_new_detached(nm);
        mem_free(nm);
    }
    for (int j = 0; j < nrules; j++) {
        const char *err = NULL;
        if (acl_user_apply(u, rules[j], strlen(rules[j]), &err) != 0) {
            reply_errorf(c, "ERR Error in ACL SETUSER modifier '%s': %s", rules[j], err);
            acl_user_free(u);
            acl_words_free(rules, nrules);
            return;
        }
    }
    acl_words_free(rules, nrules);
    if (existing) {
        /* Swap the contents so clients keep pointing at the same user. */
        acl_user tmp = *existing;
        acl_user *next = existing->next;
        *existing = *u;
        existing->next = next;
        tmp.next = NULL;
        *u = tmp;
        acl_user_free(u);
        u = existing;
    } else {
        acl_registry_add(u);
    }
    if (strcmp(u->name, "default") == 0)
        acl_default_closed(c->srv, default_was_open);
    acl_kill_revoked_subscribers(c->srv, c, u);
    acl_rules_changed();
    reply_ok(c);
}

/* A selector's "keys" or "channels" field of ACL GETUSER: the patterns
 * joined by spaces ("~*" / "&*" for all). */
static void acl_reply_pattern_string(client *c, const acl_selector *sel, int keys)
{
    acl_buf b = {0};
    acl_buf_str(&b, " ");
    if (keys) {
        acl_describe_keys(sel, &b);
    } else if (sel->allchannels) {
        acl_buf_str(&b, "&* ");
    } else {
        for (int i = 0; i < sel->nchannels; i++) {
            acl_buf_str(&b, "&");
            acl_buf_str(&b, sel->channels[i]);
            acl_buf_str(&b, " ");
        }
    }
    /* Drop the leading and trailing blanks the builder leaves. */
    size_t len = b.len >= 2 ? b.len - 2 : 0;
    reply_bulk(c, b.p + 1, len);
    mem_free(b.p);
}

/* commands, keys, channels of one selector (Redis'
 * aclAddReplySelectorDescription). */
static void acl_reply_selector(client *c, const acl_selector *sel)
{
    reply_bulk_cstr(c, "commands");
    acl_buf b = {0};
    acl_describe_commands(sel, &b);
    reply_bulk(c, b.p, b.len);
    mem_free(b.p);
    reply_bulk_cstr(c, "keys");
    acl_reply_pattern_string(c, sel, 1);
    reply_bulk_cstr(c, "channels");
    acl_reply_pattern_string(c, sel, 0);
}

/* GETUSER's reply: flags, passwords, commands, keys, channels, selectors. */
static void acl_getuser(client *c)
{
    acl_default_user(c->srv);
    acl_user *u = acl_user_find(c->argv[2].ptr, c->argv[2].len);
    if (!u) {
        reply_null(c);
        return;
    }
    reply_map(c, 6);
    reply_bulk_cstr(c, "flags");
    int nflags = 1 + u->nopass + (u->sanitize != SANITIZE_NONE);
    reply_set(c, nflags);
    reply_bulk_cstr(c, u->enabled ? "on" : "off");
    if (u->nopass)
        reply_bulk_cstr(c, "nopass");
    if (u->sanitize != SANITIZE_NONE)
        reply_bulk_cstr(c, u->sanitize == SANITIZE_YES ? "sanitize-payload" : "skip-sanitize-payload");
    reply_bulk_cstr(c, "passwords");
    reply_array(c, u->nhashes);
    for (int i = 0; i < u->nhashes; i++)
        reply_bulk_cstr(c, u->hashes[i]);
    acl_reply_selector(c, &u->root);
    reply_bulk_cstr(c, "selectors");
    reply_array(c, u->nselectors);
    for (int i = 0; i < u->nselectors; i++) {
        reply_map(c, 3);
        acl_reply_selector(c, u->selectors[i]);
    }
}

static void acl_deluser(client *c)
{
    acl_default_user(c->srv);
    for (int j = 2; j < c->argc; j++) {
        if (c->argv[j].len == 7 && memcmp(c->argv[j].ptr, "default", 7) == 0) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        acl_user **p = &acl_users;
        while (*p && !(strlen((*p)->name) == c->argv[j].len && memcmp((*p)->name, c->argv[j].ptr, c->argv[j].len) == 0))
            p = &(*p)->next;
        if (!*p)
            continue;
        acl_user *u = *p;
        *p = u->next;
        acl_kill_clients_of(c->srv, c, u);
        acl_user_free(u);
        deleted++;
    }
    reply_int(c, deleted);
}

static void acl_list(client *c)
{
    acl_default_user(c->srv);
    long long n = 0;
    for (acl_user *u = acl_users; u; u = u->next)
        n++;
    reply_array(c, n);
    for (acl_user *u = acl_users; u; u = u->next) {
        char *rules = acl_user_describe(u);
        size_t len = strlen(u->name) + strlen(rules) + 7;
        char *line = mem_alloc(len);
        snprintf(line, len, "user %s %s", u->name, rules);
        reply_bulk(c, line, len - 1);
        mem_free(line);
        mem_free(rules);
    }
}

static void acl_users_cmd(client *c)
{
    acl_default_user(c->srv);
    long long n = 0;
    for (acl_user *u = acl_users; u; u = u->next)
        n++;
    reply_array(c, n);
    for (acl_user *u = acl_users; u; u = u->next)
        reply_bulk_cstr(c, u->name);
}

static void acl_cat(client *c)
{
    if (c->argc == 2) {
        long long n = 0;
        while (acl_categories[n])
            n++;
        reply_array(c, n);
        for (long long j = 0; j < n; j++)
            reply_bulk_cstr(c, acl_categories[j]);
        return;
    }
    char cat[64];
    size_t len = c->argv[2].len;
    int known = len < sizeof(cat);
    for (size_t i = 0; known && i < len; i++)
        cat[i] = (char)tolower((unsigned char)c->argv[2].ptr[i]);
    if (known) {
        cat[len] = '\0';
        known = strcmp(cat, "all") != 0 && acl_category_known(cat);
    }
    if (!known) {
        reply_errorf(c, "ERR Unknown category '%.*s'", (int)(len > 128 ? 128 : len), c->argv[2].ptr);
        return;
    }
    /* Redis lists the top-level commands and subcommands of the category. */
    void *h = reply_defer_len(c);
    long long n = 0;
    for (size_t i = 0; i < acl_ncmds(); i++) {
        if (acl_in_category(i, cat)) {
            reply_bulk_cstr(c, acl_command_table[i].fullname);
            n++;
        }
    }
    reply_set_deferred_len(c, h, n);
}

static void acl_genpass(client *c)
{
    long long bits = 256;
    if (c->argc == 3 && !util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &bits)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (bits <= 0 || bits > 4096) {
        reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    char out[1025];
    util_random_hex(out, chars + 1);
    reply_bulk(c, out, chars);
}

static void acl_dryrun(client *c)
{
    acl_default_user(c->srv);
    acl_user *u = acl_user_find(c->argv[2].ptr, c->argv[2].len);
    if (!u) {
        reply_errorf(c, "ERR User '%.*s' not found", (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len), c->argv[2].ptr);
        return;
    }
    const cmd_def *cmd = cmd_lookup(c->argv[3].ptr, c->argv[3].len);
    if (!cmd) {
        reply_errorf(c, "ERR Command '%.*s' not found", (int)(c->argv[3].len > 128 ? 128 : c->argv[3].len), c->argv[3].ptr);
        return;
    }
    int argc = c->argc - 3;
    const resp_arg *argv = c->argv + 3;
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        char full[160];
        snprintf(full, sizeof(full), "%s", acl_fullname(cmd, argc, argv));
        reply_error_arity(c, full);
        return;
    }
    int errpos = 0;
    int why = acl_check(u, cmd, argc, argv, &errpos);
    char msg[600];
    switch (why) {
    case ACL_OK:
        reply_ok(c);
        return;
    case ACL_DENIED_CMD:
        snprintf(msg, sizeof(msg), "This user has no permissions to run the '%s' command", acl_fullname(cmd, argc, argv));
        break;
    case ACL_DENIED_KEY:
        snprintf(msg, sizeof(msg), "This user has no permissions to access the '%.*s' key",
                 (int)(argv[errpos].len > 500 ? 500 : argv[errpos].len), argv[errpos].ptr);
        break;
    default:
        snprintf(msg, sizeof(msg), "This user has no permissions to access the '%.*s' channel",
                 (int)(argv[errpos].len > 500 ? 500 : argv[errpos].len), argv[errpos].ptr);
        break;
    }
    reply_bulk_cstr(c, msg);
}

static void acl_log_cmd(client *c)
{
    long long count = 10;
    if (c->argc == 3) {
        if (acl_arg_is(&c->argv[2], "reset")) {
            acl_log_reset();
            reply_ok(c);
            return;
        }
        if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &count)) {
            reply_error(c, ERR_NOT_INT);
            return;
        }
        if (count < 0)
            count = 0;
    }
    long long n = 0;
    for (acl_log_entry *e = acl_log; e && n < count; e = e->next)
        n++;
    reply_array(c, n);
    int64_t now = util_ms_now();
    acl_log_entry *e = acl_log;
    for (long long i = 0; i < n; i++, e = e->next) {
        reply_map(c, 7);
        reply_bulk_cstr(c, "count");
        reply_int(c, e->count);
        reply_bulk_cstr(c, "reason");
        reply_bulk_cstr(c, e->reason);
        reply_bulk_cstr(c, "context");
        reply_bulk_cstr(c, e->context);
        reply_bulk_cstr(c, "object");
        reply_bulk_cstr(c, e->object);
        reply_bulk_cstr(c, "username");
        reply_bulk_cstr(c, e->username);
        reply_bulk_cstr(c, "age-seconds");
        /* A RESP3 double; "%.17g" bulk in RESP2. */
        reply_double(c, (double)(now - e->ctime_ms) / 1000.0);
        reply_bulk_cstr(c, "client-info");
        reply_bulk_cstr(c, e->cinfo);
    }
}

static void acl_whoami(client *c)
{
    reply_bulk_cstr(c, acl_client_user_name(c));
}

static void acl_help(client *c)
{
    static const char *lines[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL,
    };
    reply_help(c, "ACL", lines);
}

#define ACL_NO_FILE "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

static void acl_load_cmd(client *c)
{
    char *path = acl_file_path(c->srv);
    if (!path) {
        reply_error(c, ACL_NO_FILE);
        return;
    }
    acl_read_pubsub_default(c->srv);
    acl_user *def = acl_default_user(c->srv);
    int default_was_open = def->nopass && def->enabled;
    char *err = acl_load_file(c->srv, path, c);
    acl_default_closed(c->srv, default_was_open);
    acl_rules_changed();
    if (err) {
        reply_errorf(c, "ERR %s", err);
        mem_free(err);
    } else {
        reply_ok(c);
    }
    mem_free(path);
}

static void acl_save_cmd(client *c)
{
    char *path = acl_file_path(c->srv);
    if (!path) {
        reply_error(c, ACL_NO_FILE);
        return;
    }
    if (acl_save_file(c->srv, path) != 0)
        reply_error(c, "ERR There was an error trying to save the ACLs. Please check the server logs for more information");
    else
        reply_ok(c);
    mem_free(path);
}

typedef struct acl_subcmd {
    const char *name;
    cmd_proc *proc;
    int max_argc;   /* beyond it: "unknown subcommand or wrong number of arguments" */
} acl_subcmd;

static const acl_subcmd acl_subcmds[] = {
    {"setuser", acl_setuser, 0}, {"getuser", acl_getuser, 3}, {"deluser", acl_deluser, 0},
    {"list", acl_list, 2}, {"users", acl_users_cmd, 2}, {"whoami", acl_whoami, 2},
    {"cat", acl_cat, 3}, {"genpass", acl_genpass, 3}, {"dryrun", acl_dryrun, 0},
    {"log", acl_log_cmd, 3}, {"help", acl_help, 2}, {"load", acl_load_cmd, 2},
    {"save", acl_save_cmd, 2}, {NULL, NULL, 0},
};

static void cmd_acl(client *c)
{
    const resp_arg *sub = &c->argv[1];
    for (const acl_subcmd *s = acl_subcmds; s->name; s++) {
        if (!acl_arg_is(sub, s->name))
            continue;
        if (s->max_argc && c->argc > s->max_argc) {
            reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                         (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
            return;
        }
        s->proc(c);
        return;
    }
    reply_errorf(c, "ERR unknown subcommand '%.*s'. Try ACL HELP.", (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
}

const cmd_def acl_commands[] = {
    { "acl", cmd_acl, -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};

