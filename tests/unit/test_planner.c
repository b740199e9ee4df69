/* test_planner.c - the decide stage: planner_run() over a table of cluster
 * situations. Every rule and every exclusion reason of server/planner.h has
 * a case; each case is its own cmocka test, named after the situation.
 *
 * A case starts from one healthy cluster (fx_init): master m (10.0.0.1,
 * offset 10000) and replicas r1 (10.0.0.2, offset 9000), r2 (10.0.0.3,
 * offset 10000), r3 (10.0.0.4, offset 9500), all up, linked, priority 100,
 * default cluster settings (down-after 1000 ms, so the "linked recently"
 * window is 10000 ms and the "no I/O" limit 2000 ms with a 1000 ms ping
 * period), now = 100000 ms. Its mutate function turns it into the situation;
 * the expectations are checked exactly: master verdict, the failover action
 * (node, or none), failover_blocked, restart_accepted, substrings of the
 * verdict, every other action in order (type, node, target, reason), and
 * selected candidates (eligible, rank, reason, lag). Every case also checks
 * the candidate list's invariants (one entry per replica, eligible first,
 * ranks 1..k). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/health.h"
#include "../../server/planner.h"

#define NOW 100000
#define MAXR 6

struct fx {
    struct cluster_settings s;
    struct node_obs mo, ro[MAXR];
    struct plan_member m, r[MAXR];
    struct plan_input in;
};

static const char *const rnames[MAXR] = { "r1", "r2", "r3", "r4", "r5", "r6" };
static const char *const rhosts[MAXR] = { "10.0.0.2", "10.0.0.3", "10.0.0.4",
                                          "10.0.0.5", "10.0.0.6", "10.0.0.7" };
static const int64_t roffsets[MAXR] = { 9000, 10000, 9500, 8000, 7000, 6000 };

static void fx_init(struct fx *f, size_t n)
{
    memset(f, 0, sizeof(*f));
    health_settings_default(&f->s);
    health_obs_init(&f->mo);
    f->mo.state = NODE_UP;
    f->mo.role = ROLE_MASTER;
    f->mo.offset = 10000;
    f->mo.last_ok_mono = NOW - 100;
    f->mo.replica_priority = 100;
    f->mo.replicas_connected = (int)n;
    snprintf(f->mo.run_id, sizeof(f->mo.run_id), "%s", "1111111111111111111111111111111111111111");
    f->m = (struct plan_member){ .id = 1, .name = "m", .host = "10.0.0.1", .port = 6379,
                                 .priority = 100, .obs = &f->mo };
    for (size_t i = 0; i < n; i++) {
        struct node_obs *o = &f->ro[i];
        health_obs_init(o);
        o->state = NODE_UP;
        o->role = ROLE_REPLICA;
        snprintf(o->master_host, sizeof(o->master_host), "%s", "10.0.0.1");
        o->master_port = 6379;
        o->link = LINK_UP;
        o->offset = roffsets[i];
        o->link_up_mono = NOW - 100;
        o->last_ok_mono = NOW - 100;
        o->master_last_io_s = 0;
        o->replica_priority = 100;
        f->r[i] = (struct plan_member){ .id = 2 + (int64_t)i, .name = rnames[i],
                                        .host = rhosts[i], .port = 6379, .priority = 100,
                                        .obs = o };
    }
    f->in = (struct plan_input){ .cluster = "c1", .settings = &f->s, .master = &f->m,
                                 .replicas = f->r, .nreplicas = n, .now_mono = NOW,
                                 .ping_period_ms = 1000, .reconcile = 1 };
}

/* The controller has not reached the master for 3 s and every replica
 * reports its link to it down since 3 s. */
static void master_down(struct fx *f)
{
    f->mo.state = NODE_DOWN;
    f->mo.last_ok_mono = NOW - 3000;
    f->mo.first_fail_mono = NOW - 2900;
    f->mo.failures = 3;
    f->mo.fail_kind = FAIL_TIMEOUT;
    snprintf(f->mo.fail_msg, sizeof(f->mo.fail_msg), "%s", "timeout");
    for (size_t i = 0; i < MAXR; i++) {
        f->ro[i].link = LINK_DOWN;
        f->ro[i].master_last_io_s = -1;
        f->ro[i].link_down_since_s = 3;
        f->ro[i].link_up_mono = NOW - 3000;
    }
}

static void set_master_of(struct node_obs *o, const char *host, int port)
{
    snprintf(o->master_host, sizeof(o->master_host), "%s", host);
    o->master_port = port;
}

static void claim_master(struct node_obs *o)
{
    o->role = ROLE_MASTER;
    o->master_host[0] = '\0';
    o->master_port = 0;
    o->link = LINK_NONE;
    o->master_last_io_s = -1;
}

/* Master m restarted (new run id) 500 ms ago holding `off`; it held 10000. */
static void master_restarted(struct fx *f, int64_t off)
{
    snprintf(f->mo.prev_run_id, sizeof(f->mo.prev_run_id), "%s", f->mo.run_id);
    snprintf(f->mo.run_id, sizeof(f->mo.run_id), "%s", "2222222222222222222222222222222222222222");
    f->mo.prev_offset = 10000;
    f->mo.offset = off;
    f->mo.restart_mono = NOW - 500;
}

#define MUT(fn, ...)                       \
    static void fn(struct fx *f)           \
    {                                      \
        (void)f;                           \
        __VA_ARGS__                        \
    }

struct exp_act {
    int type;                  /* 0 ends the list */
    const char *node;
    const char *target_host;   /* NULL: no target (PROMOTE, CONFIRM) */
    const char *reason;        /* substring */
};

struct exp_cand {
    const char *node;          /* NULL ends the list */
    int eligible;
    int rank;
    const char *reason;        /* substring, NULL: not checked */
    int check_lag;
    int64_t lag;
};

struct pcase {
    const char *name;
    void (*mutate)(struct fx *);
    size_t nreplicas;          /* 0: 3 */
    int master;                /* PLAN_MASTER_* */
    const char *failover;      /* candidate of the PLAN_FAILOVER action, NULL: none */
    const char *failover_reason;
    int blocked;
    int restart_accepted;
    const char *verdict[4];    /* substrings of out.verdict */
    struct exp_act act[5];     /* every action but the failover, in order */
    struct exp_cand cand[4];
};

static void expect_sub(const char *what, const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        print_error("%s: expected \"%s\" in \"%s\"\n", what, needle, hay);
        fail();
    }
}

static const struct plan_member *member_named(const struct fx *f, const char *name)
{
    if (f->in.master != NULL && strcmp(f->in.master->name, name) == 0)
        return f->in.master;
    for (size_t i = 0; i < f->in.nreplicas; i++)
        if (strcmp(f->r[i].name, name) == 0)
            return &f->r[i];
    return NULL;
}

