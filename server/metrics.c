/* metrics.c - the controller's own counters (see metrics.h). */
#include "metrics.h"
#include "health.h"
#include "planner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = { "automatic", "manual", "switchover" };
static const char *const results[] = { "done", "failed", "aborted", "cancelled" };
#define NKINDS 3
#define NRESULTS 4
#define NAME_MAX_LEN 64

/* Failovers last from a hundred milliseconds (a switchover) to the
 * switchover timeout. */
static const double failover_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

struct mcluster {
    char name[NAME_MAX_LEN + 1];
    uint64_t ops[NKINDS][NRESULTS];
    uint64_t blocked[PLAN_BLOCK__COUNT];
};

struct metrics {
    pthread_mutex_t mu;
    struct prom_hist poll;
    uint64_t poll_errors[FAIL_OTHER + 1];
    struct prom_hist duration[NKINDS];
    struct mcluster *clusters;
    size_t nclusters, cap;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    prom_hist_init(&m->poll, prom_seconds_bounds, prom_seconds_nbounds);
    for (int k = 0; k < NKINDS; k++)
        prom_hist_init(&m->duration[k], failover_bounds,
                       (int)(sizeof(failover_bounds) / sizeof(failover_bounds[0])));
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->clusters);
    free(m);
}

static int index_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n && s != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Caller holds mu. NULL when out of memory (the event is then not counted). */
static struct mcluster *cluster_slot(struct metrics *m, const char *name, int create)
{
    for (size_t i = 0; i < m->nclusters; i++)
        if (strcmp(m->clusters[i].name, name) == 0)
            return &m->clusters[i];
    if (!create)
        return NULL;
    if (m->nclusters == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct mcluster *nc = realloc(m->clusters, cap * sizeof(*nc));
        if (nc == NULL)
            return NULL;
        m->clusters = nc;
        m->cap = cap;
    }
    struct mcluster *c = &m->clusters[m->nclusters++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    return c;
}

void metrics_poll_ok(struct metrics *m, double seconds)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    prom_hist_observe(&m->poll, seconds);
    pthread_mutex_unlock(&m->mu);
}

void metrics_poll_failed(struct metrics *m, int fail_kind)
{
    if (m == NULL)
        return;
    if (fail_kind <= FAIL_NONE || fail_kind > FAIL_OTHER)
        fail_kind = FAIL_OTHER;
    pthread_mutex_lock(&m->mu);
    m->poll_errors[fail_kind]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_failover_ended(struct metrics *m, const char *cluster, const char *kind,
                            const char *status, double seconds)
{
    int k = index_of(kinds, NKINDS, kind), r = index_of(results, NRESULTS, status);
    if (m == NULL || k < 0 || r < 0)
        return;
    pthread_mutex_lock(&m->mu);
    struct mcluster *c = cluster_slot(m, cluster, 1);
    if (c != NULL)
        c->ops[k][r]++;
    if (r == 0)                /* only completed operations say how long one takes */
        prom_hist_observe(&m->duration[k], seconds);
    pthread_mutex_unlock(&m->mu);
}

void metrics_recovery_blocked(struct metrics *m, const char *cluster, int reason)
{
    if (m == NULL || reason <= PLAN_BLOCK_NONE || reason >= PLAN_BLOCK__COUNT)
        return;
    pthread_mutex_lock(&m->mu);
    struct mcluster *c = cluster_slot(m, cluster, 1);
    if (c != NULL)
        c->blocked[reason]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_forget_cluster(struct metrics *m, const char *cluster)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    struct mcluster *c = cluster_slot(m, cluster, 0);
    if (c != NULL)
        *c = m->clusters[--m->nclusters];
    pthread_mutex_unlock(&m->mu);
}

static const char *poll_error_name(int kind)
{
    switch (kind) {
    case FAIL_TIMEOUT: return "timeout";
    case FAIL_REFUSED: return "refused";
    case FAIL_LOADING: return "loading";
    case FAIL_AUTH: return "auth";
    default: return "other";
    }
}

static void write_operations(struct metrics *m, struct prom *p, const char *const *clusters,
                             size_t n)
{
    prom_family(p, "kvfleet_failovers_total", "counter",
                "Failovers and switchovers that ended, by cluster, kind and result.");
    for (size_t i = 0; i < n; i++) {
        const struct mcluster *c = cluster_slot(m, clusters[i], 0);
        for (int k = 0; k < NKINDS; k++)
            for (int r = 0; r < NRESULTS; r++) {
                const char *l[] = { "cluster", clusters[i], "kind", kinds[k], "result",
                                    results[r], NULL };
                prom_sample_u64(p, "kvfleet_failovers_total", l, c != NULL ? c->ops[k][r] : 0);
            }
    }
    prom_family(p, "kvfleet_failover_duration_seconds", "histogram",
                "Duration of completed failovers and switchovers, from start to verified.");
    for (int k = 0; k < NKINDS; k++) {
        const char *l[] = { "kind", kinds[k], NULL };
        prom_hist_write(p, "kvfleet_failover_duration_seconds", l, &m->duration[k]);
    }
    prom_family(p, "kvfleet_recoveries_blocked_total", "counter",
                "Failovers or switchovers the planner refused, by cluster and reason.");
    for (size_t i = 0; i < n; i++) {
        const struct mcluster *c = cluster_slot(m, clusters[i], 0);
        for (int r = PLAN_BLOCK_NONE + 1; r < PLAN_BLOCK__COUNT; r++) {
            const char *l[] = { "cluster", clusters[i], "reason", planner_block_name(r), NULL };
            prom_sample_u64(p, "kvfleet_recoveries_blocked_total", l, c != NULL ? c->blocked[r] : 0);
        }
    }
}

static void write_polls(struct metrics *m, struct prom *p)
{
    prom_family(p, "kvfleet_poll_duration_seconds", "histogram",
                "Duration of successful node polls (INFO), send to reply.");
    prom_hist_write(p, "kvfleet_poll_duration_seconds", NULL, &m->poll);
    prom_family(p, "kvfleet_poll_errors_total", "counter", "Failed node polls by kind.");
    for (int k = FAIL_TIMEOUT; k <= FAIL_OTHER; k++) {
        const char *l[] = { "kind", poll_error_name(k), NULL };
        prom_sample_u64(p, "kvfleet_poll_errors_total", l, m->poll_errors[k]);
    }
}

void metrics_write(struct metrics *m, struct prom *p, const char *const *clusters,
                   size_t nclusters)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    write_operations(m, p, clusters, nclusters);
    write_polls(m, p);
    pthread_mutex_unlock(&m->mu);
}
