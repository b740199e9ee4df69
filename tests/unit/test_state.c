/* test_state.c - the observed side: state_apply_ok/fail/age (what one poll
 * changes, as events), the suspect/down rule, state_refresh_cluster (lag,
 * in-sync, lag alerts with hysteresis, the cached health report) and the
 * registry of observations. All pure or lock-free under a single thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/health.h"
#include "../../server/info.h"
#include "../../server/state.h"

#define RUN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RUN_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* INFO of a master / a replica, as info_parse_replication leaves it. */
static void info_master(struct info_repl *in, int64_t off)
{
    memset(in, 0, sizeof(*in));
    in->role = ROLE_MASTER;
    in->link = LINK_NONE;
    in->offset = off;
    in->master_last_io_s = -1;
    in->link_down_since_s = -1;
    in->replica_priority = 100;
    in->uptime_s = 50;
    in->sync_full = 0;
    in->connected_slaves = 2;
    snprintf(in->run_id, sizeof(in->run_id), "%s", RUN_A);
    snprintf(in->replid, sizeof(in->replid), "%s", "1234");
}

static void info_replica(struct info_repl *in, const char *mhost, int mport, int link, int64_t off)
{
    info_master(in, off);
    in->role = ROLE_REPLICA;
    in->connected_slaves = 0;
    snprintf(in->master_host, sizeof(in->master_host), "%s", mhost);
    in->master_port = mport;
    in->link = link;
    in->master_last_io_s = link == LINK_UP ? 1 : -1;
    in->link_down_since_s = link == LINK_UP ? -1 : 4;
}

static int count_kind(const struct state_changes *ch, enum ev_kind k)
{
    int n = 0;
    for (int i = 0; i < ch->n; i++)
        if (ch->c[i].kind == k)
            n++;
    return n;
}

static const char *msg_of(const struct state_changes *ch, enum ev_kind k)
{
    for (int i = 0; i < ch->n; i++)
        if (ch->c[i].kind == k)
            return ch->c[i].msg;
    return "";
}

static void expect_sub(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        print_error("expected \"%s\" in \"%s\"\n", needle, hay);
        fail();
    }
}

/* ---- state_apply_ok ------------------------------------------------------ */

