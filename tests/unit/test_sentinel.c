/* test_sentinel.c - the Sentinel port's command layer (server/sentinel_cmd.c)
 * over a fake provider: every reply as exact RESP bytes. The literal
 * expectations marked "captured" are Debian's redis-sentinel 7.0.15 replies
 * (see README, "Sentinel-compatible port") with only the live timings put
 * to the fake's values; the others are built field by field in Redis' order.
 * Also pub/sub shapes and delivery, the error texts, and the event texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/sentinel.h"
#include "../../server/sentinel_cmd.h"

/* ---- fake provider ------------------------------------------------------ */

#define FAKE_MAX 4
static struct sentinel_master fake_masters[FAKE_MAX];
static size_t fake_n;
static int fake_calls;

static size_t fake_masters_fn(void *arg, const char *name, struct sentinel_master *out, size_t cap)
{
    (void)arg;
    size_t total = 0;
    fake_calls++;
    for (size_t i = 0; i < fake_n; i++) {
        if (name != NULL && strcmp(fake_masters[i].name, name) != 0)
            continue;
        if (total < cap)
            out[total] = fake_masters[i];
        total++;
    }
    return total;
}

static const struct sentinel_provider fake_provider = { NULL, fake_masters_fn };

static void fake_instance(struct sentinel_instance *in, const char *host, int port,
                          const char *runid, int64_t ok_ms, int role, int64_t role_ms)
{
    memset(in, 0, sizeof(*in));
    snprintf(in->host, sizeof(in->host), "%s", host);
    in->port = port;
    snprintf(in->run_id, sizeof(in->run_id), "%s", runid);
    in->last_ok_ping_ms = ok_ms;
    in->role_reported = role;
    in->role_reported_ms = role_ms;
}

/* c1: the master and two replicas of the captured deployment. */
static void fake_reset(void)
{
    memset(fake_masters, 0, sizeof(fake_masters));
    struct sentinel_master *m = &fake_masters[0];
    snprintf(m->name, sizeof(m->name), "c1");
    fake_instance(&m->in, "127.0.0.1", 16379, "78c9fca285d870b4d4f7df3d0f583c6293bd0004", 283,
                  SENTINEL_ROLE_MASTER, 13780);
    m->down_after_ms = 5000;
    m->failover_timeout_ms = 180000;
    m->quorum = 1;
    m->nreplicas = 2;
    const int ports[2] = { 16381, 16380 };
    const char *ids[2] = { "22acafb7bbde1fa52d8324677bdc95b3ea40050b",
                           "d5b23b48bea6b39e89770768aba759e1b9a0e9a3" };
    for (int i = 0; i < 2; i++) {
        struct sentinel_replica *r = &m->replicas[i];
        fake_instance(&r->in, "127.0.0.1", ports[i], ids[i], 979, SENTINEL_ROLE_SLAVE, 14576);
        r->link_ok = 1;
        snprintf(r->master_host, sizeof(r->master_host), "127.0.0.1");
        r->master_port = 16379;
        r->priority = 100;
        r->repl_offset = 430;
    }
    fake_n = 1;
    fake_calls = 0;
}

static void fake_add_c2(void)
{
    struct sentinel_master *m = &fake_masters[fake_n++];
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "c2");
    fake_instance(&m->in, "::1", 7000, "", 10, SENTINEL_ROLE_MASTER, 99);
    m->down_after_ms = 500;
    m->failover_timeout_ms = 60000;
    m->quorum = 1;
    m->config_epoch = 3;
}

/* ---- running commands --------------------------------------------------- */

struct fx {
    struct sentinel_ctx ctx;
    struct sentinel_session s;
    char *last;     /* last reply, NUL-terminated */
    size_t last_len;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fake_reset();
    f->ctx.provider = &fake_provider;
    snprintf(f->ctx.myid, sizeof(f->ctx.myid), "45f7a1b6b9fb8725858310762249bcd6d6c6b917");
    snprintf(f->ctx.run_id, sizeof(f->ctx.run_id), "77c73fe44e8f2b5324548056dc6bbb329a7b6097");
    f->ctx.version = "9.9.9";
    f->ctx.os = "Linux 6.1.0 x86_64";
    f->ctx.pid = 5164;
    f->ctx.port = 26390;
    f->ctx.now_us = 1796475718143588LL;
    f->ctx.uptime_s = 9;
    f->ctx.clients = 1;
    f->ctx.max_clients = 1000;
    sentinel_session_init(&f->s, 42);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sentinel_session_free(&f->s);
    free(f->last);
    free(f);
    return 0;
}

/* Runs one command given as separate arguments (lengths explicit, so
 * arguments may hold CR, LF or NUL) and keeps its reply in f->last. */