static void check_invariants(const struct fx *f, const struct plan_output *out)
{
    assert_int_equal(out->ncand, f->in.nreplicas);
    int rank = 0, seen_ineligible = 0;
    for (size_t i = 0; i < out->ncand; i++) {
        const struct plan_candidate *c = &out->cand[i];
        assert_non_null(c->m);
        assert_true(c->reason[0] != '\0');
        if (c->eligible) {
            assert_false(seen_ineligible);      /* eligible ones come first */
            assert_int_equal(c->rank, ++rank);
            char want[32];
            snprintf(want, sizeof(want), "rank %d: offset", rank);
            expect_sub(c->m->name, c->reason, want);
        } else {
            seen_ineligible = 1;
            assert_int_equal(c->rank, 0);
        }
    }
}

static void check_output(const struct pcase *pc, const struct fx *f, const struct plan_output *out)
{
    if (out->master != pc->master)
        print_error("verdict: %s\n", out->verdict);
    assert_string_equal(planner_master_verdict_name(out->master),
                        planner_master_verdict_name(pc->master));
    if (out->failover_blocked != pc->blocked)
        print_error("verdict: %s\n", out->verdict);
    assert_int_equal(out->failover_blocked, pc->blocked);
    assert_int_equal(out->restart_accepted, pc->restart_accepted);
    for (size_t i = 0; i < 4 && pc->verdict[i] != NULL; i++)
        expect_sub("verdict", out->verdict, pc->verdict[i]);

    /* The failover action. */
    size_t nfail = 0;
    for (size_t i = 0; i < out->nact; i++) {
        const struct plan_action *a = &out->act[i];
        if (a->type != PLAN_FAILOVER)
            continue;
        nfail++;
        if (pc->failover == NULL) {
            print_error("unexpected failover to %s: %s\n", a->node, a->reason);
            fail();
        }
        assert_string_equal(a->node, pc->failover);
        const struct plan_member *m = member_named(f, pc->failover);
        assert_non_null(m);
        assert_int_equal(a->node_id, m->id);
        assert_string_equal(a->host, m->host);
        assert_int_equal(a->port, m->port);
        assert_null(a->target_host);
        if (pc->failover_reason != NULL)
            expect_sub("failover reason", a->reason, pc->failover_reason);
        else if (!f->in.switchover) {
            char want[64];
            snprintf(want, sizeof(want), "; promote %s (rank ", pc->failover);
            expect_sub("failover reason", a->reason, want);
        }
    }
    if (pc->failover != NULL && nfail == 0)
        print_error("no failover; verdict: %s\n", out->verdict);
    assert_int_equal(nfail, pc->failover != NULL ? 1 : 0);

    /* Every other action, in order. */
    size_t k = 0;
    for (size_t i = 0; i < out->nact; i++) {
        const struct plan_action *a = &out->act[i];
        if (a->type == PLAN_FAILOVER)
            continue;
        if (k >= 5 || pc->act[k].type == 0) {
            print_error("unexpected %s %s: %s\n", planner_action_name(a->type), a->node,
                        a->reason);
            fail();
        }
        const struct exp_act *e = &pc->act[k++];
        assert_string_equal(planner_action_name(a->type), planner_action_name(e->type));
        assert_string_equal(a->node, e->node);
        const struct plan_member *m = member_named(f, e->node);
        assert_non_null(m);
        assert_int_equal(a->node_id, m->id);
        assert_string_equal(a->host, m->host);
        assert_int_equal(a->port, m->port);
        if (e->target_host != NULL) {
            assert_non_null(a->target_host);
            assert_string_equal(a->target_host, e->target_host);
            assert_int_equal(a->target_port, 6379);
        } else {
            assert_null(a->target_host);
        }
        if (e->reason != NULL)
            expect_sub("action reason", a->reason, e->reason);
    }
    if (k < 5 && pc->act[k].type != 0)
        print_error("missing %s %s\n", planner_action_name(pc->act[k].type), pc->act[k].node);
    assert_true(k >= 5 || pc->act[k].type == 0);

    /* Selected candidates. */
    for (size_t j = 0; j < 4 && pc->cand[j].node != NULL; j++) {
        const struct exp_cand *e = &pc->cand[j];
        const struct plan_candidate *c = NULL;
        for (size_t i = 0; i < out->ncand; i++)
            if (strcmp(out->cand[i].m->name, e->node) == 0)
                c = &out->cand[i];
        if (c == NULL)
            print_error("candidate %s missing\n", e->node);
        assert_non_null(c);
        if (c->eligible != e->eligible)
            print_error("candidate %s: %s\n", e->node, c->reason);
        assert_int_equal(c->eligible, e->eligible);
        assert_int_equal(c->rank, e->rank);
        if (e->reason != NULL)
            expect_sub(e->node, c->reason, e->reason);
        if (e->check_lag)
            assert_int_equal(c->lag_bytes, e->lag);
    }
}

static void run_case(void **state)
{
    const struct pcase *pc = *state;
    struct fx f;
    fx_init(&f, pc->nreplicas ? pc->nreplicas : 3);
    if (pc->mutate != NULL)
        pc->mutate(&f);
    /* Static: a failed assertion leaves the test by longjmp, and valgrind
     * (make test) must not see a leak then. */
    static struct plan_output out;
    memset(&out, 0xa5, sizeof(out));    /* planner_run must set everything */
    planner_run(&f.in, &out);
    check_invariants(&f, &out);
    check_output(pc, &f, &out);
}

/* ---- mutations --------------------------------------------------------- */

MUT(m_master_not_observed, f->mo.state = NODE_UNKNOWN; f->mo.offset = -1;)
MUT(m_master_suspect, f->mo.state = NODE_SUSPECT; f->mo.failures = 1; f->mo.fenced = 1;
    claim_master(&f->ro[0]);)
MUT(m_master_suspect_manual, f->mo.state = NODE_SUSPECT; f->in.manual = 1;)
MUT(m_down, master_down(f);)
MUT(m_down_hears, master_down(f); f->ro[2].link = LINK_UP; f->ro[2].master_last_io_s = 0;)
MUT(m_down_hears_io_unknown, master_down(f); f->ro[2].link = LINK_UP;
    f->ro[2].master_last_io_s = -1;)
MUT(m_down_io_1s, master_down(f); f->ro[2].link = LINK_UP; f->ro[2].master_last_io_s = 1;)
MUT(m_down_io_2s, master_down(f); f->ro[2].link = LINK_UP; f->ro[2].master_last_io_s = 2;
    f->ro[2].link_up_mono = NOW - 100;)
MUT(m_down_io_2s_long_ping, master_down(f); f->in.ping_period_ms = 5000; f->ro[2].link = LINK_UP;
    f->ro[2].master_last_io_s = 2;)
MUT(m_down_io_6s_long_ping, master_down(f); f->in.ping_period_ms = 5000; f->ro[2].link = LINK_UP;
    f->ro[2].master_last_io_s = 6;)