static void test_ok_fresh_master(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    info_master(&in, 5000);
    struct state_changes ch;
    memset(&ch, 0xff, sizeof(ch));
    state_apply_ok(&o, &in, 1700000000000, 1000, 250, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_UP);
    assert_string_equal(ch.c[0].msg, "node is up (role master)");
    assert_int_equal(ch.persist, 1);
    assert_int_equal(o.state, NODE_UP);
    assert_int_equal(o.state_since, 1700000000000);
    assert_int_equal(o.role, ROLE_MASTER);
    assert_int_equal(o.offset, 5000);
    assert_int_equal(o.last_ok_mono, 1000);
    assert_int_equal(o.last_ok_ms, 1700000000000);
    assert_int_equal(o.poll_us, 250);
    assert_int_equal(o.replicas_connected, 2);
    assert_int_equal(o.uptime_s, 50);
    assert_int_equal(o.replica_priority, 100);
    assert_int_equal(o.sync_full, 0);
    assert_string_equal(o.run_id, RUN_A);
    assert_string_equal(o.replid, "1234");
    assert_string_equal(o.master_host, "");
    assert_int_equal(o.master_port, 0);
    assert_int_equal(o.master_last_io_s, -1);
    assert_int_equal(o.link_down_since_s, -1);
    assert_int_equal(o.link_up_mono, 0);
    assert_int_equal(o.restart_mono, 0);
    assert_int_equal(o.ring.count, 1);          /* master offsets feed the ring */

    /* The same answer again: nothing changed, nothing to persist, but the
     * poll times move. */
    state_apply_ok(&o, &in, 1700000001000, 2000, 300, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(ch.persist, 0);
    assert_int_equal(o.state_since, 1700000000000);
    assert_int_equal(o.last_ok_mono, 2000);
    assert_int_equal(o.poll_us, 300);
    assert_int_equal(o.ring.count, 1);          /* same offset: no new sample */

    in.offset = 6000;
    state_apply_ok(&o, &in, 1700000002000, 3000, 300, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.offset, 6000);
    assert_int_equal(o.ring.count, 2);
}

static void test_ok_loading_message(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    info_master(&in, 0);
    in.loading = 1;
    struct state_changes ch;
    state_apply_ok(&o, &in, 10, 10, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_string_equal(ch.c[0].msg, "node is up (role master), loading its dataset");
    assert_int_equal(o.loading, 1);
}

static void test_ok_replica_link(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    info_replica(&in, "10.0.0.1", 6379, LINK_UP, 4000);
    struct state_changes ch;
    state_apply_ok(&o, &in, 100, 1000, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.c[0].kind, EV_NODE_UP);
    assert_string_equal(ch.c[0].msg, "node is up (role replica)");
    assert_int_equal(ch.c[1].kind, EV_LINK_UP);
    assert_string_equal(ch.c[1].msg, "replication link to 10.0.0.1:6379 is up");
    assert_string_equal(o.master_host, "10.0.0.1");
    assert_int_equal(o.master_port, 6379);
    assert_int_equal(o.link, LINK_UP);
    assert_int_equal(o.link_up_mono, 1000);
    assert_int_equal(o.master_last_io_s, 1);
    assert_int_equal(o.ring.count, 0);          /* replica offsets are not master history */

    /* Link still up: no event, link_up_mono follows the poll. */
    state_apply_ok(&o, &in, 200, 2000, 1, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.link_up_mono, 2000);

    /* Link down: one EV_LINK_DOWN; link_up_mono keeps the last time up. */
    info_replica(&in, "10.0.0.1", 6379, LINK_DOWN, 4000);
    state_apply_ok(&o, &in, 300, 3000, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_LINK_DOWN);
    assert_string_equal(ch.c[0].msg, "replication link to 10.0.0.1:6379 is down");
    assert_int_equal(o.link, LINK_DOWN);
    assert_int_equal(o.link_up_mono, 2000);
    assert_int_equal(o.link_down_since_s, 4);
    assert_int_equal(o.master_last_io_s, -1);
    state_apply_ok(&o, &in, 400, 4000, 1, &ch);
    assert_int_equal(ch.n, 0);

    /* Up again. */
    info_replica(&in, "10.0.0.1", 6379, LINK_UP, 4100);
    state_apply_ok(&o, &in, 500, 5000, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_LINK_UP);
    assert_int_equal(o.link_up_mono, 5000);
    assert_int_equal(o.offset, 4100);

    /* A fresh replica whose link is down says nothing about the link. */
    struct node_obs p;
    health_obs_init(&p);
    info_replica(&in, "10.0.0.1", 6379, LINK_DOWN, 0);
    state_apply_ok(&p, &in, 100, 1000, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_UP);
    assert_int_equal(p.link_up_mono, 0);
}

static void test_ok_role_and_master_changes(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    struct state_changes ch;
    info_master(&in, 100);
    state_apply_ok(&o, &in, 1, 1, 1, &ch);

    /* master -> replica (link up): role change and the link coming up. */
    info_replica(&in, "10.0.0.9", 6380, LINK_UP, 100);
    state_apply_ok(&o, &in, 2, 2, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.c[0].kind, EV_NODE_ROLE);
    assert_string_equal(ch.c[0].msg, "role changed from master to replica of 10.0.0.9:6380");
    assert_int_equal(ch.c[1].kind, EV_LINK_UP);
    assert_int_equal(ch.persist, 1);
    assert_int_equal(o.role, ROLE_REPLICA);
    assert_string_equal(o.master_host, "10.0.0.9");
    assert_int_equal(o.master_port, 6380);

    /* Another master (host): EV_NODE_MASTER naming both. */
    info_replica(&in, "10.0.0.1", 6380, LINK_UP, 100);
    state_apply_ok(&o, &in, 3, 3, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_MASTER);
    assert_string_equal(ch.c[0].msg, "now replicates from 10.0.0.1:6380 (was 10.0.0.9:6380)");
    assert_string_equal(o.master_host, "10.0.0.1");

    /* Another master (port only), with the link going down at once. */
    info_replica(&in, "10.0.0.1", 6379, LINK_DOWN, 100);
    state_apply_ok(&o, &in, 4, 4, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(count_kind(&ch, EV_NODE_MASTER), 1);
    assert_int_equal(count_kind(&ch, EV_LINK_DOWN), 1);
    expect_sub(msg_of(&ch, EV_NODE_MASTER), "(was 10.0.0.1:6380)");
    assert_int_equal(o.master_port, 6379);

    /* replica -> master: master fields cleared, even when the answer
     * carries replica-only fields. */
    info_master(&in, 200);
    in.master_last_io_s = 7;
    in.link_down_since_s = 9;
    state_apply_ok(&o, &in, 5, 5, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_ROLE);
    assert_string_equal(ch.c[0].msg, "role changed from replica to master");
    assert_int_equal(o.role, ROLE_MASTER);
    assert_string_equal(o.master_host, "");
    assert_int_equal(o.master_port, 0);
    assert_int_equal(o.master_last_io_s, -1);
    assert_int_equal(o.link_down_since_s, -1);
    assert_int_equal(o.link, LINK_NONE);
}

static void test_ok_restart(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    struct state_changes ch;
    info_master(&in, 5000);
    state_apply_ok(&o, &in, 1, 1000, 1, &ch);
    assert_string_equal(o.prev_run_id, "");
    assert_int_equal(o.prev_offset, -1);

    /* New run id: restarted, with what it held before. */
    info_master(&in, 0);
    snprintf(in.run_id, sizeof(in.run_id), "%s", RUN_B);
    in.uptime_s = 2;
    state_apply_ok(&o, &in, 2, 7000, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_RESTARTED);
    assert_string_equal(ch.c[0].msg,
                        "process restarted (run id aaaaaaaa -> bbbbbbbb, offset 5000 -> 0, "
                        "uptime 2 s)");
    assert_string_equal(o.prev_run_id, RUN_A);
    assert_string_equal(o.run_id, RUN_B);
    assert_int_equal(o.prev_offset, 5000);
    assert_int_equal(o.restart_mono, 7000);
    assert_int_equal(o.offset, 0);

    /* Same run id: no event, the pending restart stays. */
    state_apply_ok(&o, &in, 3, 8000, 1, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.restart_mono, 7000);

    /* No run id in the answer (old server): nothing, the known one stays. */
    in.run_id[0] = '\0';
    state_apply_ok(&o, &in, 4, 9000, 1, &ch);
    assert_int_equal(ch.n, 0);
    assert_string_equal(o.run_id, RUN_B);
    assert_int_equal(o.restart_mono, 7000);

    /* After a restart seen while down: EV_NODE_UP and EV_NODE_RESTARTED. */
    struct state_down_rule rule = { 1000, 1 };
    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 5, 9500, &ch);
    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 6, 11000, &ch);
    assert_int_equal(o.state, NODE_DOWN);
    info_master(&in, 10);
    state_apply_ok(&o, &in, 7, 12000, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(count_kind(&ch, EV_NODE_UP), 1);
    assert_int_equal(count_kind(&ch, EV_NODE_RESTARTED), 1);
    assert_string_equal(o.prev_run_id, RUN_B);
    assert_int_equal(o.prev_offset, 0);
    assert_int_equal(o.restart_mono, 12000);
}

static void test_ok_fenced(void **state)
{
    (void)state;
    struct node_obs o;
    health_obs_init(&o);
    struct info_repl in;
    struct state_changes ch;
    info_master(&in, 1);
    in.fenced = 1;
    in.fence_known = 1;
    state_apply_ok(&o, &in, 1, 1, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(count_kind(&ch, EV_NODE_UP), 1);
    assert_int_equal(count_kind(&ch, EV_NODE_FENCED), 1);
    expect_sub(msg_of(&ch, EV_NODE_FENCED), "fenced");
    assert_int_equal(o.fenced, 1);
    assert_int_equal(o.fence_known, 1);

    state_apply_ok(&o, &in, 2, 2, 1, &ch);     /* still fenced: said once */
    assert_int_equal(ch.n, 0);

    in.fenced = 0;                              /* confirmed */
    state_apply_ok(&o, &in, 3, 3, 1, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.fenced, 0);

    in.fenced = 1;                              /* fenced again */
    state_apply_ok(&o, &in, 4, 4, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_FENCED);
}

/* ---- state_apply_fail / state_apply_age ----------------------------------- */

static void up_at(struct node_obs *o, int64_t mono)
{
    struct info_repl in;
    struct state_changes ch;
    info_master(&in, 100);
    state_apply_ok(o, &in, mono + 1000000, mono, 1, &ch);
    assert_int_equal(o->state, NODE_UP);
}

static void test_fail_suspect_then_down(void **state)
{
    (void)state;
    struct state_down_rule rule = { 1000, 2 };
    struct node_obs o;
    health_obs_init(&o);
    up_at(&o, 10000);
    struct state_changes ch;

    memset(&ch, 0xff, sizeof(ch));
    state_apply_fail(&o, FAIL_TIMEOUT, "no answer in 500 ms", &rule, 1010100, 10100, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_SUSPECT);
    assert_string_equal(ch.c[0].msg, "poll failed: no answer in 500 ms (timeout)");
    assert_int_equal(ch.persist, 1);
    assert_int_equal(o.state, NODE_SUSPECT);
    assert_int_equal(o.state_since, 1010100);
    assert_int_equal(o.failures, 1);
    assert_int_equal(o.first_fail_mono, 10100);
    assert_int_equal(o.fail_kind, FAIL_TIMEOUT);
    assert_string_equal(o.fail_msg, "no answer in 500 ms");
    assert_int_equal(o.last_ok_mono, 10000);   /* untouched */
    assert_int_equal(o.offset, 100);           /* the last known offset stays */

    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 1010500, 10500, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);
    assert_int_equal(o.failures, 2);
    assert_int_equal(o.first_fail_mono, 10100);
    assert_int_equal(o.fail_kind, FAIL_REFUSED);

    /* 999 ms since the last good poll: still suspect. */
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 1010999, 10999, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);

    /* down_after_ms since the last good poll, enough failures: down. */
    state_apply_fail(&o, FAIL_TIMEOUT, "no answer", &rule, 1011000, 11000, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_DOWN);
    assert_string_equal(ch.c[0].msg, "node is down: no answer for 1000 ms (timeout)");
    assert_int_equal(o.state, NODE_DOWN);
    assert_int_equal(o.state_since, 1011000);
    assert_int_equal(o.failures, 4);

    /* Down is said once. */
    state_apply_fail(&o, FAIL_TIMEOUT, "no answer", &rule, 1012000, 12000, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(ch.persist, 0);
    assert_int_equal(o.failures, 5);
    state_apply_age(&o, &rule, 1013000, 13000, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_DOWN);
    assert_int_equal(o.state_since, 1011000);
}

static void test_fail_min_failures(void **state)
{
    (void)state;
    struct state_down_rule rule = { 1000, 3 };
    struct node_obs o;
    health_obs_init(&o);
    up_at(&o, 10000);
    struct state_changes ch;
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 1, 10100, &ch);
    assert_int_equal(count_kind(&ch, EV_NODE_SUSPECT), 1);
    /* Long after down_after_ms but one failure only: still suspect. */
    state_apply_age(&o, &rule, 2, 30000, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 3, 30000, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);
    assert_int_equal(o.failures, 2);
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 4, 30001, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_DOWN);
    expect_sub(ch.c[0].msg, "for 20001 ms");
    assert_int_equal(o.state, NODE_DOWN);
}

