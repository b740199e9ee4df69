/* latency: the latency monitor (events, samples, LATENCY). See latency.h.
 * Replies and the fixed texts follow redis-server 7.0; the DOCTOR analysis
 * and the GRAPH drawing are this file's own, shorter versions. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "latency.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "reply.h"
#include "mem.h"
#include "util.h"

static latency_state latency_process_state;

latency_state *latency_global(void)
{
    return &latency_process_state;
}

latency_series *latency_find(latency_state *st, const char *event, size_t len)
{
    for (int i = 0; i < st->count; i++) {
        latency_series *ts = &st->events[i];
        if (strlen(ts->name) == len && memcmp(ts->name, event, len) == 0)
            return ts;
    }
    return NULL;
}

static latency_series *latency_create(latency_state *st, const char *event)
{
    if (st->count == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 8;
        st->events = mem_realloc(st->events, sizeof(*st->events) * (size_t)st->cap);
    }
    latency_series *ts = &st->events[st->count++];
    memset(ts, 0, sizeof(*ts));
    snprintf(ts->name, sizeof(ts->name), "%s", event);
    return ts;
}

void latency_add_sample(latency_state *st, const char *event, int64_t now_s, uint32_t ms)
{
    latency_series *ts = latency_find(st, event, strlen(event));
    if (!ts)
        ts = latency_create(st, event);
    if (ms > ts->max)
        ts->max = ms;
    /* One sample per second: a second spike in the same second only
     * raises that second's sample. */
    int prev = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    if (ts->samples[prev].time == (int32_t)now_s) {
        if (ms > ts->samples[prev].latency)
            ts->samples[prev].latency = ms;
        return;
    }
    ts->samples[ts->idx].time = (int32_t)now_s;
    ts->samples[ts->idx].latency = ms;
    ts->idx = (ts->idx + 1) % LATENCY_TS_LEN;
}

int latency_reset_event(latency_state *st, const char *event, size_t len)
{
    latency_series *ts = latency_find(st, event, len);
    if (!ts)
        return 0;
    size_t i = (size_t)(ts - st->events);
    memmove(ts, ts + 1, sizeof(*ts) * ((size_t)st->count - i - 1));
    st->count--;
    return 1;
}

int latency_reset_all(latency_state *st)
{
    int n = st->count;
    st->count = 0;
    return n;
}

void latency_state_free(latency_state *st)
{
    mem_free(st->events);
    memset(st, 0, sizeof(*st));
}

const latency_sample *latency_latest(const latency_series *ts)
{
    const latency_sample *s = &ts->samples[(ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN];
    return s->time ? s : NULL;
}

void latency_add_sample_if_needed(srv *s, const char *event, long long duration_ms)
{
    long long threshold = s->config.latency_monitor_threshold;
    if (threshold <= 0 || duration_ms < threshold)
        return;
    uint32_t ms = duration_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)duration_ms;
    latency_add_sample(&latency_process_state, event, (int64_t)time(NULL), ms);
}

void latency_after_command(client *c, int fast, long long duration_us)
{
    latency_add_sample_if_needed(c->srv, fast ? "fast-command" : "command", duration_us / 1000);
}

/* ---- DOCTOR ------------------------------------------------------------ */

typedef struct latency_stats {
    int samples;
    double avg, mad, period;
} latency_stats;

static latency_stats latency_analyze(const latency_series *ts)
{
    latency_stats ls = {0, 0, 0, 0};
    int32_t first = 0, last = 0;
    double sum = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        const latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_TS_LEN];
        if (!s->time)
            continue;
        if (!first)
            first = s->time;
        last = s->time;
        ls.samples++;
        sum += s->latency;
    }
    if (!ls.samples)
        return ls;
    ls.avg = sum / ls.samples;
    for (int j = 0; j < LATENCY_TS_LEN; j++)
        if (ts->samples[j].time)
            ls.mad += fabs(ts->samples[j].latency - ls.avg);
    ls.mad /= ls.samples;
    /* The span of the samples over their count, a lone spike (or several
     * within one second) reading as one second. */
    ls.period = (double)(last - first) / ls.samples;
    if (ls.period <= 0)
        ls.period = 1.0;
    return ls;
}

