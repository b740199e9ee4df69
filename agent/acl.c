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

static void acl_reset_keys(acl_user *u)
{
    for (int i = 0; i < u->nkeys; i++)
        mem_free(u->keys[i].glob);
    mem_free(u->keys);
    u->keys = NULL;
    u->nkeys = 0;
    u->allkeys = 0;
}

static void acl_reset_channels(acl_user *u)
{
    acl_strv_free(u->channels, u->nchannels);
    u->channels = NULL;
    u->nchannels = 0;
    u->allchannels = 0;
}

static void acl_reset_firstargs(acl_user *u, long idx)
{
    for (int i = 0; i < u->nfirstargs;) {
        if (idx < 0 || strtol(u->firstargs[i], NULL, 10) == idx)
            acl_strv_remove(u->firstargs, &u->nfirstargs, i);
        else
            i++;
    }
}

void acl_set_all_commands(acl_user *u, int allow)
{
    memset(u->allowed, allow ? 1 : 0, acl_ncmds());
    u->future = allow;
    acl_reset_firstargs(u, -1);
}

/* +cmd / -cmd: the command and, for a container, all its subcommands. */
static void acl_change_perm(acl_user *u, size_t idx, int allow)
{
    u->allowed[idx] = (uint8_t)allow;
    acl_reset_firstargs(u, (long)idx);
    if (acl_is_sub(idx))
        return;
    for (size_t i = 0; i < acl_ncmds(); i++)
        if (acl_sub_of(i, idx))
            u->allowed[i] = (uint8_t)allow;
}

static void acl_change_category(acl_user *u, const char *cat, int allow)
{
    for (size_t i = 0; i < acl_ncmds(); i++)
        if (acl_in_category(i, cat))
            acl_change_perm(u, i, allow);
}