static void test_fail_never_seen_up(void **state)
{
    (void)state;
    struct state_down_rule rule = { 1000, 1 };
    struct node_obs o;
    health_obs_init(&o);
    struct state_changes ch;
    /* Judged from its first failure, not from time 0. */
    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 1, 50000, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_SUSPECT);
    assert_string_equal(ch.c[0].msg, "poll failed: connection refused (connection refused)");
    assert_int_equal(o.state, NODE_SUSPECT);
    assert_int_equal(o.first_fail_mono, 50000);
    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 2, 50999, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);
    state_apply_fail(&o, FAIL_REFUSED, "connection refused", &rule, 3, 51000, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_DOWN);
    assert_int_equal(o.state, NODE_DOWN);

    /* A node seen up is judged from its last good poll: its first failure
     * long after that poll is down at once. */
    struct node_obs p;
    health_obs_init(&p);
    up_at(&p, 1000);
    state_apply_fail(&p, FAIL_TIMEOUT, "t", &rule, 4, 5000, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_DOWN);
    expect_sub(ch.c[0].msg, "for 4000 ms");
}

static void test_age(void **state)
{
    (void)state;
    struct state_down_rule rule = { 1000, 1 };
    struct node_obs o;
    health_obs_init(&o);
    struct state_changes ch;

    /* Never failed: time passing changes nothing. */
    state_apply_age(&o, &rule, 1, 99999, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_UNKNOWN);
    up_at(&o, 10000);
    state_apply_age(&o, &rule, 2, 99999, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_UP);

    state_apply_fail(&o, FAIL_AUTH, "NOAUTH", &rule, 3, 10200, &ch);
    assert_int_equal(o.state, NODE_SUSPECT);
    assert_string_equal(msg_of(&ch, EV_NODE_SUSPECT),
                        "poll failed: NOAUTH (authentication failed)");
    state_apply_age(&o, &rule, 4, 10999, &ch);
    assert_int_equal(ch.n, 0);
    assert_int_equal(o.state, NODE_SUSPECT);
    state_apply_age(&o, &rule, 5, 11000, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_DOWN);
    assert_string_equal(ch.c[0].msg, "node is down: NOAUTH for 1000 ms (authentication failed)");
    assert_int_equal(o.state, NODE_DOWN);
    assert_int_equal(o.state_since, 5);
    assert_int_equal(o.failures, 1);            /* aging is no failure */
    state_apply_age(&o, &rule, 6, 12000, &ch);
    assert_int_equal(ch.n, 0);
}

