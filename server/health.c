/* health.c - lag and health derivation (see health.h). */
#include "health.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void health_settings_default(struct cluster_settings *s)
{
    s->max_lag_on_failover = 1048576;
    s->down_after_ms = 1000;
    s->auto_failover = 1;
    s->failover_cooldown_ms = 60000;
    s->min_replicas_to_write = 0;
    s->lag_threshold_bytes = 1048576;
    s->lag_threshold_ms = 10000;
}

void health_obs_init(struct node_obs *o)
{
    memset(o, 0, sizeof(*o));
    o->offset = -1;
    o->lag_bytes = -1;
    o->lag_ms = -1;
    o->master_last_io_s = -1;
    o->link_down_since_s = -1;
    o->replica_priority = -1;
    o->sync_full = -1;
    o->prev_offset = -1;
    o->stats.connected_clients = o->stats.used_memory = o->stats.commands_processed = -1;
    for (int i = 0; i < INFO_MAX_DBS; i++)
        o->stats.db_keys[i] = -1;
}

/* The initializer below spells out one -1 per database. */
_Static_assert(INFO_MAX_DBS == 16, "update the db_keys initializer");

const struct node_obs *health_obs_unobserved(void)
{
    static const struct node_obs unobserved = {
        .offset = -1, .lag_bytes = -1, .lag_ms = -1, .master_last_io_s = -1,
        .link_down_since_s = -1, .replica_priority = -1, .sync_full = -1, .prev_offset = -1,
        .stats = { .connected_clients = -1, .used_memory = -1, .commands_processed = -1,
                   .db_keys = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 } },
    };
    return &unobserved;
}

void health_ring_push(struct offset_ring *r, int64_t now_ms, int64_t offset)
{
    if (r->count > 0) {
        int last = (r->head + HEALTH_RING - 1) % HEALTH_RING;
        if (r->off[last] == offset)
            return;            /* only changes matter */
        if (offset < r->off[last])
            r->count = 0;      /* offset went back: new replication history */
    }
    r->ts[r->head] = now_ms;
    r->off[r->head] = offset;
    r->head = (r->head + 1) % HEALTH_RING;
    if (r->count < HEALTH_RING)
        r->count++;
}

int64_t health_lag_bytes(int64_t master_offset, int64_t replica_offset)
{
    if (master_offset < 0 || replica_offset < 0)
        return -1;
    return master_offset > replica_offset ? master_offset - replica_offset : 0;
}

int64_t health_lag_ms(const struct offset_ring *r, int64_t master_offset,
                      int64_t replica_offset, int64_t now_ms)
{
    if (master_offset < 0 || replica_offset < 0)
        return -1;
    if (replica_offset >= master_offset)
        return 0;
    if (r->count == 0)
        return -1;
    /* Walk from the newest sample back to the first one whose offset the
     * replica has not reached; the one after it (newer) is when the master
     * passed the replica's offset. */
    int64_t first_ts = -1;
    for (int i = 0; i < r->count; i++) {
        int idx = (r->head + HEALTH_RING - 1 - i) % HEALTH_RING;
        if (r->off[idx] <= replica_offset)
            break;
        first_ts = r->ts[idx];
    }
    if (first_ts < 0)
        return 0;
    return now_ms > first_ts ? now_ms - first_ts : 0;
}