acl_user *acl_user_new_detached(const char *name)
{
    acl_user *u = mem_calloc(sizeof(*u));
    u->name = acl_strndup(name, strlen(name));
    u->allowed = mem_calloc(acl_ncmds() + 1);
    u->allchannels = acl_pubsub_allchannels;
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
    mem_free(u->allowed);
    acl_strv_free(u->firstargs, u->nfirstargs);
    acl_reset_keys(u);
    acl_reset_channels(u);
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
int acl_user_unrestricted(const acl_user *u);

void acl_rules_changed(void)
{
    acl_user *d = acl_user_find("default", 7);
    acl_default_unrestricted = d && acl_user_unrestricted(d);
}

acl_user *acl_default_user(srv *s)
{
    if (!acl_loaded && s) {
        acl_loaded = 1;
        acl_read_pubsub_default(s);
        acl_load_configured(s);
        acl_rules_changed();
    }
    acl_user *u = acl_user_find("default", 7);
    if (!u) {
        u = acl_user_new_detached("default");
        u->enabled = 1;
        u->allkeys = 1;
        u->allchannels = 1;
        acl_set_all_commands(u, 1);
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
static uint64_t acl_must_auth_from_id;

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
    if (c->user)
        return 1;
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

static int acl_add_key_pattern(acl_user *u, const char *r, size_t len, const char **err)
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
    if (u->allkeys) {
        *err = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
        return -1;
    }
    const char *g = r + off;
    size_t gl = len - off;
    if (gl == 1 && g[0] == '*' && perm == (ACL_READ | ACL_WRITE)) {
        acl_reset_keys(u);
        u->allkeys = 1;
        return 0;
    }
    /* The same pattern again widens its permissions instead of repeating it. */
    for (int i = 0; i < u->nkeys; i++) {
        if (strlen(u->keys[i].glob) == gl && memcmp(u->keys[i].glob, g, gl) == 0) {
            u->keys[i].perm |= perm;
            return 0;
        }
    }
    u->keys = mem_realloc(u->keys, sizeof(acl_pattern) * (size_t)(u->nkeys + 1));
    u->keys[u->nkeys].perm = perm;
    u->keys[u->nkeys].glob = acl_strndup(g, gl);
    u->nkeys++;
    return 0;
}

static int acl_add_channel(acl_user *u, const char *r, size_t len, const char **err)
{
    if (u->allchannels) {
        *err = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
        return -1;
    }
    if (len == 2 && r[1] == '*') {
        acl_reset_channels(u);
        u->allchannels = 1;
        return 0;
    }
    for (int i = 0; i < u->nchannels; i++)
        if (strlen(u->channels[i]) == len - 1 && memcmp(u->channels[i], r + 1, len - 1) == 0)
            return 0;
    acl_strv_push(&u->channels, &u->nchannels, acl_strndup(r + 1, len - 1));
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
static int acl_allow_piped(acl_user *u, const char *name, size_t len, const char **err)
{
    const char *bar = memchr(name, '|', len);
    long parent = acl_cmd_index(name, (size_t)(bar - name));
    if (parent < 0) {
        *err = ACL_ERR_UNKNOWN;
        return -1;
    }
    if (acl_is_sub((size_t)parent) || memchr(bar + 1, '|', len - (size_t)(bar + 1 - name))) {
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
        acl_change_perm(u, (size_t)idx, 1);
        return 0;
    }
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%ld|%.*s", parent, (int)(sublen > 500 ? 500 : sublen), bar + 1);
    for (int i = (int)(strchr(buf, '|') - buf); i < n; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    for (int i = 0; i < u->nfirstargs; i++)
        if (strcmp(u->firstargs[i], buf) == 0)
            return 0;
    acl_strv_push(&u->firstargs, &u->nfirstargs, acl_strndup(buf, (size_t)n));
    return 0;
}

static int acl_command_rule(acl_user *u, const char *r, size_t len, const char **err)
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
            acl_set_all_commands(u, allow);
        else
            acl_change_category(u, cat, allow);
        return 0;
    }
    if (allow && memchr(r + 1, '|', len - 1))
        return acl_allow_piped(u, r + 1, len - 1, err);
    long idx = acl_cmd_index(r + 1, len - 1);
    if (idx < 0) {
        *err = ACL_ERR_UNKNOWN;
        return -1;
    }
    acl_change_perm(u, (size_t)idx, allow);
    return 0;
}

void acl_reset_user(acl_user *u)
{
    acl_strv_free(u->hashes, u->nhashes);
    u->hashes = NULL;
    u->nhashes = 0;
    u->nopass = 0;
    acl_reset_keys(u);
    acl_reset_channels(u);
    u->allchannels = acl_pubsub_allchannels;
    acl_set_all_commands(u, 0);
    u->enabled = 0;
    u->sanitize = SANITIZE_YES;
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
    } else if (acl_rule_is(r, len, "allkeys")) return acl_add_key_pattern(u, "~*", 2, err);
    else if (acl_rule_is(r, len, "resetkeys")) acl_reset_keys(u);
    else if (acl_rule_is(r, len, "allchannels")) return acl_add_channel(u, "&*", 2, err);
    else if (acl_rule_is(r, len, "resetchannels")) acl_reset_channels(u);
    else if (acl_rule_is(r, len, "allcommands")) acl_set_all_commands(u, 1);
    else if (acl_rule_is(r, len, "nocommands")) acl_set_all_commands(u, 0);
    else if (acl_rule_is(r, len, "reset")) acl_reset_user(u);
    else if (r[0] == '>' || r[0] == '<' || r[0] == '#' || r[0] == '!') return acl_password_rule(u, r, len, err);
    else if (r[0] == '~' || r[0] == '%') return acl_add_key_pattern(u, r, len, err);
    else if (r[0] == '&') return acl_add_channel(u, r, len, err);
    else if (r[0] == '+' || r[0] == '-') return acl_command_rule(u, r, len, err);
    else {
        *err = ACL_ERR_SYNTAX;
        return -1;
    }
    return 0;
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
void acl_describe_commands(const acl_user *u, acl_buf *b)
{
    size_t n = acl_ncmds();
    int additive = !u->future;
    acl_user *fake = acl_user_new_detached("fake");
    uint8_t *temp = mem_alloc(n + 1);
    memcpy(temp, u->allowed, n);
    acl_set_all_commands(fake, !additive);
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
        acl_change_category(fake, acl_categories[best], additive);
        for (size_t i = 0; i < n; i++)
            if (acl_in_category(i, acl_categories[best]))
                temp[i] = (uint8_t)!additive;
        acl_buf_str(b, additive ? "+@" : "-@");
        acl_buf_str(b, acl_categories[best]);
        acl_buf_str(b, " ");
    }
    for (size_t i = 0; i < n; i++) {
        if (u->allowed[i] != fake->allowed[i]) {
            acl_buf_str(b, u->allowed[i] ? "+" : "-");
            acl_buf_str(b, acl_command_table[i].fullname);
            acl_buf_str(b, " ");
            acl_change_perm(fake, i, u->allowed[i]);
        }
        for (int f = 0; !u->allowed[i] && f < u->nfirstargs; f++) {
            const char *bar = strchr(u->firstargs[f], '|');
            if (strtol(u->firstargs[f], NULL, 10) != (long)i)
                continue;
            acl_buf_str(b, "+");
            acl_buf_str(b, acl_command_table[i].fullname);
            acl_buf_str(b, bar);
            acl_buf_str(b, " ");
        }
    }
    b->p[--b->len] = '\0';   /* the trailing space */
    mem_free(temp);
    acl_user_free(fake);
}

void acl_describe_keys(const acl_user *u, acl_buf *b)
{
    if (u->allkeys) {
        acl_buf_str(b, "~* ");
        return;
    }
    for (int i = 0; i < u->nkeys; i++) {
        int p = u->keys[i].perm;
        acl_buf_str(b, p == (ACL_READ | ACL_WRITE) ? "~" : p == ACL_READ ? "%R~" : "%W~");
        acl_buf_str(b, u->keys[i].glob);
        acl_buf_str(b, " ");
    }
}

static void acl_describe_channels(const acl_user *u, acl_buf *b)
{
    if (u->allchannels) {
        acl_buf_str(b, "&* ");
        return;
    }
    acl_buf_str(b, "resetchannels ");
    for (int i = 0; i < u->nchannels; i++) {
        acl_buf_str(b, "&");
        acl_buf_str(b, u->channels[i]);
        acl_buf_str(b, " ");
    }
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
    acl_describe_keys(u, &b);
    acl_describe_channels(u, &b);
    acl_describe_commands(u, &b);
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
    int kept = 0;
    for (p = &acl_log; *p; kept++) {
        if (kept >= ACL_LOG_MAX) {
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

static int acl_firstarg_allowed(const acl_user *u, long idx, const resp_arg *arg)
{
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%ld|%.*s", idx, (int)(arg->len > 500 ? 500 : arg->len), arg->ptr);
    for (int i = (int)(strchr(buf, '|') - buf); i < n; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    for (int i = 0; i < u->nfirstargs; i++)
        if (strcmp(u->firstargs[i], buf) == 0)
            return 1;
    return 0;
}

static int acl_key_allowed(const acl_user *u, const resp_arg *key, int need)
{
    if (u->allkeys)
        return 1;
    for (int i = 0; i < u->nkeys; i++)
        if ((u->keys[i].perm & need) == need &&
            util_glob_match(u->keys[i].glob, strlen(u->keys[i].glob), key->ptr, key->len, 0))
            return 1;
    return 0;
}

/* literal: PSUBSCRIBE patterns must equal an allowed pattern, not match it. */
static int acl_channel_allowed(const acl_user *u, const resp_arg *ch, int literal)
{
    if (u->allchannels)
        return 1;
    for (int i = 0; i < u->nchannels; i++) {
        const char *g = u->channels[i];
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
    return u->future && u->allkeys && u->allchannels && memchr(u->allowed, 0, acl_ncmds()) == NULL;
}

/* The refusal for u running argv, with *errpos the argument at fault. */
int acl_check(const acl_user *u, const cmd_def *cmd, int argc, const resp_arg *argv, int *errpos)
{
    long idx = acl_running_index(NULL, cmd, argc, argv);
    int allowed = idx >= 0 ? u->allowed[idx] : u->future;
    if (!allowed && !(idx >= 0 && argc >= 2 && acl_firstarg_allowed(u, idx, &argv[1]))) {
        *errpos = 0;
        return ACL_DENIED_CMD;
    }
    if (!u->allkeys && cmd->first_key > 0) {
        int small[16];
        int *pos = argc < 16 ? small : mem_alloc(sizeof(int) * (size_t)(argc + 1));
        const char *err = NULL;
        int n = cmd_getkeys(argc, argv, pos, &err);
        /* Only what the key specs say is needed: a writing command needs
         * write access, a reading one read access. */
        int need = (cmd->flags & CMD_WRITE) ? ACL_WRITE : (cmd->flags & CMD_READONLY) ? ACL_READ : 0;
        for (int i = 0; i < n; i++) {
            if (!acl_key_allowed(u, &argv[pos[i]], need)) {
                *errpos = pos[i];
                if (pos != small)
                    mem_free(pos);
                return ACL_DENIED_KEY;
            }
        }
        if (pos != small)
            mem_free(pos);
    }
    if (!u->allchannels && (cmd->flags & CMD_PUBSUB)) {
        int literal = strcmp(cmd->name, "psubscribe") == 0;
        int first = 1, last = argc - 1;
        if (strcmp(cmd->name, "publish") == 0 || strcmp(cmd->name, "spublish") == 0)
            last = 1;
        else if (strcmp(cmd->name, "subscribe") != 0 && strcmp(cmd->name, "ssubscribe") != 0 && !literal)
            last = 0;
        for (int i = first; i <= last && i < argc; i++) {
            if (!acl_channel_allowed(u, &argv[i], literal)) {
                *errpos = i;
                return ACL_DENIED_CHANNEL;
            }
        }
    }
    return ACL_OK;
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
    const char *full = acl_fullname(cmd, c->argc, c->argv);
    if (why == ACL_DENIED_CMD)
        acl_log_add(c, "command", full, strlen(full), u->name);
    else
        acl_log_add(c, why == ACL_DENIED_KEY ? "key" : "channel", c->argv[errpos].ptr, c->argv[errpos].len,
                    u->name);
    return acl_denied_text(why, full, buf, sizeof(buf));
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
    mem_free(acl_synced_requirepass);
    acl_synced_requirepass = NULL;
    acl_loaded = 0;
    acl_must_auth_from_id = 0;
    acl_default_unrestricted = 0;
    acl_pubsub_allchannels = 0;
}
