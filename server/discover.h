/* discover.h - blocking RESP helpers for the API threads.
 *
 * discover_crawl() adopts a running deployment: starting from one node it
 * follows INFO replication (a replica's master, a master's replicas) until the
 * group is closed, with a connect/reply timeout per node and a bound on the
 * number of nodes. discover_detach() turns a removed replica into a
 * stand-alone master. Both run in an HTTP worker thread, never on the
 * monitor's loop. */
#ifndef KVFLEET_CTL_DISCOVER_H
#define KVFLEET_CTL_DISCOVER_H

#include <stddef.h>

#include "fleet.h"

#define DISCOVER_MAX_NODES 64

struct discover_result {
    struct fleet_addr nodes[DISCOVER_MAX_NODES]; /* [0] is the master */
    size_t n;
    int reachable[DISCOVER_MAX_NODES];
    int status;        /* on failure: 422 */
    char err[300];
};

struct redisContext;

/* AUTH on a blocking connection as node-user / node-auth: "AUTH user auth",
 * "AUTH auth" when user is NULL, nothing when auth is NULL. 0 when accepted
 * (or not needed); -1 with the reason in err (may be NULL) otherwise. */
int discover_auth(struct redisContext *c, const char *user, const char *auth, char *err,
                  size_t errlen);

/* user / auth: node-user and node-auth (AUTH user pass, AUTH pass when user
 * is NULL, nothing when auth is NULL). */
int discover_crawl(const char *host, int port, const char *user, const char *auth, int timeout_ms,
                   struct discover_result *out);
int discover_detach(const char *host, int port, const char *user, const char *auth, int timeout_ms,
                    char *err, size_t errlen);

#endif
