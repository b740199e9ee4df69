/* fleet.h - the in-memory topology: nodes, clusters and their observations.
 *
 * The store is the durable truth; the fleet is its in-memory image, read by
 * the API threads and updated by the monitor. Every mutation validates
 * against the image, writes to SQLite inside one transaction (with its
 * event), and only after COMMIT applies the change in memory: a failed call
 * changes nothing. One rwlock guards the image; lock order is fleet -> store.
 *
 * Observations live apart, in state.h: this is only the desired side.
 *
 * Errors carry an HTTP-like status (404 not found, 409 conflict, 422
 * semantically invalid, 503 database unavailable) and a message a person can
 * act on. */
#ifndef KVFLEET_CTL_FLEET_H
#define KVFLEET_CTL_FLEET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "health.h"
#include "state.h"
#include "store.h"

#define FLEET_NAME_MAX 64
#define FLEET_HOST_MAX 255
#define FLEET_TAGS_MAX 4096
#define FLEET_IDENT_MAX 8

/* What a host resolves to: the addresses behind one spelling of a server's
 * address, so that "127.0.0.1", "localhost" and "127.1" at one port are
 * seen as the one server they are. Kept in memory only (resolved again
 * after a restart, when a registration needs it). */
struct fleet_ident {
    int resolved;                              /* 1: addrs is the answer */
    int naddrs;
    unsigned char addrs[FLEET_IDENT_MAX][16];  /* IPv6; IPv4 as ::ffff:a.b.c.d */
};

struct fleet_node {
    int64_t id;
    char name[FLEET_NAME_MAX + 1];
    char host[FLEET_HOST_MAX + 1];
    int port;
    int priority;
    int maintenance;
    char *tags;            /* JSON array text */
    int64_t cluster_id;    /* 0: none */
    int64_t first_seen;
    int64_t last_seen;
    struct fleet_ident ident;   /* resolved host (memory only; see above) */
};

struct fleet_cluster {
    int64_t id;
    char name[FLEET_NAME_MAX + 1];
    int64_t master_id;
    struct cluster_settings settings;
    int64_t created_at;
};

struct fleet {
    pthread_rwlock_t lock;
    struct store *st;
    struct fleet_node **nodes;
    size_t nnodes, ncap;
    struct fleet_cluster **clusters;
    size_t nclusters, ccap;
    uint64_t version;                 /* bumped on every topology change */
    void (*on_change)(void *arg);     /* called (unlocked) after a change */
    void *on_change_arg;
    struct events *events;            /* committed events are announced here (may be NULL) */
};

struct fleet_err {
    int status;
    char msg[300];
    char node[FLEET_NAME_MAX + 1];   /* a conflict's registered node, "" when none */
};

int fleet_init(struct fleet *f, struct store *st, char *err, size_t errlen);
void fleet_destroy(struct fleet *f);

void fleet_rdlock(struct fleet *f);
void fleet_wrlock(struct fleet *f);
void fleet_unlock(struct fleet *f);

/* Lookups: caller holds the lock. */
struct fleet_node *fleet_node_by_name(struct fleet *f, const char *name);
struct fleet_node *fleet_node_by_id(struct fleet *f, int64_t id);
struct fleet_node *fleet_node_by_addr(struct fleet *f, const char *host, int port);
struct fleet_cluster *fleet_cluster_by_name(struct fleet *f, const char *name);
struct fleet_cluster *fleet_cluster_by_id(struct fleet *f, int64_t id);

/* Valid names (nodes and clusters): 1-64 of [A-Za-z0-9._:-], the host part
 * of a default node name may be an IPv6 address in brackets ("[::1]:6379"),
 * and never "." or "..": clients normalise those out of a URL, so such a
 * node or cluster could not be read, changed or deleted. */
int fleet_name_valid(const char *s);
int fleet_host_valid(const char *s);

/* "host:port", or "[host]:port" for an IPv6 address, so that the port can
 * always be told apart (a default node name, and addresses in messages). */
void fleet_addr_format(char *buf, size_t len, const char *host, int port);

/* Resolve host: a numeric address as it is, a name through getaddrinfo
 * waiting at most timeout_ms (the lookup is left to finish on its own
 * thread after that). 0, or -1 when it did not resolve (out->resolved 0). */