static void reason(struct health_report *rep, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason(struct health_report *rep, int level, const char *fmt, ...)
{
    if (level > rep->level)
        rep->level = level;
    if (rep->nreasons >= HEALTH_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->reasons[rep->nreasons++], HEALTH_REASON_LEN, fmt, ap);
    va_end(ap);
}

void health_replica_eval(const struct health_member *master, const struct health_member *replica,
                         const struct cluster_settings *s, int64_t now_ms, struct health_replica *out)
{
    const struct node_obs *ro = replica->obs;
    memset(out, 0, sizeof(*out));
    out->lag_bytes = -1;
    out->lag_ms = -1;
    out->link = ro->role == ROLE_REPLICA ? ro->link : LINK_NONE;
    if (ro->state != NODE_UP)
        return;
    if (ro->role != ROLE_REPLICA) {
        out->wrong_master = 1;
        return;
    }
    if (master == NULL)
        return;
    if (strcmp(ro->master_host, master->host) != 0 || ro->master_port != master->port) {
        out->wrong_master = 1;
        return;
    }
    const struct node_obs *mo = master->obs;
    if (mo->state == NODE_UP && mo->role == ROLE_MASTER) {
        out->lag_bytes = health_lag_bytes(mo->offset, ro->offset);
        out->lag_ms = health_lag_ms(&mo->ring, mo->offset, ro->offset, now_ms);
    }
    /* Lag only means something on a live link: while the link is down (for
     * instance right after REPLICAOF) the offset still belongs to the old
     * replication stream, and the link-down reason already says why. */
    if (out->link == LINK_UP &&
        ((out->lag_bytes >= 0 && out->lag_bytes > s->lag_threshold_bytes) ||
         (out->lag_ms >= 0 && out->lag_ms > s->lag_threshold_ms)))
        out->lag_high = 1;
    out->in_sync = out->link == LINK_UP && !out->lag_high;
}

void health_cluster_eval(const struct health_member *master, const struct health_member *replicas,
                         size_t n, const struct cluster_settings *s, int64_t now_ms,
                         struct health_report *rep, struct health_replica *per_replica)
{
    rep->level = HEALTH_HEALTHY;
    rep->nreasons = 0;

    if (master == NULL) {
        reason(rep, HEALTH_FAILING, "cluster has no master");
    } else {
        const struct node_obs *mo = master->obs;
        if (mo->state == NODE_DOWN)
            reason(rep, HEALTH_FAILING, "master %s is down", master->name);
        else if (mo->state == NODE_SUSPECT)
            reason(rep, HEALTH_DEGRADED, "master %s does not answer (suspect)", master->name);
        else if (mo->fenced)
            reason(rep, HEALTH_DEGRADED, "master %s is fenced until the controller confirms it",
                   master->name);
        else if (mo->state == NODE_UNKNOWN)
            reason(rep, HEALTH_DEGRADED, "master %s not yet observed", master->name);
        else if (mo->role == ROLE_REPLICA)
            reason(rep, HEALTH_FAILING, "master %s is a replica of %s:%d", master->name,
                   mo->master_host, mo->master_port);
        if (master->maintenance)
            reason(rep, rep->level, "master %s is in maintenance", master->name);
    }

    int64_t in_sync = 0;
    for (size_t i = 0; i < n; i++) {
        const struct health_member *r = &replicas[i];
        const struct node_obs *ro = r->obs;
        struct health_replica hr;
        health_replica_eval(master, r, s, now_ms, &hr);
        if (per_replica != NULL)
            per_replica[i] = hr;
        /* A replica in maintenance is reported but does not degrade. */
        int lvl = r->maintenance ? rep->level : HEALTH_DEGRADED;
        if (r->maintenance)
            reason(rep, lvl, "replica %s is in maintenance", r->name);
        if (ro->state == NODE_DOWN) {
            reason(rep, lvl, "replica %s is down", r->name);
        } else if (ro->state == NODE_SUSPECT) {
            reason(rep, lvl, "replica %s does not answer (suspect)", r->name);
        } else if (ro->state == NODE_UNKNOWN) {
            reason(rep, lvl, "replica %s not yet observed", r->name);
        } else if (ro->role != ROLE_REPLICA) {
            reason(rep, lvl, "replica %s is not replicating (role master)", r->name);
        } else if (hr.wrong_master) {
            reason(rep, lvl, "replica %s replicates from %s:%d, not from the master", r->name,
                   ro->master_host, ro->master_port);
        } else if (hr.link != LINK_UP) {
            reason(rep, lvl, "replica %s: link to master is down", r->name);
        } else if (hr.lag_high) {
            if (hr.lag_bytes > s->lag_threshold_bytes)
                reason(rep, lvl, "replica %s lags %lld bytes (threshold %lld)", r->name,
                       (long long)hr.lag_bytes, (long long)s->lag_threshold_bytes);
            else
                reason(rep, lvl, "replica %s lags %lld ms (threshold %lld)", r->name,
                       (long long)hr.lag_ms, (long long)s->lag_threshold_ms);
        }
        if (hr.in_sync)
            in_sync++;
    }
    if (s->min_replicas_to_write > 0 && in_sync < s->min_replicas_to_write)
        reason(rep, HEALTH_FAILING, "only %lld of %lld required replicas are in sync",
               (long long)in_sync, (long long)s->min_replicas_to_write);
}

const char *health_level_name(int level)
{
    switch (level) {
    case HEALTH_HEALTHY: return "healthy";
    case HEALTH_DEGRADED: return "degraded";
    default: return "failing";
    }
}

const char *health_state_name(int state)
{
    switch (state) {
    case NODE_UP: return "up";
    case NODE_DOWN: return "down";
    case NODE_SUSPECT: return "suspect";
    default: return "unknown";
    }
}

const char *health_role_name(int role)
{
    switch (role) {
    case ROLE_MASTER: return "master";
    case ROLE_REPLICA: return "replica";
    default: return NULL;
    }
}

const char *health_link_name(int link)
{
    switch (link) {
    case LINK_UP: return "up";
    case LINK_DOWN: return "down";
    default: return NULL;
    }
}
