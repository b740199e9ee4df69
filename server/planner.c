/* planner.c - per-cluster decisions (see planner.h for the rules). */
#include "planner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

#define VERDICT(out, ...) say((out)->verdict, sizeof((out)->verdict), __VA_ARGS__)

const char *planner_action_name(int type)
{
    switch (type) {
    case PLAN_REPLICAOF: return "replicaof";
    case PLAN_PROMOTE: return "promote";
    case PLAN_CONFIRM: return "confirm";
    case PLAN_FAILOVER: return "failover";
    default: return "none";
    }
}

const char *planner_master_verdict_name(int v)
{
    switch (v) {
    case PLAN_MASTER_OK: return "ok";
    case PLAN_MASTER_SUSPECT: return "suspect";
    case PLAN_MASTER_UNCONFIRMED: return "unconfirmed";
    case PLAN_MASTER_FAILED: return "failed";
    default: return "none";
    }
}

static struct plan_action *add_action(struct plan_output *out, int type,
                                      const struct plan_member *m)
{
    if (out->nact >= sizeof(out->act) / sizeof(out->act[0]))
        return NULL;
    struct plan_action *a = &out->act[out->nact++];
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->node_id = m->id;
    a->node = m->name;
    a->host = m->host;
    a->port = m->port;
    return a;
}

static int replicates_from(const struct node_obs *o, const struct plan_member *master)
{
    return master != NULL && o->role == ROLE_REPLICA && o->master_port == master->port &&
           strcmp(o->master_host, master->host) == 0;
}

/* Highest offset among reachable replicas of the master, -1 when none. */
static int64_t best_replica_offset(const struct plan_input *in)
{
    int64_t best = -1;
    for (size_t i = 0; i < in->nreplicas; i++) {
        const struct node_obs *o = in->replicas[i].obs;
        if (o->state == NODE_UP && replicates_from(o, in->master) && o->offset > best)
            best = o->offset;
    }
    return best;
}

/* The offset the master is known to have reached: its last poll, or what it
 * held before a restart. */
static int64_t master_known_offset(const struct node_obs *mo)
{
    int64_t off = mo->offset;
    if (mo->restart_mono != 0 && mo->prev_offset > off)
        off = mo->prev_offset;
    return off;
}

/* Rule 2, restart half: 1 when the master came back with less data than its
 * best replica. Sets restart_accepted when it came back whole. */
static int restarted_older(const struct plan_input *in, struct plan_output *out)
{
    const struct node_obs *mo = in->master->obs;
    if (mo->restart_mono == 0 || mo->state != NODE_UP)
        return 0;
    int64_t best = best_replica_offset(in);
    if (best < 0 && in->nreplicas > 0) {
        /* Nobody to compare with: neither fail it over nor accept it; a
         * fenced master stays fenced until a replica can be asked. */
        out->restart_pending = 1;
        return 0;
    }
    if (best >= 0 && mo->offset < best) {
        VERDICT(out, "master %s restarted with an empty or older dataset (offset %lld, best "
                     "replica at %lld): following it would wipe the replicas",
                in->master->name, (long long)mo->offset, (long long)best);
        return 1;
    }
    out->restart_accepted = 1;
    return 0;
}

/* Does replica r still hear from the master? Writes why into buf. */
static int replica_hears_master(const struct plan_input *in, const struct node_obs *o,
                                char *buf, size_t len)
{
    int64_t limit_ms = in->settings->down_after_ms + in->ping_period_ms;
    if (o->link != LINK_UP) {
        say(buf, len, "link down");
        return 0;
    }
    if (o->master_last_io_s >= 0 && o->master_last_io_s * 1000 >= limit_ms) {
        say(buf, len, "no I/O from the master for %lld s", (long long)o->master_last_io_s);
        return 0;
    }
    say(buf, len, "link up, last I/O %lld s ago", (long long)o->master_last_io_s);
    return 1;
}

