/* sentinel_view.c - the Sentinel port's provider over the fleet and the
 * observed state (see sentinel_view.h). Copies, under the read locks, what
 * SENTINEL MASTERS / REPLICAS show; derives nothing the planner or the
 * health code has not already decided, except Sentinel's own vocabulary
 * (s_down, o_down, ages in ms). */
#include "sentinel_view.h"

#include "clock.h"
#include "events.h"
#include "health.h"

#include <stdio.h>
#include <string.h>

struct view_now {
    int64_t mono_ms, wall_ms;
    int64_t start_mono_ms;
};

static int64_t age(int64_t now, int64_t then)
{
    return then > 0 && now > then ? now - then : 0;
}

/* The parts every instance has, from its observation (NULL: never polled). */
static void fill_instance(struct sentinel_instance *in, const struct fleet_node *n,
                          const struct node_obs *o, int is_master, const struct view_now *t)
{
    memset(in, 0, sizeof(*in));
    snprintf(in->host, sizeof(in->host), "%s", n->host);
    in->port = n->port;
    in->role_reported = is_master ? SENTINEL_ROLE_MASTER : SENTINEL_ROLE_SLAVE;
    /* Like Sentinel, a node never heard from counts from when we started. */
    in->last_ok_ping_ms = age(t->mono_ms, t->start_mono_ms);
    if (o == NULL)
        return;
    snprintf(in->run_id, sizeof(in->run_id), "%s", o->run_id);
    if (o->last_ok_mono > 0)
        in->last_ok_ping_ms = age(t->mono_ms, o->last_ok_mono);
    if (o->role == ROLE_MASTER)
        in->role_reported = SENTINEL_ROLE_MASTER;
    else if (o->role == ROLE_REPLICA)
        in->role_reported = SENTINEL_ROLE_SLAVE;
    /* Not tracked per role: the time since the node's state last changed
     * is the closest thing kept (display only). */
    in->role_reported_ms = age(t->wall_ms, o->state_since);
    if (o->state == NODE_DOWN) {
        /* One "sentinel", quorum 1: a master down is also objectively down. */
        in->flags |= SENTINEL_F_S_DOWN | (is_master ? SENTINEL_F_O_DOWN : 0);
        in->down_ms = age(t->wall_ms, o->state_since);
    }
    if (o->failures > 0 && o->fail_kind == FAIL_REFUSED)
        in->flags |= SENTINEL_F_DISCONNECTED;
}

static void fill_replica(struct sentinel_replica *r, const struct fleet_node *n,
                         const struct node_obs *o, const struct view_now *t)
{
    fill_instance(&r->in, n, o, 0, t);
    r->priority = n->priority;
    if (o == NULL)
        return;
    r->link_ok = o->link == LINK_UP;
    r->link_down_ms = o->link_down_since_s > 0 ? o->link_down_since_s * 1000 : 0;
    snprintf(r->master_host, sizeof(r->master_host), "%s", o->master_host);
    r->master_port = o->master_port;
    r->repl_offset = o->offset > 0 ? o->offset : 0;
}

/* One cluster as a Sentinel master; 0, or -1 when it has no master to name
 * (clients must never be sent to an empty address). Caller holds both locks. */
static int fill_master(struct sentinel_view *v, const struct fleet_cluster *c,
                       struct sentinel_master *m, const struct view_now *t)
{
    const struct fleet_node *mn = fleet_node_by_id(v->fleet, c->master_id);
    if (mn == NULL)
        return -1;
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", c->name);
    fill_instance(&m->in, mn, state_obs(v->state, mn->id), 1, t);
    m->down_after_ms = c->settings.down_after_ms;
    m->failover_timeout_ms = c->settings.failover_cooldown_ms > 0
                                 ? c->settings.failover_cooldown_ms
                                 : SENTINEL_VIEW_FAILOVER_TIMEOUT_MS;
    m->quorum = 1;
    for (size_t i = 0; i < v->fleet->nnodes && m->nreplicas < SENTINEL_MAX_REPLICAS; i++) {
        const struct fleet_node *n = v->fleet->nodes[i];
        if (n->cluster_id != c->id || n->id == c->master_id)
            continue;
        fill_replica(&m->replicas[m->nreplicas++], n, state_obs(v->state, n->id), t);
    }
    return 0;
}