int fleet_ident_resolve(const char *host, int timeout_ms, struct fleet_ident *out);
/* Address i of a resolved identity as text (IPv4 dotted), for connecting
 * without a second name lookup. */
void fleet_ident_addr(const struct fleet_ident *id, int i, char *buf, size_t len);

struct fleet_node_spec {
    const char *name;      /* NULL: "host:port" ("[v6]:port") */
    const char *host;
    int port;
    int priority;          /* default 100 */
    const char *tags;      /* JSON array text or NULL */
    /* Evidence of the server's identity, all optional. */
    const struct fleet_ident *ident;   /* host already resolved; NULL: resolve here */
    const char *run_id;    /* run id the server gave at this address; NULL/"": unknown */
    struct state *observed;   /* observations to compare run ids with; NULL: none */
    int resolve_ms;        /* bound of a name lookup; <= 0: 1000 */
};

/* Register a node. Idempotent: the same name at the same host:port (or the
 * same host:port without a name) returns the existing node with *created = 0.
 * A name taken at another address, or an address taken by another name, is a
 * 409. So is the same server under another spelling of its address: a
 * registered node at the same port whose host resolves to a common
 * address (or differs only in case), or, once the monitor has seen it, a
 * node with the run id spec->run_id; e->node names that node. out_name
 * receives the node's name. */
int fleet_node_register(struct fleet *f, const struct fleet_node_spec *spec, const char *actor,
                        int *created, char *out_name, size_t out_len, struct fleet_err *e);
int fleet_node_patch(struct fleet *f, const char *name, const int *priority, const int *maintenance,
                     const char *actor, struct fleet_err *e);
int fleet_node_delete(struct fleet *f, const char *name, const char *actor, struct fleet_err *e);

int fleet_cluster_create(struct fleet *f, const char *name, const char *master,
                         const char *const *replicas, size_t nreplicas,
                         const struct cluster_settings *s, const char *actor, struct fleet_err *e);
/* Adding a node that is already a replica of this cluster succeeds and
 * changes nothing (agents retry their join); the master is a 422. */
int fleet_cluster_add_replica(struct fleet *f, const char *cluster, const char *node,
                              const char *actor, struct fleet_err *e);
/* On success host/port receive the removed node's address (to detach it). */
int fleet_cluster_remove_replica(struct fleet *f, const char *cluster, const char *node,
                                 const char *actor, char *host, size_t hostlen, int *port,
                                 struct fleet_err *e);
int fleet_cluster_set_settings(struct fleet *f, const char *cluster,
                               const struct cluster_settings *s, const char *actor,
                               struct fleet_err *e);
int fleet_cluster_delete(struct fleet *f, const char *cluster, const char *actor,
                         struct fleet_err *e);

/* Adopt a running deployment: nodes[0] is the master, the rest replicas.
 * An address that is a registered node, spelled alike or resolving to the
 * same address at the same port, is that node; the others are registered as
 * "host:port" ("[v6]:port"). Members must not belong to another cluster.
 * One transaction. */
struct fleet_addr {
    char host[FLEET_HOST_MAX + 1];
    int port;
};
int fleet_adopt(struct fleet *f, const char *cluster, const struct fleet_addr *nodes, size_t n,
                const struct cluster_settings *s, const char *actor, struct fleet_err *e);

/* The failover engine's topology change: `node` becomes the desired master
 * of `cluster` (one transaction with its cluster.master event, which carries
 * the old and new addresses for the Sentinel port). Idempotent. */
int fleet_cluster_set_master(struct fleet *f, const char *cluster, const char *node,
                             const char *actor, const char *why, struct fleet_err *e);

/* Gather health inputs of a cluster (caller holds the fleet lock and the
 * state lock, in that order). members/n: the replicas; master may come back
 * NULL. A node not observed yet gets an "unknown" observation. */
size_t fleet_cluster_members(struct fleet *f, struct state *st, const struct fleet_cluster *c,
                             struct health_member *master_out, int *has_master,
                             struct health_member *replicas, struct fleet_node **replica_nodes,
                             size_t cap);

#endif
