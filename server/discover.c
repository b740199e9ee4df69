/* discover.c - crawl a running replication group (see discover.h). */
#include "discover.h"

/* Messages are deliberately bounded; truncation is the intent. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "health.h"
#include "info.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

int discover_auth(redisContext *c, const char *user, const char *auth, char *err, size_t errlen)
{
    if (auth == NULL)
        return 0;
    /* Argv form: a password may hold spaces or % that a format string would
     * split or expand. */
    const char *argv[3] = { "AUTH", user != NULL ? user : auth, auth };
    redisReply *r = redisCommandArgv(c, user != NULL ? 3 : 2, argv, NULL);
    int ok = r != NULL && r->type != REDIS_REPLY_ERROR;
    if (!ok && err != NULL)
        snprintf(err, errlen, "%s", r != NULL ? r->str : c->errstr);
    if (r != NULL)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

static redisContext *connect_node(const char *host, int port, const char *user, const char *auth,
                                  int timeout_ms, char *err, size_t errlen)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL) {
        snprintf(err, errlen, "%s:%d: out of memory", host, port);
        return NULL;
    }
    if (c->err) {
        snprintf(err, errlen, "%s:%d: %s", host, port, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(err, errlen, "%s:%d: cannot set timeout", host, port);
        redisFree(c);
        return NULL;
    }
    char why[200];
    if (discover_auth(c, user, auth, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s:%d: AUTH failed: %s", host, port, why);
        redisFree(c);
        return NULL;
    }
    return c;
}

static int fetch_info(const char *host, int port, const char *user, const char *auth, int timeout_ms,
                      struct info_repl *info, char *err, size_t errlen)
{
    redisContext *c = connect_node(host, port, user, auth, timeout_ms, err, errlen);
    if (c == NULL)
        return -1;
    redisReply *r = redisCommand(c, "INFO replication");
    int rc = -1;
    if (r == NULL)
        snprintf(err, errlen, "%s:%d: %s", host, port, c->errstr);
    else if (r->type != REDIS_REPLY_STRING)
        snprintf(err, errlen, "%s:%d: INFO failed: %s", host, port,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    else if (info_parse_replication(r->str, r->len, info) != 0)
        snprintf(err, errlen, "%s:%d: unparsable INFO replication", host, port);
    else
        rc = 0;
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

static int find(const struct fleet_addr *a, size_t n, const char *host, int port)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].port == port && strcmp(a[i].host, host) == 0)
            return (int)i;
    return -1;
}

static int fail(struct discover_result *out, const char *fmt, const char *a, int b, const char *c,
                int d)
{
    out->status = 422;
    snprintf(out->err, sizeof(out->err), fmt, a, b, c, d);
    return -1;
}

int discover_crawl(const char *host, int port, const char *user, const char *auth, int timeout_ms,
                   struct discover_result *out)
{
    /* BFS over addresses; seen[] doubles as the queue. */
    struct fleet_addr seen[DISCOVER_MAX_NODES];
    int role[DISCOVER_MAX_NODES];
    struct fleet_addr upstream[DISCOVER_MAX_NODES];
    int ok[DISCOVER_MAX_NODES];
    size_t nseen = 0;
    memset(out, 0, sizeof(*out));
    if (strlen(host) > FLEET_HOST_MAX)
        return fail(out, "host too long%s%d%s%d", "", 0, "", 0);
    snprintf(seen[0].host, sizeof(seen[0].host), "%s", host);
    seen[0].port = port;
    nseen = 1;
    for (size_t i = 0; i < nseen; i++) {
        struct info_repl info;
        char err[300];
        role[i] = ROLE_UNKNOWN;
        ok[i] = 0;
        upstream[i].host[0] = '\0';
        upstream[i].port = 0;
        if (fetch_info(seen[i].host, seen[i].port, user, auth, timeout_ms, &info, err, sizeof(err)) != 0) {
            if (i == 0) {
                out->status = 422;
                snprintf(out->err, sizeof(out->err), "cannot query start node: %s", err);
                return -1;
            }
            continue;       /* listed by its master but unreachable: keep it */
        }
        ok[i] = 1;
        role[i] = info.role;
        if (info.role == ROLE_REPLICA) {
            snprintf(upstream[i].host, sizeof(upstream[i].host), "%s", info.master_host);
            upstream[i].port = info.master_port;
            if (find(seen, nseen, info.master_host, info.master_port) < 0) {
                if (nseen == DISCOVER_MAX_NODES)
                    return fail(out, "more than %s%d nodes%s%d", "", DISCOVER_MAX_NODES, "", 0);
                seen[nseen] = upstream[i];
                nseen++;
            }
        }
        for (int s = 0; s < info.nslaves; s++) {
            if (info.slaves[s].port <= 0 || strlen(info.slaves[s].ip) > FLEET_HOST_MAX)
                continue;
            if (find(seen, nseen, info.slaves[s].ip, info.slaves[s].port) >= 0)
                continue;
            if (nseen == DISCOVER_MAX_NODES)
                return fail(out, "more than %s%d nodes%s%d", "", DISCOVER_MAX_NODES, "", 0);
            snprintf(seen[nseen].host, sizeof(seen[nseen].host), "%s", info.slaves[s].ip);
            seen[nseen].port = info.slaves[s].port;
            nseen++;
        }
    }
    int master = -1;
    for (size_t i = 0; i < nseen; i++) {
        if (role[i] != ROLE_MASTER)
            continue;
        if (master >= 0)
            return fail(out, "two masters found: %s:%d and %s:%d", seen[master].host,
                        seen[master].port, seen[i].host, seen[i].port);
        master = (int)i;
    }
    if (master < 0)
        return fail(out, "no reachable master found from %s:%d%s%d", host, port, "", 0);
    for (size_t i = 0; i < nseen; i++) {
        if (role[i] != ROLE_REPLICA)
            continue;
        if (strcmp(upstream[i].host, seen[master].host) != 0 || upstream[i].port != seen[master].port)
            return fail(out, "chained replication is not supported: %s:%d replicates from %s:%d",
                        seen[i].host, seen[i].port, upstream[i].host, upstream[i].port);
    }
    out->nodes[0] = seen[master];
    out->reachable[0] = 1;
    out->n = 1;
    for (size_t i = 0; i < nseen; i++) {
        if ((int)i == master)
            continue;
        out->reachable[out->n] = ok[i];
        out->nodes[out->n++] = seen[i];
    }
    return 0;
}

int discover_detach(const char *host, int port, const char *user, const char *auth, int timeout_ms,
                    char *err, size_t errlen)
{
    redisContext *c = connect_node(host, port, user, auth, timeout_ms, err, errlen);
    if (c == NULL)
        return -1;
    redisReply *r = redisCommand(c, "REPLICAOF NO ONE");
    int rc = r != NULL && r->type != REDIS_REPLY_ERROR ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "%s:%d: REPLICAOF NO ONE failed: %s", host, port,
                 r != NULL ? r->str : c->errstr);
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}
