/* writer.c - batching journal writer thread (see writer.h). */
#include "writer.h"
#include "fleet.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WRITER_MAX_QUEUED 100000
#define WRITER_RETRY_MS 500

enum { W_EVENT, W_STATUS };

struct witem {
    struct witem *next;
    int type;
    int64_t ts;
    int64_t node_id;
    int64_t last_seen;
    struct node_obs obs;                 /* W_STATUS (ring unused) */
    int has_cluster, has_node;
    char cluster[FLEET_NAME_MAX + 1];
    char node[FLEET_NAME_MAX + 1];
    char kind[48];
    char actor[32];
    char msg[512];
};

struct writer {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;       /* work queued or stopping */
    pthread_cond_t idle;       /* queue drained */
    struct witem *head, *tail;
    size_t queued;
    int busy;
    int stopping;
    uint64_t dropped;
    uint64_t write_errors;     /* batches the database refused */
};

static void enqueue(struct writer *w, struct witem *it)
{
    pthread_mutex_lock(&w->mu);
    if (w->queued >= WRITER_MAX_QUEUED && it->type == W_STATUS) {
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        free(it);
        return;
    }
    it->next = NULL;
    if (w->tail != NULL)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    w->queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void writer_event(struct writer *w, int64_t ts, const char *cluster, const char *node,
                  const char *kind, const char *actor, const char *msg)
{
    struct witem *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        ctl_log_warning("writer: out of memory, event %s lost", kind);
        return;
    }
    it->type = W_EVENT;
    it->ts = ts;
    it->has_cluster = cluster != NULL;
    it->has_node = node != NULL;
    if (cluster != NULL)
        snprintf(it->cluster, sizeof(it->cluster), "%s", cluster);
    if (node != NULL)
        snprintf(it->node, sizeof(it->node), "%s", node);
    snprintf(it->kind, sizeof(it->kind), "%s", kind);
    snprintf(it->actor, sizeof(it->actor), "%s", actor);
    snprintf(it->msg, sizeof(it->msg), "%s", msg);
    enqueue(w, it);
}

void writer_status(struct writer *w, int64_t node_id, const struct node_obs *o, int64_t last_seen)
{
    struct witem *it = malloc(sizeof(*it));
    if (it == NULL)
        return;
    it->type = W_STATUS;
    it->ts = store_now_ms();
    it->node_id = node_id;
    it->last_seen = last_seen;
    it->obs = *o;
    enqueue(w, it);
}

/* Write a batch in one transaction. Returns 0, or -1 when the database is
 * unavailable (the batch should be retried). Constraint failures (a node
 * deleted meanwhile) skip the item only. */
static int write_batch(struct writer *w, struct witem *batch)
{
    struct store *st = w->st;
    if (store_begin(st) != STORE_OK)
        return -1;
    int rc = STORE_OK;
    for (struct witem *it = batch; it != NULL && rc != STORE_EUNAVAIL; it = it->next) {
        if (it->type == W_EVENT) {
            struct store_event ev = { .ts = it->ts, .cluster = it->has_cluster ? it->cluster : NULL,
                                      .node = it->has_node ? it->node : NULL, .kind = it->kind,
                                      .message = it->msg, .actor = it->actor };
            rc = store_event_add(st, &ev);
        } else {
            rc = store_status_save(st, it->node_id, &it->obs, it->ts);
            if (rc == STORE_OK && it->last_seen > 0)
                rc = store_node_touch(st, it->node_id, it->last_seen);
        }
    }
    if (rc == STORE_EUNAVAIL) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st) == STORE_OK ? 0 : -1;
}

static void free_list(struct witem *it)
{
    while (it != NULL) {
        struct witem *next = it->next;
        free(it);
        it = next;
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    int failures = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && !w->stopping)
            pthread_cond_wait(&w->cond, &w->mu);
        if (w->head == NULL && w->stopping)
            break;
        struct witem *batch = w->head, *last = w->tail;
        size_t n = w->queued;
        w->head = w->tail = NULL;
        w->queued = 0;
        w->busy = 1;
        pthread_mutex_unlock(&w->mu);

        int rc = write_batch(w, batch);

        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        if (rc == 0) {
            if (failures > 0)
                ctl_log_notice("writer: database writable again");
            failures = 0;
            pthread_mutex_unlock(&w->mu);
            free_list(batch);
            pthread_mutex_lock(&w->mu);
        } else {
            w->write_errors++;
            if (failures++ == 0 || failures % 20 == 0)
                ctl_log_warning("writer: cannot write %zu queued item(s): %s; will retry", n,
                                store_errmsg(w->st));
            if (w->stopping && failures > 3) {
                ctl_log_warning("writer: giving up on %zu item(s) at shutdown", n);
                pthread_mutex_unlock(&w->mu);
                free_list(batch);
                pthread_mutex_lock(&w->mu);
            } else {
                /* Put the batch back in front, keep order, then back off. */
                last->next = w->head;
                if (w->head == NULL)
                    w->tail = last;
                w->head = batch;
                w->queued += n;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += WRITER_RETRY_MS * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                (void)pthread_cond_timedwait(&w->cond, &w->mu, &ts);
            }
        }
        if (w->head == NULL)
            pthread_cond_broadcast(&w->idle);
    }
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int writer_start(struct writer **out, struct store *st)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return -1;
    w->st = st;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return -1;
    }
    if (pthread_cond_init(&w->cond, NULL) != 0 || pthread_cond_init(&w->idle, NULL) != 0 ||
        pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void writer_sync(struct writer *w)
{
    pthread_mutex_lock(&w->mu);
    while ((w->head != NULL || w->busy) && !w->stopping)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void writer_stop(struct writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->dropped > 0)
        ctl_log_warning("writer: %llu status snapshot(s) dropped while the database was unavailable",
                        (unsigned long long)w->dropped);
    free_list(w->head);
    pthread_cond_destroy(&w->cond);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void writer_stats_get(struct writer *w, struct writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    out->queued = w->queued;
    out->dropped = w->dropped;
    out->write_errors = w->write_errors;
    pthread_mutex_unlock(&w->mu);
}