MUT(m_down_no_reachable, master_down(f);
    for (int i = 0; i < 3; i++) f->ro[i].state = NODE_DOWN;)
MUT(m_down_replicas_suspect, master_down(f);
    for (int i = 0; i < 3; i++) f->ro[i].state = NODE_SUSPECT;)
MUT(m_down_replicas_elsewhere, master_down(f);
    for (int i = 0; i < 3; i++) set_master_of(&f->ro[i], "10.0.0.9", 6379);)
MUT(m_down_mixed, master_down(f); f->ro[1].state = NODE_DOWN;
    set_master_of(&f->ro[2], "10.0.0.9", 6379);)
MUT(m_down_replica_is_master, master_down(f); claim_master(&f->ro[2]);)
MUT(m_down_maint_replica_hears, master_down(f); f->r[2].maintenance = 1; f->ro[2].link = LINK_UP;
    f->ro[2].master_last_io_s = 0;)
/* ranking */
MUT(m_rank_offset_first, master_down(f); f->ro[0].offset = 9999; f->r[0].priority = 1;
    f->r[1].priority = 200;)
MUT(m_rank_priority, master_down(f); f->ro[0].offset = 10000; f->r[0].priority = 50;)
MUT(m_rank_name, master_down(f); f->r[1].name = "r3"; f->r[2].name = "r2";
    f->ro[2].offset = 10000;)
/* exclusions: r2 (the best) is excluded, r3 is next */
/* The "linked recently" window at its edges, measured while the master is
 * up (a forced failover), so that "recently" can only mean "before now". */
static void r2_link_down_force(struct fx *f)
{
    f->in.force = 1;
    f->ro[1].link = LINK_DOWN;
    f->ro[1].master_last_io_s = -1;
}
MUT(m_x_maintenance, master_down(f); f->r[1].maintenance = 1;)
MUT(m_x_priority0, master_down(f); f->r[1].priority = 0;)
MUT(m_x_replica_priority0, master_down(f); f->ro[1].replica_priority = 0;)
MUT(m_replica_priority_unknown, master_down(f); f->ro[1].replica_priority = -1;)
MUT(m_x_suspect, master_down(f); f->ro[1].state = NODE_SUSPECT;)
MUT(m_x_down, master_down(f); f->ro[1].state = NODE_DOWN;)
MUT(m_x_loading, master_down(f); f->ro[1].loading = 1;)
MUT(m_x_role_master, master_down(f); claim_master(&f->ro[1]);)
MUT(m_x_other_host, master_down(f); set_master_of(&f->ro[1], "10.0.0.9", 6379);)
MUT(m_x_other_port, master_down(f); set_master_of(&f->ro[1], "10.0.0.1", 6380);)
MUT(m_x_not_linked, master_down(f); f->ro[1].link_up_mono = NOW - 20000;
    f->ro[1].link_down_since_s = -1;)
MUT(m_linked_window_edge, r2_link_down_force(f); f->ro[1].link_up_mono = NOW - 10000;
    f->ro[1].link_down_since_s = -1;)
MUT(m_x_linked_window_past, r2_link_down_force(f); f->ro[1].link_up_mono = NOW - 10001;
    f->ro[1].link_down_since_s = -1;)
MUT(m_linked_by_down_since, r2_link_down_force(f); f->ro[1].link_up_mono = 0;
    f->ro[1].link_down_since_s = 10;)
MUT(m_x_down_since_too_long, r2_link_down_force(f); f->ro[1].link_up_mono = 0;
    f->ro[1].link_down_since_s = 11;)
MUT(m_window_scales, r2_link_down_force(f); f->s.down_after_ms = 5000;
    f->ro[1].link_up_mono = NOW - 14000; f->ro[1].link_down_since_s = -1;)
MUT(m_x_window_scales, r2_link_down_force(f); f->s.down_after_ms = 5000;
    f->ro[1].link_up_mono = NOW - 16000; f->ro[1].link_down_since_s = -1;)
MUT(m_linked_now_without_history, master_down(f); f->ro[1].link = LINK_UP;
    f->ro[1].master_last_io_s = 5; f->ro[1].link_up_mono = 0; f->ro[1].link_down_since_s = -1;)
MUT(m_x_offset_unknown, master_down(f); f->ro[1].offset = -1;)
MUT(m_x_lag, master_down(f); f->s.max_lag_on_failover = 600;)
MUT(m_lag_edge, master_down(f); f->s.max_lag_on_failover = 1000;)
MUT(m_lag_no_limit, master_down(f); f->s.max_lag_on_failover = 0; f->mo.offset = 50000000;)
MUT(m_x_lag_default_all, master_down(f); f->mo.offset = 50000000;)
MUT(m_lag_ref_prev_offset, master_down(f); master_restarted(f, 0); f->mo.prev_offset = 10600;
    f->s.max_lag_on_failover = 1000;)
/* no candidate */
MUT(m_no_candidate, master_down(f); f->r[0].maintenance = 1; f->r[1].priority = 0;
    f->ro[2].loading = 1;)
MUT(m_force_no_replicas, master_down(f); f->in.nreplicas = 0; f->in.force = 1;)
/* auto_failover */
MUT(m_auto_off, master_down(f); f->s.auto_failover = 0;)
MUT(m_auto_off_manual, master_down(f); f->s.auto_failover = 0; f->in.manual = 1;)
MUT(m_auto_off_force, master_down(f); f->s.auto_failover = 0; f->in.force = 1;)
/* cooldown */
MUT(m_cooldown, master_down(f); f->in.last_failover_mono = NOW - 1000;)
MUT(m_cooldown_edge, master_down(f); f->in.last_failover_mono = NOW - 59999;)
MUT(m_cooldown_acked, master_down(f); f->in.last_failover_mono = NOW - 1000;
    f->in.last_failover_acked = 1;)
MUT(m_cooldown_force, master_down(f); f->in.last_failover_mono = NOW - 1000; f->in.force = 1;)
MUT(m_cooldown_manual, master_down(f); f->in.last_failover_mono = NOW - 1000; f->in.manual = 1;)
MUT(m_cooldown_over, master_down(f); f->in.last_failover_mono = NOW - 60000;)
MUT(m_cooldown_zero, master_down(f); f->in.last_failover_mono = NOW - 1;
    f->s.failover_cooldown_ms = 0;)
/* operation in progress */
MUT(m_op_failed, master_down(f); f->in.op_in_progress = 1;)
MUT(m_op_failed_manual, master_down(f); f->in.op_in_progress = 1; f->in.manual = 1;)
MUT(m_op_no_reconcile, f->in.op_in_progress = 1; f->mo.fenced = 1; claim_master(&f->ro[0]);)
MUT(m_op_switchover, f->in.op_in_progress = 1; f->in.switchover = 1;)
/* requested candidate */
MUT(m_want_second, master_down(f); f->in.want = "r1";)
MUT(m_want_ineligible, master_down(f); f->in.want = "r1"; f->r[0].maintenance = 1;)
MUT(m_want_unknown, master_down(f); f->in.want = "zz";)
MUT(m_want_master, master_down(f); f->in.want = "m";)
/* manual / force */
MUT(m_manual_up, f->in.manual = 1;)
MUT(m_force_up, f->in.force = 1;)
MUT(m_manual_force_up, f->in.manual = 1; f->in.force = 1; f->s.auto_failover = 0;
    f->in.last_failover_mono = NOW - 10;)
