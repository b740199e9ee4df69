/* prom.c - Prometheus text exposition writer and histograms (see prom.h). */
#include "prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double prom_seconds_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10 };
const int prom_seconds_nbounds = (int)(sizeof(prom_seconds_bounds) / sizeof(double));

void prom_init(struct prom *p, size_t hint)
{
    memset(p, 0, sizeof(*p));
    p->cap = hint > 64 ? hint : 64;
    p->buf = malloc(p->cap);
    if (p->buf == NULL)
        p->failed = 1;
    else
        p->buf[0] = '\0';
}

static int reserve(struct prom *p, size_t more)
{
    if (p->failed)
        return -1;
    if (p->len + more + 1 <= p->cap)
        return 0;
    size_t cap = p->cap;
    while (cap < p->len + more + 1)
        cap *= 2;
    char *nb = realloc(p->buf, cap);
    if (nb == NULL) {
        p->failed = 1;
        return -1;
    }
    p->buf = nb;
    p->cap = cap;
    return 0;
}

static void put(struct prom *p, const char *s, size_t n)
{
    if (reserve(p, n) != 0)
        return;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void puts_(struct prom *p, const char *s)
{
    put(p, s, strlen(s));
}

/* Label values: backslash, double quote and line feed are escaped; HELP
 * text: backslash and line feed. */
static void put_escaped(struct prom *p, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            puts_(p, "\\\\");
        else if (*s == '\n')
            puts_(p, "\\n");
        else if (quote && *s == '"')
            puts_(p, "\\\"");
        else
            put(p, s, 1);
    }
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
    puts_(p, "# HELP ");
    puts_(p, name);
    puts_(p, " ");
    put_escaped(p, help, 0);
    puts_(p, "\n# TYPE ");
    puts_(p, name);
    puts_(p, " ");
    puts_(p, type);
    puts_(p, "\n");
}

static void put_labels(struct prom *p, const char *const *labels, const char *le)
{
    int any = 0;
    for (size_t i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
        puts_(p, any ? "," : "{");
        puts_(p, labels[i]);
        puts_(p, "=\"");
        put_escaped(p, labels[i + 1], 1);
        puts_(p, "\"");
        any = 1;
    }
    if (le != NULL) {
        puts_(p, any ? ",le=\"" : "{le=\"");
        puts_(p, le);
        puts_(p, "\"");
        any = 1;
    }
    if (any)
        puts_(p, "}");
}

/* Go's float syntax: +Inf, -Inf, NaN; integers without an exponent. */
static void format_value(double v, char *out, size_t len)
{
    if (isnan(v))
        snprintf(out, len, "NaN");
    else if (isinf(v))
        snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, len, "%.0f", v);
    else
        for (int prec = 6; prec <= 17; prec++) {   /* shortest text that reads back */
            snprintf(out, len, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
}

static void sample_text(struct prom *p, const char *name, const char *suffix,
                        const char *const *labels, const char *le, const char *value)
{
    puts_(p, name);
    if (suffix != NULL)
        puts_(p, suffix);
    put_labels(p, labels, le);
    puts_(p, " ");
    puts_(p, value);
    puts_(p, "\n");
}

void prom_sample(struct prom *p, const char *name, const char *const *labels, double value)
{
    char v[40];
    format_value(value, v, sizeof(v));
    sample_text(p, name, NULL, labels, NULL, v);
}

void prom_sample_u64(struct prom *p, const char *name, const char *const *labels, uint64_t value)
{
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
    sample_text(p, name, NULL, labels, NULL, v);
}

char *prom_finish(struct prom *p, size_t *len)
{
    char *out = p->failed ? NULL : p->buf;
    if (out == NULL)
        free(p->buf);
    if (len != NULL)
        *len = out != NULL ? p->len : 0;
    memset(p, 0, sizeof(*p));
    return out;
}

void prom_free(struct prom *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

void prom_hist_init(struct prom_hist *h, const double *bounds, int n)
{
    memset(h, 0, sizeof(*h));
    if (n > PROM_MAX_BUCKETS - 1)
        n = PROM_MAX_BUCKETS - 1;
    h->bounds = bounds;
    h->nbuckets = n + 1;
}

void prom_hist_observe(struct prom_hist *h, double v)
{
    if (isnan(v))
        return;
    int i = 0;
    while (i < h->nbuckets - 1 && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
    h->count++;
}

void prom_hist_write(struct prom *p, const char *name, const char *const *labels,
                     const struct prom_hist *h)
{
    uint64_t acc = 0;
    char le[40], v[24];
    for (int i = 0; i < h->nbuckets; i++) {
        acc += h->counts[i];
        if (i < h->nbuckets - 1)
            format_value(h->bounds[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        snprintf(v, sizeof(v), "%llu", (unsigned long long)acc);
        sample_text(p, name, "_bucket", labels, le, v);
    }
    char sum[40];
    format_value(h->sum, sum, sizeof(sum));
    sample_text(p, name, "_sum", labels, NULL, sum);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)h->count);
    sample_text(p, name, "_count", labels, NULL, v);
}
