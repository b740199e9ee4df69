/* events.c - event kinds, the log line, journal hand-off and fan-out (see
 * events.h). */
#include "events.h"
#include "log.h"
#include "clock.h"
#include "writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[EV__COUNT] = {
    [EV_NODE_UP] = "node.up",
    [EV_NODE_SUSPECT] = "node.suspect",
    [EV_NODE_DOWN] = "node.down",
    [EV_NODE_ROLE] = "node.role",
    [EV_NODE_MASTER] = "node.master",
    [EV_NODE_RESTARTED] = "node.restarted",
    [EV_NODE_FENCED] = "node.fenced",
    [EV_LINK_UP] = "link.up",
    [EV_LINK_DOWN] = "link.down",
    [EV_LAG_HIGH] = "lag.high",
    [EV_LAG_OK] = "lag.ok",
    [EV_NODE_REGISTERED] = "node.registered",
    [EV_NODE_DELETED] = "node.deleted",
    [EV_NODE_MAINTENANCE_ON] = "node.maintenance.on",
    [EV_NODE_MAINTENANCE_OFF] = "node.maintenance.off",
    [EV_NODE_PRIORITY] = "node.priority",
    [EV_CLUSTER_CREATED] = "cluster.created",
    [EV_CLUSTER_DISCOVERED] = "cluster.discovered",
    [EV_CLUSTER_SETTINGS] = "cluster.settings",
    [EV_CLUSTER_DELETED] = "cluster.deleted",
    [EV_CLUSTER_MASTER] = "cluster.master",
    [EV_REPLICA_ADDED] = "replica.added",
    [EV_REPLICA_REMOVED] = "replica.removed",
    [EV_REPLICA_DETACHED] = "replica.detached",
    [EV_REPLICA_DETACH_FAILED] = "replica.detach_failed",
    [EV_RECONCILE_REPLICAOF] = "reconcile.replicaof",
    [EV_RECONCILE_PROMOTE] = "reconcile.promote",
    [EV_RECONCILE_CONFIRM] = "reconcile.confirm",
    [EV_ACTION_OK] = "action.ok",
    [EV_ACTION_FAILED] = "action.failed",
    [EV_MASTER_FAILED] = "master.failed",
    [EV_FAILOVER_BLOCKED] = "failover.blocked",
    [EV_FAILOVER_STARTED] = "failover.started",
    [EV_FAILOVER_STEP] = "failover.step",
    [EV_FAILOVER_DONE] = "failover.done",
    [EV_FAILOVER_FAILED] = "failover.failed",
    [EV_FAILOVER_ACKED] = "failover.acked",
    [EV_SWITCHOVER_STARTED] = "switchover.started",
    [EV_SWITCHOVER_DONE] = "switchover.done",
    [EV_SWITCHOVER_ABORTED] = "switchover.aborted",
    [EV_SWITCHOVER_SCHEDULED] = "switchover.scheduled",
    [EV_SWITCHOVER_CANCELLED] = "switchover.cancelled",
    [EV_RESYNC_PARTIAL] = "resync.partial",
    [EV_RESYNC_FULL] = "resync.full",
    [EV_HOOK_COMMAND] = "hook.command",
    [EV_HOOK_WEBHOOK] = "hook.webhook",
};

#define MAX_SUBSCRIBERS 8

struct events {
    struct writer *writer;
    int nsubs;
    ev_subscriber subs[MAX_SUBSCRIBERS];
    void *sub_args[MAX_SUBSCRIBERS];
};

const char *ev_kind_name(enum ev_kind k)
{
    if ((int)k < 0 || k >= EV__COUNT || kind_names[k] == NULL)
        return "unknown";
    return kind_names[k];
}

int ev_kind_parse(const char *name)
{
    for (int i = 0; i < EV__COUNT; i++)
        if (kind_names[i] != NULL && strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

struct events *events_new(struct writer *w)
{
    struct events *es = calloc(1, sizeof(*es));
    if (es != NULL)
        es->writer = w;
    return es;
}

void events_free(struct events *es)
{
    free(es);
}

int events_subscribe(struct events *es, ev_subscriber fn, void *arg)
{
    if (es->nsubs >= MAX_SUBSCRIBERS)
        return -1;
    es->subs[es->nsubs] = fn;
    es->sub_args[es->nsubs] = arg;
    es->nsubs++;
    return 0;
}

void ev_init(struct ev *e, enum ev_kind kind, const char *cluster, const char *node,
             const char *actor)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->ts_ms = clock_wall_ms();
    if (cluster != NULL)
        snprintf(e->cluster, sizeof(e->cluster), "%s", cluster);
    if (node != NULL)
        snprintf(e->node, sizeof(e->node), "%s", node);
    snprintf(e->actor, sizeof(e->actor), "%s", actor != NULL ? actor : "controller");
}

void ev_printf(struct ev *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

static void log_line(const struct ev *e)
{
    int warn = e->kind == EV_NODE_DOWN || e->kind == EV_MASTER_FAILED ||
               e->kind == EV_FAILOVER_FAILED || e->kind == EV_ACTION_FAILED ||
               e->kind == EV_FAILOVER_BLOCKED || e->kind == EV_SWITCHOVER_ABORTED ||
               e->kind == EV_RESYNC_FULL;
    ctl_log(warn ? CTL_LOG_WARNING : CTL_LOG_NOTICE, "event %s%s%s%s%s: %s (by %s)",
            ev_kind_name(e->kind), e->cluster[0] ? " cluster=" : "", e->cluster,
            e->node[0] ? " node=" : "", e->node, e->msg, e->actor);
}

static void fan_out(struct events *es, const struct ev *e)
{
    for (int i = 0; i < es->nsubs; i++)
        es->subs[i](es->sub_args[i], e);
}

void events_emit(struct events *es, const struct ev *e)
{
    log_line(e);
    if (es == NULL)
        return;
    if (es->writer != NULL)
        writer_event(es->writer, e->ts_ms > 0 ? e->ts_ms : clock_wall_ms(),
                     e->cluster[0] ? e->cluster : NULL, e->node[0] ? e->node : NULL,
                     ev_kind_name(e->kind), e->actor, e->msg);
    fan_out(es, e);
}

void events_notify(struct events *es, const struct ev *e)
{
    log_line(e);
    if (es != NULL)
        fan_out(es, e);
}

void events_say(struct events *es, enum ev_kind kind, const char *cluster, const char *node,
                const char *actor, const char *fmt, ...)
{
    struct ev e;
    ev_init(&e, kind, cluster, node, actor);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    events_emit(es, &e);
}
