/* server: process context life cycle, the cron (expiry, timeouts, rehash,
 * module ticks), signals, eviction and the INFO text. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include "script.h"
#include "function.h"
#include "deque.h"
#include "server.h"
#include "aof.h"
#include "objclock.h"
#include "latency.h"
#include "client.h"
#include "command.h"
#include "fence.h"
#include "reply.h"
#include "mem.h"
#include "log.h"
#include "util.h"
#include "blocking.h"
#include "pubsub.h"
#include "notify.h"
#include "t_migrate.h"
#include "tracking.h"
#include "hmap.h"
#include "setobj.h"
#include "zset.h"

#ifdef KV_JEMALLOC
#include <jemalloc/jemalloc.h>
#define KV_STR2(x) #x
#define KV_STR(x) KV_STR2(x)
#define KV_JEMALLOC_VERSION KV_STR(JEMALLOC_VERSION_MAJOR) "." KV_STR(JEMALLOC_VERSION_MINOR) "." KV_STR(JEMALLOC_VERSION_BUGFIX)
#endif

typedef struct srv_hook {
    srv_cron_fn *cron;
    srv_info_fn *info;
    const char *section;
    void *priv;
} srv_hook;
static srv_hook srv_crons[16];
static int srv_cron_count;
static srv_hook srv_infos[16];
static int srv_info_count;

void srv_add_cron(srv *s, srv_cron_fn *fn, void *priv)
{
    (void)s;
    if (srv_cron_count < 16)
        srv_crons[srv_cron_count++] = (srv_hook){ .cron = fn, .priv = priv };
}

void srv_add_info(srv *s, const char *section, srv_info_fn *fn, void *priv)
{
    (void)s;
    if (srv_info_count < 16)
        srv_infos[srv_info_count++] = (srv_hook){ .info = fn, .section = section, .priv = priv };
}

/* The wall clock is read at most once a millisecond; in between, "now" is
 * the last reading plus the ticks elapsed since. A clock step (NTP, date)
 * shows up within that millisecond, and ticks are never trusted longer. */
#define SRV_CLOCK_REANCHOR_US 1000

void srv_update_time(srv *s)
{
    uint64_t now = util_ticks();
    int64_t since_us = util_ticks_to_us(now - s->clock_anchor_ticks);
    if (s->clock_anchor_ticks == 0 || since_us < 0 || since_us >= SRV_CLOCK_REANCHOR_US) {
        s->clock_anchor_ticks = now;
        s->clock_anchor_us = util_us_now();
        since_us = 0;
    }
    s->ustime = s->clock_anchor_us + since_us;
    s->mstime = s->ustime / 1000;
    s->lru_clock = (uint32_t)(s->mstime / 1000);
}

void srv_fork_child_setup(srv *s)
{
    /* Signals meant for the server must not reach libuv's handlers, which
     * would write into the parent's signal pipe. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    /* Do not keep the port bound if the parent dies while the child writes. */
    for (int i = 0; i < s->listener_count; i++) {
        uv_os_fd_t lfd;
        if (uv_fileno((uv_handle_t *)&s->listeners[i]->tcp, &lfd) == 0)
            close(lfd);
    }
    log_set_role_char('C');
}

void srv_propagate(srv *s, int dbid, int argc, const resp_arg *argv)
{
    if (s->loading)
        return;
    if (s->propagate)
        s->propagate(s, dbid, argc, argv);
    /* Same commands, same order, same MULTI/EXEC wrapping as replicas. */
    if (s->aof)
        aof_feed(s, dbid, argc, argv);
}

size_t srv_used_memory(srv *s)
{
    (void)s;
    return mem_used();
}

void srv_request_shutdown(srv *s, int flags)
{
    s->shutdown_asap = 1;
    s->shutdown_flags = flags;
    uv_stop(s->loop);
}

/* ---- eviction -------------------------------------------------------- */

static int srv_policy_volatile(int p)
{
    return p == MAXMEM_VOLATILE_LRU || p == MAXMEM_VOLATILE_RANDOM ||
           p == MAXMEM_VOLATILE_TTL || p == MAXMEM_VOLATILE_LFU;
}

/* How good an eviction candidate a value is (higher goes first): under LFU
 * the lowest decayed counter (Redis' 255 - counter), under LRU the longest
 * idle time. */
static long long srv_evict_score(srv *s, const obj *o)
{
    if (objclock_policy_is_lfu(s))
        return OBJCLOCK_LFU_MAX - (long long)objclock_freq(s, o);
    return (long long)objclock_idle_secs(s, o);
}

/* Pick a victim by sampling maxmemory-samples keys of one db, the way
 * Redis approximates LRU and LFU: the least recently (or least frequently)
 * used of the sample goes. */