MUT(m_manual_unconfirmed, master_down(f); f->ro[2].link = LINK_UP; f->in.manual = 1;)
MUT(m_force_unconfirmed, master_down(f); f->ro[2].link = LINK_UP; f->in.force = 1;)
/* restarts */
MUT(m_restart_empty, master_restarted(f, 0); f->mo.fenced = 1;
    for (int i = 0; i < 3; i++) f->ro[i].offset = 5000;)
MUT(m_restart_older, master_restarted(f, 9999);)
MUT(m_restart_kept, master_restarted(f, 10000); f->mo.fenced = 1;)
MUT(m_restart_ahead, master_restarted(f, 12000);)
MUT(m_restart_empty_auto_off, master_restarted(f, 0); f->mo.fenced = 1; f->s.auto_failover = 0;)
MUT(m_restart_other_replicas, master_restarted(f, 9600); f->ro[1].offset = 50000;
    set_master_of(&f->ro[1], "10.0.0.9", 6379);)
MUT(m_restart_down_replica, master_restarted(f, 9600); f->ro[1].offset = 50000;
    f->ro[1].state = NODE_DOWN;)
MUT(m_restart_master_suspect, master_restarted(f, 0); f->mo.state = NODE_SUSPECT;)
MUT(m_restart_no_replica_reachable, master_restarted(f, 0);
    for (int i = 0; i < 3; i++) f->ro[i].state = NODE_DOWN;)
MUT(m_restart_no_replica_fenced, master_restarted(f, 0); f->mo.fenced = 1; f->mo.fence_known = 1;
    for (int i = 0; i < 3; i++) f->ro[i].state = NODE_DOWN;)
/* reconcile */
MUT(m_rec_promote, f->mo.role = ROLE_REPLICA; set_master_of(&f->mo, "10.0.0.3", 6379);
    f->mo.link = LINK_UP;)
MUT(m_rec_confirm, f->mo.fenced = 1; f->mo.fence_known = 1;)
MUT(m_rec_claims, claim_master(&f->ro[0]);)
MUT(m_rec_claims_fenced, claim_master(&f->ro[0]); f->ro[0].fenced = 1;)
MUT(m_rec_elsewhere, set_master_of(&f->ro[2], "10.0.0.9", 6380);)
MUT(m_rec_all, f->mo.fenced = 1; claim_master(&f->ro[0]);
    set_master_of(&f->ro[2], "10.0.0.9", 6380);)
MUT(m_rec_skip_maintenance, claim_master(&f->ro[0]); f->r[0].maintenance = 1;
    set_master_of(&f->ro[2], "10.0.0.9", 6380); f->r[2].maintenance = 1;)
MUT(m_rec_skip_down, claim_master(&f->ro[0]); f->ro[0].state = NODE_DOWN;
    set_master_of(&f->ro[2], "10.0.0.9", 6380); f->ro[2].state = NODE_SUSPECT;)
MUT(m_rec_skip_role_unknown, f->ro[0].role = ROLE_UNKNOWN; f->ro[0].master_host[0] = '\0';)
MUT(m_rec_master_maintenance, f->m.maintenance = 1; f->mo.role = ROLE_REPLICA;
    set_master_of(&f->mo, "10.0.0.3", 6379);)
MUT(m_rec_master_role_unknown, f->mo.role = ROLE_UNKNOWN; f->mo.fenced = 1;)
MUT(m_rec_master_not_observed, f->mo.state = NODE_UNKNOWN; f->mo.role = ROLE_REPLICA;
    set_master_of(&f->mo, "10.0.0.3", 6379); f->mo.fenced = 1;)
MUT(m_rec_disabled, f->in.reconcile = 0; f->mo.fenced = 1; claim_master(&f->ro[0]);
    set_master_of(&f->ro[2], "10.0.0.9", 6380);)
/* switchover */
MUT(m_sw_up, f->in.switchover = 1;)
MUT(m_sw_link_down, f->in.switchover = 1; f->ro[1].link = LINK_DOWN;
    f->ro[1].link_up_mono = NOW - 2000;
    f->ro[1].link_down_since_s = 2;)
MUT(m_sw_master_down, master_down(f); f->in.switchover = 1;)
MUT(m_sw_master_suspect, f->mo.state = NODE_SUSPECT; f->in.switchover = 1;)
MUT(m_sw_master_not_observed, f->mo.state = NODE_UNKNOWN; f->in.switchover = 1;)
MUT(m_sw_want, f->in.switchover = 1; f->in.want = "r1";)
MUT(m_sw_no_candidate, f->in.switchover = 1;
    for (int i = 0; i < 3; i++) { f->ro[i].link = LINK_DOWN; f->ro[i].link_up_mono = NOW - 1000; })
MUT(m_sw_restarted_older, f->in.switchover = 1; master_restarted(f, 0);)
MUT(m_sw_ignores_auto_and_cooldown, f->in.switchover = 1; f->s.auto_failover = 0;
    f->in.last_failover_mono = NOW - 10;)
/* no master */
MUT(m_no_master, f->in.master = NULL; claim_master(&f->ro[0]);)
MUT(m_no_master_manual, f->in.master = NULL; f->in.manual = 1;)
MUT(m_no_master_force, f->in.master = NULL; f->in.force = 1; claim_master(&f->ro[0]);)
MUT(m_no_master_switchover, f->in.master = NULL; f->in.switchover = 1;)
/* "Linked to the master recently" is measured back from when the master
 * was last reached: the master died 60 s ago, automatic failover is off and
 * the operator asks for a failover; the replicas linked right up to its
 * death stay candidates (the cooldown case is the same). */
MUT(m_late_manual, master_down(f); f->s.auto_failover = 0; f->in.manual = 1;
    f->mo.last_ok_mono = NOW - 60000; f->mo.first_fail_mono = NOW - 59900;
    for (int i = 0; i < 3; i++) {
        f->ro[i].link_up_mono = NOW - 60000;
        f->ro[i].link_down_since_s = 59;
    })

#define V(...) .verdict = { __VA_ARGS__ }
#define A(...) .act = { __VA_ARGS__ }
#define C(...) .cand = { __VA_ARGS__ }
#define ELIG(n, r) { n, 1, r, "rank", 0, 0 }
#define EXCL(n, why) { n, 0, 0, why, 0, 0 }