kstr latency_doctor_report(const latency_state *st, long long threshold_ms, long long slowlog_us, kstr out)
{
    if (st->count == 0 && threshold_ms == 0)
        return kstr_cat_cstr(out,
            "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
            "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. "
            "If we weren't in a deep space mission I'd suggest to take a look at "
            "https://redis.io/topics/latency-monitor.\n");
    if (st->count == 0)
        return kstr_cat_cstr(out,
            "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
            "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
            "things over.\n");
    out = kstr_cat_cstr(out, "Dave, I have observed latency spikes in this Redis instance. "
                             "You don't mind talking about it, do you Dave?\n\n");
    int commands_seen = 0;
    for (int i = 0; i < st->count; i++) {
        const latency_series *ts = &st->events[i];
        latency_stats ls = latency_analyze(ts);
        out = kstr_catfmt(out,
            "%d. %s: %d latency spikes (average %.0fms, mean deviation %.0fms, period %.2f sec). "
            "Worst all time event %ums.\n",
            i + 1, ts->name, ls.samples, ls.avg, ls.mad, ls.period, ts->max);
        if (strcmp(ts->name, "command") == 0 || strcmp(ts->name, "fast-command") == 0)
            commands_seen = 1;
    }
    out = kstr_cat_cstr(out, "\nI have a few advices for you:\n\n");
    if (slowlog_us < 0 || slowlog_us > threshold_ms * 1000)
        out = kstr_catfmt(out,
            "- Your current Slow Log configuration only logs events that are slower than your configured "
            "latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %lld'.\n",
            threshold_ms * 1000);
    if (commands_seen) {
        out = kstr_cat_cstr(out,
            "- Check your Slow Log to understand what are the commands you are running which are too slow "
            "to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        out = kstr_cat_cstr(out,
            "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
            "operation. If you have very large objects that are often deleted, expired, or evicted, try to "
            "fragment those objects into multiple smaller objects.\n");
    }
    return out;
}

/* ---- GRAPH ------------------------------------------------------------- */

#define LATENCY_GRAPH_COLS 80
#define LATENCY_GRAPH_ROWS 4

static void latency_age_label(char *buf, size_t len, int64_t secs)
{
    if (secs < 60)
        snprintf(buf, len, "%llds", (long long)secs);
    else if (secs < 3600)
        snprintf(buf, len, "%lldm", (long long)(secs / 60));
    else if (secs < 86400)
        snprintf(buf, len, "%lldh", (long long)(secs / 3600));
    else
        snprintf(buf, len, "%lldd", (long long)(secs / 86400));
}

/* A bar per sample (oldest left), LATENCY_GRAPH_ROWS high between the
 * lowest and highest sample, then each sample's age written downwards. */
kstr latency_graph(const latency_series *ts, int64_t now_s, kstr out)
{
    const latency_sample *cols[LATENCY_GRAPH_COLS];
    int n = 0;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        const latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_TS_LEN];
        if (!s->time)
            continue;
        if (n == LATENCY_GRAPH_COLS) {
            memmove(cols, cols + 1, sizeof(cols[0]) * (LATENCY_GRAPH_COLS - 1));
            n--;
        }
        cols[n++] = s;
    }
    for (int j = 0; j < n; j++) {
        if (cols[j]->latency < lo) lo = cols[j]->latency;
        if (cols[j]->latency > hi) hi = cols[j]->latency;
    }
    if (n == 0)
        lo = 0;
    out = kstr_catfmt(out, "%s - high %u ms, low %u ms (all time high %u ms)\n", ts->name, hi, lo, ts->max);
    for (int j = 0; j < LATENCY_GRAPH_COLS; j++)
        out = kstr_cat(out, "-", 1);
    out = kstr_cat(out, "\n", 1);
    for (int row = LATENCY_GRAPH_ROWS; row >= 1; row--) {
        for (int j = 0; j < n; j++) {
            uint32_t span = hi - lo;
            int height = span ? 1 + (int)((uint64_t)(cols[j]->latency - lo) * (LATENCY_GRAPH_ROWS - 1) / span)
                              : LATENCY_GRAPH_ROWS;
            out = kstr_cat(out, height >= row ? "#" : " ", 1);
        }
        out = kstr_cat(out, "\n", 1);
    }
    char labels[LATENCY_GRAPH_COLS][24];
    size_t longest = 0;
    for (int j = 0; j < n; j++) {
        latency_age_label(labels[j], sizeof(labels[j]), now_s - cols[j]->time);
        if (strlen(labels[j]) > longest)
            longest = strlen(labels[j]);
    }
    for (size_t k = 0; k < longest; k++) {
        for (int j = 0; j < n; j++)
            out = kstr_cat(out, k < strlen(labels[j]) ? &labels[j][k] : " ", 1);
        out = kstr_cat(out, "\n", 1);
    }
    return out;
}

/* ---- HISTOGRAM --------------------------------------------------------- */

/* The duration (usec, a bucket top) of the call ranked r of total, from
 * command.c's histogram: its percentile at exactly r/total. */
static double latency_value_at_rank(const cmd_def *d, long long r, long long total)
{
    return cmd_latency_percentile(d, 100.0 * (double)r / (double)total);
}

/* Calls of d that took at most limit_us: the highest rank whose value fits
 * (values grow with the rank, so a binary search). */