/* Rule 2: is the master gone? */
static int judge_master(const struct plan_input *in, struct plan_output *out)
{
    if (in->master == NULL) {
        VERDICT(out, "cluster %s has no master", in->cluster);
        return PLAN_MASTER_NONE;
    }
    const struct node_obs *mo = in->master->obs;
    if (restarted_older(in, out))
        return PLAN_MASTER_FAILED;
    if (mo->state == NODE_UP) {
        VERDICT(out, "master %s is up", in->master->name);
        return PLAN_MASTER_OK;
    }
    if (mo->state != NODE_DOWN) {
        VERDICT(out, "master %s is %s, not down for %lld ms yet", in->master->name,
                mo->state == NODE_SUSPECT ? "suspect" : "not yet observed",
                (long long)in->settings->down_after_ms);
        return mo->state == NODE_SUSPECT ? PLAN_MASTER_SUSPECT : PLAN_MASTER_OK;
    }
    int reachable = 0, witnesses = 0;
    for (size_t i = 0; i < in->nreplicas; i++) {
        const struct plan_member *r = &in->replicas[i];
        const struct node_obs *o = r->obs;
        if (o->state != NODE_UP)
            continue;
        reachable++;
        if (!replicates_from(o, in->master))
            continue;           /* no view of this master: neither confirms nor vetoes */
        witnesses++;
        char why[120];
        if (replica_hears_master(in, o, why, sizeof(why))) {
            VERDICT(out, "master %s is unreachable from the controller, but replica %s still "
                         "hears from it (%s): the controller is cut off, not the master",
                    in->master->name, r->name, why);
            return PLAN_MASTER_UNCONFIRMED;
        }
    }
    if (reachable == 0) {
        VERDICT(out, "master %s is down, but no replica is reachable to confirm it: nothing "
                     "is done",
                in->master->name);
        return PLAN_MASTER_UNCONFIRMED;
    }
    if (witnesses == 0) {
        VERDICT(out, "master %s is down, but no reachable replica replicates from it to "
                     "confirm",
                in->master->name);
        return PLAN_MASTER_UNCONFIRMED;
    }
    VERDICT(out, "master %s is down (%s) and all %d reachable replica(s) lost their link to it",
            in->master->name, mo->fail_msg[0] ? mo->fail_msg : "no answer", witnesses);
    return PLAN_MASTER_FAILED;
}

/* How long ago a replica may last have been linked to count as a candidate. */
static int64_t recent_window_ms(const struct plan_input *in)
{
    int64_t w = in->settings->down_after_ms * 3;
    return w > 10000 ? w : 10000;
}

/* "Recently" is measured back from when the master was last reached, not
 * from now: a replica linked until the master died stays a candidate
 * however long the master has been gone (cooldown, manual failover later). */
static int linked_recently(const struct plan_input *in, const struct node_obs *o)
{
    int64_t w = recent_window_ms(in);
    if (o->link == LINK_UP)
        return 1;
    int64_t ref = in->now_mono, back = 0;
    const struct node_obs *mo = in->master != NULL ? in->master->obs : NULL;
    if (mo != NULL && mo->state != NODE_UP && mo->last_ok_mono > 0 &&
        mo->last_ok_mono < in->now_mono) {
        ref = mo->last_ok_mono;
        back = in->now_mono - mo->last_ok_mono;
    }
    if (o->link_up_mono > 0 && ref - o->link_up_mono <= w)
        return 1;
    return o->link_down_since_s >= 0 && o->link_down_since_s * 1000 - back <= w;
}

/* Why a replica cannot be promoted; NULL-terminated reason in buf, return 0
 * when it can. */