static int srv_evict_one(srv *s)
{
    int policy = s->config.maxmemory_policy;
    int samples = s->config.maxmemory_samples > 0 ? s->config.maxmemory_samples : 5;
    if (samples > 64)
        samples = 64;
    kvdb *best_db = NULL;
    kstr best_key = NULL;
    long long best_score = 0;
    for (int i = 0; i < s->dbnum; i++) {
        kvdb *db = &s->dbs[i];
        dict *d = srv_policy_volatile(policy) ? db->expires : db->keys;
        if (dict_size(d) == 0)
            continue;
        dict_entry *pick[64];
        size_t n = dict_sample(d, pick, (size_t)samples);
        for (size_t j = 0; j < n; j++) {
            long long score;
            if (policy == MAXMEM_ALLKEYS_RANDOM || policy == MAXMEM_VOLATILE_RANDOM) {
                score = 1;
            } else if (policy == MAXMEM_VOLATILE_TTL) {
                /* Sooner expiry first. A replica keeps whatever time its
                 * master sent, LLONG_MIN included: no negating that. */
                int64_t when = pick[j]->v.i64;
                score = when == INT64_MIN ? INT64_MAX : -when;
            } else {
                dict_entry *ke = d == db->keys ? pick[j] : dict_find(db->keys, pick[j]->key, kstr_len(pick[j]->key));
                if (!ke)
                    continue;
                score = srv_evict_score(s, ke->v.ptr);
            }
            if (!best_key || score > best_score) {
                kstr_free(best_key);
                best_key = kstr_dup(pick[j]->key);
                best_db = db;
                best_score = score;
            }
        }
    }
    if (!best_key)
        return 0;
    resp_arg argv[2] = { { "DEL", 3 }, { best_key, kstr_len(best_key) } };
    srv_propagate(s, best_db->id, 2, argv);
    db_delete(best_db, best_key, kstr_len(best_key));
    s->stats.evicted_keys++;
    notify_keyspace_event(best_db, CFG_NOTIFY_EVICTED, "evicted", best_key, kstr_len(best_key));
    kstr_free(best_key);
    return 1;
}

int srv_evict_if_needed(srv *s)
{
    if (!s->config.maxmemory || s->is_replica)
        return 0;
    if (srv_used_memory(s) <= s->config.maxmemory)
        return 0;
    if (s->config.maxmemory_policy == MAXMEM_NOEVICTION)
        return -1;
    for (int i = 0; i < 10000 && srv_used_memory(s) > s->config.maxmemory; i++)
        if (!srv_evict_one(s))
            return -1;
    return srv_used_memory(s) > s->config.maxmemory ? -1 : 0;
}

/* ---- cron ------------------------------------------------------------ */

static void srv_clients_cron(srv *s)
{
    int64_t limit = s->config.timeout * 1000;
    client *c = s->clients;
    while (c) {
        client *next = c->next;
        if (s->mstime - c->last_interaction_ms > 2000)
            client_release_spare_output(c);
        if (limit > 0 &&
            !(c->flags & (CLIENT_MASTER | CLIENT_REPLICA | CLIENT_BLOCKED | CLIENT_PUBSUB | CLIENT_MONITOR |
                          CLIENT_PAUSED_READ)) &&
            s->mstime - c->last_interaction_ms > limit) {
            log_msg(LOG_VERBOSE, "Closing idle client");
            client_close(c);
        }
        c = next;
    }
    /* maxmemory-clients between commands too: a client whose memory grows
     * without a reply (a slow query, a CONFIG SET lowering the limit). */
    client_evict_if_needed(s);
}

static void srv_cron(uv_timer_t *t)
{
    srv *s = t->data;
    srv_update_time(s);
    /* The loop runs inside a busy script (script.c): only deliver output;
     * expiry, eviction, timeouts and the modules' ticks wait for its end. */
    if (s->script_busy) {
        client_flush_pending(s);
        return;
    }
    /* First: a stall seen here must fence before expiry, timeouts or the
     * modules' ticks act as a master. */
    fence_cron(s);
    s->cron_loops++;
    size_t used = mem_used();
    if (used > s->peak_memory)
        s->peak_memory = used;
    int hz = s->config.hz > 0 ? s->config.hz : 10;
    /* Active expiry may use about a quarter of each cron period. */
    long long budget = 1000000LL / hz / 4;
    long long effort = s->config.active_expire_effort > 0 ? s->config.active_expire_effort : 1;
    budget = budget * (10 + (effort - 1) * 2) / 10;
    if (!s->active_expire_disabled) {
        uint64_t expire_start = util_ticks();
        db_active_expire_cycle(s, budget);
        latency_add_sample_if_needed(s, "expire-cycle", util_ticks_to_us(util_ticks() - expire_start) / 1000);
        /* an expired stream answers the XREADGROUP clients blocked on it */
        blocking_handle_ready(s);
    }
    db_cron_rehash(s);
    srv_clients_cron(s);
    blocking_cron(s);
    if (s->config.maxmemory) {
        srv_evict_if_needed(s);
        blocking_handle_ready(s);   /* an evicted stream, likewise */
    }
    for (int i = 0; i < srv_cron_count; i++)
        srv_crons[i].cron(s, srv_crons[i].priv);
    client_flush_pending(s);
}

static void srv_after_io(uv_check_t *h)
{
    srv *s = h->data;
    /* Also when no reply is pending (a replica applying its master's
     * stream): the AOF is written once per loop iteration. */
    if (s->before_reply_write)
        s->before_reply_write(s);
    /* As Redis' beforeSleep: BCAST invalidations gathered this iteration. */
    tracking_before_sleep(s);
    client_flush_pending(s);
}

static void srv_on_signal(uv_signal_t *h, int signum)
{
    srv *s = h->data;
    log_msg(LOG_WARNING, "Received %s scheduling shutdown...", signum == SIGINT ? "SIGINT" : "SIGTERM");
    srv_request_shutdown(s, 0);
}

/* The containers read their conversion thresholds from globals; keep them
 * in step with the configuration. */