static void test_recover_after_down(void **state)
{
    (void)state;
    struct state_down_rule rule = { 1000, 1 };
    struct node_obs o;
    health_obs_init(&o);
    up_at(&o, 10000);
    struct state_changes ch;
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 1, 10100, &ch);
    state_apply_fail(&o, FAIL_OTHER, "ERR x", &rule, 2, 11500, &ch);
    assert_int_equal(o.state, NODE_DOWN);

    struct info_repl in;
    info_master(&in, 100);
    state_apply_ok(&o, &in, 3, 20000, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_UP);
    assert_int_equal(o.state, NODE_UP);
    assert_int_equal(o.state_since, 3);
    assert_int_equal(o.failures, 0);
    assert_int_equal(o.first_fail_mono, 0);
    assert_int_equal(o.fail_kind, FAIL_NONE);
    assert_string_equal(o.fail_msg, "");
    assert_int_equal(o.last_ok_mono, 20000);

    /* A new failure run starts from the new good poll. */
    state_apply_fail(&o, FAIL_TIMEOUT, "t", &rule, 4, 20500, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_SUSPECT);
    assert_int_equal(o.failures, 1);
    assert_int_equal(o.first_fail_mono, 20500);

    /* Suspect -> up is said too. */
    state_apply_ok(&o, &in, 5, 20600, 1, &ch);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].kind, EV_NODE_UP);
    assert_int_equal(o.failures, 0);
}

