/* reqstats.c - per-route request counters and duration histograms (see
 * reqstats.h). Slots are laid out once from the route table:
 *   2 * row       the row's own method
 *   2 * row + 1   HEAD answered by that (GET) row
 *   2 * nrows + k route "none" under the k-th of none_methods[]
 * so recording is an index computation plus a short status scan. */
#include "reqstats.h"
#include "api.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const double bounds[API_REQSTATS_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, INFINITY,
};

/* Methods a request no row took is filed under: anything else a client
 * invents is "other", so junk methods cannot add series. */
static const char *const none_methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH",
                                            "DELETE", "OPTIONS", "other" };
#define NNONE (sizeof(none_methods) / sizeof(none_methods[0]))

struct status_count {
    int status;
    uint64_t count;
};

struct slot {
    int nstatus;
    struct status_count st[API_REQSTATS_MAX_STATUS];   /* ascending by status */
    uint64_t buckets[API_REQSTATS_NBUCKETS];           /* per bucket, not cumulative */
    uint64_t count;
    double sum;
};

struct api_reqstats {
    pthread_mutex_t mu;
    size_t nrows;
    size_t nslots;
    struct slot slots[];
};

struct api_reqstats *api_reqstats_new(void)
{
    size_t nrows = api_route_count();
    size_t nslots = 2 * nrows + NNONE;
    struct api_reqstats *s = calloc(1, sizeof(*s) + nslots * sizeof(struct slot));
    if (s == NULL)
        return NULL;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->nrows = nrows;
    s->nslots = nslots;
    return s;
}

void api_reqstats_free(struct api_reqstats *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static size_t none_index(const char *method)
{
    for (size_t k = 0; k + 1 < NNONE; k++)
        if (strcmp(method, none_methods[k]) == 0)
            return k;
    return NNONE - 1;
}

static size_t slot_of(const struct api_reqstats *s, int row, const char *method)
{
    if (row < 0 || (size_t)row >= s->nrows)
        return 2 * s->nrows + none_index(method);
    /* HEAD only ever matches GET rows (routes.c): its twin slot. */
    return 2 * (size_t)row + (strcmp(method, "HEAD") == 0 ? 1 : 0);
}

static struct status_count *status_find(struct slot *sl, int status, int *pos)
{
    int i = 0;
    while (i < sl->nstatus && sl->st[i].status < status)
        i++;
    *pos = i;
    return i < sl->nstatus && sl->st[i].status == status ? &sl->st[i] : NULL;
}

/* The entry for status, inserted in order. The last place is kept for
 * status 0 ("other"): once only it is left, every new code shares it. */
static struct status_count *status_entry(struct slot *sl, int status)
{
    int i;
    struct status_count *e = status_find(sl, status, &i);
    if (e != NULL)
        return e;
    if (status != 0 && sl->nstatus >= API_REQSTATS_MAX_STATUS - 1) {
        status = 0;
        if ((e = status_find(sl, 0, &i)) != NULL)
            return e;
    }
    memmove(&sl->st[i + 1], &sl->st[i], (size_t)(sl->nstatus - i) * sizeof(sl->st[0]));
    sl->st[i].status = status;
    sl->st[i].count = 0;
    sl->nstatus++;
    return &sl->st[i];
}

static int bucket_of(double seconds)
{
    int b = 0;
    while (b < API_REQSTATS_NBUCKETS - 1 && seconds > bounds[b])
        b++;
    return b;
}

void api_reqstats_record(struct api_reqstats *s, int row, const char *method, int status,
                         double seconds)
{
    if (s == NULL)
        return;
    if (!(seconds >= 0))
        seconds = 0;                   /* NaN or a clock oddity: count it as instant */
    size_t idx = slot_of(s, row, method != NULL ? method : "other");
    int b = bucket_of(seconds);
    pthread_mutex_lock(&s->mu);
    struct slot *sl = &s->slots[idx];
    status_entry(sl, status)->count++;
    sl->buckets[b]++;
    sl->count++;
    sl->sum += seconds;
    pthread_mutex_unlock(&s->mu);
}

static void slot_names(const struct api_reqstats *s, size_t idx, const char **route,
                       const char **method)
{
    if (idx >= 2 * s->nrows) {
        *route = "none";
        *method = none_methods[idx - 2 * s->nrows];
        return;
    }
    *route = api_route_name(idx / 2);
    *method = idx % 2 ? "HEAD" : api_route_method(idx / 2);
}

void api_reqstats_foreach(struct api_reqstats *s, api_reqstats_count_cb cb, void *arg)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->count == 0)
            continue;
        const char *route, *method;
        slot_names(s, i, &route, &method);
        for (int k = 0; k < sl->nstatus; k++)
            cb(arg, route, method, sl->st[k].status, sl->st[k].count);
    }
    pthread_mutex_unlock(&s->mu);
}

void api_reqstats_foreach_hist(struct api_reqstats *s, api_reqstats_hist_cb cb, void *arg)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->count == 0)
            continue;
        uint64_t cum[API_REQSTATS_NBUCKETS];
        uint64_t run = 0;
        for (int b = 0; b < API_REQSTATS_NBUCKETS; b++) {
            run += sl->buckets[b];
            cum[b] = run;
        }
        const char *route, *method;
        slot_names(s, i, &route, &method);
        cb(arg, route, method, cum, API_REQSTATS_NBUCKETS, bounds, sl->sum, sl->count);
    }
    pthread_mutex_unlock(&s->mu);
}
