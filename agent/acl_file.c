/* acl_file: the users of the configuration: `user` directives (checked
 * by config.c while it reads the file, built here when the users are first
 * needed) and the aclfile, read at that moment and by ACL LOAD, written by
 * ACL SAVE, in Redis' format (one "user <name> <rules...>" per line). */
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


#define ACL_ERR_UNMATCHED "Unmatched parenthesis in selector definition"

/* Applies the words of a `user` directive or aclfile line (selectors
 * merged first) to u; NULL, or the first error. */
static const char *acl_apply_words(acl_user *u, int argc, const char *const *argv)
{
    int n = 0, bad = 0;
    char **rules = acl_merge_selector_args(argc, argv, NULL, &n, &bad);
    if (!rules)
        return ACL_ERR_UNMATCHED;
    const char *err = NULL;
    for (int j = 0; j < n && !err; j++)
        if (acl_user_apply(u, rules[j], strlen(rules[j]), &err) != 0 && !err)
            err = ACL_ERR_SYNTAX;
    acl_words_free(rules, n);
    return err;
}

const char *acl_config_user_check(int argc, const char *const *argv)
{
    acl_user *u = acl_user_new_detached(argv[0]);
    const char *err = acl_apply_words(u, argc - 1, argv + 1);
    acl_user_free(u);
    return err;
}

static void acl_cfg_value(void *priv, const char *name, const char *value)
{
    (void)name;
    char **out = priv;
    if (value && value[0])
        *out = mem_strdup(value);
}

/* The aclfile setting, or NULL when there is none (malloc'd). */
char *acl_file_path(srv *s)
{
    char *path = NULL;
    cfg_get(&s->config, "aclfile", 7, acl_cfg_value, &path);
    return path;
}

static acl_user *acl_registry_unlink(const char *name)
{
    for (acl_user **p = &acl_users; *p; p = &(*p)->next) {
        if (strcmp((*p)->name, name) == 0) {
            acl_user *u = *p;
            *p = u->next;
            u->next = NULL;
            return u;
        }
    }
    return NULL;
}

/* Closes the clients authenticated as u (a deleted user); the caller, if
 * one of them, is closed after its reply. */
void acl_kill_clients_of(srv *s, client *caller, const acl_user *u)
{
    client *t = s->clients;
    while (t) {
        client *next = t->next;
        if (t->user == u) {
            t->user = NULL;
            t->flags &= ~(uint32_t)CLIENT_AUTHENTICATED;
            if (t == caller)
                t->flags |= CLIENT_CLOSE_AFTER_REPLY;
            else if (!(t->flags & CLIENT_CLOSING))
                client_close(t);
        }
        t = next;
    }
}

/* Replaces the registry with users (a list). A user in both keeps its
 * struct, given the new rules, so its clients stay authenticated as it;
 * clients of users that disappear are disconnected, as Redis does. */
static void acl_install(srv *s, acl_user *users, client *caller)
{
    acl_user *final = NULL;
    while (users) {
        acl_user *n = users;
        users = n->next;
        acl_user *old = acl_registry_unlink(n->name);
        if (old) {
            acl_user tmp = *old;
            *old = *n;
            *n = tmp;
            n->next = NULL;
            acl_user_free(n);
            n = old;
        }
        n->next = final;
        final = n;
    }
    while (acl_users) {
        acl_user *g = acl_users;
        acl_users = g->next;
        acl_kill_clients_of(s, caller, g);
        acl_user_free(g);
    }
    while (final) {
        acl_user *n = final;
        final = n->next;
        n->next = NULL;
        acl_registry_add(n);
    }
}

/* Reads a whole file into a NUL-terminated buffer (mem_free). */
static char *acl_read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = mem_alloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = mem_realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            mem_free(buf);
            close(fd);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

static int acl_write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes path through a temporary file renamed over it. */
static int acl_write_file_atomic(const char *path, const char *data, size_t len)
{
    size_t tl = strlen(path) + 32;
    char *tmp = mem_alloc(tl);
    snprintf(tmp, tl, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && (acl_write_all(fd, data, len) != 0 || fsync(fd) != 0))
        rc = -1;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0 && fd >= 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    mem_free(tmp);
    return rc;
}

/* Splits one aclfile line on spaces (Redis' format has no quoting). */
static int acl_split_words(char *line, char **words, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " ", &save); w && n < max; w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    return n;
}