static void test_fail_names(void **state)
{
    (void)state;
    assert_string_equal(state_fail_name(FAIL_TIMEOUT), "timeout");
    assert_string_equal(state_fail_name(FAIL_REFUSED), "connection refused");
    assert_string_equal(state_fail_name(FAIL_LOADING), "loading");
    assert_string_equal(state_fail_name(FAIL_AUTH), "authentication failed");
    assert_string_equal(state_fail_name(FAIL_OTHER), "error");
    assert_string_equal(state_fail_name(FAIL_NONE), "none");
}

/* ---- the registry ---------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    struct state s;
    assert_int_equal(state_init(&s), 0);
    state_wrlock(&s);
    assert_null(state_obs(&s, 1));
    uint64_t v0 = s.version;
    struct node_obs *o1 = state_obs_get_or_add(&s, 1);
    assert_non_null(o1);
    assert_int_equal(s.version, v0 + 1);
    assert_int_equal(o1->state, NODE_UNKNOWN);
    assert_int_equal(o1->offset, -1);
    assert_int_equal(o1->lag_bytes, -1);
    assert_int_equal(o1->lag_ms, -1);
    assert_int_equal(o1->replica_priority, -1);
    assert_int_equal(o1->prev_offset, -1);
    assert_int_equal(o1->master_last_io_s, -1);
    o1->offset = 77;
    assert_ptr_equal(state_obs_get_or_add(&s, 1), o1);   /* found, not added */
    assert_int_equal(s.version, v0 + 1);
    assert_ptr_equal(state_obs(&s, 1), o1);
    assert_int_equal(s.nnodes, 1);

    /* Past the first allocation (64): every observation stays put. */
    for (int64_t id = 2; id <= 150; id++) {
        struct node_obs *o = state_obs_get_or_add(&s, id);
        assert_non_null(o);
        o->offset = id * 10;
    }
    assert_int_equal(s.nnodes, 150);
    assert_ptr_equal(state_obs(&s, 1), o1);
    assert_int_equal(o1->offset, 77);
    for (int64_t id = 2; id <= 150; id++)
        assert_int_equal(state_obs(&s, id)->offset, id * 10);

    uint64_t v1 = s.version;
    state_forget_node(&s, 50);
    assert_int_equal(s.version, v1 + 1);
    assert_null(state_obs(&s, 50));
    assert_int_equal(s.nnodes, 149);
    for (int64_t id = 2; id <= 150; id++)
        if (id != 50)
            assert_int_equal(state_obs(&s, id)->offset, id * 10);
    state_forget_node(&s, 50);                  /* unknown: nothing */
    state_forget_node(&s, 9999);
    assert_int_equal(s.version, v1 + 1);
    assert_int_equal(s.nnodes, 149);
    /* Forgotten then seen again: a fresh observation. */
    struct node_obs *o50 = state_obs_get_or_add(&s, 50);
    assert_non_null(o50);
    assert_int_equal(o50->offset, -1);

    /* Clusters: no report before the first refresh. */
    assert_null(state_cluster_health(&s, 7));
    state_forget_cluster(&s, 7);                /* unknown: nothing */
    state_unlock(&s);
    state_destroy(&s);
}

