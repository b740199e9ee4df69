/* acl: Redis 7.0 ACL users (see acl.h). Commands are identified by their
 * index in acl_command_table, every command and subcommand of Redis 7.0
 * with its ACL categories (also those the agent lacks, so rules and ACL
 * LIST's best-fit string come out as Redis computes them); a user's
 * command permissions are one byte per entry. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <nettle/sha2.h>
#include "acl.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "mem.h"
#include "util.h"
#include "log.h"
#include "config.h"
#include "acl_int.h"


/* ACL CAT's order, which is also the order ACL LIST tries categories in. */
const char *const acl_categories[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting", NULL,
};

acl_user *acl_users;                 /* registry, sorted by name */
/* acl-pubsub-default allchannels: new (and reset) users may use every
 * channel. Read from the config before each change of users. */
static int acl_pubsub_allchannels;
/* The default user allows everything (kept current by acl_rules_changed):
 * cmd_process's check is then one test for the default user's clients. */
static int acl_default_unrestricted;
static char *acl_synced_requirepass; /* requirepass the default user mirrors */

/* ---- command universe ----------------------------------------------- */

size_t acl_ncmds(void)
{
    return acl_command_table_len;
}

static int acl_is_sub(size_t i)
{
    return strchr(acl_command_table[i].fullname, '|') != NULL;
}

/* Entry i is a subcommand of parent (index). */
static int acl_sub_of(size_t i, size_t parent)
{
    const char *p = acl_command_table[parent].fullname, *f = acl_command_table[i].fullname;
    size_t pl = strlen(p);
    return strncmp(f, p, pl) == 0 && f[pl] == '|';
}

int acl_in_category(size_t i, const char *cat)
{
    if (strcmp(cat, "all") == 0)
        return 1;
    const char *s = acl_command_table[i].categories;
    size_t cl = strlen(cat);
    while (s && *s) {
        const char *e = strchr(s, ' ');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == cl && memcmp(s, cat, l) == 0)
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

int acl_category_known(const char *cat)
{
    if (strcmp(cat, "all") == 0)
        return 1;
    for (int j = 0; acl_categories[j]; j++)
        if (strcmp(acl_categories[j], cat) == 0)
            return 1;
    return 0;
}

/* Name lookup runs for every command of a restricted user: an open-
 * addressing table over the lower-case full names, hashed case-
 * insensitively, built once. acl_has_subs marks containers. */
#define ACL_SLOTS 2048
static int16_t acl_slot[ACL_SLOTS];   /* table index + 1, 0 empty */
static uint8_t *acl_has_subs;

static uint32_t acl_hash_add(uint32_t h, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint32_t)tolower((unsigned char)p[i])) * 16777619u;
    return h;
}

/* The hash of "a" or "a|b" (b NULL: a alone). */
static uint32_t acl_hash_name(const char *a, size_t al, const char *b, size_t bl)
{
    uint32_t h = acl_hash_add(2166136261u, a, al);
    if (b) {
        h = acl_hash_add(h, "|", 1);
        h = acl_hash_add(h, b, bl);
    }
    return h;
}

static void acl_index_build(void)
{
    if (acl_has_subs)
        return;
    acl_has_subs = mem_calloc(acl_ncmds() + 1);
    for (size_t i = 0; i < acl_ncmds(); i++) {
        const char *n = acl_command_table[i].fullname;
        const char *bar = strchr(n, '|');
        if (bar) {
            /* The table lists a container right before its subcommands. */
            for (size_t j = i; j-- > 0;)
                if (!strchr(acl_command_table[j].fullname, '|')) {
                    acl_has_subs[j] = 1;
                    break;
                }
        }
        uint32_t h = acl_hash_name(n, strlen(n), NULL, 0) & (ACL_SLOTS - 1);
        while (acl_slot[h])
            h = (h + 1) & (ACL_SLOTS - 1);
        acl_slot[h] = (int16_t)(i + 1);
    }
}

/* The entry named a (or "a|b"), any letter case, or -1. */
static long acl_cmd_index2(const char *a, size_t al, const char *b, size_t bl)
{
    acl_index_build();
    uint32_t h = acl_hash_name(a, al, b, bl) & (ACL_SLOTS - 1);
    for (; acl_slot[h]; h = (h + 1) & (ACL_SLOTS - 1)) {
        const char *n = acl_command_table[acl_slot[h] - 1].fullname;
        if (strncasecmp(n, a, al) != 0)
            continue;
        if (!b ? n[al] == '\0' : (n[al] == '|' && strncasecmp(n + al + 1, b, bl) == 0 && n[al + 1 + bl] == '\0'))
            return acl_slot[h] - 1;
    }
    return -1;
}

static long acl_cmd_index(const char *fullname, size_t len)
{
    return acl_cmd_index2(fullname, len, NULL, 0);
}

/* ---- users ---------------------------------------------------------- */

char *acl_strndup(const char *s, size_t n)
{
    char *d = mem_alloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void acl_strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        mem_free(v[i]);
    mem_free(v);
}

static void acl_strv_push(char ***v, int *n, char *s)
{
    *v = mem_realloc(*v, sizeof(char *) * (size_t)(*n + 1));
    (*v)[(*n)++] = s;
}

static void acl_strv_remove(char **v, int *n, int at)
{
    mem_free(v[at]);
    memmove(v + at, v + at + 1, sizeof(char *) * (size_t)(*n - at - 1));
    (*n)--;
}

static void acl_reset_keys(acl_selector *sel)
{
    for (int i = 0; i < sel->nkeys; i++)
        mem_free(sel->keys[i].glob);
    mem_free(sel->keys);
    sel->keys = NULL;
    sel->nkeys = 0;
    sel->allkeys = 0;
}

static void acl_reset_channels(acl_selector *sel)
{
    acl_strv_free(sel->channels, sel->nchannels);
    sel->channels = NULL;
    sel->nchannels = 0;
    sel->allchannels = 0;
}

static void acl_reset_firstargs(acl_selector *sel, long idx)
{
    for (int i = 0; i < sel->nfirstargs;) {
        if (idx < 0 || strtol(sel->firstargs[i], NULL, 10) == idx)
            acl_strv_remove(sel->firstargs, &sel->nfirstargs, i);
        else
            i++;
    }
}

void acl_set_all_commands(acl_selector *sel, int allow)
{
    memset(sel->allowed, allow ? 1 : 0, acl_ncmds());
    sel->future = allow;
    acl_reset_firstargs(sel, -1);
}