static long long latency_calls_within(const cmd_def *d, long long total, double limit_us)
{
    long long lo = 0, hi = total;
    while (lo < hi) {
        long long mid = lo + (hi - lo + 1) / 2;
        if (latency_value_at_rank(d, mid, total) <= limit_us)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* 7.0 reports a cumulative distribution over powers of two nanoseconds
 * from 1024, each labelled with the highest value its HDR bucket (two
 * significant digits: 2^(k-7) ns wide) holds, in microseconds: 1 2 4 8 16
 * 33 66 132 264... Only steps where the count grew are listed. */
static void latency_reply_cdf(client *c, const cmd_def *d, long long total)
{
    reply_map(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_int(c, total);
    reply_bulk_cstr(c, "histogram_usec");
    long long steps[64][2];
    int n = 0;
    long long prev = 0;
    for (int k = 10; k < 63 && prev < total; k++) {
        long long top_ns = (1LL << k) + (1LL << (k - 7)) - 1;
        long long label = top_ns / 1000;
        long long cum = latency_calls_within(d, total, (double)label);
        if (k == 62)
            cum = total;
        if (cum > prev) {
            steps[n][0] = label;
            steps[n][1] = cum;
            n++;
        }
        prev = cum;
    }
    reply_map(c, n);
    for (int i = 0; i < n; i++) {
        reply_int(c, steps[i][0]);
        reply_int(c, steps[i][1]);
    }
}

static int latency_histogram_entry(client *c, const cmd_def *d)
{
    const cmd_stats *st = cmd_get_stats(d);
    if (!st || st->calls <= 0)
        return 0;
    reply_bulk_cstr(c, d->name);
    latency_reply_cdf(c, d, st->calls);
    return 1;
}

static void latency_histogram(client *c)
{
    void *len = reply_defer_len(c);
    long long entries = 0;
    if (c->argc == 2) {
        for (size_t i = 0; i < cmd_count(); i++)
            entries += latency_histogram_entry(c, cmd_at(i));
    } else {
        for (int j = 2; j < c->argc; j++) {
            const cmd_def *d = cmd_lookup(c->argv[j].ptr, c->argv[j].len);
            if (d)
                entries += latency_histogram_entry(c, d);
        }
    }
    reply_set_deferred_map_len(c, len, entries);
}

/* ---- LATENCY ----------------------------------------------------------- */

static int latency_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static void latency_reply_latest(client *c)
{
    latency_state *st = &latency_process_state;
    reply_array(c, st->count);
    for (int i = 0; i < st->count; i++) {
        const latency_series *ts = &st->events[i];
        const latency_sample *s = latency_latest(ts);
        reply_array(c, 4);
        reply_bulk_cstr(c, ts->name);
        reply_int(c, s ? s->time : 0);
        reply_int(c, s ? s->latency : 0);
        reply_int(c, ts->max);
    }
}

static void latency_reply_history(client *c, const resp_arg *event)
{
    latency_series *ts = latency_find(&latency_process_state, event->ptr, event->len);
    if (!ts) {
        reply_empty_array(c);
        return;
    }
    int n = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++)
        n += ts->samples[j].time != 0;
    reply_array(c, n);
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        const latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_TS_LEN];
        if (!s->time)
            continue;
        reply_array(c, 2);
        reply_int(c, s->time);
        reply_int(c, s->latency);
    }
}

static void latency_reply_text(client *c, kstr text)
{
    reply_verbatim(c, text, kstr_len(text), "txt");
    kstr_free(text);
}

static void latency_help(client *c)
{
    static const char *help[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL };
    reply_help(c, "LATENCY", help);
}

static void latency_arity(client *c, const char *sub)
{
    char name[48];
    snprintf(name, sizeof(name), "latency|%s", sub);
    reply_error_arity(c, name);
}

void latency_command(client *c)
{
    latency_state *st = &latency_process_state;
    const resp_arg *sub = &c->argv[1];
    if (latency_arg_is(sub, "history")) {
        if (c->argc != 3) { latency_arity(c, "history"); return; }
        latency_reply_history(c, &c->argv[2]);
    } else if (latency_arg_is(sub, "graph")) {
        if (c->argc != 3) { latency_arity(c, "graph"); return; }
        latency_series *ts = latency_find(st, c->argv[2].ptr, c->argv[2].len);
        if (!ts) {
            reply_errorf(c, "ERR No samples available for event '%.*s'", (int)c->argv[2].len, c->argv[2].ptr);
            return;
        }
        latency_reply_text(c, latency_graph(ts, (int64_t)time(NULL), kstr_empty(1024)));
    } else if (latency_arg_is(sub, "latest")) {
        if (c->argc != 2) { latency_arity(c, "latest"); return; }
        latency_reply_latest(c);
    } else if (latency_arg_is(sub, "doctor")) {
        if (c->argc != 2) { latency_arity(c, "doctor"); return; }
        latency_reply_text(c, latency_doctor_report(st, c->srv->config.latency_monitor_threshold,
                                                    c->srv->config.slowlog_log_slower_than, kstr_empty(1024)));
    } else if (latency_arg_is(sub, "reset")) {
        if (c->argc == 2) {
            reply_int(c, latency_reset_all(st));
            return;
        }
        int resets = 0;
        for (int j = 2; j < c->argc; j++)
            resets += latency_reset_event(st, c->argv[j].ptr, c->argv[j].len);
        reply_int(c, resets);
    } else if (latency_arg_is(sub, "histogram")) {
        latency_histogram(c);
    } else if (latency_arg_is(sub, "help")) {
        if (c->argc != 2) { latency_arity(c, "help"); return; }
        latency_help(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try LATENCY HELP.",
                     (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}