static int exclusion(const struct plan_input *in, const struct plan_member *r, int64_t lag,
                     int need_link_now, char *buf, size_t len)
{
    const struct node_obs *o = r->obs;
    const struct plan_member *m = in->master;
    if (r->maintenance)
        return say(buf, len, "in maintenance"), 1;
    if (r->priority <= 0)
        return say(buf, len, "priority 0 (never promoted)"), 1;
    if (o->replica_priority == 0)
        return say(buf, len, "the node's replica-priority is 0"), 1;
    if (o->state != NODE_UP)
        return say(buf, len, "not reachable (%s)", health_state_name(o->state)), 1;
    if (o->loading)
        return say(buf, len, "still loading its dataset"), 1;
    if (o->role != ROLE_REPLICA)
        return say(buf, len, "not a replica (role master)"), 1;
    if (m != NULL && !replicates_from(o, m))
        return say(buf, len, "replicates from %s:%d, not from the master", o->master_host,
                   o->master_port), 1;
    if (need_link_now && o->link != LINK_UP)
        return say(buf, len, "its link to the master is down"), 1;
    if (!linked_recently(in, o))
        return say(buf, len, "not linked to the master in the last %lld ms",
                   (long long)recent_window_ms(in)), 1;
    if (o->offset < 0)
        return say(buf, len, "replication offset unknown"), 1;
    int64_t max_lag = in->settings->max_lag_on_failover;
    if (max_lag > 0 && lag > max_lag)
        return say(buf, len, "lags %lld bytes behind the master (max_lag_on_failover %lld)",
                   (long long)lag, (long long)max_lag), 1;
    return 0;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct plan_candidate *x = a, *y = b;
    if (x->eligible != y->eligible)
        return y->eligible - x->eligible;
    const struct node_obs *ox = x->m->obs, *oy = y->m->obs;
    if (ox->offset != oy->offset)
        return ox->offset > oy->offset ? -1 : 1;
    if (x->m->priority != y->m->priority)
        return x->m->priority < y->m->priority ? -1 : 1;
    return strcmp(x->m->name, y->m->name);
}

/* Rule 3's candidate list: every replica, eligible first in rank order,
 * each with the reason of its place or exclusion. */
static void rank_candidates(const struct plan_input *in, int need_link_now,
                            struct plan_output *out)
{
    int64_t ref = in->master != NULL ? master_known_offset(in->master->obs) : -1;
    out->ncand = 0;
    for (size_t i = 0; i < in->nreplicas && out->ncand < PLAN_MAX_MEMBERS; i++) {
        const struct plan_member *r = &in->replicas[i];
        struct plan_candidate *c = &out->cand[out->ncand++];
        memset(c, 0, sizeof(*c));
        c->m = r;
        c->lag_bytes = health_lag_bytes(ref, r->obs->offset);
        c->eligible = !exclusion(in, r, c->lag_bytes, need_link_now, c->reason,
                                 sizeof(c->reason));
    }
    qsort(out->cand, out->ncand, sizeof(out->cand[0]), cand_cmp);
    int rank = 0;
    for (size_t i = 0; i < out->ncand; i++) {
        struct plan_candidate *c = &out->cand[i];
        if (!c->eligible)
            continue;
        c->rank = ++rank;
        say(c->reason, sizeof(c->reason), "rank %d: offset %lld (%lld bytes behind), priority %d",
            rank, (long long)c->m->obs->offset, (long long)(c->lag_bytes < 0 ? 0 : c->lag_bytes),
            c->m->priority);
    }
}