static const char *run_args(struct fx *f, int argc, const char *const *args, const size_t *lens)
{
    resp_arg argv[64];
    struct sentinel_out out = { 0 };
    assert_true(argc > 0 && argc <= 64);
    for (int i = 0; i < argc; i++) {
        argv[i].ptr = args[i];
        argv[i].len = lens ? lens[i] : strlen(args[i]);
    }
    assert_int_equal(sentinel_cmd_exec(&f->ctx, &f->s, argc, argv, &out), 0);
    free(f->last);
    f->last = malloc(out.len + 1);
    assert_non_null(f->last);
    if (out.len)
        memcpy(f->last, out.buf, out.len);
    f->last[out.len] = '\0';
    f->last_len = out.len;
    sentinel_out_free(&out);
    return f->last;
}

/* Runs "CMD arg arg" (split on spaces). */
static const char *run(struct fx *f, const char *line)
{
    char buf[1024];
    const char *args[64];
    int argc = 0;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *t = strtok(buf, " "); t != NULL && argc < 64; t = strtok(NULL, " "))
        args[argc++] = t;
    return run_args(f, argc, args, NULL);
}

/* ---- building expected replies ---------------------------------------- */

struct exp {
    char buf[8192];
    size_t len;
};

static void e_raw(struct exp *e, const char *s)
{
    size_t n = strlen(s);
    assert_true(e->len + n < sizeof(e->buf));
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = '\0';
}