/* +cmd / -cmd: the command and, for a container, all its subcommands. */
static void acl_change_perm(acl_selector *sel, size_t idx, int allow)
{
    sel->allowed[idx] = (uint8_t)allow;
    acl_reset_firstargs(sel, (long)idx);
    if (acl_is_sub(idx))
        return;
    for (size_t i = 0; i < acl_ncmds(); i++)
        if (acl_sub_of(i, idx))
            sel->allowed[i] = (uint8_t)allow;
}

static void acl_change_category(acl_selector *sel, const char *cat, int allow)
{
    for (size_t i = 0; i < acl_ncmds(); i++)
        if (acl_in_category(i, cat))
            acl_change_perm(sel, i, allow);
}

/* A selector as Redis creates one: no commands, no keys, channels as
 * acl-pubsub-default says. */
static void acl_selector_init(acl_selector *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->allowed = mem_calloc(acl_ncmds() + 1);
    sel->allchannels = acl_pubsub_allchannels;
}

static void acl_selector_clear(acl_selector *sel)
{
    mem_free(sel->allowed);
    sel->allowed = NULL;
    acl_strv_free(sel->firstargs, sel->nfirstargs);
    sel->firstargs = NULL;
    sel->nfirstargs = 0;
    acl_reset_keys(sel);
    acl_reset_channels(sel);
}

static char **acl_strv_dup(char *const *v, int n)
{
    char **d = n ? mem_alloc(sizeof(char *) * (size_t)n) : NULL;
    for (int i = 0; i < n; i++)
        d[i] = acl_strndup(v[i], strlen(v[i]));
    return d;
}

static void acl_selector_copy(acl_selector *dst, const acl_selector *src)
{
    *dst = *src;
    dst->allowed = mem_alloc(acl_ncmds() + 1);
    memcpy(dst->allowed, src->allowed, acl_ncmds() + 1);
    dst->firstargs = acl_strv_dup(src->firstargs, src->nfirstargs);
    dst->channels = acl_strv_dup(src->channels, src->nchannels);
    dst->keys = src->nkeys ? mem_alloc(sizeof(acl_pattern) * (size_t)src->nkeys) : NULL;
    for (int i = 0; i < src->nkeys; i++) {
        dst->keys[i].perm = src->keys[i].perm;
        dst->keys[i].glob = acl_strndup(src->keys[i].glob, strlen(src->keys[i].glob));
    }
}

/* clearselectors: every selector but the root. */
static void acl_clear_selectors(acl_user *u)
{
    for (int i = 0; i < u->nselectors; i++) {
        acl_selector_clear(u->selectors[i]);
        mem_free(u->selectors[i]);
    }
    mem_free(u->selectors);
    u->selectors = NULL;
    u->nselectors = 0;
}

acl_user *acl_user_new_detached(const char *name)
{
    acl_user *u = mem_calloc(sizeof(*u));
    u->name = acl_strndup(name, strlen(name));
    acl_selector_init(&u->root);
    return u;
}

acl_user *acl_user_dup(const acl_user *src)
{
    acl_user *u = mem_calloc(sizeof(*u));
    u->name = acl_strndup(src->name, strlen(src->name));
    u->enabled = src->enabled;
    u->nopass = src->nopass;
    u->sanitize = src->sanitize;
    u->hashes = acl_strv_dup(src->hashes, src->nhashes);
    u->nhashes = src->nhashes;
    acl_selector_copy(&u->root, &src->root);
    for (int i = 0; i < src->nselectors; i++) {
        acl_selector *sel = mem_alloc(sizeof(*sel));
        acl_selector_copy(sel, src->selectors[i]);
        u->selectors = mem_realloc(u->selectors, sizeof(*u->selectors) * (size_t)(u->nselectors + 1));
        u->selectors[u->nselectors++] = sel;
    }
    return u;
}

static void acl_pubsub_value(void *priv, const char *name, const char *value)
{
    (void)name;
    *(int *)priv = value && strcmp(value, "allchannels") == 0;
}

void acl_read_pubsub_default(srv *s)
{
    int all = 0;
    if (s)
        cfg_get(&s->config, "acl-pubsub-default", 18, acl_pubsub_value, &all);
    acl_pubsub_allchannels = all;
}

void acl_user_free(acl_user *u)
{
    if (!u)
        return;
    mem_free(u->name);
    acl_strv_free(u->hashes, u->nhashes);
    acl_selector_clear(&u->root);
    acl_clear_selectors(u);
    mem_free(u);
}

const char *acl_user_name(const acl_user *u)
{
    return u->name;
}

acl_user *acl_user_find(const char *name, size_t len)
{
    for (acl_user *u = acl_users; u; u = u->next)
        if (strlen(u->name) == len && memcmp(u->name, name, len) == 0)
            return u;
    return NULL;
}

/* Kept sorted by name, bytewise: Redis keeps users in a radix tree, and
 * ACL LIST / ACL USERS list them in that order. */
void acl_registry_add(acl_user *u)
{
    acl_user **p = &acl_users;
    while (*p && strcmp((*p)->name, u->name) < 0)
        p = &(*p)->next;
    u->next = *p;
    *p = u;
}