static size_t view_masters(void *arg, const char *name, struct sentinel_master *out, size_t cap)
{
    struct sentinel_view *v = arg;
    struct view_now t = { clock_mono_ms(), clock_wall_ms(), v->start_mono_ms };
    size_t total = 0;

    fleet_rdlock(v->fleet);
    state_rdlock(v->state);
    for (size_t i = 0; i < v->fleet->nclusters; i++) {
        const struct fleet_cluster *c = v->fleet->clusters[i];
        if (name != NULL && strcmp(c->name, name) != 0)
            continue;
        if (fleet_node_by_id(v->fleet, c->master_id) == NULL)
            continue;
        if (total < cap && fill_master(v, c, &out[total], &t) != 0)
            continue;
        total++;
    }
    state_unlock(v->state);
    fleet_unlock(v->fleet);
    return total;
}

void sentinel_view_init(struct sentinel_view *v, struct fleet *f, struct state *st)
{
    v->fleet = f;
    v->state = st;
    v->start_mono_ms = clock_mono_ms();
}

struct sentinel_provider sentinel_view_provider(struct sentinel_view *v)
{
    struct sentinel_provider p = { v, view_masters };
    return p;
}

/* The instance part of +sdown/-sdown: a master by cluster name, a replica by
 * its address followed by its master's. */
static void publish_down(struct sentinel *port, const char *channel, const struct ev *e)
{
    char msg[700];
    if (e->is_master)
        sentinel_fmt_master(msg, sizeof(msg), e->cluster, e->old_host, e->old_port);
    else if (e->new_host[0] != '\0')
        sentinel_fmt_replica(msg, sizeof(msg), e->old_host, e->old_port, e->cluster, e->new_host,
                             e->new_port);
    else
        return;
    sentinel_publish(port, channel, msg);
}

void sentinel_view_on_event(void *arg, const struct ev *e)
{
    struct sentinel_view *v = arg;
    struct sentinel *port = v->port;
    char msg[700];
    if (port == NULL || e->cluster[0] == '\0')
        return;
    switch (e->kind) {
    case EV_CLUSTER_MASTER:
        if (e->old_host[0] == '\0')
            return;
        sentinel_fmt_switch_master(msg, sizeof(msg), e->cluster, e->old_host, e->old_port,
                                   e->new_host, e->new_port);
        sentinel_publish(port, "+switch-master", msg);
        break;
    case EV_NODE_DOWN:
        publish_down(port, "+sdown", e);
        break;
    case EV_NODE_UP:
        publish_down(port, "-sdown", e);
        break;
    case EV_MASTER_FAILED:
        if (e->old_host[0] == '\0')
            return;
        sentinel_fmt_odown(msg, sizeof(msg), e->cluster, e->old_host, e->old_port);
        sentinel_publish(port, "+odown", msg);
        break;
    case EV_FAILOVER_STARTED:
    case EV_SWITCHOVER_STARTED:
        if (e->old_host[0] == '\0')
            return;
        sentinel_fmt_master(msg, sizeof(msg), e->cluster, e->old_host, e->old_port);
        sentinel_publish(port, "+try-failover", msg);
        break;
    case EV_FAILOVER_DONE:
    case EV_SWITCHOVER_DONE:
        if (e->new_host[0] == '\0')
            return;
        sentinel_fmt_master(msg, sizeof(msg), e->cluster, e->new_host, e->new_port);
        sentinel_publish(port, "+failover-end", msg);
        break;
    default:
        break;
    }
}