static void e_fmt(struct exp *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void e_fmt(struct exp *e, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    e_raw(e, tmp);
}

static void e_bulk(struct exp *e, const char *s)
{
    e_fmt(e, "$%zu\r\n%s\r\n", strlen(s), s);
}

/* "*<2n>" then n key/value pairs given as strings. */
static void e_pairs(struct exp *e, int n, ...)
{
    va_list ap;
    e_fmt(e, "*%d\r\n", 2 * n);
    va_start(ap, n);
    for (int i = 0; i < 2 * n; i++)
        e_bulk(e, va_arg(ap, const char *));
    va_end(ap);
}

#define assert_reply(f, expected) assert_string_equal((f)->last, (expected))

/* ---- tests -------------------------------------------------------------- */

static void test_ping(void **state)
{
    struct fx *f = *state;
    assert_string_equal(run(f, "PING"), "+PONG\r\n");
    assert_string_equal(run(f, "ping hello"), "$5\r\nhello\r\n");
    assert_string_equal(run(f, "PING a b"), "-ERR wrong number of arguments for 'ping' command\r\n");
}

static void test_get_master_addr(void **state)
{
    struct fx *f = *state;
    /* captured */
    assert_string_equal(run(f, "SENTINEL get-master-addr-by-name c1"),
                        "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n16379\r\n");
    assert_string_equal(run(f, "sentinel GET-MASTER-ADDR-BY-NAME c1"),
                        "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n16379\r\n");
    /* unknown master: a null array, which clients read as nil (captured) */
    assert_string_equal(run(f, "SENTINEL get-master-addr-by-name nope"), "*-1\r\n");
    assert_string_equal(run(f, "SENTINEL get-master-addr-by-name C1"), "*-1\r\n");
    assert_string_equal(
        run(f, "SENTINEL get-master-addr-by-name"),
        "-ERR wrong number of arguments for 'sentinel|get-master-addr-by-name' command\r\n");
    /* names longer than any cluster name, or holding a NUL, are unknown */
    const char *args[3] = { "SENTINEL", "get-master-addr-by-name", "c1\0x" };
    size_t lens[3] = { 8, 23, 4 };
    assert_string_equal(run_args(f, 3, args, lens), "*-1\r\n");
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *args2[3] = { "SENTINEL", "get-master-addr-by-name", longname };
    assert_string_equal(run_args(f, 3, args2, NULL), "*-1\r\n");
}

/* captured: SENTINEL MASTER c1 from redis-sentinel 7.0.15 (info-refresh set
 * to the last ping's age, as kvfleetd polls INFO with its ping). */
static const char master_c1[] =
    "*40\r\n$4\r\nname\r\n$2\r\nc1\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$5\r\n16379\r\n"
    "$5\r\nrunid\r\n$40\r\n78c9fca285d870b4d4f7df3d0f583c6293bd0004\r\n$5\r\nflags\r\n$6\r\n"
    "master\r\n$21\r\nlink-pending-commands\r\n$1\r\n0\r\n$13\r\nlink-refcount\r\n$1\r\n1\r\n"
    "$14\r\nlast-ping-sent\r\n$1\r\n0\r\n$18\r\nlast-ok-ping-reply\r\n$3\r\n283\r\n$15\r\n"
    "last-ping-reply\r\n$3\r\n283\r\n$23\r\ndown-after-milliseconds\r\n$4\r\n5000\r\n$12\r\n"
    "info-refresh\r\n$3\r\n283\r\n$13\r\nrole-reported\r\n$6\r\nmaster\r\n$18\r\n"
    "role-reported-time\r\n$5\r\n13780\r\n$12\r\nconfig-epoch\r\n$1\r\n0\r\n$10\r\nnum-slaves\r\n"
    "$1\r\n2\r\n$19\r\nnum-other-sentinels\r\n$1\r\n0\r\n$6\r\nquorum\r\n$1\r\n1\r\n$16\r\n"
    "failover-timeout\r\n$6\r\n180000\r\n$14\r\nparallel-syncs\r\n$1\r\n1\r\n";

/* captured: the first entry of SENTINEL REPLICAS c1 (info-refresh as above). */
static const char replica_16381[] =
    "*42\r\n$4\r\nname\r\n$15\r\n127.0.0.1:16381\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n"
    "$5\r\n16381\r\n$5\r\nrunid\r\n$40\r\n22acafb7bbde1fa52d8324677bdc95b3ea40050b\r\n$5\r\n"
    "flags\r\n$5\r\nslave\r\n$21\r\nlink-pending-commands\r\n$1\r\n0\r\n$13\r\nlink-refcount\r\n"
    "$1\r\n1\r\n$14\r\nlast-ping-sent\r\n$1\r\n0\r\n$18\r\nlast-ok-ping-reply\r\n$3\r\n979\r\n"
    "$15\r\nlast-ping-reply\r\n$3\r\n979\r\n$23\r\ndown-after-milliseconds\r\n$4\r\n5000\r\n"
    "$12\r\ninfo-refresh\r\n$3\r\n979\r\n$13\r\nrole-reported\r\n$5\r\nslave\r\n$18\r\n"
    "role-reported-time\r\n$5\r\n14576\r\n$21\r\nmaster-link-down-time\r\n$1\r\n0\r\n$18\r\n"
    "master-link-status\r\n$2\r\nok\r\n$11\r\nmaster-host\r\n$9\r\n127.0.0.1\r\n$11\r\n"
    "master-port\r\n$5\r\n16379\r\n$14\r\nslave-priority\r\n$3\r\n100\r\n$17\r\n"
    "slave-repl-offset\r\n$3\r\n430\r\n$17\r\nreplica-announced\r\n$1\r\n1\r\n";

static void test_master_and_masters(void **state)
{
    struct fx *f = *state;
    assert_string_equal(run(f, "SENTINEL master c1"), master_c1);
    assert_string_equal(run(f, "SENTINEL master nope"), "-ERR No such master with that name\r\n");
    assert_string_equal(run(f, "SENTINEL master"),
                        "-ERR wrong number of arguments for 'sentinel|master' command\r\n");

    struct exp e = { .len = 0 };
    e_raw(&e, "*1\r\n");
    e_raw(&e, master_c1);
    assert_string_equal(run(f, "SENTINEL masters"), e.buf);
    assert_string_equal(run(f, "SENTINEL masters extra"),
                        "-ERR wrong number of arguments for 'sentinel|masters' command\r\n");

    /* a second master, IPv6, no run id yet */
    fake_add_c2();
    e.len = 0;
    e_pairs(&e, 20, "name", "c2", "ip", "::1", "port", "7000", "runid", "", "flags", "master",
            "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "0",
            "last-ok-ping-reply", "10", "last-ping-reply", "10", "down-after-milliseconds", "500",
            "info-refresh", "10", "role-reported", "master", "role-reported-time", "99",
            "config-epoch", "3", "num-slaves", "0", "num-other-sentinels", "0", "quorum", "1",
            "failover-timeout", "60000", "parallel-syncs", "1");
    assert_string_equal(run(f, "SENTINEL master c2"), e.buf);
    run(f, "SENTINEL masters");
    assert_memory_equal(f->last, "*2\r\n", 4);
    assert_true(strstr(f->last, master_c1) == f->last + 4);
    assert_string_equal(f->last + 4 + strlen(master_c1), e.buf);
    /* empty fleet */
    fake_n = 0;
    assert_string_equal(run(f, "SENTINEL masters"), "*0\r\n");
}

static void test_master_flags(void **state)
{
    struct fx *f = *state;
    struct sentinel_master *m = &fake_masters[0];
    struct exp e = { .len = 0 };

    m->in.flags = SENTINEL_F_S_DOWN;
    m->in.down_ms = 1872;
    e_pairs(&e, 21, "name", "c1", "ip", "127.0.0.1", "port", "16379", "runid",
            "78c9fca285d870b4d4f7df3d0f583c6293bd0004", "flags", "s_down,master",
            "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "283",
            "last-ok-ping-reply", "283", "last-ping-reply", "283", "s-down-time", "1872",
            "down-after-milliseconds", "5000", "info-refresh", "283", "role-reported", "master",
            "role-reported-time", "13780", "config-epoch", "0", "num-slaves", "2",
            "num-other-sentinels", "0", "quorum", "1", "failover-timeout", "180000",
            "parallel-syncs", "1");
    assert_string_equal(run(f, "SENTINEL master c1"), e.buf);

    /* Redis lists s_down before o_down ("s_down,o_down,master", captured),
     * and s-down-time before o-down-time. */
    m->in.flags = SENTINEL_F_S_DOWN | SENTINEL_F_O_DOWN;
    run(f, "SENTINEL master c1");
    assert_memory_equal(f->last, "*44\r\n", 5);
    assert_non_null(strstr(f->last, "$5\r\nflags\r\n$20\r\ns_down,o_down,master\r\n"));
    assert_non_null(strstr(f->last, "$11\r\ns-down-time\r\n$4\r\n1872\r\n$11\r\no-down-time\r\n"
                                    "$4\r\n1872\r\n$23\r\ndown-after-milliseconds\r\n"));

    /* a failover in progress: the flag and failover-state after
     * link-refcount */
    m->in.flags = SENTINEL_F_FAILOVER;
    snprintf(m->failover_state, sizeof(m->failover_state), "wait_promotion");
    run(f, "SENTINEL master c1");
    assert_memory_equal(f->last, "*42\r\n", 5);
    assert_non_null(strstr(f->last, "$27\r\nmaster,failover_in_progress\r\n"));
    assert_non_null(strstr(f->last, "$13\r\nlink-refcount\r\n$1\r\n1\r\n$14\r\nfailover-state\r\n"
                                    "$14\r\nwait_promotion\r\n$14\r\nlast-ping-sent\r\n"));
}

static void test_replicas(void **state)
{
    struct fx *f = *state;
    run(f, "SENTINEL replicas c1");
    assert_memory_equal(f->last, "*2\r\n", 4);
    assert_true(strncmp(f->last + 4, replica_16381, strlen(replica_16381)) == 0);
    char *second = f->last + 4 + strlen(replica_16381);
    assert_non_null(strstr(second, "$15\r\n127.0.0.1:16380\r\n"));
    /* SLAVES is the old name of REPLICAS */
    char *copy = strdup(f->last);
    assert_string_equal(run(f, "SENTINEL slaves c1"), copy);
    free(copy);
    assert_string_equal(run(f, "SENTINEL replicas nope"), "-ERR No such master with that name\r\n");

    /* a replica down and disconnected (flags captured), its link down, an
     * unknown master host ("?"), and an IPv6 name in brackets */
    struct sentinel_replica *r = &fake_masters[0].replicas[0];
    r->in.flags = SENTINEL_F_S_DOWN | SENTINEL_F_DISCONNECTED;
    r->in.down_ms = 1872;
    r->in.last_ok_ping_ms = 7198;
    r->link_ok = 0;
    r->link_down_ms = 5000;
    r->master_host[0] = '\0';
    snprintf(r->in.host, sizeof(r->in.host), "::1");
    struct exp e = { .len = 0 };
    e_pairs(&e, 22, "name", "[::1]:16381", "ip", "::1", "port", "16381", "runid",
            "22acafb7bbde1fa52d8324677bdc95b3ea40050b", "flags", "s_down,slave,disconnected",
            "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "7198",
            "last-ok-ping-reply", "7198", "last-ping-reply", "7198", "s-down-time", "1872",
            "down-after-milliseconds", "5000", "info-refresh", "7198", "role-reported", "slave",
            "role-reported-time", "14576", "master-link-down-time", "5000",
            "master-link-status", "err", "master-host", "?", "master-port", "16379",
            "slave-priority", "100", "slave-repl-offset", "430", "replica-announced", "1");
    run(f, "SENTINEL replicas c1");
    assert_true(strncmp(f->last + 4, e.buf, e.len) == 0);

    /* plain s_down */
    r->in.flags = SENTINEL_F_S_DOWN;
    run(f, "SENTINEL replicas c1");
    assert_non_null(strstr(f->last, "$5\r\nflags\r\n$12\r\ns_down,slave\r\n"));
    /* a master without replicas */
    fake_masters[0].nreplicas = 0;
    assert_string_equal(run(f, "SENTINEL replicas c1"), "*0\r\n");
}

static void test_other_subcommands(void **state)
{
    struct fx *f = *state;
    /* captured */
    assert_string_equal(run(f, "SENTINEL sentinels c1"), "*0\r\n");
    assert_string_equal(run(f, "SENTINEL sentinels nope"), "-ERR No such master with that name\r\n");
    assert_string_equal(run(f, "SENTINEL ckquorum c1"),
                        "+OK 1 usable Sentinels. Quorum and failover authorization can be reached\r\n");
    assert_string_equal(run(f, "SENTINEL ckquorum nope"), "-ERR No such master with that name\r\n");
    fake_masters[0].quorum = 2;
    assert_string_equal(run(f, "SENTINEL ckquorum c1"),
                        "-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach "
                        "the specified quorum for this master\r\n");
    assert_string_equal(run(f, "SENTINEL myid"),
                        "$40\r\n45f7a1b6b9fb8725858310762249bcd6d6c6b917\r\n");
    assert_string_equal(run(f, "SENTINEL myid x"),
                        "-ERR wrong number of arguments for 'sentinel|myid' command\r\n");
    assert_string_equal(run(f, "SENTINEL is-master-down-by-addr 127.0.0.1 16379 0 *"),
                        "*3\r\n:0\r\n$1\r\n*\r\n:0\r\n");
    fake_masters[0].in.flags = SENTINEL_F_S_DOWN;
    assert_string_equal(run(f, "SENTINEL is-master-down-by-addr 127.0.0.1 16379 5 abc"),
                        "*3\r\n:1\r\n$1\r\n*\r\n:0\r\n");
    assert_string_equal(run(f, "SENTINEL is-master-down-by-addr 127.0.0.1 x 0 *"),
                        "-ERR value is not an integer or out of range\r\n");
    assert_string_equal(run(f, "SENTINEL is-master-down-by-addr 127.0.0.1 1 0"),
                        "-ERR wrong number of arguments for 'sentinel|is-master-down-by-addr' "
                        "command\r\n");
    assert_string_equal(run(f, "SENTINEL bogus"),
                        "-ERR unknown subcommand 'bogus'. Try SENTINEL HELP.\r\n");
    assert_string_equal(run(f, "sentinel bogus"),
                        "-ERR unknown subcommand 'bogus'. Try SENTINEL HELP.\r\n");
    assert_string_equal(run(f, "SENTINEL"),
                        "-ERR wrong number of arguments for 'sentinel' command\r\n");
    run(f, "SENTINEL failover c1");
    assert_memory_equal(f->last, "-ERR SENTINEL failover is not supported by kvfleetd", 51);
    run(f, "SENTINEL help");
    assert_memory_equal(f->last, "*22\r\n+SENTINEL <subcommand>", 26);
}

static const char info_sentinel_c1[] =
    "# Sentinel\r\nsentinel_masters:1\r\nsentinel_tilt:0\r\nsentinel_tilt_since_seconds:-1\r\n"
    "sentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\n"
    "sentinel_simulate_failure_flags:0\r\n"
    "master0:name=c1,status=ok,address=127.0.0.1:16379,slaves=2,sentinels=1\r\n";

static void test_info(void **state)
{
    struct fx *f = *state;
    struct exp e = { .len = 0 };
    /* captured */
    e_fmt(&e, "$%zu\r\n%s\r\n", strlen(info_sentinel_c1), info_sentinel_c1);
    assert_string_equal(run(f, "INFO sentinel"), e.buf);
    assert_string_equal(run(f, "info SENTINEL"), e.buf);
    /* the status is odown over sdown over ok */
    fake_masters[0].in.flags = SENTINEL_F_S_DOWN;
    assert_non_null(strstr(run(f, "INFO sentinel"), "master0:name=c1,status=sdown,"));
    fake_masters[0].in.flags = SENTINEL_F_S_DOWN | SENTINEL_F_O_DOWN;
    assert_non_null(strstr(run(f, "INFO sentinel"), "master0:name=c1,status=odown,"));
    fake_add_c2();
    assert_non_null(strstr(run(f, "INFO sentinel"), "sentinel_masters:2\r\n"));
    assert_non_null(strstr(f->last, "master1:name=c2,status=ok,address=::1:7000,slaves=0,sentinels=1\r\n"));

    /* unknown sections: an empty string (captured) */
    assert_string_equal(run(f, "INFO bogus"), "$0\r\n\r\n");
    assert_string_equal(run(f, "INFO a b"), "$0\r\n\r\n");

    const char *server = run(f, "INFO server");
    assert_memory_equal(strchr(server, '\n') + 1, "# Server\r\nredis_version:7.0.15\r\n", 32);
    assert_non_null(strstr(server, "\r\nredis_mode:sentinel\r\n"));
    assert_non_null(strstr(server, "\r\nprocess_id:5164\r\n"));
    assert_non_null(strstr(server, "\r\nrun_id:77c73fe44e8f2b5324548056dc6bbb329a7b6097\r\n"));
    assert_non_null(strstr(server, "\r\ntcp_port:26390\r\n"));
    assert_non_null(strstr(server, "\r\nserver_time_usec:1796475718143588\r\n"));
    assert_non_null(strstr(server, "\r\nkvfleetd_version:9.9.9\r\n"));
    assert_null(strstr(server, "# Clients"));

    /* several sections: Redis' order, one empty line between them, none at
     * the end */
    const char *two = run(f, "INFO clients server");
    const char *srv = strstr(two, "# Server"), *cli = strstr(two, "\r\n\r\n# Clients\r\n");
    assert_non_null(srv);
    assert_non_null(cli);
    assert_true(srv < cli);
    assert_non_null(strstr(two, "connected_clients:1\r\n"));
    assert_non_null(strstr(two, "maxclients:1000\r\n"));
    assert_null(strstr(two, "# Sentinel"));
    /* the last line, then the bulk's own CRLF: no empty line at the end */
    assert_memory_equal(two + f->last_len - 6, ":0\r\n\r\n", 6);

    /* no argument, all, everything, default: all three sections */
    const char *all[] = { "INFO", "INFO all", "INFO everything", "INFO default" };
    for (size_t i = 0; i < 4; i++) {
        const char *r = run(f, all[i]);
        assert_non_null(strstr(r, "# Server\r\n"));
        assert_non_null(strstr(r, "\r\n\r\n# Clients\r\n"));
        assert_non_null(strstr(r, "\r\n\r\n# Sentinel\r\n"));
    }
}

static void test_role(void **state)
{
    struct fx *f = *state;
    assert_string_equal(run(f, "ROLE"), "*2\r\n$8\r\nsentinel\r\n*1\r\n$2\r\nc1\r\n");   /* captured */
    fake_add_c2();
    assert_string_equal(run(f, "role"), "*2\r\n$8\r\nsentinel\r\n*2\r\n$2\r\nc1\r\n$2\r\nc2\r\n");
    assert_string_equal(run(f, "ROLE x"), "-ERR wrong number of arguments for 'role' command\r\n");
}

static void test_pubsub_replies(void **state)
{
    struct fx *f = *state;
    /* captured */
    assert_string_equal(run(f, "SUBSCRIBE +switch-master"),
                        "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n");
    assert_true(sentinel_session_subscribed(&f->s));
    assert_string_equal(run(f, "SUBSCRIBE a +switch-master"),
                        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
                        "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:2\r\n");
    /* subscribed mode: unknown commands stay unknown, known ones are
     * refused, PING answers as a message (captured) */
    assert_string_equal(run(f, "GET x"),
                        "-ERR unknown command 'GET', with args beginning with: 'x' \r\n");
    assert_string_equal(run(f, "SENTINEL masters"),
                        "-ERR Can't execute 'sentinel|masters': only (P|S)SUBSCRIBE / "
                        "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    assert_string_equal(run(f, "INFO"),
                        "-ERR Can't execute 'info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                        "PING / QUIT / RESET are allowed in this context\r\n");
    assert_string_equal(run(f, "CLIENT ID"),
                        "-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                        "PING / QUIT / RESET are allowed in this context\r\n");
    assert_string_equal(run(f, "SENTINEL bogus"),
                        "-ERR unknown subcommand 'bogus'. Try SENTINEL HELP.\r\n");
    assert_string_equal(run(f, "PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_string_equal(run(f, "PING hi"), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    assert_string_equal(run(f, "PING a b"), "-ERR wrong number of arguments for 'ping' command\r\n");
    assert_string_equal(run(f, "SUBSCRIBE"),
                        "-ERR wrong number of arguments for 'subscribe' command\r\n");

    /* patterns count with channels */
    assert_string_equal(run(f, "PSUBSCRIBE *"), "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:3\r\n");
    assert_string_equal(run(f, "UNSUBSCRIBE a nope"),
                        "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
                        "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnope\r\n:2\r\n");
    assert_string_equal(run(f, "UNSUBSCRIBE"),
                        "*3\r\n$11\r\nunsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n");
    assert_string_equal(run(f, "UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n");
    assert_string_equal(run(f, "PUNSUBSCRIBE"), "*3\r\n$12\r\npunsubscribe\r\n$1\r\n*\r\n:0\r\n");
    assert_false(sentinel_session_subscribed(&f->s));
    assert_string_equal(run(f, "PUNSUBSCRIBE x"), "*3\r\n$12\r\npunsubscribe\r\n$1\r\nx\r\n:0\r\n");
    assert_string_equal(run(f, "PUNSUBSCRIBE"), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    /* out of subscribed mode, commands run again */
    assert_string_equal(run(f, "PING"), "+PONG\r\n");
    assert_string_equal(run(f, "PUBLISH a b"),
                        "-ERR Only HELLO messages are accepted by Sentinel instances.\r\n");
}

static void test_pubsub_deliver(void **state)
{
    struct fx *f = *state;
    struct sentinel_out out = { 0 };

    assert_int_equal(sentinel_cmd_deliver(&f->s, "+sdown", "master c1 127.0.0.1 16379", &out), 0);
    assert_int_equal(out.len, 0);
    run(f, "SUBSCRIBE +switch-master");
    run(f, "PSUBSCRIBE *down +switch-*");
    assert_int_equal(sentinel_cmd_deliver(&f->s, "+switch-master",
                                          "c1 127.0.0.1 16379 127.0.0.1 16380", &out), 2);
    const char want[] =
        "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$34\r\nc1 127.0.0.1 16379 127.0.0.1 16380\r\n"
        "*4\r\n$8\r\npmessage\r\n$9\r\n+switch-*\r\n$14\r\n+switch-master\r\n"
        "$34\r\nc1 127.0.0.1 16379 127.0.0.1 16380\r\n";
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.buf, want, out.len);
    out.len = 0;
    assert_int_equal(sentinel_cmd_deliver(&f->s, "+odown", "master c1 127.0.0.1 16379 #quorum 1/1",
                                          &out), 1);
    assert_non_null(memmem(out.buf, out.len, "$5\r\n*down\r\n$6\r\n+odown\r\n", 22));
    out.len = 0;
    assert_int_equal(sentinel_cmd_deliver(&f->s, "-sdown-x", "m", &out), 0);
    sentinel_out_free(&out);
}

static void test_subscription_limit(void **state)
{
    struct fx *f = *state;
    char name[32];
    const char *args[2] = { "SUBSCRIBE", name };
    for (int i = 0; i < SENTINEL_MAX_SUBSCRIPTIONS; i++) {
        snprintf(name, sizeof(name), "ch%d", i);
        run_args(f, 2, args, NULL);
        assert_int_equal(f->last[0], '*');
    }
    snprintf(name, sizeof(name), "one-more");
    assert_string_equal(run_args(f, 2, args, NULL),
                        "-ERR too many subscriptions on this connection (max 1024)\r\n");
    /* an existing one is still fine */
    snprintf(name, sizeof(name), "ch0");
    assert_memory_equal(run_args(f, 2, args, NULL), "*3\r\n", 4);
    assert_int_equal(f->s.nchannels, SENTINEL_MAX_SUBSCRIPTIONS);
}

static void test_unknown_commands(void **state)
{
    struct fx *f = *state;
    /* captured */
    assert_string_equal(run(f, "GET x"), "-ERR unknown command 'GET', with args beginning with: 'x' \r\n");
    assert_string_equal(run(f, "get x y z a b c"),
                        "-ERR unknown command 'get', with args beginning with: 'x' 'y' 'z' 'a' 'b' 'c' \r\n");
    assert_string_equal(run(f, "foo"), "-ERR unknown command 'foo', with args beginning with: \r\n");
    assert_string_equal(
        run(f, "FOO a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh"),
        "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' 'c' 'd' 'e' 'f' 'g' 'h' 'i' "
        "'j' 'k' 'l' 'm' 'n' 'o' 'p' 'q' 'r' 's' 't' 'u' 'v' 'w' 'x' 'y' 'z' 'aa' 'bb' 'cc' 'dd' "
        "'ee' \r\n");
    /* an argument cut to what is left of 128 bytes (captured) */
    char o100[101], z40[41];
    memset(o100, 'O', 100);
    o100[100] = '\0';
    memset(z40, 'z', 40);
    z40[40] = '\0';
    const char *args[3] = { "FOO", o100, z40 };
    struct exp e = { .len = 0 };
    e_fmt(&e, "-ERR unknown command 'FOO', with args beginning with: '%s' 'zzzzzzzzzzzzzzzzzzzzzzzzz' \r\n",
          o100);
    assert_string_equal(run_args(f, 3, args, NULL), e.buf);
    /* CR and LF inside an argument become spaces (captured); a NUL ends it */
    const char *args2[2] = { "FOO", "a\r\nbc" };
    assert_string_equal(run_args(f, 2, args2, NULL),
                        "-ERR unknown command 'FOO', with args beginning with: 'a  bc' \r\n");
    const char *args3[2] = { "FOO", "ab\0cd" };
    size_t lens3[2] = { 3, 5 };
    assert_string_equal(run_args(f, 2, args3, lens3),
                        "-ERR unknown command 'FOO', with args beginning with: 'ab' \r\n");
    /* commands of a Redis server are unknown here, as in Sentinel (captured) */
    assert_string_equal(run(f, "SELECT 0"),
                        "-ERR unknown command 'SELECT', with args beginning with: '0' \r\n");
}

static void test_client(void **state)
{
    struct fx *f = *state;
    assert_string_equal(run(f, "CLIENT ID"), ":42\r\n");
    assert_string_equal(run(f, "CLIENT GETNAME"), "$-1\r\n");
    assert_string_equal(run(f, "CLIENT SETNAME foo"), "+OK\r\n");
    assert_string_equal(run(f, "client getname"), "$3\r\nfoo\r\n");
    const char *args[3] = { "CLIENT", "SETNAME", "a b" };
    assert_string_equal(run_args(f, 3, args, NULL),
                        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    args[2] = "";
    assert_string_equal(run_args(f, 3, args, NULL), "+OK\r\n");
    assert_string_equal(run(f, "CLIENT GETNAME"), "$-1\r\n");
    assert_string_equal(run(f, "CLIENT GETNAME x"),
                        "-ERR wrong number of arguments for 'client|getname' command\r\n");
    assert_string_equal(run(f, "CLIENT SETNAME"),
                        "-ERR wrong number of arguments for 'client|setname' command\r\n");
    assert_string_equal(run(f, "CLIENT bogus"), "-ERR unknown subcommand 'bogus'. Try CLIENT HELP.\r\n");
    assert_string_equal(run(f, "CLIENT"), "-ERR wrong number of arguments for 'client' command\r\n");
}

static void test_auth_hello_quit_command(void **state)
{
    struct fx *f = *state;
    /* captured */
    assert_string_equal(run(f, "AUTH x"),
                        "-ERR AUTH <password> called without any password configured for the "
                        "default user. Are you sure your configuration is correct?\r\n");
    assert_string_equal(run(f, "AUTH a b"),
                        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert_string_equal(run(f, "AUTH default x"), "+OK\r\n");
    assert_string_equal(run(f, "AUTH a b c"), "-ERR syntax error\r\n");
    assert_string_equal(run(f, "AUTH"), "-ERR wrong number of arguments for 'auth' command\r\n");

    const char hello[] = "*12\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
                         "$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:42\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n"
                         "$7\r\nmodules\r\n*0\r\n";
    assert_string_equal(run(f, "HELLO"), hello);
    assert_string_equal(run(f, "HELLO 2"), hello);
    assert_string_equal(run(f, "HELLO 3"), "-NOPROTO unsupported protocol version\r\n");
    assert_string_equal(run(f, "HELLO 4"), "-NOPROTO unsupported protocol version\r\n");
    assert_string_equal(run(f, "HELLO x"), "-ERR Protocol version is not an integer or out of range\r\n");
    assert_string_equal(run(f, "HELLO 2 FOO"), "-ERR Syntax error in HELLO option 'FOO'\r\n");
    assert_string_equal(run(f, "HELLO 2 AUTH x"), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
    assert_string_equal(run(f, "HELLO 2 AUTH a b"),
                        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert_string_equal(run(f, "HELLO 2 SETNAME n AUTH default x"), hello);
    assert_string_equal(run(f, "CLIENT GETNAME"), "$1\r\nn\r\n");

    assert_string_equal(run(f, "COMMAND"), "*0\r\n");
    assert_string_equal(run(f, "COMMAND COUNT"), ":0\r\n");
    assert_string_equal(run(f, "COMMAND DOCS"), "*0\r\n");
    assert_string_equal(run(f, "COMMAND INFO get ping"), "*2\r\n$-1\r\n$-1\r\n");
    assert_string_equal(run(f, "COMMAND bogus"), "-ERR unknown subcommand 'bogus'. Try COMMAND HELP.\r\n");
    assert_string_equal(run(f, "COMMAND COUNT x"),
                        "-ERR wrong number of arguments for 'command|count' command\r\n");

    assert_int_equal(f->s.quit, 0);
    run(f, "SUBSCRIBE x");
    assert_string_equal(run(f, "QUIT"), "+OK\r\n");   /* allowed in subscribed mode */
    assert_int_equal(f->s.quit, 1);
}

static void test_no_provider_and_counts(void **state)
{
    struct fx *f = *state;
    /* a name lookup asks the provider for that master only */
    fake_calls = 0;
    run(f, "SENTINEL get-master-addr-by-name c1");
    assert_int_equal(fake_calls, 2);    /* count, then fill */
    fake_calls = 0;
    run(f, "SENTINEL get-master-addr-by-name nope");
    assert_int_equal(fake_calls, 1);    /* count 0: no second call */
    /* without a provider: no masters, no crash */
    f->ctx.provider = NULL;
    assert_string_equal(run(f, "SENTINEL masters"), "*0\r\n");
    assert_string_equal(run(f, "SENTINEL get-master-addr-by-name c1"), "*-1\r\n");
    assert_string_equal(run(f, "ROLE"), "*2\r\n$8\r\nsentinel\r\n*0\r\n");
}

static void test_event_texts(void **state)
{
    (void)state;
    char buf[256];
    assert_int_equal(sentinel_fmt_master(buf, sizeof(buf), "c1", "127.0.0.1", 16379), 25);
    assert_string_equal(buf, "master c1 127.0.0.1 16379");
    sentinel_fmt_odown(buf, sizeof(buf), "c1", "127.0.0.1", 16379);
    assert_string_equal(buf, "master c1 127.0.0.1 16379 #quorum 1/1");   /* captured */
    sentinel_fmt_replica(buf, sizeof(buf), "127.0.0.1", 16381, "c1", "127.0.0.1", 16379);
    assert_string_equal(buf, "slave 127.0.0.1:16381 127.0.0.1 16381 @ c1 127.0.0.1 16379"); /* captured */
    sentinel_fmt_replica(buf, sizeof(buf), "::1", 7001, "c2", "::1", 7000);
    assert_string_equal(buf, "slave [::1]:7001 ::1 7001 @ c2 ::1 7000");
    sentinel_fmt_switch_master(buf, sizeof(buf), "c1", "127.0.0.1", 16379, "127.0.0.1", 16380);
    assert_string_equal(buf, "c1 127.0.0.1 16379 127.0.0.1 16380");
    /* truncation is reported, the buffer stays a C string */
    assert_true(sentinel_fmt_master(buf, 8, "c1", "127.0.0.1", 16379) > 8);
    assert_string_equal(buf, "master ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_master_addr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_and_masters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replicas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_subcommands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_deliver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_hello_quit_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_provider_and_counts, setup, teardown),
        cmocka_unit_test(test_event_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
