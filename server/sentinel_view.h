/* sentinel_view.h - the Sentinel port's provider over the controller's
 * topology (fleet.h: who should be master) and observations (state.h: what
 * the last polls saw).
 *
 * A thin, read-only translation: each cluster is a Sentinel "master" named
 * after it, at the address of its desired master (the one the controller
 * sends clients to, and the one a failover changes); its replicas are the
 * cluster's other nodes. A node the monitor judges down is s_down (and, for
 * a master, o_down too: with one "sentinel" the quorum of 1 is reached at
 * once). Called on the loop thread; takes the fleet and state read locks, in
 * that order, for the length of one copy. */
#ifndef KVFLEET_CTL_SENTINEL_VIEW_H
#define KVFLEET_CTL_SENTINEL_VIEW_H

#include <stdint.h>

#include "fleet.h"
#include "sentinel.h"
#include "state.h"

/* Sentinel's default failover-timeout, shown when the cluster sets no
 * failover cooldown. */
#define SENTINEL_VIEW_FAILOVER_TIMEOUT_MS 180000

struct sentinel_view {
    struct fleet *fleet;
    struct state *state;
    int64_t start_mono_ms;     /* ages of nodes never polled successfully */
    struct sentinel *port;     /* where events are published (NULL: nowhere) */
};

void sentinel_view_init(struct sentinel_view *v, struct fleet *f, struct state *st);
/* The provider to hand to sentinel_start(); v must outlive the port. */
struct sentinel_provider sentinel_view_provider(struct sentinel_view *v);

/* Events subscriber (events_subscribe(es, sentinel_view_on_event, v)):
 * turns the controller's events into Sentinel's pub/sub messages:
 * cluster.master -> +switch-master, node.down -> +sdown (master or slave),
 * node.up -> -sdown, master.failed -> +odown, failover.started ->
 * +try-failover, failover.done / switchover.done -> +failover-end. Any
 * thread. */
struct ev;
void sentinel_view_on_event(void *arg, const struct ev *e);

#endif