static const struct pcase cases[] = {
    /* ---- rule 2: judging the master ---- */
    { "healthy", NULL, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0, V("master m is up"), A({ 0 }),
      C({ "r2", 1, 1, "rank 1: offset 10000 (0 bytes behind), priority 100", 1, 0 },
        { "r3", 1, 2, "rank 2: offset 9500 (500 bytes behind)", 1, 500 },
        { "r1", 1, 3, "rank 3: offset 9000 (1000 bytes behind)", 1, 1000 }) },
    { "master_not_observed", m_master_not_observed, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V("master m is not yet observed"), A({ 0 }), C({ "r2", 1, 1, NULL, 1, -1 }) },
    { "master_suspect_no_actions", m_master_suspect, 0, PLAN_MASTER_SUSPECT, NULL, NULL, 0, 0,
      V("master m is suspect, not down for 1000 ms yet"), A({ 0 }), C({ 0 }) },
    { "master_suspect_manual_blocked", m_master_suspect_manual, 0, PLAN_MASTER_SUSPECT, NULL, NULL,
      1, 0, V("master m is suspect", "; the master has not failed: use a switchover, or force"),
      A({ 0 }), C({ 0 }) },
    { "down_all_links_down", m_down, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V("master m is down (timeout) and all 3 reachable replica(s) lost their link to it"),
      A({ 0 }), C(ELIG("r2", 1), ELIG("r3", 2), ELIG("r1", 3)) },
    { "down_replica_hears_master", m_down_hears, 0, PLAN_MASTER_UNCONFIRMED, NULL, NULL, 0, 0,
      V("replica r3 still hears from it (link up, last I/O 0 s ago)",
        "the controller is cut off, not the master"), A({ 0 }), C({ 0 }) },
    { "down_replica_link_up_io_unknown", m_down_hears_io_unknown, 0, PLAN_MASTER_UNCONFIRMED, NULL,
      NULL, 0, 0, V("replica r3 still hears", "cut off"), A({ 0 }), C({ 0 }) },
    { "down_replica_io_1s_vetoes", m_down_io_1s, 0, PLAN_MASTER_UNCONFIRMED, NULL, NULL, 0, 0,
      V("last I/O 1 s ago", "cut off"), A({ 0 }), C({ 0 }) },
    { "down_replica_io_2s_confirms", m_down_io_2s, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V("all 3 reachable replica(s) lost their link"), A({ 0 }), C(ELIG("r3", 2)) },
    { "down_io_limit_includes_ping_period", m_down_io_2s_long_ping, 0, PLAN_MASTER_UNCONFIRMED,
      NULL, NULL, 0, 0, V("last I/O 2 s ago", "cut off"), A({ 0 }), C({ 0 }) },
    { "down_io_6s_with_5s_ping_confirms", m_down_io_6s_long_ping, 0, PLAN_MASTER_FAILED, "r2",
      NULL, 0, 0, V("lost their link"), A({ 0 }), C({ 0 }) },
    { "down_no_replica_reachable", m_down_no_reachable, 0, PLAN_MASTER_UNCONFIRMED, NULL, NULL, 0,
      0, V("master m is down, but no replica is reachable to confirm it: nothing is done"),
      A({ 0 }), C(EXCL("r1", "not reachable (down)"), EXCL("r2", "not reachable (down)")) },
    { "down_replicas_suspect_not_reachable", m_down_replicas_suspect, 0, PLAN_MASTER_UNCONFIRMED,
      NULL, NULL, 0, 0, V("no replica is reachable"), A({ 0 }),
      C(EXCL("r3", "not reachable (suspect)")) },
    { "down_replicas_follow_another", m_down_replicas_elsewhere, 0, PLAN_MASTER_UNCONFIRMED, NULL,
      NULL, 0, 0, V("master m is down, but no reachable replica replicates from it to confirm"),
      A({ 0 }), C(EXCL("r2", "replicates from 10.0.0.9:6379, not from the master")) },
    { "down_mixed_one_witness", m_down_mixed, 0, PLAN_MASTER_FAILED, "r1", NULL, 0, 0,
      V("all 1 reachable replica(s) lost their link"), A({ 0 }),
      C(ELIG("r1", 1), EXCL("r2", "not reachable (down)"),
        EXCL("r3", "replicates from 10.0.0.9")) },
    { "down_replica_with_role_master_no_witness", m_down_replica_is_master, 0, PLAN_MASTER_FAILED,
      "r2", NULL, 0, 0, V("all 2 reachable replica(s)"), A({ 0 }),
      C(EXCL("r3", "not a replica (role master)")) },
    { "down_replica_in_maintenance_still_vetoes", m_down_maint_replica_hears, 0,
      PLAN_MASTER_UNCONFIRMED, NULL, NULL, 0, 0, V("replica r3 still hears"), A({ 0 }), C({ 0 }) },

    /* ---- rule 3: ranking ---- */
    { "rank_offset_before_priority", m_rank_offset_first, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }),
      C({ "r2", 1, 1, "priority 200", 0, 0 },
        { "r1", 1, 2, "offset 9999 (1 bytes behind), priority 1", 1, 1 },
        ELIG("r3", 3)) },
    { "rank_priority_on_offset_tie", m_rank_priority, 0, PLAN_MASTER_FAILED, "r1", NULL, 0, 0,
      V(NULL), A({ 0 }),
      C({ "r1", 1, 1, "rank 1: offset 10000 (0 bytes behind), priority 50", 1, 0 },
        { "r2", 1, 2, "priority 100", 1, 0 }, ELIG("r3", 3)) },
    { "rank_name_on_full_tie", m_rank_name, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }), C(ELIG("r2", 1), ELIG("r3", 2), ELIG("r1", 3)) },

    /* ---- rule 3: exclusions ---- */
    { "excl_maintenance", m_x_maintenance, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL),
      A({ 0 }), C(EXCL("r2", "in maintenance"), ELIG("r3", 1), ELIG("r1", 2)) },
    { "excl_priority_0", m_x_priority0, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL), A({ 0 }),
      C(EXCL("r2", "priority 0 (never promoted)"), ELIG("r3", 1)) },
    { "excl_node_replica_priority_0", m_x_replica_priority0, 0, PLAN_MASTER_FAILED, "r3", NULL, 0,
      0, V(NULL), A({ 0 }), C(EXCL("r2", "the node's replica-priority is 0"), ELIG("r3", 1)) },
    { "node_replica_priority_unknown_is_fine", m_replica_priority_unknown, 0, PLAN_MASTER_FAILED,
      "r2", NULL, 0, 0, V(NULL), A({ 0 }), C(ELIG("r2", 1)) },
    { "excl_not_reachable_suspect", m_x_suspect, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0,
      V("all 2 reachable"), A({ 0 }), C(EXCL("r2", "not reachable (suspect)"), ELIG("r3", 1)) },
    { "excl_not_reachable_down", m_x_down, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL),
      A({ 0 }), C(EXCL("r2", "not reachable (down)"), ELIG("r3", 1)) },
    { "excl_loading", m_x_loading, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL), A({ 0 }),
      C(EXCL("r2", "still loading its dataset"), ELIG("r3", 1)) },
    { "excl_role_master", m_x_role_master, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL),
      A({ 0 }), C(EXCL("r2", "not a replica (role master)"), ELIG("r3", 1)) },
    { "excl_replicates_from_other_host", m_x_other_host, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0,
      V(NULL), A({ 0 }),
      C(EXCL("r2", "replicates from 10.0.0.9:6379, not from the master"), ELIG("r3", 1)) },
    { "excl_replicates_from_other_port", m_x_other_port, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0,
      V(NULL), A({ 0 }), C(EXCL("r2", "replicates from 10.0.0.1:6380"), ELIG("r3", 1)) },
    { "excl_not_linked_recently", m_x_not_linked, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL),
      A({ 0 }), C(EXCL("r2", "not linked to the master in the last 10000 ms"), ELIG("r3", 1)) },
    { "linked_at_window_edge", m_linked_window_edge, 0, PLAN_MASTER_OK, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C(ELIG("r2", 1)) },
    { "excl_linked_just_past_window", m_x_linked_window_past, 0, PLAN_MASTER_OK, "r3", NULL, 0,
      0, V(NULL), A({ 0 }), C(EXCL("r2", "not linked to the master in the last 10000 ms")) },
    { "linked_by_link_down_since", m_linked_by_down_since, 0, PLAN_MASTER_OK, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C(ELIG("r2", 1)) },
    { "excl_link_down_since_too_long", m_x_down_since_too_long, 0, PLAN_MASTER_OK, "r3", NULL,
      0, 0, V(NULL), A({ 0 }), C(EXCL("r2", "not linked to the master in the last 10000 ms")) },
    { "link_window_is_3x_down_after", m_window_scales, 0, PLAN_MASTER_OK, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C(ELIG("r2", 1)) },
    { "excl_link_window_3x_down_after", m_x_window_scales, 0, PLAN_MASTER_OK, "r3", NULL, 0, 0,
      V(NULL), A({ 0 }), C(EXCL("r2", "not linked to the master in the last 15000 ms")) },
    { "linked_now_without_link_history", m_linked_now_without_history, 0, PLAN_MASTER_FAILED,
      "r2", NULL, 0, 0, V("all 3 reachable"), A({ 0 }), C(ELIG("r2", 1)) },
    { "excl_offset_unknown", m_x_offset_unknown, 0, PLAN_MASTER_FAILED, "r3", NULL, 0, 0, V(NULL),
      A({ 0 }), C({ "r2", 0, 0, "replication offset unknown", 1, -1 }, ELIG("r3", 1)) },
    { "excl_lag_over_max", m_x_lag, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL), A({ 0 }),
      C(ELIG("r2", 1), { "r3", 1, 2, "500 bytes behind", 1, 500 },
        { "r1", 0, 0, "lags 1000 bytes behind the master (max_lag_on_failover 600)", 1, 1000 }) },
    { "lag_equal_to_max_is_fine", m_lag_edge, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }), C({ "r1", 1, 3, "1000 bytes behind", 1, 1000 }) },
    { "max_lag_0_means_no_limit", m_lag_no_limit, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }),
      C({ "r2", 1, 1, "49990000 bytes behind", 1, 49990000 }, { "r1", 1, 3, NULL, 1, 49991000 }) },
    { "excl_lag_default_limit", m_x_lag_default_all, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("; no candidate:",
        "r2: lags 49990000 bytes behind the master (max_lag_on_failover 1048576)"),
      A({ 0 }), C(EXCL("r2", "lags 49990000 bytes")) },
    { "lag_measured_from_offset_before_restart", m_lag_ref_prev_offset, 0, PLAN_MASTER_FAILED, "r2",
      NULL, 0, 0, V(NULL), A({ 0 }),
      C({ "r2", 1, 1, "600 bytes behind", 1, 600 }, { "r3", 0, 0, "lags 1100 bytes", 1, 1100 }) },

    /* ---- rule 3: no candidate, auto_failover, cooldown ---- */
    { "no_candidate_lists_reasons", m_no_candidate, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("lost their link to it; no candidate: r2: priority 0 (never promoted); r3: still loading "
        "its dataset; r1: in maintenance"),
      A({ 0 }), C({ 0 }) },
    { "force_without_replicas", m_force_no_replicas, 0, PLAN_MASTER_UNCONFIRMED, NULL, NULL, 1, 0,
      V("no replica is reachable", "; no candidate: the cluster has no replica"), A({ 0 }),
      C({ 0 }) },
    { "auto_failover_off_blocks", m_auto_off, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("lost their link to it; automatic failover is disabled for this cluster"), A({ 0 }),
      C({ 0 }) },
    { "auto_failover_off_manual", m_auto_off_manual, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "auto_failover_off_force", m_auto_off_force, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "cooldown_blocks", m_cooldown, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("; cooldown: the last automatic failover was 1000 ms ago (failover_cooldown_ms 60000; "
        "acknowledge it or force)"),
      A({ 0 }), C({ 0 }) },
    { "cooldown_last_ms_blocks", m_cooldown_edge, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("cooldown: the last automatic failover was 59999 ms ago"), A({ 0 }), C({ 0 }) },
    { "cooldown_acked_proceeds", m_cooldown_acked, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "cooldown_force_proceeds", m_cooldown_force, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }), C({ 0 }) },
    { "cooldown_manual_proceeds", m_cooldown_manual, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "cooldown_over_proceeds", m_cooldown_over, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }), C({ 0 }) },
    { "cooldown_zero_proceeds", m_cooldown_zero, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0, V(NULL),
      A({ 0 }), C({ 0 }) },

    /* ---- rule 1: an operation in progress ---- */
    { "op_in_progress_no_failover", m_op_failed, 0, PLAN_MASTER_FAILED, NULL, NULL, 0, 0,
      V("; a failover or switchover is in progress: nothing else is planned"), A({ 0 }),
      C(ELIG("r2", 1)) },
    { "op_in_progress_manual_blocked", m_op_failed_manual, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("in progress"), A({ 0 }), C({ 0 }) },
    { "op_in_progress_no_reconcile", m_op_no_reconcile, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V("master m is up; a failover or switchover is in progress"), A({ 0 }), C({ 0 }) },
    { "op_in_progress_switchover_blocked", m_op_switchover, 0, PLAN_MASTER_OK, NULL, NULL, 1, 0,
      V("in progress"), A({ 0 }), C({ 0 }) },

    /* ---- requested candidate ---- */
    { "want_eligible_not_best", m_want_second, 0, PLAN_MASTER_FAILED, "r1",
      "; promote r1 (rank 3: offset 9000", 0, 0, V(NULL), A({ 0 }), C(ELIG("r1", 3)) },
    { "want_ineligible", m_want_ineligible, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("; requested candidate r1 is not eligible: in maintenance"), A({ 0 }), C({ 0 }) },
    { "want_unknown", m_want_unknown, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("; requested candidate zz is not a replica of this cluster"), A({ 0 }), C({ 0 }) },
    { "want_the_master", m_want_master, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("requested candidate m is not a replica"), A({ 0 }), C({ 0 }) },

    /* ---- manual and forced failover ---- */
    { "manual_master_up_blocked", m_manual_up, 0, PLAN_MASTER_OK, NULL, NULL, 1, 0,
      V("master m is up; the master has not failed: use a switchover, or force"), A({ 0 }),
      C({ 0 }) },
    { "force_master_up", m_force_up, 0, PLAN_MASTER_OK, "r2",
      "master m is up; promote r2 (rank 1: offset 10000", 0, 0, V(NULL), A({ 0 }), C({ 0 }) },
    { "manual_force_ignores_auto_and_cooldown", m_manual_force_up, 0, PLAN_MASTER_OK, "r2", NULL, 0,
      0, V(NULL), A({ 0 }), C({ 0 }) },
    { "manual_master_unconfirmed_blocked", m_manual_unconfirmed, 0, PLAN_MASTER_UNCONFIRMED, NULL,
      NULL, 1, 0, V("cut off", "; the master has not failed"), A({ 0 }), C({ 0 }) },
    { "force_master_unconfirmed", m_force_unconfirmed, 0, PLAN_MASTER_UNCONFIRMED, "r2", NULL, 0,
      0, V("cut off"), A({ 0 }), C({ 0 }) },

    /* ---- rule 2: restarts ---- */
    { "restart_empty_fails_master", m_restart_empty, 0, PLAN_MASTER_FAILED, "r1", NULL, 0, 0,
      V("master m restarted with an empty or older dataset (offset 0, best replica at 5000): "
        "following it would wipe the replicas"),
      A({ 0 }),
      C({ "r1", 1, 1, "rank 1: offset 5000 (5000 bytes behind)", 1, 5000 }, ELIG("r2", 2),
        ELIG("r3", 3)) },
    { "restart_older_fails_master", m_restart_older, 0, PLAN_MASTER_FAILED, "r2", NULL, 0, 0,
      V("(offset 9999, best replica at 10000)"), A({ 0 }), C({ 0 }) },
    { "restart_kept_data_accepted", m_restart_kept, 0, PLAN_MASTER_OK, NULL, NULL, 0, 1,
      V("master m is up"),
      A({ PLAN_CONFIRM, "m", NULL, "desired master is fenced after a restart that kept its data" }),
      C({ 0 }) },
    { "restart_ahead_accepted", m_restart_ahead, 0, PLAN_MASTER_OK, NULL, NULL, 0, 1, V(NULL),
      A({ 0 }), C({ "r2", 1, 1, NULL, 1, 2000 }) },
    { "restart_empty_auto_off_no_confirm", m_restart_empty_auto_off, 0, PLAN_MASTER_FAILED, NULL,
      NULL, 1, 0, V("restarted with an empty", "automatic failover is disabled"), A({ 0 }),
      C({ 0 }) },
    { "restart_ignores_replicas_of_others", m_restart_other_replicas, 0, PLAN_MASTER_OK, NULL, NULL,
      0, 1, V(NULL), A({ PLAN_REPLICAOF, "r2", "10.0.0.1", "replicates from 10.0.0.9:6379" }),
      C({ 0 }) },
    { "restart_ignores_unreachable_replicas", m_restart_down_replica, 0, PLAN_MASTER_OK, NULL, NULL,
      0, 1, V(NULL), A({ 0 }), C({ 0 }) },
    { "restart_pending_master_suspect", m_restart_master_suspect, 0, PLAN_MASTER_SUSPECT, NULL,
      NULL, 0, 0, V("master m is suspect"), A({ 0 }), C({ 0 }) },
    /* Current behaviour, questioned in the report: with no replica to
     * compare to, an empty restart is accepted (and forgotten). */
    /* Nobody to compare with: neither accepted nor failed over. */
    { "restart_no_replica_reachable_pending", m_restart_no_replica_reachable, 0, PLAN_MASTER_OK,
      NULL, NULL, 0, 0, V("master m is up"), A({ 0 }), C({ 0 }) },
    /* ...and a fenced master in that state is not confirmed. */
    { "restart_no_replica_reachable_stays_fenced", m_restart_no_replica_fenced, 0, PLAN_MASTER_OK,
      NULL, NULL, 0, 0, V("stays fenced"), A({ 0 }), C({ 0 }) },

    /* ---- rule 4: reconcile ---- */
    { "reconcile_promote_desired_master", m_rec_promote, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ PLAN_PROMOTE, "m", NULL, "desired master replicates from 10.0.0.3:6379" }),
      C({ 0 }) },
    { "reconcile_confirm_fenced_master", m_rec_confirm, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ PLAN_CONFIRM, "m", NULL, "desired master is fenced; confirming it" }),
      C({ 0 }) },
    { "reconcile_replica_claims_master", m_rec_claims, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ PLAN_REPLICAOF, "r1", "10.0.0.1", "r1 claims a mastership it does not hold" }),
      C(EXCL("r1", "not a replica")) },
    { "reconcile_fenced_replica_claims_master", m_rec_claims_fenced, 0, PLAN_MASTER_OK, NULL, NULL,
      0, 0, V(NULL), A({ PLAN_REPLICAOF, "r1", "10.0.0.1", "does not hold (fenced)" }), C({ 0 }) },
    { "reconcile_replica_elsewhere", m_rec_elsewhere, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0, V(NULL),
      A({ PLAN_REPLICAOF, "r3", "10.0.0.1",
          "replica replicates from 10.0.0.9:6380, wants 10.0.0.1:6379" }),
      C({ 0 }) },
    { "reconcile_all_in_order", m_rec_all, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0, V(NULL),
      A({ PLAN_CONFIRM, "m", NULL, "fenced" }, { PLAN_REPLICAOF, "r1", "10.0.0.1", "claims" },
        { PLAN_REPLICAOF, "r3", "10.0.0.1", "10.0.0.9:6380" }),
      C({ 0 }) },
    { "reconcile_skips_maintenance", m_rec_skip_maintenance, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "reconcile_skips_down_and_suspect", m_rec_skip_down, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "reconcile_skips_role_unknown", m_rec_skip_role_unknown, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0,
      V(NULL), A({ 0 }), C({ 0 }) },
    { "reconcile_skips_master_in_maintenance", m_rec_master_maintenance, 0, PLAN_MASTER_OK, NULL,
      NULL, 0, 0, V(NULL), A({ 0 }), C({ 0 }) },
    { "reconcile_skips_master_role_unknown", m_rec_master_role_unknown, 0, PLAN_MASTER_OK, NULL,
      NULL, 0, 0, V(NULL), A({ 0 }), C({ 0 }) },
    { "reconcile_skips_master_not_observed", m_rec_master_not_observed, 0, PLAN_MASTER_OK, NULL,
      NULL, 0, 0, V("not yet observed"), A({ 0 }), C({ 0 }) },
    { "reconcile_disabled", m_rec_disabled, 0, PLAN_MASTER_OK, NULL, NULL, 0, 0, V(NULL), A({ 0 }),
      C({ 0 }) },

    /* ---- switchover ---- */
    { "switchover_master_up", m_sw_up, 0, PLAN_MASTER_OK, "r2",
      "planned switchover from m to r2 (rank 1: offset 10000", 0, 0, V("master m is up"), A({ 0 }),
      C({ 0 }) },
    { "switchover_needs_link_up_now", m_sw_link_down, 0, PLAN_MASTER_OK, "r3",
      "planned switchover from m to r3", 0, 0, V(NULL), A({ 0 }),
      C(EXCL("r2", "its link to the master is down"), ELIG("r3", 1), ELIG("r1", 2)) },
    { "switchover_master_down", m_sw_master_down, 0, PLAN_MASTER_FAILED, NULL, NULL, 1, 0,
      V("; a switchover needs a master that is up (use failover)"), A({ 0 }), C({ 0 }) },
    { "switchover_master_suspect", m_sw_master_suspect, 0, PLAN_MASTER_SUSPECT, NULL, NULL, 1, 0,
      V("needs a master that is up"), A({ 0 }), C({ 0 }) },
    { "switchover_master_not_observed", m_sw_master_not_observed, 0, PLAN_MASTER_OK, NULL, NULL, 1,
      0, V("needs a master that is up"), A({ 0 }), C({ 0 }) },
    { "switchover_want", m_sw_want, 0, PLAN_MASTER_OK, "r1", "planned switchover from m to r1", 0,
      0, V(NULL), A({ 0 }), C({ 0 }) },
    { "switchover_no_candidate", m_sw_no_candidate, 0, PLAN_MASTER_OK, NULL, NULL, 1, 0,
      V("; no candidate: r2: its link to the master is down"), A({ 0 }), C({ 0 }) },
    { "switchover_restarted_older_master", m_sw_restarted_older, 0, PLAN_MASTER_FAILED, NULL, NULL,
      1, 0, V("restarted with an empty", "needs a master that is up"), A({ 0 }), C({ 0 }) },
    { "switchover_ignores_auto_and_cooldown", m_sw_ignores_auto_and_cooldown, 0, PLAN_MASTER_OK,
      "r2", "planned switchover", 0, 0, V(NULL), A({ 0 }), C({ 0 }) },

    /* ---- no master ---- */
    { "no_master", m_no_master, 0, PLAN_MASTER_NONE, NULL, NULL, 0, 0,
      V("cluster c1 has no master"), A({ 0 }),
      C({ "r2", 1, 1, NULL, 1, -1 }, EXCL("r1", "not a replica")) },
    { "no_master_manual", m_no_master_manual, 0, PLAN_MASTER_NONE, NULL, NULL, 0, 0,
      V("cluster c1 has no master"), A({ 0 }), C({ 0 }) },
    { "no_master_force", m_no_master_force, 0, PLAN_MASTER_NONE, "r2",
      "cluster c1 has no master; promote r2", 0, 0, V(NULL), A({ 0 }), C({ 0 }) },
    { "no_master_switchover", m_no_master_switchover, 0, PLAN_MASTER_NONE, NULL, NULL, 1, 0,
      V("needs a master that is up"), A({ 0 }), C({ 0 }) },

    /* ---- a failover long after the master died: see m_late_manual ---- */
    { "manual_failover_long_after_master_death", m_late_manual, 0, PLAN_MASTER_FAILED, "r2",
      NULL, 0, 0, V(NULL), A({ 0 }), C(ELIG("r2", 1), ELIG("r3", 2), ELIG("r1", 3)) },
};

