/* prom.h - the Prometheus text exposition format (version 0.0.4), pure.
 *
 * A writer that appends metric families to a growing buffer: one HELP and
 * one TYPE line per family, then its samples, label values escaped as the
 * format requires (backslash, double quote, newline), numbers in Go's float
 * syntax (+Inf, -Inf, NaN). And a fixed-bucket histogram that the stages
 * keep under their own locks and the writer turns into _bucket (cumulative,
 * "le"), _sum and _count samples. No I/O, no locks: unit-tested as text. */
#ifndef KVFLEET_CTL_PROM_H
#define KVFLEET_CTL_PROM_H

#include <stddef.h>
#include <stdint.h>

struct prom {
    char *buf;
    size_t len, cap;
    int failed;                /* an allocation failed: prom_finish gives NULL */
};

void prom_init(struct prom *p, size_t hint);
/* "# HELP name help\n# TYPE name type\n". */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* One sample: name{k1="v1",...} value. labels: NULL-terminated pairs of
 * key, value (a NULL value ends the list too). */
void prom_sample(struct prom *p, const char *name, const char *const *labels, double value);
/* The same with an integer value printed exactly (counters above 2^53). */
void prom_sample_u64(struct prom *p, const char *name, const char *const *labels, uint64_t v);
/* Hand over the text (malloc'd, NUL-terminated) and its length; resets p. */
char *prom_finish(struct prom *p, size_t *len);
void prom_free(struct prom *p);

#define PROM_MAX_BUCKETS 16

/* counts[i]: observations <= bounds[i] and > bounds[i-1] (not cumulative);
 * the last bucket is +Inf. */
struct prom_hist {
    const double *bounds;      /* ascending, nbuckets - 1 finite bounds */
    int nbuckets;              /* including +Inf */
    uint64_t counts[PROM_MAX_BUCKETS];
    double sum;
    uint64_t count;
};

/* bounds: n finite ascending upper bounds (n < PROM_MAX_BUCKETS). */
void prom_hist_init(struct prom_hist *h, const double *bounds, int n);
void prom_hist_observe(struct prom_hist *h, double v);
/* name_bucket{labels...,le="..."} cumulative, name_sum, name_count. */
void prom_hist_write(struct prom *p, const char *name, const char *const *labels,
                     const struct prom_hist *h);

/* Durations in seconds, 0.5 ms to 10 s: polls, failovers, HTTP requests. */
extern const double prom_seconds_bounds[];
extern const int prom_seconds_nbounds;

#endif
