/* latency: Redis 7.0's latency monitor. Code paths that may stall report
 * how long they took under an event name ("command", "fast-command",
 * "expire-cycle", "fork"...); a duration at or above
 * latency-monitor-threshold (ms, 0 = off) becomes a sample. Per event the
 * monitor keeps the all-time max and a ring of 160 samples, one per second
 * (two spikes in the same second keep the larger). LATENCY LATEST, HISTORY,
 * RESET, GRAPH and DOCTOR read them; LATENCY HISTOGRAM reads the per-command
 * latency histograms of command.c instead. */
#ifndef KV_LATENCY_H
#define KV_LATENCY_H
#include <stdint.h>
#include "kstr.h"

struct client;
struct srv;

#define LATENCY_TS_LEN 160
#define LATENCY_EVENT_NAME_MAX 48

typedef struct latency_sample {
    int32_t time;              /* unix seconds, 0 = slot unused */
    uint32_t latency;          /* ms */
} latency_sample;

typedef struct latency_series {
    char name[LATENCY_EVENT_NAME_MAX];
    int idx;                   /* next slot to write */
    uint32_t max;              /* all-time max, ms */
    latency_sample samples[LATENCY_TS_LEN];
} latency_series;

/* The events seen so far, in the order they first appeared. */
typedef struct latency_state {
    latency_series *events;
    int count, cap;
} latency_state;

/* Pure core (unit-tested): add a sample taken at now_s. */
void latency_add_sample(latency_state *st, const char *event, int64_t now_s, uint32_t ms);
latency_series *latency_find(latency_state *st, const char *event, size_t len);
/* Forget one event (1 if it existed) or all of them (the count). */
int latency_reset_event(latency_state *st, const char *event, size_t len);
int latency_reset_all(latency_state *st);
void latency_state_free(latency_state *st);
/* The newest sample of a series (NULL when none). */
const latency_sample *latency_latest(const latency_series *ts);
/* LATENCY DOCTOR's text, and LATENCY GRAPH's for one series. */
kstr latency_doctor_report(const latency_state *st, long long threshold_ms, long long slowlog_us, kstr out);
kstr latency_graph(const latency_series *ts, int64_t now_s, kstr out);

/* The process-wide monitor the server records into. */
latency_state *latency_global(void);
/* Record event if duration_ms reaches the server's threshold. */
void latency_add_sample_if_needed(struct srv *s, const char *event, long long duration_ms);
/* After a command ran (cmd_call): the "command" / "fast-command" event. */
void latency_after_command(struct client *c, int fast, long long duration_us);
/* LATENCY */
void latency_command(struct client *c);

#endif