void acl_errf(acl_buf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void acl_errf(acl_buf *e, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    acl_buf_str(e, tmp);
}

/* Parses an aclfile's text into a list of users, or NULL with errors in e
 * (every bad line, as Redis lists them). */
static acl_user *acl_parse_file(const char *path, char *text, acl_buf *e)
{
    acl_user *list = NULL;
    int linenum = 0;
    char *save = NULL;
    /* strtok_r would merge empty lines and shift the line numbers. */
    for (char *line = text; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        linenum++;
        size_t len = strlen(line);
        while (len && strchr(" \t\r", line[len - 1]))
            line[--len] = '\0';
        while (*line == ' ' || *line == '\t' || *line == '\r')
            line++;
        if (!*line)
            continue;
        char *words[1024];
        int n = acl_split_words(line, words, 1024);
        if (n < 2 || strcmp(words[0], "user") != 0) {
            acl_errf(e, "%s:%d should start with user keyword followed by the username. ", path, linenum);
            continue;
        }
        int dup = 0;
        for (acl_user *u = list; u && !dup; u = u->next)
            dup = strcmp(u->name, words[1]) == 0;
        if (dup) {
            acl_errf(e, "WARNING: Duplicate user '%s' found on line %d. ", words[1], linenum);
            continue;
        }
        acl_user *u = acl_user_new_detached(words[1]);
        const char *err = acl_apply_words(u, n - 2, (const char *const *)words + 2);
        if (err)
            acl_errf(e, "%s:%d: %s. ", path, linenum, err);
        u->next = list;
        list = u;
    }
    if (!e->len)
        return list;
    while (list) {
        acl_user *u = list;
        list = u->next;
        acl_user_free(u);
    }
    return NULL;
}

/* A default user as Redis starts one, for a file that does not name it. */
static acl_user *acl_fresh_default(srv *s)
{
    acl_user *d = acl_user_new_detached("default");
    d->enabled = 1;
    d->root.allkeys = 1;
    d->root.allchannels = 1;
    acl_set_all_commands(&d->root, 1);
    const char *rp = s->config.requirepass ? s->config.requirepass : "";
    acl_default_from_requirepass(d, rp);
    return d;
}

/* Loads path into the registry; NULL, or the error text ACL LOAD replies
 * (malloc'd). Nothing changes on an error. */
char *acl_load_file(srv *s, const char *path, client *caller)
{
    acl_buf e = {0};
    char *buf = acl_read_file(path);
    if (!buf) {
        acl_errf(&e, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return e.p;
    }
    acl_user *list = acl_parse_file(path, buf, &e);
    mem_free(buf);
    if (e.len) {
        acl_buf_str(&e, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return e.p;
    }
    int has_default = 0;
    for (acl_user *u = list; u; u = u->next)
        has_default |= strcmp(u->name, "default") == 0;
    if (!has_default) {
        acl_user *d = acl_fresh_default(s);
        d->next = list;
        list = d;
    }
    acl_install(s, list, caller);
    return NULL;
}

/* ACL SAVE: ACL LIST's lines, written to a temporary file renamed over
 * path so a crash never leaves half a file. */
int acl_save_file(srv *s, const char *path)
{
    acl_default_user(s);
    acl_buf b = {0};
    for (acl_user *u = acl_users; u; u = u->next) {
        char *rules = acl_user_describe(u);
        acl_errf(&b, "user %s ", u->name);
        acl_buf_str(&b, rules);
        acl_buf_str(&b, "\n");
        mem_free(rules);
    }
    int rc = acl_write_file_atomic(path, b.p ? b.p : "", b.len);
    if (rc != 0)
        log_msg(LOG_WARNING, "Failed to save the ACLs to %s: %s", path, strerror(errno));
    mem_free(b.p);
    return rc;
}

/* The users of the configuration, built once: `user` directives, or the
 * aclfile. Both together, or an aclfile with errors, is what Redis refuses
 * to start with: the returned message (malloc'd, NULL when all is well)
 * makes the agent exit (acl_check_startup); until then only the default
 * user exists. */
char *acl_load_configured(srv *s)
{
    char *fatal = NULL;
    char *path = acl_file_path(s);
    if (s->config.user_line_count && path) {
        fatal = mem_strdup("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.");
        mem_free(path);
        path = NULL;
    }
    acl_user *list = NULL;
    int has_default = 0;
    for (int i = 0; i < s->config.user_line_count; i++) {
        const struct cfg_user_line *l = &s->config.user_lines[i];
        acl_user *u = acl_user_new_detached(l->argv[0]);
        if (strcmp(u->name, "default") == 0) {
            /* The existing default user is reset first, as Redis does. */
            acl_user_free(u);
            u = acl_fresh_default(s);
            acl_reset_user(u);
            has_default = 1;
        }
        const char *err = acl_apply_words(u, l->argc - 1, (const char *const *)l->argv + 1);
        if (err)
            log_msg(LOG_WARNING, "Error in user declaration '%s': %s", u->name, err);
        u->next = list;
        list = u;
    }
    if (!has_default) {
        acl_user *d = acl_fresh_default(s);
        d->next = list;
        list = d;
    }
    acl_install(s, list, NULL);
    /* The users now reflect requirepass; only a later change re-applies it. */
    acl_requirepass_synced(s);
    if (path) {
        char *err = acl_load_file(s, path, NULL);
        if (err) {
            size_t n = strlen(err) + 64;
            fatal = mem_alloc(n);
            snprintf(fatal, n, "Aborting Redis startup because of ACL errors: %s", err);
            mem_free(err);
        }
        mem_free(path);
    }
    return fatal;
}