/* ---- state_refresh_cluster -------------------------------------------------- */

struct cl {
    struct state s;
    struct cluster_settings set;
    struct node_obs *mo, *ro[2];
    struct health_member m, r[2];
    int64_t ids[2];
};

static void cl_init(struct cl *c)
{
    assert_int_equal(state_init(&c->s), 0);
    health_settings_default(&c->set);
    c->set.lag_threshold_bytes = 500;
    c->set.lag_threshold_ms = 100000;
    c->mo = state_obs_get_or_add(&c->s, 1);
    c->ro[0] = state_obs_get_or_add(&c->s, 2);
    c->ro[1] = state_obs_get_or_add(&c->s, 3);
    struct info_repl in;
    struct state_changes ch;
    info_master(&in, 9000);
    state_apply_ok(c->mo, &in, 1000, 1000, 1, &ch);
    info_master(&in, 10000);
    state_apply_ok(c->mo, &in, 2000, 2000, 1, &ch);
    info_replica(&in, "10.0.0.1", 6379, LINK_UP, 10000);
    state_apply_ok(c->ro[0], &in, 2000, 2000, 1, &ch);
    info_replica(&in, "10.0.0.1", 6379, LINK_UP, 9000);
    state_apply_ok(c->ro[1], &in, 2000, 2000, 1, &ch);
    c->m = (struct health_member){ "m", "10.0.0.1", 6379, 0, c->mo };
    c->r[0] = (struct health_member){ "r1", "10.0.0.2", 6379, 0, c->ro[0] };
    c->r[1] = (struct health_member){ "r2", "10.0.0.3", 6379, 0, c->ro[1] };
    c->ids[0] = 2;
    c->ids[1] = 3;
}

/* The cluster lives outside the test body so that a failed assertion
 * (which leaves by longjmp) leaks nothing under valgrind. Single thread:
 * the write lock state_refresh_cluster() wants is not needed here. */
static int cl_setup(void **state)
{
    struct cl *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    cl_init(c);
    *state = c;
    return 0;
}

static int cl_teardown(void **state)
{
    struct cl *c = *state;
    state_destroy(&c->s);
    free(c);
    return 0;
}

static void refresh(struct cl *c, int64_t wall, struct state_changes ch[2])
{
    memset(ch, 0xff, 2 * sizeof(*ch));
    state_refresh_cluster(&c->s, 7, &c->m, c->r, c->ids, 2, &c->set, wall, ch);
}

static void set_replica(struct cl *c, int i, int link, int64_t off)
{
    struct info_repl in;
    struct state_changes ch;
    info_replica(&in, "10.0.0.1", 6379, link, off);
    state_apply_ok(c->ro[i], &in, 3000, 3000, 1, &ch);
}