static void srv_sync_encoding_limits(srv *s)
{
    hmap_max_small_entries = (size_t)s->config.hash_max_listpack_entries;
    hmap_max_small_value = (size_t)s->config.hash_max_listpack_value;
    setobj_max_intset_entries = (size_t)s->config.set_max_intset_entries;
    zset_max_listpack_entries = (size_t)s->config.zset_max_listpack_entries;
    zset_max_listpack_value = (size_t)s->config.zset_max_listpack_value;
    deque_set_default_fill(s->config.list_max_listpack_size);
    deque_set_default_compress(s->config.list_compress_depth);
}

static srv_apply_fn *srv_apply_fns[8];
static void *srv_apply_privs[8];
static int srv_apply_count;

void srv_add_config_apply(srv *s, srv_apply_fn *fn, void *priv)
{
    (void)s;
    if (srv_apply_count < 8) {
        srv_apply_fns[srv_apply_count] = fn;
        srv_apply_privs[srv_apply_count] = priv;
        srv_apply_count++;
    }
}

static int srv_relisten(srv *s, char *err, size_t errlen);

/* CONFIG SET succeeded for `name`: make the running server follow it. */
static int srv_config_applied(void *priv, const char *name, char *err, size_t errlen)
{
    srv *s = priv;
    /* Without the AOF module (unit harnesses) there is nothing to append
     * with: refusing is safer than pretending. */
    if (!strcasecmp(name, "appendonly") && s->config.appendonly && !s->aof) {
        snprintf(err, errlen, "appendonly yes is not supported (RDB persistence only)");
        return -1;
    }
    srv_sync_encoding_limits(s);
    if (!strcasecmp(name, "dir") && s->config.dir && chdir(s->config.dir) != 0) {
        snprintf(err, errlen, "Can't chdir to '%s': %s", s->config.dir, strerror(errno));
        return -1;
    }
    if (!strcasecmp(name, "loglevel"))
        log_set_level(s->config.loglevel);
    if (!strcasecmp(name, "port") && s->listener_count > 0 && srv_relisten(s, err, errlen) != 0)
        return -1;
    if (!strcasecmp(name, "maxmemory") && s->config.maxmemory)
        srv_evict_if_needed(s);
    /* A lower maxmemory-clients (or a maxmemory it is a percentage of)
     * applies at once, as in Redis. */
    if (!strcasecmp(name, "maxmemory-clients") || !strcasecmp(name, "maxmemory"))
        client_evict_if_needed(s);
    if (!strcasecmp(name, "fence-after-stall-ms"))
        fence_configure(s);
    for (int i = 0; i < srv_apply_count; i++)
        if (srv_apply_fns[i](s, srv_apply_privs[i], name, err, errlen) != 0)
            return -1;
    return 0;
}

int srv_init(srv *s, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    s->loop = mem_alloc(sizeof(uv_loop_t));
    if (uv_loop_init(s->loop) != 0) {
        snprintf(err, errlen, "uv_loop_init failed");
        mem_free(s->loop);
        s->loop = NULL;
        return -1;
    }
    srv_update_time(s);
    s->start_time_ms = s->mstime;
    s->stats.reset_time_ms = s->mstime;
    util_random_hex(s->run_id, sizeof(s->run_id));
    s->dbnum = s->config.databases > 0 ? s->config.databases : 16;
    s->dbs = mem_calloc(sizeof(kvdb) * (size_t)s->dbnum);
    for (int i = 0; i < s->dbnum; i++)
        db_init(&s->dbs[i], s, i);
    s->hz = s->config.hz;
    srv_sync_encoding_limits(s);
    cfg_set_apply_hook(srv_config_applied, s);
    srv_apply_count = 0;
    cmd_table_init();
    pubsub_init(s);
    tracking_init(s);
    uv_timer_init(s->loop, &s->cron_timer);
    s->cron_timer.data = s;
    uv_check_init(s->loop, &s->after_io);
    s->after_io.data = s;
    fence_init(s);
    return 0;
}

int srv_listen(srv *s, char *err, size_t errlen)
{
    const char *defaults[] = { "127.0.0.1" };
    int n = s->config.bind_count;
    char **addrs = s->config.bind;
    if (n == 0) {
        addrs = (char **)defaults;
        n = 1;
    }
    for (int i = 0; i < n && i < CFG_MAX_BIND; i++) {
        const char *a = addrs[i];
        int optional = a[0] == '-';
        if (optional)
            a++;
        if (strcmp(a, "*") == 0)
            a = "0.0.0.0";
        srv_listener *l = net_listen(s, a, s->config.port, err, errlen);
        if (!l) {
            if (optional)
                continue;
            return -1;
        }
        s->listeners[s->listener_count++] = l;
    }
    return 0;
}

static void srv_close_listeners(srv_listener **ls, int n)
{
    for (int i = 0; i < n; i++)
        net_listener_close(ls[i]);
}

/* CONFIG SET port: listen on the new port first, then stop listening on
 * the old one, so a port that cannot be bound leaves the server where it
 * was (cfg_set then puts the old value back). Connected clients stay. */
