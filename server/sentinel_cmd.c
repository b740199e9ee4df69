/* sentinel_cmd.c - the Sentinel port's command layer: argv in, RESP2 reply
 * bytes out (see sentinel_cmd.h).
 *
 * Dispatch follows Redis 7.0's processCommand order, because clients and
 * people see its error texts: look the command (and a container's
 * subcommand) up case-insensitively, else "unknown command" / "unknown
 * subcommand"; then the arity; then, in subscribed mode, refuse anything but
 * (P)(UN)SUBSCRIBE, PING and QUIT; only then run it. Every reply shape was
 * checked against Debian's redis-sentinel 7.0.15 (README, "Sentinel-compatible
 * port"). */
#include "sentinel_cmd.h"

#include "strconv.h"
#include "strmatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* The Redis version we answer as: the one whose replies we reproduce. */
#define SENTINEL_REDIS_VERSION "7.0.15"
#define SENTINEL_ERR_MAX 1024

/* ------------------------------------------------------------------------
 * Reply buffer
 * ------------------------------------------------------------------------ */

void sentinel_out_free(struct sentinel_out *o)
{
    free(o->buf);
    memset(o, 0, sizeof(*o));
}

static int out_reserve(struct sentinel_out *o, size_t n)
{
    if (o->failed)
        return -1;
    if (o->cap - o->len >= n)
        return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < n) {
        if (cap > SIZE_MAX / 2) {
            o->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *b = realloc(o->buf, cap);
    if (b == NULL) {
        o->failed = 1;
        return -1;
    }
    o->buf = b;
    o->cap = cap;
    return 0;
}

static void out_raw(struct sentinel_out *o, const char *p, size_t n)
{
    if (n == 0 || out_reserve(o, n) != 0)
        return;
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

void sentinel_out_append(struct sentinel_out *o, const char *p, size_t n)
{
    out_raw(o, p, n);
}

static void out_cstr(struct sentinel_out *o, const char *s)
{
    out_raw(o, s, strlen(s));
}

static void out_hdr(struct sentinel_out *o, char prefix, long long n)
{
    char h[RESP_LEN_HEADER_MAX];
    out_raw(o, h, resp_len_header(h, prefix, n));
}

static void out_bulk(struct sentinel_out *o, const char *p, size_t n)
{
    out_hdr(o, '$', (long long)n);
    out_raw(o, p, n);
    out_raw(o, "\r\n", 2);
}

static void out_cbulk(struct sentinel_out *o, const char *s)
{
    out_bulk(o, s, strlen(s));
}

/* Sentinel sends its numbers as bulk strings (addReplyBulkLongLong). */
static void out_bulk_ll(struct sentinel_out *o, long long v)
{
    char d[24];
    out_bulk(o, d, (size_t)strconv_ll_to_str(d, sizeof(d), v));
}

static void out_int(struct sentinel_out *o, long long v)
{
    out_hdr(o, ':', v);
}

static void out_status(struct sentinel_out *o, const char *s)
{
    out_raw(o, "+", 1);
    out_cstr(o, s);
    out_raw(o, "\r\n", 2);
}

/* "-<text>\r\n". Like Redis' addReplyErrorFormat, CR and LF inside the text
 * become spaces, so an argument quoted in an error cannot end the line; a
 * text without an error code gets "ERR ". */
static void out_error(struct sentinel_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out_error(struct sentinel_out *o, const char *fmt, ...)
{
    char text[SENTINEL_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\r' || text[i] == '\n')
            text[i] = ' ';
    out_raw(o, text[0] == '-' ? "" : "-ERR ", text[0] == '-' ? 0 : 5);
    out_raw(o, text, len);
    out_raw(o, "\r\n", 2);
}

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

void sentinel_session_init(struct sentinel_session *s, uint64_t id)
{
    memset(s, 0, sizeof(*s));
    s->id = id;
}

static void subs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sentinel_session_free(struct sentinel_session *s)
{
    free(s->name);
    subs_free(s->channels, s->nchannels);
    subs_free(s->patterns, s->npatterns);
    memset(s, 0, sizeof(*s));
}

int sentinel_session_subscribed(const struct sentinel_session *s)
{
    return s->nchannels + s->npatterns > 0;
}

/* ------------------------------------------------------------------------
 * Small helpers over arguments (ptr, len: not NUL-terminated)
 * ------------------------------------------------------------------------ */

static int arg_is(const resp_arg *a, const char *s)
{
    return strlen(s) == a->len && strncasecmp(a->ptr, s, a->len) == 0;
}

/* How many bytes of a Redis prints with %s: it stops at a NUL. */
static int arg_cstr_len(const resp_arg *a)
{
    const char *nul = memchr(a->ptr, '\0', a->len);
    size_t n = nul ? (size_t)(nul - a->ptr) : a->len;
    return n > 4096 ? 4096 : (int)n;   /* error texts cut it much shorter */
}

static int arg_ll(const resp_arg *a, long long *v)
{
    return strconv_str_to_ll(a->ptr, a->len, v);
}

/* Copies a into buf (size len) as a C string; -1 when it does not fit or
 * holds a NUL (no cluster name can). */
static int arg_copy(const resp_arg *a, char *buf, size_t len)
{
    if (a->len >= len || memchr(a->ptr, '\0', a->len) != NULL)
        return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    return 0;
}

int sentinel_addr_name(char *buf, size_t len, const char *ip, int port)
{
    return snprintf(buf, len, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
}

/* ------------------------------------------------------------------------
 * Dispatch table
 * ------------------------------------------------------------------------ */

struct call {
    const struct sentinel_ctx *ctx;
    struct sentinel_session *s;
    int argc;
    const resp_arg *argv;
    struct sentinel_out *out;
};

typedef void cmd_fn(struct call *k);

#define CMD_PUBSUB_OK 1    /* allowed in subscribed mode */

struct cmd_def {
    const char *name;          /* lowercase, as Redis names it */
    const char *fullname;      /* "sentinel|masters" in errors */
    int arity;                 /* Redis' convention: n exact, -n at least n */
    unsigned flags;
    cmd_fn *fn;
    const struct cmd_def *subs;  /* a container's subcommands, NULL-name ended */
};

static const struct cmd_def *cmd_find(const struct cmd_def *table, const resp_arg *a)
{
    for (const struct cmd_def *d = table; d->name != NULL; d++)
        if (arg_is(a, d->name))
            return d;
    return NULL;
}

/* An array of status lines, as Redis' addReplyHelp: a title, the lines,
 * then HELP's own entry. */
static void reply_help(struct call *k, const char *title, const char *const *lines)
{
    size_t n = 0;
    while (lines[n] != NULL)
        n++;
    out_hdr(k->out, '*', (long long)n + 3);
    out_status(k->out, title);
    for (size_t i = 0; i < n; i++)
        out_status(k->out, lines[i]);
    out_status(k->out, "HELP");
    out_status(k->out, "    Prints this help.");
}

/* ------------------------------------------------------------------------
 * Masters from the provider
 * ------------------------------------------------------------------------ */

/* Every master (name NULL) or the one called name, in a malloc'd array the
 * caller frees; *n receives the count. NULL with *n = 0 when there is none
 * or, with out->failed set, when memory ran out. */
static struct sentinel_master *masters_get(struct call *k, const char *name, size_t *n)
{
    const struct sentinel_provider *p = k->ctx->provider;
    *n = 0;
    if (p == NULL || p->masters == NULL)
        return NULL;
    size_t want = p->masters(p->arg, name, NULL, 0);
    if (want == 0)
        return NULL;
    if (want > SENTINEL_MAX_MASTERS)
        want = SENTINEL_MAX_MASTERS;
    struct sentinel_master *m = malloc(want * sizeof(*m));
    if (m == NULL) {
        k->out->failed = 1;
        return NULL;
    }
    size_t got = p->masters(p->arg, name, m, want);
    *n = got < want ? got : want;   /* the fleet may have changed in between */
    if (*n == 0) {
        free(m);
        return NULL;
    }
    return m;
}

/* The master named by argument a, or NULL (not found, or out of memory). */
static struct sentinel_master *master_by_arg(struct call *k, const resp_arg *a)
{
    char name[SENTINEL_NAME_MAX + 1];
    size_t n;
    if (arg_copy(a, name, sizeof(name)) != 0)
        return NULL;
    struct sentinel_master *m = masters_get(k, name, &n);
    if (m != NULL && strcmp(m->name, name) != 0) {   /* a provider ignoring the filter */
        free(m);
        return NULL;
    }
    return m;
}

/* Like master_by_arg, replying Redis' error when there is no such master. */
static struct sentinel_master *master_or_reply(struct call *k, const resp_arg *a)
{
    struct sentinel_master *m = master_by_arg(k, a);
    if (m == NULL && !k->out->failed)
        out_error(k->out, "No such master with that name");
    return m;
}

/* ------------------------------------------------------------------------
 * SENTINEL MASTER / REPLICAS entries: Redis' field names, in its order
 * ------------------------------------------------------------------------ */

static void field_str(struct sentinel_out *o, const char *k, const char *v)
{
    out_cbulk(o, k);
    out_cbulk(o, v);
}

static void field_ll(struct sentinel_out *o, const char *k, long long v)
{
    out_cbulk(o, k);
    out_bulk_ll(o, v);
}

/* "s_down,o_down,master": Redis lists the flags in this order. */
static void flags_text(char *buf, size_t len, unsigned flags, int is_master)
{
    static const struct { unsigned bit; const char *name; } before[] = {
        { SENTINEL_F_S_DOWN, "s_down," }, { SENTINEL_F_O_DOWN, "o_down," } };
    static const struct { unsigned bit; const char *name; } after[] = {
        { SENTINEL_F_DISCONNECTED, "disconnected," },
        { SENTINEL_F_FAILOVER, "failover_in_progress," },
        { SENTINEL_F_PROMOTED, "promoted," } };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
        if (flags & before[i].bit)
            strncat(buf, before[i].name, len - strlen(buf) - 1);
    strncat(buf, is_master ? "master," : "slave,", len - strlen(buf) - 1);
    for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++)
        if (flags & after[i].bit)
            strncat(buf, after[i].name, len - strlen(buf) - 1);
    buf[strlen(buf) - 1] = '\0';    /* the last ',' */
}

/* Optional fields of an instance: failover-state, s-down-time, o-down-time. */
static int instance_extra_pairs(const struct sentinel_instance *in)
{
    return !!(in->flags & SENTINEL_F_FAILOVER) + !!(in->flags & SENTINEL_F_S_DOWN) +
           !!(in->flags & SENTINEL_F_O_DOWN);
}

/* The fields every instance has, from name to role-reported-time. */
static void instance_fields(struct sentinel_out *o, const char *name,
                            const struct sentinel_instance *in, int is_master,
                            const char *failover_state, int64_t down_after_ms)
{
    char flags[160];
    /* A ping is outstanding while the node does not answer: Sentinel shows
     * how long ago the unanswered one left, about the last good reply. */
    int64_t ping_pending = in->flags & (SENTINEL_F_S_DOWN | SENTINEL_F_DISCONNECTED)
                               ? in->last_ok_ping_ms : 0;

    flags_text(flags, sizeof(flags), in->flags, is_master);
    field_str(o, "name", name);
    field_str(o, "ip", in->host);
    field_ll(o, "port", in->port);
    field_str(o, "runid", in->run_id);
    field_str(o, "flags", flags);
    field_ll(o, "link-pending-commands", 0);
    field_ll(o, "link-refcount", 1);
    if (in->flags & SENTINEL_F_FAILOVER)
        field_str(o, "failover-state", failover_state ? failover_state : "none");
    field_ll(o, "last-ping-sent", ping_pending);
    field_ll(o, "last-ok-ping-reply", in->last_ok_ping_ms);
    field_ll(o, "last-ping-reply", in->last_ok_ping_ms);
    if (in->flags & SENTINEL_F_S_DOWN)
        field_ll(o, "s-down-time", in->down_ms);
    if (in->flags & SENTINEL_F_O_DOWN)
        field_ll(o, "o-down-time", in->down_ms);
    field_ll(o, "down-after-milliseconds", down_after_ms);
    field_ll(o, "info-refresh", in->last_ok_ping_ms);
    field_str(o, "role-reported", in->role_reported == SENTINEL_ROLE_MASTER ? "master" : "slave");
    field_ll(o, "role-reported-time", in->role_reported_ms);
}

#define MASTER_PAIRS 20
#define REPLICA_PAIRS 21

static void reply_master(struct sentinel_out *o, const struct sentinel_master *m)
{
    out_hdr(o, '*', 2 * (MASTER_PAIRS + instance_extra_pairs(&m->in)));
    instance_fields(o, m->name, &m->in, 1, m->failover_state, m->down_after_ms);
    field_ll(o, "config-epoch", m->config_epoch);
    field_ll(o, "num-slaves", (long long)m->nreplicas);
    field_ll(o, "num-other-sentinels", 0);
    field_ll(o, "quorum", m->quorum);
    field_ll(o, "failover-timeout", m->failover_timeout_ms);
    field_ll(o, "parallel-syncs", 1);
}

static void reply_replica(struct sentinel_out *o, const struct sentinel_master *m,
                          const struct sentinel_replica *r)
{
    char name[SENTINEL_HOST_MAX + 16];
    sentinel_addr_name(name, sizeof(name), r->in.host, r->in.port);
    out_hdr(o, '*', 2 * (REPLICA_PAIRS + instance_extra_pairs(&r->in)));
    instance_fields(o, name, &r->in, 0, NULL, m->down_after_ms);
    field_ll(o, "master-link-down-time", r->link_ok ? 0 : r->link_down_ms);
    field_str(o, "master-link-status", r->link_ok ? "ok" : "err");
    field_str(o, "master-host", r->master_host[0] ? r->master_host : "?");
    field_ll(o, "master-port", r->master_port);
    field_ll(o, "slave-priority", r->priority);
    field_ll(o, "slave-repl-offset", r->repl_offset);
    field_ll(o, "replica-announced", 1);
}

/* ------------------------------------------------------------------------
 * SENTINEL subcommands
 * ------------------------------------------------------------------------ */

static void sen_masters(struct call *k)
{
    size_t n;
    struct sentinel_master *m = masters_get(k, NULL, &n);
    if (k->out->failed)
        return;
    out_hdr(k->out, '*', (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_master(k->out, &m[i]);
    free(m);
}

static void sen_master(struct call *k)
{
    struct sentinel_master *m = master_or_reply(k, &k->argv[2]);
    if (m != NULL)
        reply_master(k->out, m);
    free(m);
}

static void sen_replicas(struct call *k)
{
    struct sentinel_master *m = master_or_reply(k, &k->argv[2]);
    if (m == NULL)
        return;
    size_t n = m->nreplicas < SENTINEL_MAX_REPLICAS ? m->nreplicas : SENTINEL_MAX_REPLICAS;
    out_hdr(k->out, '*', (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_replica(k->out, m, &m->replicas[i]);
    free(m);
}

/* No other Sentinel exists: an empty list for a known master. */
static void sen_sentinels(struct call *k)
{
    struct sentinel_master *m = master_or_reply(k, &k->argv[2]);
    if (m != NULL)
        out_hdr(k->out, '*', 0);
    free(m);
}

/* What clients call to find their master: nil (a null array) when unknown. */
static void sen_get_master_addr(struct call *k)
{
    struct sentinel_master *m = master_by_arg(k, &k->argv[2]);
    if (m == NULL) {
        if (!k->out->failed)
            out_raw(k->out, "*-1\r\n", 5);
        return;
    }
    out_hdr(k->out, '*', 2);
    out_cbulk(k->out, m->in.host);
    out_bulk_ll(k->out, m->in.port);
    free(m);
}

/* One usable Sentinel (us), one voter: the majority is always reached, the
 * quorum only when it is 1. */
static void sen_ckquorum(struct call *k)
{
    struct sentinel_master *m = master_or_reply(k, &k->argv[2]);
    if (m == NULL)
        return;
    if (m->quorum <= 1)
        out_status(k->out, "OK 1 usable Sentinels. Quorum and failover authorization can be reached");
    else
        out_error(k->out, "-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to "
                          "reach the specified quorum for this master");
    free(m);
}

static void sen_myid(struct call *k)
{
    out_cbulk(k->out, k->ctx->myid);
}

/* Another Sentinel asking whether we see the master at ip:port down. We
 * answer the question but never vote (leader "*", epoch 0): kvfleetd takes
 * no part in Sentinel elections. */
static void sen_is_master_down(struct call *k)
{
    long long port, epoch;
    if (!arg_ll(&k->argv[3], &port) || !arg_ll(&k->argv[4], &epoch)) {
        out_error(k->out, "value is not an integer or out of range");
        return;
    }
    size_t n;
    int down = 0;
    struct sentinel_master *m = masters_get(k, NULL, &n);
    if (k->out->failed)
        return;
    for (size_t i = 0; i < n; i++) {
        if (m[i].in.port == port && arg_is(&k->argv[2], m[i].in.host))
            down = (m[i].in.flags & SENTINEL_F_S_DOWN) != 0;
    }
    free(m);
    out_hdr(k->out, '*', 3);
    out_int(k->out, down);
    out_cbulk(k->out, "*");
    out_int(k->out, 0);
}

static void sen_help(struct call *k)
{
    static const char *const lines[] = {
        "CKQUORUM <master-name>",
        "    Check if the current Sentinel configuration is able to reach the quorum",
        "    needed to failover a master and the majority needed to authorize the",
        "    failover.",
        "GET-MASTER-ADDR-BY-NAME <master-name>",
        "    Return the ip and port number of the master with that name.",
        "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
        "    Check if the master specified by ip:port is down from current Sentinel's",
        "    point of view.",
        "MASTER <master-name>",
        "    Show the state and info of the specified master.",
        "MASTERS",
        "    Show a list of monitored masters and their state.",
        "MYID",
        "    Return the ID of the Sentinel instance.",
        "REPLICAS <master-name>",
        "    Show a list of replicas for this master and their state.",
        "SENTINELS <master-name>",
        "    Show a list of Sentinel instances for this master and their state.",
        NULL,
    };
    reply_help(k, "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines);
}

/* Redis Sentinel subcommands that change or drive the topology: kvfleetd's
 * own API does that, so say so rather than pretend the command is unknown. */
static void sen_unsupported(struct call *k)
{
    out_error(k->out, "SENTINEL %.*s is not supported by kvfleetd: the controller manages the "
                      "topology (use its REST API)",
              arg_cstr_len(&k->argv[1]) > 64 ? 64 : arg_cstr_len(&k->argv[1]), k->argv[1].ptr);
}

static const struct cmd_def sentinel_subs[] = {
    { "masters", "sentinel|masters", 2, 0, sen_masters, NULL },
    { "master", "sentinel|master", 3, 0, sen_master, NULL },
    { "replicas", "sentinel|replicas", 3, 0, sen_replicas, NULL },
    { "slaves", "sentinel|slaves", 3, 0, sen_replicas, NULL },
    { "sentinels", "sentinel|sentinels", 3, 0, sen_sentinels, NULL },
    { "get-master-addr-by-name", "sentinel|get-master-addr-by-name", 3, 0, sen_get_master_addr, NULL },
    { "ckquorum", "sentinel|ckquorum", 3, 0, sen_ckquorum, NULL },
    { "myid", "sentinel|myid", 2, 0, sen_myid, NULL },
    { "is-master-down-by-addr", "sentinel|is-master-down-by-addr", 6, 0, sen_is_master_down, NULL },
    { "help", "sentinel|help", 2, 0, sen_help, NULL },
    { "reset", "sentinel|reset", 3, 0, sen_unsupported, NULL },
    { "failover", "sentinel|failover", 3, 0, sen_unsupported, NULL },
    { "monitor", "sentinel|monitor", 6, 0, sen_unsupported, NULL },
    { "remove", "sentinel|remove", 3, 0, sen_unsupported, NULL },
    { "set", "sentinel|set", -5, 0, sen_unsupported, NULL },
    { "config", "sentinel|config", -3, 0, sen_unsupported, NULL },
    { "flushconfig", "sentinel|flushconfig", 2, 0, sen_unsupported, NULL },
    { "simulate-failure", "sentinel|simulate-failure", -3, 0, sen_unsupported, NULL },
    { "pending-scripts", "sentinel|pending-scripts", 2, 0, sen_unsupported, NULL },
    { "info-cache", "sentinel|info-cache", -3, 0, sen_unsupported, NULL },
    { "debug", "sentinel|debug", -2, 0, sen_unsupported, NULL },
    { NULL, NULL, 0, 0, NULL, NULL },
};

/* ------------------------------------------------------------------------
 * INFO and ROLE
 * ------------------------------------------------------------------------ */

enum { INFO_SERVER = 1, INFO_CLIENTS = 2, INFO_SENTINEL = 4, INFO_ALL = 7 };

/* Sections asked for: none, "all", "everything" or "default" mean all of
 * ours; unknown names are ignored (Redis' cpu and stats sections are not
 * kept here), so "INFO foo" is an empty string, as in Redis. */
static int info_sections(const struct call *k)
{
    int want = 0;
    if (k->argc == 1)
        return INFO_ALL;
    for (int i = 1; i < k->argc; i++) {
        const resp_arg *a = &k->argv[i];
        if (arg_is(a, "all") || arg_is(a, "everything") || arg_is(a, "default"))
            want |= INFO_ALL;
        else if (arg_is(a, "server"))
            want |= INFO_SERVER;
        else if (arg_is(a, "clients"))
            want |= INFO_CLIENTS;
        else if (arg_is(a, "sentinel"))
            want |= INFO_SENTINEL;
    }
    return want;
}

static void info_line(struct sentinel_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void info_line(struct sentinel_out *o, const char *fmt, ...)
{
    char line[SENTINEL_HOST_MAX + SENTINEL_NAME_MAX + 160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        out_raw(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    out_raw(o, "\r\n", 2);
}

static void info_server(const struct sentinel_ctx *c, struct sentinel_out *o)
{
    info_line(o, "# Server");
    info_line(o, "redis_version:%s", SENTINEL_REDIS_VERSION);
    info_line(o, "redis_git_sha1:00000000");
    info_line(o, "redis_git_dirty:0");
    info_line(o, "redis_mode:sentinel");
    info_line(o, "os:%s", c->os ? c->os : "");
    info_line(o, "arch_bits:%d", (int)(sizeof(void *) * 8));
    info_line(o, "multiplexing_api:epoll");
    info_line(o, "process_id:%ld", c->pid);
    info_line(o, "run_id:%s", c->run_id);
    info_line(o, "tcp_port:%d", c->port);
    info_line(o, "server_time_usec:%lld", (long long)c->now_us);
    info_line(o, "uptime_in_seconds:%lld", (long long)c->uptime_s);
    info_line(o, "uptime_in_days:%lld", (long long)(c->uptime_s / 86400));
    info_line(o, "kvfleetd_version:%s", c->version ? c->version : "");
}

static void info_clients(const struct sentinel_ctx *c, struct sentinel_out *o)
{
    info_line(o, "# Clients");
    info_line(o, "connected_clients:%zu", c->clients);
    info_line(o, "cluster_connections:0");
    info_line(o, "maxclients:%zu", c->max_clients);
    info_line(o, "blocked_clients:0");
    info_line(o, "tracking_clients:0");
    info_line(o, "clients_in_timeout_table:0");
}

static const char *master_status(const struct sentinel_master *m)
{
    if (m->in.flags & SENTINEL_F_O_DOWN)
        return "odown";
    return m->in.flags & SENTINEL_F_S_DOWN ? "sdown" : "ok";
}

static void info_sentinel(struct call *k, struct sentinel_out *o)
{
    size_t n;
    struct sentinel_master *m = masters_get(k, NULL, &n);
    info_line(o, "# Sentinel");
    info_line(o, "sentinel_masters:%zu", n);
    info_line(o, "sentinel_tilt:0");
    info_line(o, "sentinel_tilt_since_seconds:-1");
    info_line(o, "sentinel_running_scripts:0");
    info_line(o, "sentinel_scripts_queue_length:0");
    info_line(o, "sentinel_simulate_failure_flags:0");
    for (size_t i = 0; i < n; i++)
        info_line(o, "master%zu:name=%s,status=%s,address=%s:%d,slaves=%zu,sentinels=1", i,
                  m[i].name, master_status(&m[i]), m[i].in.host, m[i].in.port, m[i].nreplicas);
    free(m);
}

/* Sections in Redis' order, separated by an empty line; the whole text is
 * one bulk string. */
static void cmd_info(struct call *k)
{
    struct sentinel_out text = { 0 };
    int want = info_sections(k);
    if (want & INFO_SERVER)
        info_server(k->ctx, &text);
    if (want & INFO_CLIENTS) {
        if (text.len)
            out_raw(&text, "\r\n", 2);
        info_clients(k->ctx, &text);
    }
    if (want & INFO_SENTINEL) {
        if (text.len)
            out_raw(&text, "\r\n", 2);
        info_sentinel(k, &text);
    }
    if (text.failed)
        k->out->failed = 1;
    else
        out_bulk(k->out, text.buf ? text.buf : "", text.len);
    sentinel_out_free(&text);
}

static void cmd_role(struct call *k)
{
    size_t n;
    struct sentinel_master *m = masters_get(k, NULL, &n);
    if (k->out->failed)
        return;
    out_hdr(k->out, '*', 2);
    out_cbulk(k->out, "sentinel");
    out_hdr(k->out, '*', (long long)n);
    for (size_t i = 0; i < n; i++)
        out_cbulk(k->out, m[i].name);
    free(m);
}

/* ------------------------------------------------------------------------
 * Pub/sub
 * ------------------------------------------------------------------------ */

/* Each subscription is one allocation: its length (a size_t), then its
 * bytes and a NUL. Names are compared on all their bytes, so a channel or
 * pattern holding any byte, NUL included, is echoed and matched exactly. */
static size_t sub_len(const char *e)
{
    size_t len;
    memcpy(&len, e, sizeof(len));
    return len;
}

static const char *sub_name(const char *e)
{
    return e + sizeof(size_t);
}

static ssize_t sub_find(char *const *v, size_t n, const resp_arg *a)
{
    for (size_t i = 0; i < n; i++)
        if (sub_len(v[i]) == a->len && memcmp(sub_name(v[i]), a->ptr, a->len) == 0)
            return (ssize_t)i;
    return -1;
}

static int sub_add(char ***v, size_t *n, const resp_arg *a)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (nv == NULL)
        return -1;
    *v = nv;
    char *e = malloc(sizeof(size_t) + a->len + 1);
    if (e == NULL)
        return -1;
    memcpy(e, &a->len, sizeof(size_t));
    memcpy(e + sizeof(size_t), a->ptr, a->len);
    e[sizeof(size_t) + a->len] = '\0';
    nv[(*n)++] = e;
    return 0;
}

static void sub_remove(char **v, size_t *n, size_t i)
{
    free(v[i]);
    memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
    (*n)--;
}

static size_t sub_count(const struct sentinel_session *s)
{
    return s->nchannels + s->npatterns;
}

/* *3 <kind> <name> :<subscriptions left>; a NULL name is a null bulk (an
 * UNSUBSCRIBE with nothing to leave). */
static void reply_sub(struct call *k, const char *kind, const char *name, size_t len)
{
    out_hdr(k->out, '*', 3);
    out_cbulk(k->out, kind);
    if (name != NULL)
        out_bulk(k->out, name, len);
    else
        out_raw(k->out, "$-1\r\n", 5);
    out_int(k->out, (long long)sub_count(k->s));
}

static void do_subscribe(struct call *k, int pattern)
{
    char ***v = pattern ? &k->s->patterns : &k->s->channels;
    size_t *n = pattern ? &k->s->npatterns : &k->s->nchannels;
    const char *kind = pattern ? "psubscribe" : "subscribe";
    for (int i = 1; i < k->argc; i++) {
        const resp_arg *a = &k->argv[i];
        if (sub_find(*v, *n, a) < 0) {
            if (sub_count(k->s) >= SENTINEL_MAX_SUBSCRIPTIONS) {
                out_error(k->out, "too many subscriptions on this connection (max %d)",
                          SENTINEL_MAX_SUBSCRIPTIONS);
                continue;
            }
            if (sub_add(v, n, a) != 0) {
                k->out->failed = 1;
                return;
            }
        }
        reply_sub(k, kind, a->ptr, a->len);
    }
}

static void do_unsubscribe(struct call *k, int pattern)
{
    char **v = pattern ? k->s->patterns : k->s->channels;
    size_t *n = pattern ? &k->s->npatterns : &k->s->nchannels;
    const char *kind = pattern ? "punsubscribe" : "unsubscribe";
    if (k->argc == 1) {
        if (*n == 0)
            reply_sub(k, kind, NULL, 0);
        while (*n > 0) {
            /* Reply after removing, so the count is what is left; the
             * name is copied first because removal frees it. */
            char *e = v[*n - 1];
            v[*n - 1] = NULL;
            (*n)--;
            reply_sub(k, kind, sub_name(e), sub_len(e));
            free(e);
        }
        return;
    }
    for (int i = 1; i < k->argc; i++) {
        ssize_t at = sub_find(v, *n, &k->argv[i]);
        if (at >= 0)
            sub_remove(v, n, (size_t)at);
        reply_sub(k, kind, k->argv[i].ptr, k->argv[i].len);
    }
}

static void cmd_subscribe(struct call *k) { do_subscribe(k, 0); }
static void cmd_psubscribe(struct call *k) { do_subscribe(k, 1); }
static void cmd_unsubscribe(struct call *k) { do_unsubscribe(k, 0); }
static void cmd_punsubscribe(struct call *k) { do_unsubscribe(k, 1); }

/* Only Sentinels publish, on their hello channel, which we do not run. */
static void cmd_publish(struct call *k)
{
    out_error(k->out, "Only HELLO messages are accepted by Sentinel instances.");
}

size_t sentinel_cmd_deliver(struct sentinel_session *s, const char *channel,
                            const char *message, struct sentinel_out *out)
{
    size_t clen = strlen(channel), mlen = strlen(message), frames = 0;
    resp_arg ch = { channel, clen };
    if (sub_find(s->channels, s->nchannels, &ch) >= 0) {
        out_hdr(out, '*', 3);
        out_bulk(out, "message", 7);
        out_bulk(out, channel, clen);
        out_bulk(out, message, mlen);
        frames++;
    }
    for (size_t i = 0; i < s->npatterns; i++) {
        const char *p = s->patterns[i];
        if (!strmatch_glob(sub_name(p), sub_len(p), channel, clen, 0))
            continue;
        out_hdr(out, '*', 4);
        out_bulk(out, "pmessage", 8);
        out_bulk(out, sub_name(p), sub_len(p));
        out_bulk(out, channel, clen);
        out_bulk(out, message, mlen);
        frames++;
    }
    return out->failed ? 0 : frames;
}

/* ------------------------------------------------------------------------
 * Connection commands
 * ------------------------------------------------------------------------ */

static void cmd_ping(struct call *k)
{
    if (k->argc > 2) {
        out_error(k->out, "wrong number of arguments for 'ping' command");
        return;
    }
    if (sentinel_session_subscribed(k->s)) {
        /* RESP2 subscribed mode: PING answers in the shape of a message. */
        out_hdr(k->out, '*', 2);
        out_bulk(k->out, "pong", 4);
        out_bulk(k->out, k->argc == 2 ? k->argv[1].ptr : "", k->argc == 2 ? k->argv[1].len : 0);
    } else if (k->argc == 2) {
        out_bulk(k->out, k->argv[1].ptr, k->argv[1].len);
    } else {
        out_status(k->out, "PONG");
    }
}

static void cmd_quit(struct call *k)
{
    out_status(k->out, "OK");
    k->s->quit = 1;
}

/* Redis' validateClientName: printable ASCII without spaces. */
static int client_name_valid(const resp_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->ptr[i] < '!' || a->ptr[i] > '~')
            return 0;
    return 1;
}

static int client_set_name(struct call *k, const resp_arg *a)
{
    char *name = NULL;
    if (a->len > 0) {
        if ((name = malloc(a->len + 1)) == NULL) {
            k->out->failed = 1;
            return -1;
        }
        memcpy(name, a->ptr, a->len);
        name[a->len] = '\0';
    }
    free(k->s->name);
    k->s->name = name;
    return 0;
}

static void cli_setname(struct call *k)
{
    if (!client_name_valid(&k->argv[2])) {
        out_error(k->out, "Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    if (client_set_name(k, &k->argv[2]) == 0)
        out_status(k->out, "OK");
}

static void cli_getname(struct call *k)
{
    if (k->s->name == NULL)
        out_raw(k->out, "$-1\r\n", 5);
    else
        out_cbulk(k->out, k->s->name);
}

static void cli_id(struct call *k)
{
    out_int(k->out, (long long)k->s->id);
}

static void cli_help(struct call *k)
{
    static const char *const lines[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        NULL,
    };
    reply_help(k, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines);
}

static const struct cmd_def client_subs[] = {
    { "id", "client|id", 2, 0, cli_id, NULL },
    { "setname", "client|setname", 3, 0, cli_setname, NULL },
    { "getname", "client|getname", 2, 0, cli_getname, NULL },
    { "help", "client|help", 2, 0, cli_help, NULL },
    { NULL, NULL, 0, 0, NULL, NULL },
};

/* No password is configured: Redis' default user has "nopass", so it
 * accepts any password, and no other user exists (names are case
 * sensitive). */
static int user_ok(const resp_arg *user)
{
    return user->len == 7 && memcmp(user->ptr, "default", 7) == 0;
}

/* The one-argument form gets Redis' configuration warning. */
static void cmd_auth(struct call *k)
{
    if (k->argc > 3)
        out_error(k->out, "syntax error");
    else if (k->argc == 2)
        out_error(k->out, "AUTH <password> called without any password configured for the "
                          "default user. Are you sure your configuration is correct?");
    else if (user_ok(&k->argv[1]))
        out_status(k->out, "OK");
    else
        out_error(k->out, "-WRONGPASS invalid username-password pair or user is disabled.");
}

/* HELLO [2 [AUTH user pass] [SETNAME name]]. RESP3 is not spoken here:
 * "HELLO 3" gets Redis' NOPROTO error, which RESP3-capable clients take as
 * "stay on RESP2". */
static void cmd_hello(struct call *k)
{
    long long ver = 2;
    const resp_arg *name = NULL;
    if (k->argc >= 2) {
        if (!arg_ll(&k->argv[1], &ver)) {
            out_error(k->out, "Protocol version is not an integer or out of range");
            return;
        }
        if (ver != 2) {
            out_error(k->out, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    for (int j = 2; j < k->argc; j++) {
        int more = k->argc - 1 - j;
        const resp_arg *opt = &k->argv[j];
        if (arg_is(opt, "AUTH") && more >= 2) {
            if (!user_ok(&k->argv[j + 1])) {
                out_error(k->out, "-WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            j += 2;
        } else if (arg_is(opt, "SETNAME") && more >= 1) {
            name = &k->argv[++j];
            if (!client_name_valid(name)) {
                out_error(k->out, "Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        } else {
            out_error(k->out, "Syntax error in HELLO option '%.*s'", arg_cstr_len(opt), opt->ptr);
            return;
        }
    }
    if (name != NULL && client_set_name(k, name) != 0)
        return;
    out_hdr(k->out, '*', 12);
    out_cbulk(k->out, "server");
    out_cbulk(k->out, "redis");
    out_cbulk(k->out, "version");
    out_cbulk(k->out, SENTINEL_REDIS_VERSION);
    out_cbulk(k->out, "proto");
    out_int(k->out, 2);
    out_cbulk(k->out, "id");
    out_int(k->out, (long long)k->s->id);
    out_cbulk(k->out, "mode");
    out_cbulk(k->out, "sentinel");
    out_cbulk(k->out, "modules");
    out_hdr(k->out, '*', 0);
}

/* COMMAND describes no command here (an empty table): enough for clients
 * that probe it, consistent across its subcommands. */
static void cmd_command(struct call *k)
{
    out_hdr(k->out, '*', 0);
}

static void com_count(struct call *k)
{
    out_int(k->out, 0);
}

static void com_info(struct call *k)
{
    out_hdr(k->out, '*', k->argc - 2);
    for (int i = 2; i < k->argc; i++)
        out_raw(k->out, "$-1\r\n", 5);
}

static void com_help(struct call *k)
{
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all commands (none are described here).",
        "COUNT",
        "    Return the total number of commands described.",
        NULL,
    };
    reply_help(k, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines);
}

static const struct cmd_def command_subs[] = {
    { "count", "command|count", 2, 0, com_count, NULL },
    { "docs", "command|docs", -2, 0, cmd_command, NULL },
    { "info", "command|info", -2, 0, com_info, NULL },
    { "list", "command|list", -2, 0, cmd_command, NULL },
    { "help", "command|help", 2, 0, com_help, NULL },
    { NULL, NULL, 0, 0, NULL, NULL },
};

static const struct cmd_def commands[] = {
    { "ping", "ping", -1, CMD_PUBSUB_OK, cmd_ping, NULL },
    { "sentinel", "sentinel", -2, 0, NULL, sentinel_subs },
    { "info", "info", -1, 0, cmd_info, NULL },
    { "role", "role", 1, 0, cmd_role, NULL },
    { "subscribe", "subscribe", -2, CMD_PUBSUB_OK, cmd_subscribe, NULL },
    { "unsubscribe", "unsubscribe", -1, CMD_PUBSUB_OK, cmd_unsubscribe, NULL },
    { "psubscribe", "psubscribe", -2, CMD_PUBSUB_OK, cmd_psubscribe, NULL },
    { "punsubscribe", "punsubscribe", -1, CMD_PUBSUB_OK, cmd_punsubscribe, NULL },
    { "publish", "publish", 3, 0, cmd_publish, NULL },
    { "client", "client", -2, 0, NULL, client_subs },
    { "auth", "auth", -2, 0, cmd_auth, NULL },
    { "hello", "hello", -1, 0, cmd_hello, NULL },
    { "quit", "quit", -1, CMD_PUBSUB_OK, cmd_quit, NULL },
    { "command", "command", -1, 0, cmd_command, command_subs },
    { NULL, NULL, 0, 0, NULL, NULL },
};

/* ------------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------------ */

/* Redis 7: "unknown command 'x', with args beginning with: 'a' 'b' ", the
 * name cut at 128 bytes and the quoted arguments appended while the list is
 * under 128 bytes, each cut to what is left of those 128. */
static void reply_unknown_command(struct call *k)
{
    char args[SENTINEL_ERR_MAX / 2];
    size_t used = 0;
    args[0] = '\0';
    for (int j = 1; j < k->argc && used < 128; j++) {
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         arg_cstr_len(&k->argv[j]) < (int)(128 - used)
                             ? arg_cstr_len(&k->argv[j]) : (int)(128 - used),
                         k->argv[j].ptr);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    int nl = arg_cstr_len(&k->argv[0]);
    out_error(k->out, "unknown command '%.*s', with args beginning with: %s",
              nl < 128 ? nl : 128, k->argv[0].ptr, args);
}

static void reply_unknown_subcommand(struct call *k)
{
    char upper[32];
    size_t i;
    for (i = 0; i < k->argv[0].len && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(k->argv[0].ptr[i] >= 'a' && k->argv[0].ptr[i] <= 'z'
                              ? k->argv[0].ptr[i] - 32 : k->argv[0].ptr[i]);
    upper[i] = '\0';
    int n = arg_cstr_len(&k->argv[1]);
    out_error(k->out, "unknown subcommand '%.*s'. Try %s HELP.", n < 128 ? n : 128,
              k->argv[1].ptr, upper);
}

static int arity_ok(const struct cmd_def *d, int argc)
{
    return d->arity > 0 ? argc == d->arity : argc >= -d->arity;
}

int sentinel_cmd_exec(const struct sentinel_ctx *ctx, struct sentinel_session *s, int argc,
                      const resp_arg *argv, struct sentinel_out *out)
{
    struct call k = { ctx, s, argc, argv, out };
    const struct cmd_def *d = cmd_find(commands, &argv[0]);

    if (d == NULL) {
        reply_unknown_command(&k);
        return out->failed ? -1 : 0;
    }
    if (d->subs != NULL && argc >= 2) {
        /* A container with arguments runs a subcommand; only COMMAND also
         * runs alone (argc 1). */
        const struct cmd_def *sub = cmd_find(d->subs, &argv[1]);
        if (sub == NULL) {
            reply_unknown_subcommand(&k);
            return out->failed ? -1 : 0;
        }
        d = sub;
    }
    if (!arity_ok(d, argc))
        out_error(out, "wrong number of arguments for '%s' command", d->fullname);
    else if (sentinel_session_subscribed(s) && !(d->flags & CMD_PUBSUB_OK))
        out_error(out, "Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                       "QUIT / RESET are allowed in this context", d->fullname);
    else if (d->fn != NULL)
        d->fn(&k);
    else    /* a container alone: its arity (-2) has already refused it */
        out_error(out, "wrong number of arguments for '%s' command", d->fullname);
    return out->failed ? -1 : 0;
}

/* ------------------------------------------------------------------------
 * Event texts (sentinel.h)
 * ------------------------------------------------------------------------ */

int sentinel_fmt_master(char *buf, size_t len, const char *name, const char *ip, int port)
{
    return snprintf(buf, len, "master %s %s %d", name, ip, port);
}

int sentinel_fmt_odown(char *buf, size_t len, const char *name, const char *ip, int port)
{
    return snprintf(buf, len, "master %s %s %d #quorum 1/1", name, ip, port);
}

int sentinel_fmt_replica(char *buf, size_t len, const char *ip, int port, const char *master,
                         const char *master_ip, int master_port)
{
    char name[SENTINEL_HOST_MAX + 16];
    sentinel_addr_name(name, sizeof(name), ip, port);
    return snprintf(buf, len, "slave %s %s %d @ %s %s %d", name, ip, port, master, master_ip,
                    master_port);
}

int sentinel_fmt_switch_master(char *buf, size_t len, const char *name, const char *old_ip,
                               int old_port, const char *new_ip, int new_port)
{
    return snprintf(buf, len, "%s %s %d %s %d", name, old_ip, old_port, new_ip, new_port);
}