/* The chosen candidate: the operator's pick if eligible, else the best. */
static const struct plan_candidate *choose(const struct plan_input *in, struct plan_output *out)
{
    for (size_t i = 0; i < out->ncand; i++) {
        const struct plan_candidate *c = &out->cand[i];
        if (in->want == NULL) {
            if (c->eligible)
                return c;
            continue;
        }
        if (strcmp(c->m->name, in->want) == 0) {
            if (c->eligible)
                return c;
            say(out->verdict + strlen(out->verdict), sizeof(out->verdict) - strlen(out->verdict),
                "; requested candidate %s is not eligible: %s", in->want, c->reason);
            return NULL;
        }
    }
    size_t used = strlen(out->verdict);
    if (in->want != NULL) {
        say(out->verdict + used, sizeof(out->verdict) - used,
            "; requested candidate %s is not a replica of this cluster", in->want);
        return NULL;
    }
    say(out->verdict + used, sizeof(out->verdict) - used, "; no candidate:");
    for (size_t i = 0; i < out->ncand; i++) {
        used = strlen(out->verdict);
        say(out->verdict + used, sizeof(out->verdict) - used, "%s %s: %s", i ? ";" : "",
            out->cand[i].m->name, out->cand[i].reason);
    }
    if (out->ncand == 0) {
        used = strlen(out->verdict);
        say(out->verdict + used, sizeof(out->verdict) - used, " the cluster has no replica");
    }
    return NULL;
}

static void append_verdict(struct plan_output *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void append_verdict(struct plan_output *out, const char *fmt, ...)
{
    size_t used = strlen(out->verdict);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->verdict + used, sizeof(out->verdict) - used, fmt, ap);
    va_end(ap);
}

/* Rule 3: may we fail over now? */
static int failover_allowed(const struct plan_input *in, struct plan_output *out)
{
    if (in->force)
        return 1;
    if (!in->manual && !in->settings->auto_failover) {
        append_verdict(out, "; automatic failover is disabled for this cluster");
        out->block_reason = PLAN_BLOCK_DISABLED;
        return 0;
    }
    int64_t cd = in->settings->failover_cooldown_ms;
    if (!in->manual && in->last_failover_mono > 0 && !in->last_failover_acked &&
        in->now_mono - in->last_failover_mono < cd) {
        append_verdict(out, "; cooldown: the last automatic failover was %lld ms ago "
                            "(failover_cooldown_ms %lld; acknowledge it or force)",
                       (long long)(in->now_mono - in->last_failover_mono), (long long)cd);
        out->block_reason = PLAN_BLOCK_COOLDOWN;
        return 0;
    }
    return 1;
}

/* The chosen candidate becomes a PLAN_FAILOVER action; NULL (and blocked)
 * when there is none. */
static struct plan_action *promote_choice(const struct plan_input *in, struct plan_output *out,
                                          const struct plan_candidate **chosen)
{
    const struct plan_candidate *c = choose(in, out);
    struct plan_action *a = c != NULL ? add_action(out, PLAN_FAILOVER, c->m) : NULL;
    if (a == NULL) {
        out->failover_blocked = 1;
        out->block_reason = PLAN_BLOCK_NO_CANDIDATE;
    }
    *chosen = c;
    return a;
}

static void plan_failover(const struct plan_input *in, struct plan_output *out)
{
    if (!failover_allowed(in, out)) {
        out->failover_blocked = 1;
        return;
    }
    const struct plan_candidate *c;
    struct plan_action *a = promote_choice(in, out, &c);
    if (a != NULL)
        say(a->reason, sizeof(a->reason), "%s; promote %s (%s)", out->verdict, c->m->name,
            c->reason);
}

/* Rule 4 for the desired master. */
static void reconcile_master(const struct plan_input *in, struct plan_output *out)
{
    const struct plan_member *m = in->master;
    const struct node_obs *o = m->obs;
    if (m->maintenance || o->state != NODE_UP || o->role == ROLE_UNKNOWN)
        return;
    struct plan_action *a = NULL;
    if (o->role == ROLE_REPLICA) {
        if ((a = add_action(out, PLAN_PROMOTE, m)) != NULL)
            say(a->reason, sizeof(a->reason), "desired master replicates from %s:%d",
                o->master_host, o->master_port);
    } else if (o->fenced && out->restart_pending) {
        append_verdict(out, "; master %s restarted and no replica can be asked whether it "
                            "kept its data: it stays fenced", m->name);
    } else if (o->fenced) {
        if ((a = add_action(out, PLAN_CONFIRM, m)) != NULL)
            say(a->reason, sizeof(a->reason), "desired master is fenced%s; confirming it",
                o->restart_mono ? " after a restart that kept its data" : "");
    }
}