static void test_refresh_lag_and_health(void **state)
{
    struct cl *c = *state;
    struct state_changes ch[2];
    assert_null(state_cluster_health(&c->s, 7));
    uint64_t v = c->s.version;

    refresh(c, 2500, ch);
    assert_int_equal(c->s.version, v + 1);
    assert_int_equal(ch[0].n, 0);
    assert_int_equal(ch[0].persist, 0);
    assert_int_equal(ch[1].n, 1);
    assert_int_equal(ch[1].c[0].kind, EV_LAG_HIGH);
    assert_string_equal(ch[1].c[0].msg,
                        "replica lags 1000 bytes / 500 ms (thresholds 500 bytes / 100000 ms)");
    assert_int_equal(c->ro[0]->lag_bytes, 0);
    assert_int_equal(c->ro[0]->lag_ms, 0);
    assert_int_equal(c->ro[0]->in_sync, 1);
    assert_int_equal(c->ro[0]->lag_alert, 0);
    assert_int_equal(c->ro[1]->lag_bytes, 1000);
    assert_int_equal(c->ro[1]->lag_ms, 500);   /* master passed 9000 at wall 2000 */
    assert_int_equal(c->ro[1]->in_sync, 0);
    assert_int_equal(c->ro[1]->lag_alert, 1);
    const struct health_report *rep = state_cluster_health(&c->s, 7);
    assert_non_null(rep);
    assert_int_equal(rep->level, HEALTH_DEGRADED);
    assert_int_equal(rep->nreasons, 1);
    assert_string_equal(rep->reasons[0], "replica r2 lags 1000 bytes (threshold 500)");
    assert_null(state_cluster_health(&c->s, 8));

    /* Still lagging: the alert is not raised again. */
    refresh(c, 3000, ch);
    assert_int_equal(ch[0].n, 0);
    assert_int_equal(ch[1].n, 0);
    assert_int_equal(c->ro[1]->lag_ms, 1000);

    /* Caught up: lag.ok once. */
    set_replica(c, 1, LINK_UP, 10000);
    refresh(c, 3500, ch);
    assert_int_equal(ch[1].n, 1);
    assert_int_equal(ch[1].c[0].kind, EV_LAG_OK);
    assert_string_equal(ch[1].c[0].msg, "replica lag back under threshold (0 bytes)");
    assert_int_equal(ch[1].persist, 1);
    assert_int_equal(c->ro[1]->lag_alert, 0);
    assert_int_equal(c->ro[1]->in_sync, 1);
    assert_int_equal(c->ro[1]->lag_bytes, 0);
    rep = state_cluster_health(&c->s, 7);
    assert_int_equal(rep->level, HEALTH_HEALTHY);
    assert_int_equal(rep->nreasons, 0);
    refresh(c, 4000, ch);
    assert_int_equal(ch[1].n, 0);

    /* A replica gone down: lag unknown, not in sync, no lag.ok. */
    struct state_down_rule rule = { 0, 1 };
    struct state_changes fch;
    state_apply_fail(c->ro[0], FAIL_TIMEOUT, "t", &rule, 4100, 4100, &fch);
    assert_int_equal(c->ro[0]->state, NODE_DOWN);
    refresh(c, 4200, ch);
    assert_int_equal(ch[0].n, 0);
    assert_int_equal(c->ro[0]->lag_bytes, -1);
    assert_int_equal(c->ro[0]->in_sync, 0);
    rep = state_cluster_health(&c->s, 7);
    assert_int_equal(rep->level, HEALTH_DEGRADED);
    assert_string_equal(rep->reasons[0], "replica r1 is down");

    /* An alert raised on a replica that then goes down stays raised (lag
     * unknown is not "back under threshold"). */
    set_replica(c, 1, LINK_UP, 100);
    refresh(c, 4300, ch);
    assert_int_equal(count_kind(&ch[1], EV_LAG_HIGH), 1);
    state_apply_fail(c->ro[1], FAIL_TIMEOUT, "t", &rule, 4400, 4400, &fch);
    refresh(c, 4500, ch);
    assert_int_equal(ch[1].n, 0);
    assert_int_equal(c->ro[1]->lag_alert, 1);

    /* Forgetting the cluster drops its report. */
    uint64_t v2 = c->s.version;
    state_forget_cluster(&c->s, 7);
    assert_int_equal(c->s.version, v2 + 1);
    assert_null(state_cluster_health(&c->s, 7));
}

