/* fence: the fence of a master that may have been failed over (see fence.h
 * for when it is set, what lifts it and why -READONLY / -NOMASTERLINK).
 * This file owns srv->fence: start-up decision, stall detection, the log
 * lines and the INFO fields. The refusals themselves sit next to the checks
 * they resemble: cmd_process (writes, beside the read-only replica check)
 * and repl_master_sync (PSYNC/SYNC, beside the other NOMASTERLINK). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "fence.h"
#include "server.h"
#include "log.h"

int fence_enabled(const srv *s)
{
    return s->config.controller != NULL && s->config.controller[0] != '\0';
}

static const char *fence_reason_name(int reason)
{
    switch (reason) {
    case FENCE_REASON_START: return "start";
    case FENCE_REASON_STALL: return "stall";
    default: return "none";
    }
}

/* The process' CPU time (all threads, user + system), in microseconds, or
 * FENCE_CPU_UNKNOWN if the clock cannot be read. A system call: only the cron and the
 * read path's slow path (already past the threshold) come here. */
static int64_t fence_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return FENCE_CPU_UNKNOWN;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fence_anchor(srv *s, uint64_t now_ticks, int64_t cpu_us)
{
    s->fence.anchor_ticks = now_ticks;
    s->fence.anchor_cpu_us = cpu_us;
}

/* The cron's period as the running timer has it (CONFIG SET hz does not
 * restart the timer), or as srv_run will set it before the loop runs. */
static int64_t fence_cron_period_ms(srv *s)
{
    uint64_t repeat = s->loop ? uv_timer_get_repeat(&s->cron_timer) : 0;
    if (repeat > 0)
        return (int64_t)repeat;
    int hz = s->config.hz > 0 ? s->config.hz : 10;
    int64_t period = 1000 / hz;
    return period > 0 ? period : 1;
}

/* The loop legitimately sleeps up to one cron period between ticks, so a
 * stall is a gap of fence-after-stall-ms beyond that: with hz 1 an idle
 * second is not a stall, and a 500 ms stop is caught whatever hz is. */
void fence_configure(srv *s)
{
    long long ms = s->config.fence_after_stall_ms;
    if (!fence_enabled(s) || ms <= 0) {
        s->fence.stall_ticks = 0;
        return;
    }
    int64_t threshold_us = ((int64_t)ms + fence_cron_period_ms(s)) * 1000;
    s->fence.stall_ticks = util_us_to_ticks(threshold_us);
    if (s->fence.stall_ticks == 0)
        s->fence.stall_ticks = 1;
    fence_anchor(s, util_ticks(), fence_cpu_us());
}

void fence_init(srv *s)
{
    memset(&s->fence, 0, sizeof(s->fence));
    s->fence.anchor_cpu_us = FENCE_CPU_UNKNOWN;
    fence_configure(s);
    if (fence_enabled(s) && s->config.fence_on_start && !s->config.replicaof_host)
        fence_engage(s, FENCE_REASON_START, "start as a master with fence-on-start yes");
}

int fence_is_stall(int64_t gap_us, int64_t cpu_us, int64_t threshold_us)
{
    return threshold_us > 0 && gap_us >= threshold_us && cpu_us * 2 < gap_us;
}

void fence_check_stall(srv *s)
{
    if (s->fence.stall_ticks == 0)
        return;
    uint64_t now = util_ticks();
    int64_t cpu = fence_cpu_us();
    int64_t gap_us = util_ticks_to_us(now - s->fence.anchor_ticks);
    /* Unknown CPU time counts as none: fencing by mistake costs a
     * confirmation, missing a stall costs a split brain. */
    int64_t used_us = 0;
    if (cpu != FENCE_CPU_UNKNOWN && s->fence.anchor_cpu_us != FENCE_CPU_UNKNOWN)
        used_us = cpu - s->fence.anchor_cpu_us;
    int64_t threshold_us = util_ticks_to_us(s->fence.stall_ticks);
    if (!s->is_replica && !s->fence.fenced && fence_is_stall(gap_us, used_us, threshold_us)) {
        char why[160];
        snprintf(why, sizeof(why), "stall of %lld ms with %lld ms of CPU used: stopped or paused, not busy",
                 (long long)(gap_us / 1000), (long long)(used_us / 1000));
        fence_engage(s, FENCE_REASON_STALL, why);
    }
    fence_anchor(s, now, cpu);
}

void fence_cron(srv *s)
{
    fence_check_stall(s);
}

void fence_engage(srv *s, int reason, const char *why)
{
    if (s->fence.fenced || s->is_replica)
        return;
    s->fence.fenced = 1;
    s->fence.reason = reason;
    log_msg(LOG_NOTICE, "Fenced, reason: %s. The controller may have promoted a replica: writes and replica "
            "syncs are refused until it confirms this node as master (REPLICAOF NO ONE)", why);
}

static void fence_lift(srv *s)
{
    s->fence.fenced = 0;
    s->fence.reason = FENCE_REASON_NONE;
}

void fence_confirm_master(srv *s, const char *by)
{
    if (!s->fence.fenced)
        return;
    log_msg(LOG_NOTICE, "Fence lifted (was: %s), reason: confirmed as master by REPLICAOF NO ONE (user request from '%s')",
            fence_reason_name(s->fence.reason), by);
    fence_lift(s);
}

void fence_became_replica(srv *s, const char *host, int port)
{
    if (!s->fence.fenced)
        return;
    log_msg(LOG_NOTICE, "Fence lifted (was: %s), reason: became a replica of %s:%d", fence_reason_name(s->fence.reason),
            host, port);
    fence_lift(s);
}

kstr fence_info(srv *s, kstr o)
{
    if (!fence_enabled(s))
        return o;
    return kstr_catfmt(o, "kvfleet_fenced:%d\r\nkvfleet_fence_reason:%s\r\n", s->fence.fenced,
                       fence_reason_name(s->fence.reason));
}
