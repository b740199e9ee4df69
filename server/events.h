/* events.h - one list of event kinds, one way to emit them.
 *
 * Everything the controller observes or does becomes an event: a log line,
 * a row in the journal (through the writer thread, so the loop never waits
 * for SQLite) and a call to every in-memory subscriber (the Sentinel port
 * turns failovers into +switch-master messages; the dashboard will stream
 * them). Kinds are an enum with one name table: no string literal for a kind
 * appears anywhere else.
 *
 * Mutations made through the REST API journal their event inside their own
 * SQLite transaction (fleet.c); after COMMIT they call events_notify(), which
 * logs and fans out without writing the journal a second time.
 *
 * Thread safety: events_emit/events_notify may be called from any thread.
 * Subscribers are called synchronously on the emitting thread and must hand
 * work to their own thread or loop themselves. Subscribe before the threads
 * start. */
#ifndef KVFLEET_CTL_EVENTS_H
#define KVFLEET_CTL_EVENTS_H

#include <stdint.h>

struct writer;

enum ev_kind {
    /* observation (monitor -> state) */
    EV_NODE_UP,
    EV_NODE_SUSPECT,
    EV_NODE_DOWN,
    EV_NODE_ROLE,
    EV_NODE_MASTER,
    EV_NODE_RESTARTED,
    EV_NODE_FENCED,
    EV_LINK_UP,
    EV_LINK_DOWN,
    EV_LAG_HIGH,
    EV_LAG_OK,
    /* topology (REST API -> fleet) */
    EV_NODE_REGISTERED,
    EV_NODE_DELETED,
    EV_NODE_MAINTENANCE_ON,
    EV_NODE_MAINTENANCE_OFF,
    EV_NODE_PRIORITY,
    EV_CLUSTER_CREATED,
    EV_CLUSTER_DISCOVERED,
    EV_CLUSTER_SETTINGS,
    EV_CLUSTER_DELETED,
    EV_CLUSTER_MASTER,
    EV_REPLICA_ADDED,
    EV_REPLICA_REMOVED,
    EV_REPLICA_DETACHED,
    EV_REPLICA_DETACH_FAILED,
    /* actions (act) and their outcomes */
    EV_RECONCILE_REPLICAOF,
    EV_RECONCILE_PROMOTE,
    EV_RECONCILE_CONFIRM,
    EV_ACTION_OK,
    EV_ACTION_FAILED,
    /* failover engine */
    EV_MASTER_FAILED,
    EV_FAILOVER_BLOCKED,
    EV_FAILOVER_STARTED,
    EV_FAILOVER_STEP,
    EV_FAILOVER_DONE,
    EV_FAILOVER_FAILED,
    EV_FAILOVER_ACKED,
    EV_SWITCHOVER_STARTED,
    EV_SWITCHOVER_DONE,
    EV_SWITCHOVER_ABORTED,
    EV_SWITCHOVER_SCHEDULED,
    EV_SWITCHOVER_CANCELLED,
    EV_RESYNC_PARTIAL,
    EV_RESYNC_FULL,
    EV_HOOK_COMMAND,
    EV_HOOK_WEBHOOK,
    EV__COUNT
};

/* "node.down", "failover.done", ... */
const char *ev_kind_name(enum ev_kind k);
/* -1 when unknown. */
int ev_kind_parse(const char *name);

#define EV_NAME_MAX 64
#define EV_HOST_MAX 255
#define EV_MSG_MAX 512

struct ev {
    enum ev_kind kind;
    int64_t ts_ms;                    /* wall clock; 0: now */
    char cluster[EV_NAME_MAX + 1];    /* "" when none */
    char node[EV_NAME_MAX + 1];
    char actor[32];
    char msg[EV_MSG_MAX];
    /* Addresses for subscribers that need them (the Sentinel port):
     * node down/up: addr = the node; master switch: old -> new. */
    char old_host[EV_HOST_MAX + 1];
    int old_port;
    char new_host[EV_HOST_MAX + 1];
    int new_port;
    int is_master;                    /* node events: the node is its cluster's master */
};

typedef void (*ev_subscriber)(void *arg, const struct ev *e);

struct events;

struct events *events_new(struct writer *w);
void events_free(struct events *es);
/* Register a subscriber (before other threads emit). Returns 0 or -1. */
int events_subscribe(struct events *es, ev_subscriber fn, void *arg);

/* Fill the common part of an event. */
void ev_init(struct ev *e, enum ev_kind kind, const char *cluster, const char *node,
             const char *actor);
void ev_printf(struct ev *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log, journal (writer thread) and fan out. es may be NULL (unit tests of
 * other modules): the event is then only logged. */
void events_emit(struct events *es, const struct ev *e);
/* Log and fan out only: the caller journalled it in its own transaction. */
void events_notify(struct events *es, const struct ev *e);

/* Shorthand: build and emit in one call. */
void events_say(struct events *es, enum ev_kind kind, const char *cluster, const char *node,
                const char *actor, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