/* A replica without an observation (just registered) gets empty changes. */
static void test_refresh_unobserved_replica(void **state)
{
    struct cl *c = *state;
    struct node_obs unobserved;
    health_obs_init(&unobserved);
    c->r[1].obs = &unobserved;
    c->ids[1] = 99;
    struct state_changes ch[2];
    refresh(c, 2500, ch);
    assert_int_equal(ch[1].n, 0);
    assert_int_equal(ch[1].persist, 0);
    assert_int_equal(ch[0].n, 0);
    assert_null(state_obs(&c->s, 99));           /* not created by a refresh */
    const struct health_report *rep = state_cluster_health(&c->s, 7);
    assert_non_null(rep);
    assert_string_equal(rep->reasons[0], "replica r2 not yet observed");
}

/* More than 16 replicas (the heap path). */
static void test_refresh_many_replicas(void **state)
{
    (void)state;
    enum { N = 20 };
    struct state s;
    assert_int_equal(state_init(&s), 0);
    struct cluster_settings set;
    health_settings_default(&set);
    set.lag_threshold_bytes = 100;
    struct info_repl in;
    struct state_changes tmp;
    struct node_obs *mo = state_obs_get_or_add(&s, 1);
    info_master(&in, 5000);
    state_apply_ok(mo, &in, 1000, 1000, 1, &tmp);
    struct health_member m = { "m", "10.0.0.1", 6379, 0, mo };
    struct health_member r[N];
    int64_t ids[N];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        ids[i] = 10 + i;
        struct node_obs *o = state_obs_get_or_add(&s, ids[i]);
        info_replica(&in, "10.0.0.1", 6379, LINK_UP, 5000 - i * 10);
        state_apply_ok(o, &in, 1000, 1000, 1, &tmp);
        snprintf(names[i], sizeof(names[i]), "r%d", i);
        r[i] = (struct health_member){ names[i], "10.0.1.1", 6379, 0, o };
    }
    struct state_changes ch[N];
    state_refresh_cluster(&s, 3, &m, r, ids, N, &set, 1500, ch);
    for (int i = 0; i < N; i++) {
        const struct node_obs *o = state_obs(&s, ids[i]);
        assert_int_equal(o->lag_bytes, i * 10);
        assert_int_equal(o->in_sync, i * 10 <= 100);
        assert_int_equal(ch[i].n, i * 10 > 100 ? 1 : 0);
        if (i * 10 > 100)
            assert_int_equal(ch[i].c[0].kind, EV_LAG_HIGH);
    }
    const struct health_report *rep = state_cluster_health(&s, 3);
    assert_non_null(rep);
    assert_int_equal(rep->level, HEALTH_DEGRADED);
    assert_int_equal(rep->nreasons, N - 11);
    state_destroy(&s);
}

/* A lag alert is not cleared when the replica's link goes down while the
 * lag is still above the threshold: the stale offset says nothing, and a
 * flapping link must not become a stream of lag.high / lag.ok. */
static void test_no_lag_ok_on_link_down(void **state)
{
    struct cl *c = *state;
    struct state_changes ch[2];
    set_replica(c, 1, LINK_UP, 5000);
    refresh(c, 2500, ch);
    assert_int_equal(count_kind(&ch[1], EV_LAG_HIGH), 1);
    assert_int_equal(c->ro[1]->lag_bytes, 5000);
    set_replica(c, 1, LINK_DOWN, 5000);        /* link drops, lag unchanged */
    refresh(c, 3000, ch);
    assert_int_equal(c->ro[1]->lag_bytes, 5000);
    if (count_kind(&ch[1], EV_LAG_OK) != 0)
        print_error("got lag.ok: %s\n", msg_of(&ch[1], EV_LAG_OK));
    assert_int_equal(count_kind(&ch[1], EV_LAG_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_fresh_master),
        cmocka_unit_test(test_ok_loading_message),
        cmocka_unit_test(test_ok_replica_link),
        cmocka_unit_test(test_ok_role_and_master_changes),
        cmocka_unit_test(test_ok_restart),
        cmocka_unit_test(test_ok_fenced),
        cmocka_unit_test(test_fail_suspect_then_down),
        cmocka_unit_test(test_fail_min_failures),
        cmocka_unit_test(test_fail_never_seen_up),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_recover_after_down),
        cmocka_unit_test(test_fail_names),
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_refresh_lag_and_health, cl_setup, cl_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_unobserved_replica, cl_setup, cl_teardown),
        cmocka_unit_test(test_refresh_many_replicas),
        cmocka_unit_test_setup_teardown(test_no_lag_ok_on_link_down, cl_setup, cl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