static void acl_sha256_hex(const char *s, size_t len, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)s);
    sha256_digest(&ctx, sizeof(d), d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int acl_hash_index(const acl_user *u, const char *hex)
{
    for (int i = 0; i < u->nhashes; i++)
        if (strcmp(u->hashes[i], hex) == 0)
            return i;
    return -1;
}

/* The default user as Redis builds it at startup: "on nopass ~* &* +@all",
 * with requirepass as its only password when set. */
void acl_default_from_requirepass(acl_user *u, const char *pass)
{
    acl_strv_free(u->hashes, u->nhashes);
    u->hashes = NULL;
    u->nhashes = 0;
    u->nopass = !(pass && pass[0]);
    if (!u->nopass) {
        char hex[65];
        acl_sha256_hex(pass, strlen(pass), hex);
        acl_strv_push(&u->hashes, &u->nhashes, acl_strndup(hex, 64));
    }
}

static int acl_loaded;
/* Why the configured users cannot be used (acl_check_startup), or NULL. */
static char *acl_startup_error;
/* Clients with this id or above must AUTH (see acl_default_closed). */
static uint64_t acl_must_auth_from_id;
int acl_user_unrestricted(const acl_user *u);

void acl_rules_changed(void)
{
    acl_user *d = acl_user_find("default", 7);
    acl_default_unrestricted = d && acl_user_unrestricted(d);
}

int acl_check_startup(srv *s, char *err, size_t errlen)
{
    acl_default_user(s);
    if (!acl_startup_error)
        return 0;
    snprintf(err, errlen, "%s", acl_startup_error);
    return -1;
}

acl_user *acl_default_user(srv *s)
{
    if (!acl_loaded && s) {
        acl_loaded = 1;
        acl_read_pubsub_default(s);
        mem_free(acl_startup_error);
        acl_startup_error = acl_load_configured(s);
        acl_rules_changed();
        /* A configured default user that is off or has a password while
         * requirepass is empty: every client must AUTH, also those the
         * connection code marked as authenticated for the empty
         * requirepass (Redis creates them unauthenticated). */
        const acl_user *d = acl_user_find("default", 7);
        int requirepass = s->config.requirepass && s->config.requirepass[0];
        if (d && (!d->nopass || !d->enabled) && !requirepass)
            acl_must_auth_from_id = 1;
    }
    acl_user *u = acl_user_find("default", 7);
    if (!u) {
        u = acl_user_new_detached("default");
        u->enabled = 1;
        u->root.allkeys = 1;
        u->root.allchannels = 1;
        acl_set_all_commands(&u->root, 1);
        acl_registry_add(u);
    }
    const char *rp = s && s->config.requirepass ? s->config.requirepass : "";
    if (!acl_synced_requirepass || strcmp(acl_synced_requirepass, rp) != 0) {
        acl_default_from_requirepass(u, rp);
        mem_free(acl_synced_requirepass);
        acl_synced_requirepass = acl_strndup(rp, strlen(rp));
    }
    return u;
}

/* ACL SETUSER default, from nopass to a password or off: the clients
 * connected before were authenticated when they connected (as Redis marks
 * them) and keep working. Clients connecting later are marked authenticated
 * by the connection code whenever requirepass is empty, so the ids from
 * here on are remembered and must AUTH (acl_command_refusal). */

void acl_default_closed(srv *s, int was_open)
{
    if (!was_open || !acl_default_needs_auth(s))
        return;
    uint64_t next = 0;
    for (client *t = s->clients; t; t = t->next)
        if (t->id >= next)
            next = t->id + 1;
    acl_must_auth_from_id = next;
}

void acl_requirepass_synced(const srv *s)
{
    const char *rp = s->config.requirepass ? s->config.requirepass : "";
    mem_free(acl_synced_requirepass);
    acl_synced_requirepass = acl_strndup(rp, strlen(rp));
}

int acl_client_authenticated(const client *c)
{
    /* The master's link and internal clients are trusted, as in Redis. */
    if (c->user || (c->flags & (CLIENT_FAKE | CLIENT_MASTER)))
        return 1;
    if (!acl_loaded)
        acl_default_user(c->srv);   /* the configured users decide */
    int authed = (c->flags & CLIENT_AUTHENTICATED) &&
                 !(acl_must_auth_from_id && c->id >= acl_must_auth_from_id);
    return authed || !acl_default_needs_auth(c->srv);
}

int acl_default_needs_auth(srv *s)
{
    const acl_user *def = acl_default_user(s);
    return !def->nopass || !def->enabled;
}

const char *acl_client_user_name(const client *c)
{
    return c->user ? c->user->name : "default";
}

/* ---- the rule parser ------------------------------------------------ */

#define ACL_ERR_UNKNOWN "Unknown command or category name in ACL"

static int acl_rule_is(const char *r, size_t len, const char *word)
{
    return util_strcasecmp_len(r, len, word) == 0;
}

static int acl_add_key_pattern(acl_selector *sel, const char *r, size_t len, const char **err)
{
    int perm = ACL_READ | ACL_WRITE;
    size_t off = 1;
    if (r[0] == '%') {
        perm = 0;
        for (off = 1; off < len && r[off] != '~'; off++) {
            char ch = (char)toupper((unsigned char)r[off]);
            if (ch == 'R')
                perm |= ACL_READ;
            else if (ch == 'W')
                perm |= ACL_WRITE;
            else {
                *err = ACL_ERR_SYNTAX;
                return -1;
            }
        }
        if (perm == 0) {
            *err = ACL_ERR_SYNTAX;
            return -1;
        }
        if (off < len)
            off++;   /* "%R" alone is accepted as "%R~" with an empty pattern */
    }
    if (sel->allkeys) {
        *err = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
        return -1;
    }
    const char *g = r + off;
    size_t gl = len - off;
    if (gl == 1 && g[0] == '*' && perm == (ACL_READ | ACL_WRITE)) {
        acl_reset_keys(sel);
        sel->allkeys = 1;
        return 0;
    }
    /* The same pattern again widens its permissions instead of repeating it. */
    for (int i = 0; i < sel->nkeys; i++) {
        if (strlen(sel->keys[i].glob) == gl && memcmp(sel->keys[i].glob, g, gl) == 0) {
            sel->keys[i].perm |= perm;
            return 0;
        }
    }
    sel->keys = mem_realloc(sel->keys, sizeof(acl_pattern) * (size_t)(sel->nkeys + 1));
    sel->keys[sel->nkeys].perm = perm;
    sel->keys[sel->nkeys].glob = acl_strndup(g, gl);
    sel->nkeys++;
    return 0;
}

static int acl_add_channel(acl_selector *sel, const char *r, size_t len, const char **err)
{
    if (sel->allchannels) {
        *err = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
        return -1;
    }
    if (len == 2 && r[1] == '*') {
        acl_reset_channels(sel);
        sel->allchannels = 1;
        return 0;
    }
    for (int i = 0; i < sel->nchannels; i++)
        if (strlen(sel->channels[i]) == len - 1 && memcmp(sel->channels[i], r + 1, len - 1) == 0)
            return 0;
    acl_strv_push(&sel->channels, &sel->nchannels, acl_strndup(r + 1, len - 1));
    return 0;
}

static int acl_password_rule(acl_user *u, const char *r, size_t len, const char **err)
{
    char hex[65];
    if (r[0] == '>' || r[0] == '<') {
        acl_sha256_hex(r + 1, len - 1, hex);
    } else {
        if (len - 1 != 64) {
            *err = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
            return -1;
        }
        for (size_t i = 1; i < len; i++) {
            if (!isxdigit((unsigned char)r[i]) || isupper((unsigned char)r[i])) {
                *err = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
                return -1;
            }
        }
        memcpy(hex, r + 1, 64);
        hex[64] = '\0';
    }
    int at = acl_hash_index(u, hex);
    if (r[0] == '>' || r[0] == '#') {
        if (at < 0)
            acl_strv_push(&u->hashes, &u->nhashes, acl_strndup(hex, 64));
        u->nopass = 0;
        return 0;
    }
    if (at < 0) {
        *err = "The password you are trying to remove from the user does not exist";
        return -1;
    }
    acl_strv_remove(u->hashes, &u->nhashes, at);
    return 0;
}

/* "+cmd|arg": a subcommand when cmd has subcommands, else an allowed first
 * argument (Redis' deprecated way to allow SELECT 0 only). */
static int acl_allow_piped(acl_selector *sel, const char *name, size_t len, const char **err)
{
    /* Split at the last '|', as 7.0 does: "get|a|b" names the unknown
     * command "get|a", "config|get|x" a first argument of a subcommand. */
    const char *bar = memrchr(name, '|', len);
    long parent = acl_cmd_index(name, (size_t)(bar - name));
    if (parent < 0) {
        *err = ACL_ERR_UNKNOWN;
        return -1;
    }
    if (acl_is_sub((size_t)parent)) {
        *err = "Allowing first-arg of a subcommand is not supported";
        return -1;
    }
    size_t sublen = len - (size_t)(bar + 1 - name);
    if (sublen == 0) {
        *err = ACL_ERR_SYNTAX;
        return -1;
    }
    acl_index_build();
    if (acl_has_subs[parent]) {
        long idx = acl_cmd_index(name, len);
        if (idx < 0) {
            *err = ACL_ERR_UNKNOWN;
            return -1;
        }
        acl_change_perm(sel, (size_t)idx, 1);
        return 0;
    }
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%ld|%.*s", parent, (int)(sublen > 500 ? 500 : sublen), bar + 1);
    for (int i = (int)(strchr(buf, '|') - buf); i < n; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    for (int i = 0; i < sel->nfirstargs; i++)
        if (strcmp(sel->firstargs[i], buf) == 0)
            return 0;
    acl_strv_push(&sel->firstargs, &sel->nfirstargs, acl_strndup(buf, (size_t)n));
    return 0;
}

static int acl_command_rule(acl_selector *sel, const char *r, size_t len, const char **err)
{
    int allow = r[0] == '+';
    if (len > 1 && r[1] == '@') {
        char cat[64];
        if (len - 2 >= sizeof(cat)) {
            *err = ACL_ERR_UNKNOWN;
            return -1;
        }
        for (size_t i = 2; i < len; i++)
            cat[i - 2] = (char)tolower((unsigned char)r[i]);
        cat[len - 2] = '\0';
        if (!acl_category_known(cat)) {
            *err = ACL_ERR_UNKNOWN;
            return -1;
        }
        if (strcmp(cat, "all") == 0)
            acl_set_all_commands(sel, allow);
        else
            acl_change_category(sel, cat, allow);
        return 0;
    }
    if (allow && memchr(r + 1, '|', len - 1))
        return acl_allow_piped(sel, r + 1, len - 1, err);
    long idx = acl_cmd_index(r + 1, len - 1);
    if (idx < 0) {
        *err = ACL_ERR_UNKNOWN;
        return -1;
    }
    acl_change_perm(sel, (size_t)idx, allow);
    return 0;
}

void acl_reset_user(acl_user *u)
{
    acl_strv_free(u->hashes, u->nhashes);
    u->hashes = NULL;
    u->nhashes = 0;
    u->nopass = 0;
    acl_reset_keys(&u->root);
    acl_reset_channels(&u->root);
    u->root.allchannels = acl_pubsub_allchannels;
    acl_set_all_commands(&u->root, 0);
    acl_clear_selectors(u);
    u->enabled = 0;
    u->sanitize = SANITIZE_YES;
}

/* The rules a selector takes (the root's, or inside "(...)"); anything
 * else is a syntax error, as in Redis. */
static int acl_selector_apply(acl_selector *sel, const char *r, size_t len, const char **err)
{
    if (acl_rule_is(r, len, "allkeys")) return acl_add_key_pattern(sel, "~*", 2, err);
    else if (acl_rule_is(r, len, "resetkeys")) acl_reset_keys(sel);
    else if (acl_rule_is(r, len, "allchannels")) return acl_add_channel(sel, "&*", 2, err);
    else if (acl_rule_is(r, len, "resetchannels")) acl_reset_channels(sel);
    else if (acl_rule_is(r, len, "allcommands")) acl_set_all_commands(sel, 1);
    else if (acl_rule_is(r, len, "nocommands")) acl_set_all_commands(sel, 0);
    else if (r[0] == '~' || r[0] == '%') return acl_add_key_pattern(sel, r, len, err);
    else if (r[0] == '&') return acl_add_channel(sel, r, len, err);
    else if (r[0] == '+' || r[0] == '-') return acl_command_rule(sel, r, len, err);
    else {
        *err = ACL_ERR_SYNTAX;
        return -1;
    }
    return 0;
}

/* "(rule rule ...)": a new selector built from the rules between the
 * parentheses (split on blanks), appended after the others; a bad rule
 * inside fails the whole selector with that rule's reason. */
static int acl_add_selector(acl_user *u, const char *r, size_t len, const char **err)
{
    acl_selector *sel = mem_alloc(sizeof(*sel));
    acl_selector_init(sel);
    size_t i = 1, end = len - 1;
    while (i < end) {
        while (i < end && isspace((unsigned char)r[i]))
            i++;
        size_t w = i;
        while (i < end && !isspace((unsigned char)r[i]))
            i++;
        if (i > w && acl_selector_apply(sel, r + w, i - w, err) != 0) {
            acl_selector_clear(sel);
            mem_free(sel);
            return -1;
        }
    }
    u->selectors = mem_realloc(u->selectors, sizeof(*u->selectors) * (size_t)(u->nselectors + 1));
    u->selectors[u->nselectors++] = sel;
    return 0;
}

int acl_user_apply(acl_user *u, const char *r, size_t len, const char **err)
{
    if (len == 0) {
        *err = ACL_ERR_SYNTAX;
        return -1;
    }
    if (acl_rule_is(r, len, "on")) u->enabled = 1;
    else if (acl_rule_is(r, len, "off")) u->enabled = 0;
    else if (acl_rule_is(r, len, "skip-sanitize-payload")) u->sanitize = SANITIZE_SKIP;
    else if (acl_rule_is(r, len, "sanitize-payload")) u->sanitize = SANITIZE_YES;
    else if (acl_rule_is(r, len, "nopass")) {
        acl_strv_free(u->hashes, u->nhashes);
        u->hashes = NULL;
        u->nhashes = 0;
        u->nopass = 1;
    } else if (acl_rule_is(r, len, "resetpass")) {
        acl_strv_free(u->hashes, u->nhashes);
        u->hashes = NULL;
        u->nhashes = 0;
        u->nopass = 0;
    } else if (acl_rule_is(r, len, "reset")) acl_reset_user(u);
    else if (acl_rule_is(r, len, "clearselectors")) acl_clear_selectors(u);
    else if (r[0] == '(' && r[len - 1] == ')') return acl_add_selector(u, r, len, err);
    else if (r[0] == '>' || r[0] == '<' || r[0] == '#' || r[0] == '!') return acl_password_rule(u, r, len, err);
    else return acl_selector_apply(&u->root, r, len, err);
    return 0;
}

/* Redis' ACLMergeSelectorArguments: a word opening with "(" but not
 * closing it swallows the following words, joined by one space, up to one
 * that ends with ")". */
char **acl_merge_selector_args(int argc, const char *const *argv, const size_t *lens, int *n, int *bad)
{
    char **out = mem_alloc(sizeof(char *) * (size_t)(argc + 1));
    acl_buf sel = {0};
    int open_at = -1;
    *n = 0;
    for (int j = 0; j < argc; j++) {
        size_t l = lens ? lens[j] : strlen(argv[j]);
        if (l > 0 && argv[j][0] == '(' && argv[j][l - 1] != ')') {
            /* A second "(" before the ")" starts over, as in Redis. */
            open_at = j;
            sel.len = 0;
            acl_buf_add(&sel, argv[j], l);
            continue;
        }
        if (open_at >= 0) {
            acl_buf_add(&sel, " ", 1);
            acl_buf_add(&sel, argv[j], l);
            if (l > 0 && argv[j][l - 1] == ')') {
                out[(*n)++] = sel.p;
                sel = (acl_buf){0};
                open_at = -1;
            }
            continue;
        }
        out[(*n)++] = acl_strndup(argv[j], l);
    }
    if (open_at >= 0) {
        mem_free(sel.p);
        acl_words_free(out, *n);
        *bad = open_at;
        return NULL;
    }
    return out;
}

void acl_words_free(char **w, int n)
{
    acl_strv_free(w, n);
}

/* ---- ACL LIST's rule string ------------------------------------------ */


void acl_buf_add(acl_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = mem_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void acl_buf_str(acl_buf *b, const char *s)
{
    acl_buf_add(b, s, strlen(s));
}

/* The commands part, found as Redis 7.0 finds it: start from +@all or
 * -@all, repeatedly emit the category that best fits what remains, then
 * single commands (and first arguments) for the differences left. */
void acl_describe_commands(const acl_selector *sel, acl_buf *b)
{
    size_t n = acl_ncmds();
    int additive = !sel->future;
    acl_selector fake;
    acl_selector_init(&fake);
    uint8_t *temp = mem_alloc(n + 1);
    memcpy(temp, sel->allowed, n);
    acl_set_all_commands(&fake, !additive);
    acl_buf_str(b, additive ? "-@all " : "+@all ");
    char applied[32] = {0};
    for (;;) {
        int best = -1;
        unsigned long mindiff = (unsigned long)-1, maxsame = 0;
        for (int j = 0; acl_categories[j]; j++) {
            if (applied[j])
                continue;
            unsigned long on = 0, off = 0;
            for (size_t i = 0; i < n; i++) {
                /* Subcommands count, as in Redis' own tally. */
                if (!acl_in_category(i, acl_categories[j]))
                    continue;
                if (temp[i]) on++;
                else off++;
            }
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0)
            break;
        applied[best] = 1;
        acl_change_category(&fake, acl_categories[best], additive);
        for (size_t i = 0; i < n; i++)
            if (acl_in_category(i, acl_categories[best]))
                temp[i] = (uint8_t)!additive;
        acl_buf_str(b, additive ? "+@" : "-@");
        acl_buf_str(b, acl_categories[best]);
        acl_buf_str(b, " ");
    }
    for (size_t i = 0; i < n; i++) {
        if (sel->allowed[i] != fake.allowed[i]) {
            acl_buf_str(b, sel->allowed[i] ? "+" : "-");
            acl_buf_str(b, acl_command_table[i].fullname);
            acl_buf_str(b, " ");
            acl_change_perm(&fake, i, sel->allowed[i]);
        }
        for (int f = 0; !sel->allowed[i] && f < sel->nfirstargs; f++) {
            const char *bar = strchr(sel->firstargs[f], '|');
            if (strtol(sel->firstargs[f], NULL, 10) != (long)i)
                continue;
            acl_buf_str(b, "+");
            acl_buf_str(b, acl_command_table[i].fullname);
            acl_buf_str(b, bar);
            acl_buf_str(b, " ");
        }
    }
    b->p[--b->len] = '\0';   /* the trailing space */
    mem_free(temp);
    acl_selector_clear(&fake);
}

void acl_describe_keys(const acl_selector *sel, acl_buf *b)
{
    if (sel->allkeys) {
        acl_buf_str(b, "~* ");
        return;
    }
    for (int i = 0; i < sel->nkeys; i++) {
        int p = sel->keys[i].perm;
        acl_buf_str(b, p == (ACL_READ | ACL_WRITE) ? "~" : p == ACL_READ ? "%R~" : "%W~");
        acl_buf_str(b, sel->keys[i].glob);
        acl_buf_str(b, " ");
    }
}

static void acl_describe_channels(const acl_selector *sel, acl_buf *b)
{
    if (sel->allchannels) {
        acl_buf_str(b, "&* ");
        return;
    }
    acl_buf_str(b, "resetchannels ");
    for (int i = 0; i < sel->nchannels; i++) {
        acl_buf_str(b, "&");
        acl_buf_str(b, sel->channels[i]);
        acl_buf_str(b, " ");
    }
}

/* Redis' ACLDescribeSelector: keys, channels, commands. */
static void acl_describe_selector(const acl_selector *sel, acl_buf *b)
{
    acl_describe_keys(sel, b);
    acl_describe_channels(sel, b);
    acl_describe_commands(sel, b);
}

char *acl_user_describe(const acl_user *u)
{
    acl_buf b = {0};
    acl_buf_str(&b, u->enabled ? "on " : "off ");
    if (u->nopass)
        acl_buf_str(&b, "nopass ");
    if (u->sanitize == SANITIZE_YES)
        acl_buf_str(&b, "sanitize-payload ");
    else if (u->sanitize == SANITIZE_SKIP)
        acl_buf_str(&b, "skip-sanitize-payload ");
    for (int i = 0; i < u->nhashes; i++) {
        acl_buf_str(&b, "#");
        acl_buf_str(&b, u->hashes[i]);
        acl_buf_str(&b, " ");
    }
    acl_describe_selector(&u->root, &b);
    for (int i = 0; i < u->nselectors; i++) {
        acl_buf_str(&b, " (");
        acl_describe_selector(u->selectors[i], &b);
        acl_buf_str(&b, ")");
    }
    return b.p;
}

/* ---- ACL LOG -------------------------------------------------------- */

#define ACL_LOG_MAX 128
#define ACL_LOG_GROUP_MS 60000


acl_log_entry *acl_log;          /* newest first */

static void acl_log_entry_free(acl_log_entry *e)
{
    mem_free(e->object);
    mem_free(e->username);
    mem_free(e->cinfo);
    mem_free(e);
}

static char *acl_client_info(client *c)
{
    kstr line = client_info_line(c, kstr_empty(256));
    char *s = acl_strndup(line, kstr_len(line));
    kstr_free(line);
    return s;
}

static void acl_ll_value(void *priv, const char *name, const char *value)
{
    (void)name;
    long long v;
    if (value && util_str_to_ll(value, strlen(value), &v) && v >= 0)
        *(long long *)priv = v;
}

/* acllog-max-len: how many entries ACL LOG keeps (128 by default). */
static long long acl_log_max_len(srv *s)
{
    long long max = ACL_LOG_MAX;
    if (s)
        cfg_get(&s->config, "acllog-max-len", 14, acl_ll_value, &max);
    return max;
}

/* Records a refusal; a repeat of a recent one (same reason, context,
 * object and user within a minute) bumps its count and moves it first. */
static void acl_log_add(client *c, const char *reason, const char *object, size_t olen, const char *user)
{
    const char *context = (c->flags & CLIENT_MULTI) ? "multi" : (c->flags & CLIENT_SCRIPT) ? "lua" : "toplevel";
    int64_t now = util_ms_now();
    acl_log_entry **p = &acl_log;
    for (; *p; p = &(*p)->next) {
        acl_log_entry *e = *p;
        if (e->reason == reason && e->context == context && strlen(e->object) == olen &&
            memcmp(e->object, object, olen) == 0 && strcmp(e->username, user) == 0 &&
            now - e->ctime_ms < ACL_LOG_GROUP_MS) {
            *p = e->next;
            e->count++;
            e->ctime_ms = now;
            mem_free(e->cinfo);
            e->cinfo = acl_client_info(c);
            e->next = acl_log;
            acl_log = e;
            return;
        }
    }
    acl_log_entry *e = mem_calloc(sizeof(*e));
    e->count = 1;
    e->reason = reason;
    e->context = context;
    e->object = acl_strndup(object, olen);
    e->username = acl_strndup(user, strlen(user));
    e->ctime_ms = now;
    e->cinfo = acl_client_info(c);
    e->next = acl_log;
    acl_log = e;
    long long max = acl_log_max_len(c->srv);
    long long kept = 0;
    for (p = &acl_log; *p; kept++) {
        if (kept >= max) {
            acl_log_entry *old = *p;
            *p = old->next;
            acl_log_entry_free(old);
        } else {
            p = &(*p)->next;
        }
    }
}

void acl_log_reset(void)
{
    while (acl_log) {
        acl_log_entry *e = acl_log;
        acl_log = e->next;
        acl_log_entry_free(e);
    }
}

/* ---- authentication ------------------------------------------------- */

static int acl_password_matches(const acl_user *u, const char *pass, size_t plen)
{
    if (u->nopass)
        return 1;
    char hex[65];
    acl_sha256_hex(pass, plen, hex);
    /* Every hash is compared in full so the time does not say which matched. */
    int ok = 0;
    for (int i = 0; i < u->nhashes; i++) {
        unsigned char diff = 0;
        for (int k = 0; k < 64; k++)
            diff |= (unsigned char)(u->hashes[i][k] ^ hex[k]);
        ok |= diff == 0;
    }
    return ok;
}

int acl_authenticate(client *c, const char *user, size_t ulen, const char *pass, size_t plen)
{
    acl_user *def = acl_default_user(c->srv);
    acl_user *u = user ? acl_user_find(user, ulen) : def;
    if (u && u->enabled && acl_password_matches(u, pass, plen)) {
        /* Explicitly authenticated, also as "default" (see acl_default_closed). */
        c->user = u;
        c->flags |= CLIENT_AUTHENTICATED;
        return 1;
    }
    char name[256];
    snprintf(name, sizeof(name), "%.*s", user ? (int)(ulen > 200 ? 200 : ulen) : 7, user ? user : "default");
    /* The object is the command as the client typed it (AUTH or HELLO). */
    acl_log_add(c, "auth", c->argv[0].ptr, c->argv[0].len, name);
    return 0;
}

/* ---- permission checks ------------------------------------------------ */

/* The COMMAND INFO entry c is running: "container|sub" for a subcommand. */
static long acl_running_index(const client *c, const cmd_def *cmd, int argc, const resp_arg *argv)
{
    (void)c;
    long idx = acl_cmd_index2(cmd->name, strlen(cmd->name), NULL, 0);
    if (idx >= 0 && acl_has_subs[idx] && argc >= 2) {
        long sub = acl_cmd_index2(cmd->name, strlen(cmd->name), argv[1].ptr, argv[1].len);
        if (sub >= 0)
            return sub;
    }
    return idx;
}

static int acl_firstarg_allowed(const acl_selector *sel, long idx, const resp_arg *arg)
{
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%ld|%.*s", idx, (int)(arg->len > 500 ? 500 : arg->len), arg->ptr);
    for (int i = (int)(strchr(buf, '|') - buf); i < n; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    for (int i = 0; i < sel->nfirstargs; i++)
        if (strcmp(sel->firstargs[i], buf) == 0)
            return 1;
    return 0;
}

static int acl_key_allowed(const acl_selector *sel, const resp_arg *key, int need)
{
    if (sel->allkeys)
        return 1;
    for (int i = 0; i < sel->nkeys; i++)
        if ((sel->keys[i].perm & need) == need &&
            util_glob_match(sel->keys[i].glob, strlen(sel->keys[i].glob), key->ptr, key->len, 0))
            return 1;
    return 0;
}

/* literal: PSUBSCRIBE patterns must equal an allowed pattern, not match it. */
static int acl_channel_allowed(const acl_selector *sel, const resp_arg *ch, int literal)
{
    if (sel->allchannels)
        return 1;
    for (int i = 0; i < sel->nchannels; i++) {
        const char *g = sel->channels[i];
        if (literal ? (strlen(g) == ch->len && memcmp(g, ch->ptr, ch->len) == 0)
                    : util_glob_match(g, strlen(g), ch->ptr, ch->len, 0))
            return 1;
    }
    return 0;
}


/* Every command, key and channel: the common default user, checked per
 * command in a few nanoseconds. */
int acl_user_unrestricted(const acl_user *u)
{
    const acl_selector *r = &u->root;
    return r->future && r->allkeys && r->allchannels && memchr(r->allowed, 0, acl_ncmds()) == NULL;
}

/* The keys of the command being checked, found once for all selectors. */
typedef struct acl_keys_cache {
    int done;
    int n;
    acl_keyref *keys;
} acl_keys_cache;

/* The channels a pub/sub command names: PUBLISH its first argument, the
 * subscribe commands all of theirs, the others none. */
static int acl_channel_last(const cmd_def *cmd, int argc)
{
    if (strcmp(cmd->name, "publish") == 0 || strcmp(cmd->name, "spublish") == 0)
        return 1;
    if (strcmp(cmd->name, "subscribe") == 0 || strcmp(cmd->name, "ssubscribe") == 0 ||
        strcmp(cmd->name, "psubscribe") == 0)
        return argc - 1;
    return 0;
}

/* One selector's verdict (Redis' ACLSelectorCheckCmd): the command (or
 * its allowed first argument), then each key against the permissions its
 * key spec needs, then each channel. */
static int acl_selector_check(const acl_selector *sel, const cmd_def *cmd, long idx, int argc, const resp_arg *argv,
                              acl_keys_cache *kc, int *errpos)
{
    int allowed = idx >= 0 ? sel->allowed[idx] : sel->future;
    if (!allowed && !(cmd->flags & CMD_NO_AUTH) &&
        !(idx >= 0 && argc >= 2 && acl_firstarg_allowed(sel, idx, &argv[1]))) {
        *errpos = 0;
        return ACL_DENIED_CMD;
    }
    if (!sel->allkeys) {
        if (!kc->done) {
            kc->n = acl_keys_of(cmd, argc, argv, &kc->keys);
            kc->done = 1;
        }
        for (int i = 0; i < kc->n; i++) {
            if (!acl_key_allowed(sel, &argv[kc->keys[i].pos], kc->keys[i].need)) {
                *errpos = kc->keys[i].pos;
                return ACL_DENIED_KEY;
            }
        }
    }
    if (!sel->allchannels && (cmd->flags & CMD_PUBSUB)) {
        int literal = strcmp(cmd->name, "psubscribe") == 0, last = acl_channel_last(cmd, argc);
        for (int i = 1; i <= last && i < argc; i++) {
            if (!acl_channel_allowed(sel, &argv[i], literal)) {
                *errpos = i;
                return ACL_DENIED_CHANNEL;
            }
        }
    }
    return ACL_OK;
}

/* The refusal for u running argv, with *errpos the argument at fault. The
 * root selector or any other one may allow it; when none does, the error
 * reported is the most specific one (channel over key over command), and
 * among equals the one at the latest argument, as 7.0 picks it. */
int acl_check(const acl_user *u, const cmd_def *cmd, int argc, const resp_arg *argv, int *errpos)
{
    long idx = acl_running_index(NULL, cmd, argc, argv);
    acl_keys_cache kc = {0};
    int worst = ACL_DENIED_CMD, worst_pos = 0;
    for (int i = -1; i < u->nselectors; i++) {
        const acl_selector *sel = i < 0 ? &u->root : u->selectors[i];
        int pos = 0;
        int why = acl_selector_check(sel, cmd, idx, argc, argv, &kc, &pos);
        if (why == ACL_OK) {
            mem_free(kc.keys);
            return ACL_OK;
        }
        if (why > worst || (why == worst && pos > worst_pos)) {
            worst = why;
            worst_pos = pos;
        }
    }
    mem_free(kc.keys);
    *errpos = worst_pos;
    return worst;
}

/* A pattern "*" with read access in a selector that allows the command:
 * SORT's BY and GET patterns may then read any key (Redis'
 * ACLUserCheckCmdWithUnrestrictedKeyAccess). */
static int acl_selector_reads_all(const acl_selector *sel)
{
    if (sel->allkeys)
        return 1;
    for (int i = 0; i < sel->nkeys; i++)
        if ((sel->keys[i].perm & ACL_READ) && strcmp(sel->keys[i].glob, "*") == 0)
            return 1;
    return 0;
}

int acl_full_read_access(client *c, const cmd_def *cmd, int argc, const resp_arg *argv)
{
    /* The master's link and the AOF loader run what was already allowed;
     * a script's fake client carries its caller's user and is checked. */
    if (c->flags & CLIENT_MASTER)
        return 1;
    if ((c->flags & CLIENT_FAKE) && !(c->flags & CLIENT_SCRIPT) && !c->user)
        return 1;
    acl_user *u = c->user ? c->user : acl_default_user(c->srv);
    if (acl_user_unrestricted(u))
        return 1;
    long idx = acl_running_index(NULL, cmd, argc, argv);
    acl_keys_cache kc = {0};
    int ok = 0;
    for (int i = -1; i < u->nselectors && !ok; i++) {
        const acl_selector *sel = i < 0 ? &u->root : u->selectors[i];
        int pos = 0;
        ok = acl_selector_check(sel, cmd, idx, argc, argv, &kc, &pos) == ACL_OK && acl_selector_reads_all(sel);
    }
    mem_free(kc.keys);
    return ok;
}

/* ---- subscribers whose channels were revoked ---------------------------- */

/* Whether some selector of u allows subscribing to name (a pattern when
 * literal: PSUBSCRIBE patterns must be listed as such). */
static int acl_user_channel_allowed(const acl_user *u, const char *name, size_t len, int literal)
{
    resp_arg a = { .ptr = (char *)name, .len = len };
    for (int i = -1; i < u->nselectors; i++)
        if (acl_channel_allowed(i < 0 ? &u->root : u->selectors[i], &a, literal))
            return 1;
    return 0;
}

static int acl_subscriptions_allowed(const acl_user *u, dict *d, int literal)
{
    if (!d)
        return 1;
    dict_iter it;
    dict_iter_init(d, &it, 0);
    int ok = 1;
    for (dict_entry *e; ok && (e = dict_iter_next(&it)) != NULL;)
        ok = acl_user_channel_allowed(u, e->key, kstr_len(e->key), literal);
    dict_iter_release(&it);
    return ok;
}

/* After u's rules changed: its clients subscribed to a channel or pattern
 * u no longer allows are disconnected, as 7.0 does (the caller after its
 * reply). Nothing to do when some selector allows every channel. */
void acl_kill_revoked_subscribers(srv *s, client *caller, const acl_user *u)
{
    for (int i = -1; i < u->nselectors; i++)
        if ((i < 0 ? &u->root : u->selectors[i])->allchannels)
            return;
    int is_default = strcmp(u->name, "default") == 0;
    for (client *t = s->clients; t;) {
        client *next = t->next;
        int mine = t->user == u || (is_default && t->user == NULL);
        if (mine && pubsub_client_count(t) > 0 && !(t->flags & CLIENT_CLOSING) &&
            !(acl_subscriptions_allowed(u, t->pubsub.patterns, 1) &&
              acl_subscriptions_allowed(u, t->pubsub.channels, 0) &&
              acl_subscriptions_allowed(u, t->pubsub.shard_channels, 0))) {
            if (t == caller)
                t->flags |= CLIENT_CLOSE_AFTER_REPLY;
            else
                client_close(t);
        }
        t = next;
    }
}

static const char *acl_denied_text(int why, const char *fullname, char *buf, size_t cap)
{
    switch (why) {
    case ACL_DENIED_CMD:
        snprintf(buf, cap, "NOPERM this user has no permissions to run the '%s' command", fullname);
        return buf;
    case ACL_DENIED_KEY:
        return "NOPERM this user has no permissions to access one of the keys used as arguments";
    default:
        return "NOPERM this user has no permissions to access one of the channels used as arguments";
    }
}

const char *acl_fullname(const cmd_def *cmd, int argc, const resp_arg *argv)
{
    long idx = acl_running_index(NULL, cmd, argc, argv);
    return idx >= 0 ? acl_command_table[idx].fullname : cmd->name;
}

static void acl_log_refusal(client *c, const acl_user *u, int why, const cmd_def *cmd, int errpos);

const char *acl_command_refusal(client *c, const cmd_def *cmd)
{
    /* The common case first: a client of the default user allowed all,
     * authenticated (at connect time or by AUTH). */
    if (!c->user && acl_default_unrestricted && (c->flags & CLIENT_AUTHENTICATED) && !acl_must_auth_from_id)
        return NULL;
    /* AUTH, HELLO, QUIT, RESET run for every user, as in Redis. */
    if ((cmd->flags & CMD_NO_AUTH) || (c->flags & CLIENT_MASTER))
        return NULL;
    acl_user *u = c->user;
    if (!u) {
        /* The default user given a password by ACL SETUSER rather than
         * requirepass: the NOAUTH check before this one cannot know. */
        if (!acl_client_authenticated(c))
            return ERR_NOAUTH;
        u = acl_default_user(c->srv);
    }
    if (acl_user_unrestricted(u))
        return NULL;
    static char buf[256];
    int errpos = 0;
    int why = acl_check(u, cmd, c->argc, c->argv, &errpos);
    if (why == ACL_OK)
        return NULL;
    acl_log_refusal(c, u, why, cmd, errpos);
    return acl_denied_text(why, acl_fullname(cmd, c->argc, c->argv), buf, sizeof(buf));
}

/* Logs a refusal found by acl_check: the command's full name, or the key
 * or channel at errpos. */
static void acl_log_refusal(client *c, const acl_user *u, int why, const cmd_def *cmd, int errpos)
{
    if (why == ACL_DENIED_CMD) {
        const char *full = acl_fullname(cmd, c->argc, c->argv);
        acl_log_add(c, "command", full, strlen(full), u->name);
    } else {
        acl_log_add(c, why == ACL_DENIED_KEY ? "key" : "channel", c->argv[errpos].ptr, c->argv[errpos].len,
                    u->name);
    }
}

/* EXEC checks each queued command again: the user's rules may have changed
 * since it was queued (7.0's text; logged with the "multi" context). */
const char *acl_exec_refusal(client *c, const cmd_def *cmd)
{
    /* The common case first, as in acl_command_refusal. */
    if ((!c->user && acl_default_unrestricted) || (c->flags & CLIENT_MASTER))
        return NULL;
    acl_user *u = c->user ? c->user : acl_default_user(c->srv);
    if (acl_user_unrestricted(u))
        return NULL;
    int errpos = 0;
    int why = acl_check(u, cmd, c->argc, c->argv, &errpos);
    if (why == ACL_OK)
        return NULL;
    acl_log_refusal(c, u, why, cmd, errpos);
    switch (why) {
    case ACL_DENIED_CMD:
        return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand";
    case ACL_DENIED_KEY:
        return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to touch the specified keys";
    default:
        return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to access one of the channels used as arguments";
    }
}

/* redis.call's check (script_lua.c): the script's fake client carries the
 * caller's user; refusals are logged with the "lua" context. */
const char *acl_script_refusal(client *fake, const cmd_def *cmd, int argc, const resp_arg *argv)
{
    acl_user *u = fake->user ? fake->user : acl_default_user(fake->srv);
    if (acl_user_unrestricted(u) || (fake->flags & CLIENT_MASTER))
        return NULL;
    int errpos = 0;
    int why = acl_check(u, cmd, argc, argv, &errpos);
    if (why == ACL_OK)
        return NULL;
    if (why == ACL_DENIED_CMD) {
        const char *full = acl_fullname(cmd, argc, argv);
        acl_log_add(fake, "command", full, strlen(full), u->name);
        return "ERR The user executing the script can't run this command or subcommand";
    }
    acl_log_add(fake, why == ACL_DENIED_KEY ? "key" : "channel", argv[errpos].ptr, argv[errpos].len, u->name);
    if (why == ACL_DENIED_KEY)
        return "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments";
    return "ERR The user executing the script can't publish to the channel mentioned in the command";
}

int acl_check_allowed(client *c, const cmd_def *cmd, int argc, const resp_arg *argv)
{
    acl_user *u = c->user ? c->user : acl_default_user(c->srv);
    int errpos = 0;
    return acl_user_unrestricted(u) || acl_check(u, cmd, argc, argv, &errpos) == ACL_OK;
}

void acl_reset_all(void)
{
    while (acl_users) {
        acl_user *u = acl_users;
        acl_users = u->next;
        acl_user_free(u);
    }
    acl_log_reset();
    acl_keys_reset();
    mem_free(acl_synced_requirepass);
    acl_synced_requirepass = NULL;
    acl_loaded = 0;
    mem_free(acl_startup_error);
    acl_startup_error = NULL;
    acl_must_auth_from_id = 0;
    acl_default_unrestricted = 0;
    acl_pubsub_allchannels = 0;
}