/* The port the listeners are bound to (-1 when unknown). */
static int srv_bound_port(srv *s)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (s->listener_count == 0 ||
        uv_tcp_getsockname(&s->listeners[0]->tcp, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int srv_relisten(srv *s, char *err, size_t errlen)
{
    /* Setting the port it already has changes nothing, as in Redis. */
    if (srv_bound_port(s) == s->config.port)
        return 0;
    srv_listener *old[CFG_MAX_BIND];
    int oldn = s->listener_count;
    memcpy(old, s->listeners, sizeof(old));
    s->listener_count = 0;
    char why[256];
    if (srv_listen(s, why, sizeof(why)) != 0) {
        log_msg(LOG_WARNING, "%s", why);
        srv_close_listeners(s->listeners, s->listener_count);
        memcpy(s->listeners, old, sizeof(old));
        s->listener_count = oldn;
        snprintf(err, errlen, "Unable to listen on this port. Check server logs.");
        return -1;
    }
    srv_close_listeners(old, oldn);
    log_msg(LOG_NOTICE, "Listening on port %d now (CONFIG SET port)", s->config.port);
    return 0;
}

/* Under heavy load the next request arrives within microseconds of the
 * last reply (a master's stream waits for no reply, so it does not count): polling without blocking for that long after an iteration
 * that did work spares the sleep and the wakeup (costly on a VM, and paid
 * by the client). Spinning is enabled only while recent sleeps were that
 * short, so a lightly loaded or idle server blocks at once. */
#define SRV_SPIN_US 30

int srv_run(srv *s)
{
    int hz = s->config.hz > 0 ? s->config.hz : 10;
    uint64_t period = (uint64_t)(1000 / hz);
    if (period == 0)
        period = 1;
    uv_timer_start(&s->cron_timer, srv_cron, period, period);
    /* Anchor stall detection now: loading the RDB before the loop ran is
     * not a stall. */
    fence_configure(s);
    uv_check_start(&s->after_io, srv_after_io);
    uv_signal_init(s->loop, &s->sig_term);
    uv_signal_init(s->loop, &s->sig_int);
    s->sig_term.data = s->sig_int.data = s;
    uv_signal_start(&s->sig_term, srv_on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, srv_on_signal, SIGINT);
    uint64_t spin_ticks = util_us_to_ticks(SRV_SPIN_US);
    uint64_t spin_until = 0;
    uint64_t idle_gap = spin_ticks * 4;   /* moving average of blocked sleeps */
    while (!s->shutdown_asap) {
        unsigned long long before = s->client_commands;
        uv_run(s->loop, UV_RUN_NOWAIT);
        uint64_t now = util_ticks();
        if (s->client_commands != before) {
            if (idle_gap < spin_ticks)
                spin_until = now + spin_ticks;
            continue;
        }
        if (now < spin_until)
            continue;
        uv_run(s->loop, UV_RUN_ONCE);
        /* Only short sleeps make the next spin worth it. */
        idle_gap = (idle_gap * 7 + (util_ticks() - now)) / 8;
    }
    /* Deliver replies already produced (e.g. to SHUTDOWN's caller peers). */
    client_flush_pending(s);
    return 0;
}

static void srv_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void srv_release(srv *s)
{
    function_module_release(s);   /* its callbacks live in scripting's Lua state */
    script_module_release(s);
    /* Clients are freed via their close callbacks. */
    while (s->clients) {
        client *c = s->clients;
        c->flags &= ~CLIENT_EXECUTING;
        client_close(c);
    }
    srv_close_listeners(s->listeners, s->listener_count);
    s->listener_count = 0;
    if (s->loop) {
        uv_walk(s->loop, srv_close_walk, NULL);
        uv_run(s->loop, UV_RUN_DEFAULT);
        uv_loop_close(s->loop);
        mem_free(s->loop);
        s->loop = NULL;
    }
    blocking_release(s);
    for (int i = 0; i < s->dbnum; i++)
        db_release(&s->dbs[i]);
    mem_free(s->dbs);
    s->dbs = NULL;
    pubsub_release(s);
    tracking_release(s);
    cmd_table_free();
    cfg_free(&s->config);
    srv_cron_count = 0;
    srv_info_count = 0;
}

/* ---- INFO ------------------------------------------------------------- */

static kstr info_server(srv *s, kstr o)
{
    struct utsname un;
    if (uname(&un) != 0)
        memset(&un, 0, sizeof(un));
    int64_t uptime = (s->mstime - s->start_time_ms) / 1000;
    return kstr_catfmt(o,
        "# Server\r\n"
        "redis_version:%s\r\n"
        "redis_git_sha1:00000000\r\n"
        "redis_git_dirty:0\r\n"
        "redis_build_id:kvfleet\r\n"
        "redis_mode:standalone\r\n"
        "os:%s %s %s\r\n"
        "arch_bits:%d\r\n"
        "monotonic_clock:POSIX clock_gettime\r\n"
        "multiplexing_api:epoll\r\n"
        "atomicvar_api:c11-builtin\r\n"
        "gcc_version:%d.%d.%d\r\n"
        "process_id:%ld\r\n"
        "process_supervised:no\r\n"
        "run_id:%s\r\n"
        "tcp_port:%d\r\n"
        "server_time_usec:%lld\r\n"
        "uptime_in_seconds:%lld\r\n"
        "uptime_in_days:%lld\r\n"
        "hz:%d\r\n"
        "configured_hz:%d\r\n"
        "lru_clock:%u\r\n"
        "executable:%s\r\n"
        "config_file:%s\r\n"
        "io_threads_active:0\r\n"
        "kvfleet_version:0.1.0\r\n",
        SRV_REDIS_VERSION, un.sysname, un.release, un.machine, (int)(sizeof(long) * 8),
        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
        (long)getpid(), s->run_id, s->config.port, (long long)s->ustime,
        (long long)uptime, (long long)(uptime / 86400), s->config.hz, s->config.hz,
        s->lru_clock & 0xFFFFFF, s->executable,
        s->config.config_file ? s->config.config_file : "");
}

static kstr info_clients(srv *s, kstr o)
{
    size_t max_in = 0, max_out = 0, postponed = 0;
    for (client *c = s->clients; c; c = c->next) {
        /* Redis counts the clients CLIENT PAUSE holds as blocked. */
        postponed += (c->flags & CLIENT_PAUSED_READ) != 0;
        if (c->qbuf_len - c->qbuf_pos > max_in)
            max_in = c->qbuf_len - c->qbuf_pos;
        if (client_output_bytes(c) > max_out)
            max_out = client_output_bytes(c);
    }
    return kstr_catfmt(o,
        "# Clients\r\n"
        "connected_clients:%zu\r\n"
        "cluster_connections:0\r\n"
        "maxclients:%lld\r\n"
        "client_recent_max_input_buffer:%zu\r\n"
        "client_recent_max_output_buffer:%zu\r\n"
        "blocked_clients:%zu\r\n"
        "tracking_clients:%zu\r\n"
        "clients_in_timeout_table:%zu\r\n",
        s->client_count, s->config.maxclients, max_in, max_out, s->blocked_clients + postponed,
        tracking_clients(s), s->blocked_clients);
}

static void info_human(char *buf, size_t len, double n)
{
    const char *units = "BKMGTP";
    int u = 0;
    while (n >= 1024 && u < 5) {
        n /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0fB", n);
    else
        snprintf(buf, len, "%.2f%c", n, units[u]);
}

/* mem_clients_normal: what every connection other than a replication link
 * holds (the number maxmemory-clients compares, CLIENT LIST's tot-mem). */
static size_t info_normal_clients_memory(srv *s)
{
    size_t total = 0;
    for (client *c = s->clients; c; c = c->next)
        if (!(c->flags & (CLIENT_MASTER | CLIENT_REPLICA)))
            total += client_memory_usage(c);
    return total;
}

static kstr info_memory(srv *s, kstr o)
{
    size_t used = srv_used_memory(s);
    size_t rss = mem_rss();
    if (used > s->peak_memory)
        s->peak_memory = used;
    char h_used[32], h_peak[32], h_rss[32], h_max[32], h_total[32];
    info_human(h_used, sizeof(h_used), (double)used);
    info_human(h_peak, sizeof(h_peak), (double)s->peak_memory);
    info_human(h_rss, sizeof(h_rss), (double)rss);
    info_human(h_max, sizeof(h_max), (double)s->config.maxmemory);
    long pages = sysconf(_SC_PHYS_PAGES);
    long psize = sysconf(_SC_PAGESIZE);
    unsigned long long total = pages > 0 && psize > 0 ? (unsigned long long)pages * (unsigned long long)psize : 0;
    info_human(h_total, sizeof(h_total), (double)total);
    /* Scripting (script.c); before the first script, what a fresh Lua
     * state holds, as Redis (which creates it at start) reports. */
    size_t lua_mem = s->scripting ? script_used_memory_lua(s) : 31744;
    size_t scripts_mem = script_used_memory_scripts(s);
    char h_lua[32], h_vm_total[32], h_scripts[32];
    info_human(h_lua, sizeof(h_lua), (double)lua_mem);
    info_human(h_vm_total, sizeof(h_vm_total), (double)(lua_mem + 32768));
    info_human(h_scripts, sizeof(h_scripts), (double)(scripts_mem + 184));
    static const char *policies[] = { "noeviction", "allkeys-lru", "volatile-lru", "allkeys-random",
                                      "volatile-random", "volatile-ttl", "allkeys-lfu", "volatile-lfu" };
    int p = s->config.maxmemory_policy;
    return kstr_catfmt(o,
        "# Memory\r\n"
        "used_memory:%zu\r\n"
        "used_memory_human:%s\r\n"
        "used_memory_rss:%zu\r\n"
        "used_memory_rss_human:%s\r\n"
        "used_memory_peak:%zu\r\n"
        "used_memory_peak_human:%s\r\n"
        "used_memory_peak_perc:%.2f%%\r\n"
        "used_memory_overhead:0\r\n"
        "used_memory_startup:0\r\n"
        "used_memory_dataset:%zu\r\n"
        "used_memory_dataset_perc:100.00%%\r\n"
        "allocator_allocated:%zu\r\n"
        "allocator_active:%zu\r\n"
        "allocator_resident:%zu\r\n"
        "total_system_memory:%llu\r\n"
        "total_system_memory_human:%s\r\n"
        "used_memory_lua:%zu\r\n"
        "used_memory_vm_eval:%zu\r\n"
        "used_memory_lua_human:%s\r\n"
        "used_memory_scripts_eval:%zu\r\n"
        "number_of_cached_scripts:%zu\r\n"
        "number_of_functions:0\r\n"
        "number_of_libraries:0\r\n"
        "used_memory_vm_functions:32768\r\n"
        "used_memory_vm_total:%zu\r\n"
        "used_memory_vm_total_human:%s\r\n"
        "used_memory_functions:184\r\n"
        "used_memory_scripts:%zu\r\n"
        "used_memory_scripts_human:%s\r\n"
        "maxmemory:%llu\r\n"
        "maxmemory_human:%s\r\n"
        "maxmemory_policy:%s\r\n"
        "allocator_frag_ratio:1.00\r\n"
        "allocator_frag_bytes:0\r\n"
        "allocator_rss_ratio:%.2f\r\n"
        "allocator_rss_bytes:%lld\r\n"
        "rss_overhead_ratio:1.00\r\n"
        "rss_overhead_bytes:0\r\n"
        "mem_fragmentation_ratio:%.2f\r\n"
        "mem_fragmentation_bytes:%lld\r\n"
        "mem_not_counted_for_evict:0\r\n"
        "mem_replication_backlog:0\r\n"
        "mem_total_replication_buffers:0\r\n"
        "mem_clients_slaves:0\r\n"
        "mem_clients_normal:%zu\r\n"
        "mem_cluster_links:0\r\n"
        "mem_aof_buffer:0\r\n"
        "mem_allocator:%s\r\n"
        "active_defrag_running:0\r\n"
        "lazyfree_pending_objects:0\r\n"
        "lazyfreed_objects:%lld\r\n",
        used, h_used, rss, h_rss, s->peak_memory, h_peak,
        s->peak_memory ? 100.0 * (double)used / (double)s->peak_memory : 100.0,
        used, used, used, rss, total, h_total,
        lua_mem, lua_mem, h_lua, scripts_mem, script_cached_count(s), lua_mem + 32768, h_vm_total,
        scripts_mem + 184, h_scripts,
        s->config.maxmemory, h_max, policies[p >= 0 && p < 8 ? p : 0],
        used ? (double)rss / (double)used : 0.0, (long long)rss - (long long)used,
        used ? (double)rss / (double)used : 0.0, (long long)rss - (long long)used,
        info_normal_clients_memory(s),
#ifdef KV_JEMALLOC
        "jemalloc-" KV_JEMALLOC_VERSION
#else
        "libc"
#endif
        , s->stats.lazyfreed_objects);
}

static kstr info_persistence_default(srv *s, kstr o)
{
    return kstr_catfmt(o,
        "# Persistence\r\n"
        "loading:%d\r\n"
        "async_loading:0\r\n"
        "current_cow_peak:0\r\n"
        "current_cow_size:0\r\n"
        "current_cow_size_age:0\r\n"
        "current_fork_perc:0.00\r\n"
        "current_save_keys_processed:0\r\n"
        "current_save_keys_total:0\r\n"
        "rdb_changes_since_last_save:%lld\r\n"
        "rdb_bgsave_in_progress:0\r\n"
        "rdb_last_save_time:%lld\r\n"
        "rdb_last_bgsave_status:ok\r\n"
        "rdb_last_bgsave_time_sec:-1\r\n"
        "rdb_current_bgsave_time_sec:-1\r\n"
        "rdb_saves:0\r\n"
        "rdb_last_cow_size:0\r\n"
        "rdb_last_load_keys_expired:0\r\n"
        "rdb_last_load_keys_loaded:0\r\n"
        "aof_enabled:0\r\n"
        "aof_rewrite_in_progress:0\r\n"
        "aof_rewrite_scheduled:0\r\n"
        "aof_last_rewrite_time_sec:-1\r\n"
        "aof_current_rewrite_time_sec:-1\r\n"
        "aof_last_bgrewrite_status:ok\r\n"
        "aof_rewrites:0\r\n"
        "aof_rewrites_consecutive_failures:0\r\n"
        "aof_last_write_status:ok\r\n"
        "aof_last_cow_size:0\r\n"
        "module_fork_in_progress:0\r\n"
        "module_fork_last_cow_size:0\r\n",
        s->loading, s->dirty, (long long)(s->start_time_ms / 1000));
}

static kstr info_stats(srv *s, kstr o)
{
    return kstr_catfmt(o,
        "# Stats\r\n"
        "total_connections_received:%lld\r\n"
        "total_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:0\r\n"
        "total_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\n"
        "total_net_repl_input_bytes:%lld\r\n"
        "total_net_repl_output_bytes:%lld\r\n"
        "instantaneous_input_kbps:0.00\r\n"
        "instantaneous_output_kbps:0.00\r\n"
        "instantaneous_input_repl_kbps:0.00\r\n"
        "instantaneous_output_repl_kbps:0.00\r\n"
        "rejected_connections:%lld\r\n"
        "sync_full:%lld\r\n"
        "sync_partial_ok:%lld\r\n"
        "sync_partial_err:%lld\r\n"
        "expired_keys:%lld\r\n"
        "expired_stale_perc:%.2f\r\n"
        "expired_time_cap_reached_count:%lld\r\n"
        "expire_cycle_cpu_milliseconds:%lld\r\n"
        "evicted_keys:%lld\r\n"
        "evicted_clients:%lld\r\n"
        "total_eviction_exceeded_time:0\r\n"
        "current_eviction_exceeded_time:0\r\n"
        "keyspace_hits:%lld\r\n"
        "keyspace_misses:%lld\r\n"
        "pubsub_channels:%zu\r\n"
        "pubsub_patterns:%zu\r\n"
        "pubsubshard_channels:%zu\r\n"
        "latest_fork_usec:0\r\n"
        "total_forks:0\r\n"
        "migrate_cached_sockets:%zu\r\n"
        "slave_expires_tracked_keys:0\r\n"
        "active_defrag_hits:0\r\n"
        "active_defrag_misses:0\r\n"
        "active_defrag_key_hits:0\r\n"
        "active_defrag_key_misses:0\r\n"
        "total_active_defrag_time:0\r\n"
        "current_active_defrag_time:0\r\n"
        "tracking_total_keys:%zu\r\n"
        "tracking_total_items:%zu\r\n"
        "tracking_total_prefixes:%zu\r\n"
        "unexpected_error_replies:%lld\r\n"
        "total_error_replies:%lld\r\n"
        "dump_payload_sanitizations:0\r\n"
        "total_reads_processed:0\r\n"
        "total_writes_processed:0\r\n"
        "io_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\n"
        "reply_buffer_shrinks:0\r\n"
        "reply_buffer_expands:0\r\n",
        s->stats.total_connections_received, s->stats.total_commands_processed,
        s->stats.net_input_bytes, s->stats.net_output_bytes,
        s->stats.net_repl_input_bytes, s->stats.net_repl_output_bytes, s->stats.rejected_connections,
        s->stats.sync_full, s->stats.sync_partial_ok, s->stats.sync_partial_err,
        s->stats.expired_keys, s->stats.expired_stale_perc * 100.0,
        s->stats.expired_time_cap_reached_count, s->stats.expire_cycle_cpu_ms, s->stats.evicted_keys,
        s->stats.evicted_clients, s->stats.keyspace_hits, s->stats.keyspace_misses,
        pubsub_count_channels(s), pubsub_count_patterns(s), pubsub_count_shard_channels(s),
        migrate_cached_sockets(), tracking_total_keys(s), tracking_total_items(s), tracking_total_prefixes(s),
        s->stats.unexpected_error_replies, s->stats.total_error_replies);
}

static kstr info_replication_default(srv *s, kstr o)
{
    (void)s;
    return kstr_catfmt(o,
        "# Replication\r\n"
        "role:master\r\n"
        "connected_slaves:0\r\n"
        "master_failover_state:no-failover\r\n"
        "master_replid:%s\r\n"
        "master_replid2:0000000000000000000000000000000000000000\r\n"
        "master_repl_offset:0\r\n"
        "second_repl_offset:-1\r\n"
        "repl_backlog_active:0\r\n"
        "repl_backlog_size:%llu\r\n"
        "repl_backlog_first_byte_offset:0\r\n"
        "repl_backlog_histlen:0\r\n",
        s->run_id, s->config.repl_backlog_size);
}

static kstr info_cpu(srv *s, kstr o)
{
    (void)s;
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return kstr_catfmt(o,
        "# CPU\r\n"
        "used_cpu_sys:%ld.%06ld\r\n"
        "used_cpu_user:%ld.%06ld\r\n"
        "used_cpu_sys_children:%ld.%06ld\r\n"
        "used_cpu_user_children:%ld.%06ld\r\n"
        "used_cpu_sys_main_thread:%ld.%06ld\r\n"
        "used_cpu_user_main_thread:%ld.%06ld\r\n",
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
        (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
        (long)kids.ru_stime.tv_sec, (long)kids.ru_stime.tv_usec,
        (long)kids.ru_utime.tv_sec, (long)kids.ru_utime.tv_usec,
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
        (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec);
}

static kstr info_commandstats(srv *s, kstr o)
{
    (void)s;
    o = kstr_cat_cstr(o, "# Commandstats\r\n");
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        const cmd_stats *st = cmd_get_stats(d);
        if (!st || (!st->calls && !st->rejected_calls && !st->failed_calls))
            continue;
        o = kstr_catfmt(o, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                        d->name, st->calls, st->usec,
                        st->calls ? (double)st->usec / (double)st->calls : 0.0,
                        st->rejected_calls, st->failed_calls);
    }
    return o;
}

/* Error replies counted by their code (the first word), as errorstats. */
#define SRV_MAX_ERROR_CODES 128
static struct { char code[32]; long long count; } srv_errors[SRV_MAX_ERROR_CODES];
static int srv_error_count;

void srv_count_error(srv *s, const char *err)
{
    (void)s;
    size_t n = strcspn(err, " ");
    if (n == 0 || n >= sizeof(srv_errors[0].code))
        return;
    for (int i = 0; i < srv_error_count; i++) {
        if (strlen(srv_errors[i].code) == n && memcmp(srv_errors[i].code, err, n) == 0) {
            srv_errors[i].count++;
            return;
        }
    }
    if (srv_error_count == SRV_MAX_ERROR_CODES)
        return;
    memcpy(srv_errors[srv_error_count].code, err, n);
    srv_errors[srv_error_count].code[n] = '\0';
    srv_errors[srv_error_count].count = 1;
    srv_error_count++;
}

void srv_reset_error_stats(srv *s)
{
    (void)s;
    srv_error_count = 0;
}

static kstr info_errorstats(srv *s, kstr o)
{
    (void)s;
    o = kstr_cat_cstr(o, "# Errorstats\r\n");
    for (int i = 0; i < srv_error_count; i++)
        o = kstr_catfmt(o, "errorstat_%s:count=%lld\r\n", srv_errors[i].code, srv_errors[i].count);
    return o;
}

static kstr info_latencystats(srv *s, kstr o)
{
    (void)s;
    o = kstr_cat_cstr(o, "# Latencystats\r\n");
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        const cmd_stats *st = cmd_get_stats(d);
        if (!st || !st->calls)
            continue;
        o = kstr_catfmt(o, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n", d->name,
                        cmd_latency_percentile(d, 50.0), cmd_latency_percentile(d, 99.0),
                        cmd_latency_percentile(d, 99.9));
    }
    return o;
}

static kstr info_keyspace(srv *s, kstr o)
{
    o = kstr_cat_cstr(o, "# Keyspace\r\n");
    for (int i = 0; i < s->dbnum; i++) {
        size_t keys = db_size(&s->dbs[i]);
        if (keys == 0)
            continue;
        o = kstr_catfmt(o, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, keys,
                        db_expires_size(&s->dbs[i]), s->dbs[i].avg_ttl);
    }
    return o;
}

static kstr info_module_section(srv *s, const char *name, kstr o, int *found)
{
    *found = 0;
    for (int i = 0; i < srv_info_count; i++) {
        if (strcasecmp(srv_infos[i].section, name) == 0) {
            *found = 1;
            return srv_infos[i].info(s, srv_infos[i].priv, name, o);
        }
    }
    return o;
}

typedef kstr (*info_builtin_fn)(srv *s, kstr o);

static const struct {
    const char *name;
    info_builtin_fn fn;
    int in_default;
} info_sections[] = {
    { "server", info_server, 1 },
    { "clients", info_clients, 1 },
    { "memory", info_memory, 1 },
    { "persistence", info_persistence_default, 1 },
    { "stats", info_stats, 1 },
    { "replication", info_replication_default, 1 },
    { "cpu", info_cpu, 1 },
    { "modules", NULL, 1 },
    { "commandstats", info_commandstats, 0 },
    { "errorstats", info_errorstats, 1 },
    { "latencystats", info_latencystats, 0 },
    { "cluster", NULL, 1 },
    { "keyspace", info_keyspace, 1 },
};

static kstr info_one(srv *s, size_t idx, kstr o)
{
    const char *name = info_sections[idx].name;
    int found = 0;
    o = info_module_section(s, name, o, &found);
    /* The fence fields end the section, whoever generates it. */
    if (strcmp(name, "replication") == 0)
        return fence_info(s, found ? o : info_sections[idx].fn(s, o));
    if (found)
        return o;
    if (strcmp(name, "modules") == 0)
        return kstr_cat_cstr(o, "# Modules\r\n");
    if (strcmp(name, "cluster") == 0)
        return kstr_cat_cstr(o, "# Cluster\r\ncluster_enabled:0\r\n");
    return info_sections[idx].fn(s, o);
}

#define INFO_SECTION_COUNT (sizeof(info_sections) / sizeof(info_sections[0]))

static int info_builtin_index(const char *name)
{
    for (size_t i = 0; i < INFO_SECTION_COUNT; i++)
        if (strcasecmp(name, info_sections[i].name) == 0)
            return (int)i;
    return -1;
}

/* As 7.0: the names select a set of sections ("all": every built-in one,
 * "everything": those and the registered extra ones, "default": the
 * default ones, unknown names nothing), printed once each in the fixed
 * order, whatever the order and repetitions of the names. */
kstr srv_info_multi(srv *s, int count, const char *const *names, kstr o)
{
    char want[INFO_SECTION_COUNT];
    char want_extra[sizeof(srv_infos) / sizeof(srv_infos[0])];
    memset(want, 0, sizeof(want));
    memset(want_extra, 0, sizeof(want_extra));
    for (int j = 0; j < count; j++) {
        int all = strcasecmp(names[j], "all") == 0, every = strcasecmp(names[j], "everything") == 0;
        int dflt = strcasecmp(names[j], "default") == 0;
        for (size_t i = 0; i < INFO_SECTION_COUNT; i++)
            if (all || every || (dflt && info_sections[i].in_default) ||
                strcasecmp(names[j], info_sections[i].name) == 0)
                want[i] = 1;
        for (int i = 0; i < srv_info_count; i++)
            if (info_builtin_index(srv_infos[i].section) < 0 &&
                (every || strcasecmp(names[j], srv_infos[i].section) == 0))
                want_extra[i] = 1;
    }
    int first = 1;
    for (size_t i = 0; i < INFO_SECTION_COUNT; i++) {
        if (!want[i])
            continue;
        if (!first)
            o = kstr_cat(o, "\r\n", 2);
        first = 0;
        o = info_one(s, i, o);
    }
    for (int i = 0; i < srv_info_count; i++) {
        if (!want_extra[i])
            continue;
        if (!first)
            o = kstr_cat(o, "\r\n", 2);
        first = 0;
        o = srv_infos[i].info(s, srv_infos[i].priv, srv_infos[i].section, o);
    }
    return o;
}

kstr srv_info(srv *s, const char *section, kstr o)
{
    return srv_info_multi(s, 1, &section, o);
}

int srv_prepare_shutdown(srv *s, int flags, char *err, size_t errlen)
{
    int want_save = (flags & SHUTDOWN_SAVE) ||
                    (!(flags & SHUTDOWN_NOSAVE) && s->persist_has_save_points && s->persist_has_save_points(s));
    if (!want_save || !s->persist_save)
        return 0;
    log_msg(LOG_NOTICE, "Saving the final RDB snapshot before exiting.");
    if (s->persist_save(s, err, errlen) != 0) {
        log_msg(LOG_WARNING, "Error trying to save the DB, can't exit.");
        return -1;
    }
    log_msg(LOG_NOTICE, "DB saved on disk");
    return 0;
}