/* More replicas than the 3 of the table, and names for the enums. */
static void test_six_replicas_and_names(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 6);
    master_down(&f);
    f.ro[5].offset = 10001;     /* r6 is ahead of the master's last poll */
    static struct plan_output o;
    struct plan_output *out = &o;
    planner_run(&f.in, out);
    check_invariants(&f, out);
    assert_int_equal(out->master, PLAN_MASTER_FAILED);
    assert_int_equal(out->nact, 1);
    assert_string_equal(out->act[0].node, "r6");
    assert_int_equal(out->cand[0].lag_bytes, 0);       /* never negative */
    const char *order[6] = { "r6", "r2", "r3", "r1", "r4", "r5" };
    for (int i = 0; i < 6; i++)
        assert_string_equal(out->cand[i].m->name, order[i]);

    assert_string_equal(planner_action_name(PLAN_REPLICAOF), "replicaof");
    assert_string_equal(planner_action_name(PLAN_PROMOTE), "promote");
    assert_string_equal(planner_action_name(PLAN_CONFIRM), "confirm");
    assert_string_equal(planner_action_name(PLAN_FAILOVER), "failover");
    assert_string_equal(planner_action_name(0), "none");
    assert_string_equal(planner_master_verdict_name(PLAN_MASTER_OK), "ok");
    assert_string_equal(planner_master_verdict_name(PLAN_MASTER_SUSPECT), "suspect");
    assert_string_equal(planner_master_verdict_name(PLAN_MASTER_UNCONFIRMED), "unconfirmed");
    assert_string_equal(planner_master_verdict_name(PLAN_MASTER_FAILED), "failed");
    assert_string_equal(planner_master_verdict_name(PLAN_MASTER_NONE), "none");
}

/* The planner is pure: the same input gives the same output, and the input
 * observations are not written. */
static void test_pure(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 3);
    master_down(&f);
    claim_master(&f.ro[0]);
    struct fx copy = f;
    static struct plan_output oa, ob;
    struct plan_output *a = &oa, *b = &ob;
    planner_run(&f.in, a);
    planner_run(&f.in, b);
    assert_memory_equal(&f.mo, &copy.mo, sizeof(f.mo));
    assert_memory_equal(f.ro, copy.ro, sizeof(f.ro));
    assert_int_equal(a->nact, b->nact);
    assert_string_equal(a->verdict, b->verdict);
    assert_int_equal(a->nact, 1);
    assert_string_equal(a->act[0].node, b->act[0].node);
    assert_string_equal(a->act[0].reason, b->act[0].reason);
}

int main(void)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct CMUnitTest *tests = calloc(n + 2, sizeof(*tests));
    if (tests == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[n] = (struct CMUnitTest)cmocka_unit_test(test_six_replicas_and_names);
    tests[n + 1] = (struct CMUnitTest)cmocka_unit_test(test_pure);
    int rc = _cmocka_run_group_tests("planner", tests, n + 2, NULL, NULL);
    free(tests);
    return rc;
}