/* Rule 4 for replicas. */
static void reconcile_replicas(const struct plan_input *in, struct plan_output *out)
{
    const struct plan_member *m = in->master;
    for (size_t i = 0; i < in->nreplicas; i++) {
        const struct plan_member *r = &in->replicas[i];
        const struct node_obs *o = r->obs;
        if (r->maintenance || o->state != NODE_UP || o->role == ROLE_UNKNOWN)
            continue;
        char why[PLAN_REASON_LEN];
        if (o->role == ROLE_MASTER)
            say(why, sizeof(why), "%s claims a mastership it does not hold%s", r->name,
                o->fenced ? " (fenced)" : "");
        else if (!replicates_from(o, m))
            say(why, sizeof(why), "replica replicates from %s:%d, wants %s:%d", o->master_host,
                o->master_port, m->host, m->port);
        else
            continue;
        struct plan_action *a = add_action(out, PLAN_REPLICAOF, r);
        if (a == NULL)
            return;
        a->target_host = m->host;
        a->target_port = m->port;
        snprintf(a->reason, sizeof(a->reason), "%s", why);
    }
}

static void plan_switchover(const struct plan_input *in, struct plan_output *out)
{
    if (out->master != PLAN_MASTER_OK || in->master == NULL ||
        in->master->obs->state != NODE_UP) {
        append_verdict(out, "; a switchover needs a master that is up (use failover)");
        out->failover_blocked = 1;
        out->block_reason = PLAN_BLOCK_MASTER_DOWN;
        return;
    }
    const struct plan_candidate *c;
    struct plan_action *a = promote_choice(in, out, &c);
    if (a != NULL)
        say(a->reason, sizeof(a->reason), "planned switchover from %s to %s (%s)",
            in->master->name, c->m->name, c->reason);
}

void planner_run(const struct plan_input *in, struct plan_output *out)
{
    memset(out, 0, sizeof(*out));
    out->master = judge_master(in, out);
    rank_candidates(in, in->switchover, out);
    if (in->op_in_progress) {
        append_verdict(out, "; a failover or switchover is in progress: nothing else is planned");
        out->failover_blocked = in->manual || in->switchover;
        out->block_reason = out->failover_blocked ? PLAN_BLOCK_BUSY : PLAN_BLOCK_NONE;
        return;
    }
    if (in->switchover) {
        plan_switchover(in, out);
        return;
    }
    if (out->master == PLAN_MASTER_FAILED || in->force ||
        (in->manual && out->master != PLAN_MASTER_NONE)) {
        if (in->manual && !in->force && out->master != PLAN_MASTER_FAILED) {
            append_verdict(out, "; the master has not failed: use a switchover, or force");
            out->failover_blocked = 1;
            out->block_reason = PLAN_BLOCK_NOT_FAILED;
            return;
        }
        plan_failover(in, out);
        return;
    }
    if (!in->reconcile || in->master == NULL)
        return;
    /* While the master is suspect or unconfirmed, leave everyone where they
     * are: re-pointing replicas now could only fight a failover to come. */
    if (out->master != PLAN_MASTER_OK)
        return;
    reconcile_master(in, out);
    reconcile_replicas(in, out);
}

const char *planner_block_name(int reason)
{
    switch (reason) {
    case PLAN_BLOCK_NO_CANDIDATE: return "no_candidate";
    case PLAN_BLOCK_DISABLED: return "auto_failover_disabled";
    case PLAN_BLOCK_COOLDOWN: return "cooldown";
    case PLAN_BLOCK_NOT_FAILED: return "master_not_failed";
    case PLAN_BLOCK_MASTER_DOWN: return "master_not_up";
    case PLAN_BLOCK_BUSY: return "operation_running";
    default: return "none";
    }
}
