/* http_deadline.c - registry of open HTTP connections and the watchdog that
 * shuts down the ones that did not deliver a request in time (see
 * http_deadline.h for why and for the locking rule). */
#include "http_deadline.h"
#include "../server/clock.h"
#include "../server/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int http_deadlines_init(struct http_deadlines *d, int64_t limit_ms)
{
    memset(d, 0, sizeof(*d));
    d->limit_ms = limit_ms;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    /* The watchdog sleeps on the monotonic clock like the deadlines it
     * checks, so a wall-clock step neither stalls nor hurries it. */
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        pthread_cond_destroy(&d->wake);
        return -1;
    }
    return 0;
}

size_t http_deadlines_expire(struct http_deadlines *d, int64_t now_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&d->mu);
    for (struct http_deadline_conn *c = d->head; c != NULL; c = c->next) {
        if (c->expired || c->due_ms == 0 || c->due_ms > now_ms)
            continue;
        /* Under the lock the descriptor is still MHD's (see the header).
         * ENOTCONN: the peer is gone already and MHD is about to notice. */
        if (shutdown(c->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
            ctl_log_warning("http: cannot shut down a connection past its deadline: %s",
                            strerror(errno));
        c->expired = 1;
        n++;
    }
    d->expired_total += n;
    pthread_mutex_unlock(&d->mu);
    return n;
}

static void deadline_after_ms(struct timespec *ts, int ms)
{
    if (clock_gettime(CLOCK_MONOTONIC, ts) != 0)
        memset(ts, 0, sizeof(*ts));
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *watchdog_main(void *arg)
{
    struct http_deadlines *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        struct timespec until;
        deadline_after_ms(&until, d->tick_ms);
        while (!d->stopping) {
            int rc = pthread_cond_timedwait(&d->wake, &d->mu, &until);
            if (rc == ETIMEDOUT)
                break;
        }
        int stop = d->stopping;
        pthread_mutex_unlock(&d->mu);
        if (stop)
            return NULL;
        size_t n = http_deadlines_expire(d, clock_mono_ms());
        if (n > 0)
            ctl_log_verbose("http: closed %zu connection%s that sent no complete request in %lld ms",
                            n, n == 1 ? "" : "s", (long long)d->limit_ms);
    }
}

int http_deadlines_start(struct http_deadlines *d, int tick_ms)
{
    d->tick_ms = tick_ms > 0 ? tick_ms : 1;
    if (pthread_create(&d->thread, NULL, watchdog_main, d) != 0)
        return -1;
    d->running = 1;
    return 0;
}

void http_deadlines_destroy(struct http_deadlines *d)
{
    if (d->running) {
        pthread_mutex_lock(&d->mu);
        d->stopping = 1;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
        d->running = 0;
    }
    while (d->head != NULL) {
        struct http_deadline_conn *c = d->head;
        d->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->wake);
}

struct http_deadline_conn *http_deadlines_add(struct http_deadlines *d, int fd)
{
    struct http_deadline_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->due_ms = clock_mono_ms() + d->limit_ms;
    pthread_mutex_lock(&d->mu);
    c->next = d->head;
    if (d->head != NULL)
        d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->mu);
    return c;
}

void http_deadlines_remove(struct http_deadlines *d, struct http_deadline_conn *c)
{
    pthread_mutex_lock(&d->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->mu);
    free(c);
}

void http_deadlines_arm(struct http_deadlines *d, struct http_deadline_conn *c)
{
    int64_t due = clock_mono_ms() + d->limit_ms;
    pthread_mutex_lock(&d->mu);
    c->due_ms = due;
    pthread_mutex_unlock(&d->mu);
}

void http_deadlines_disarm(struct http_deadlines *d, struct http_deadline_conn *c)
{
    pthread_mutex_lock(&d->mu);
    c->due_ms = 0;
    pthread_mutex_unlock(&d->mu);
}

uint64_t http_deadlines_expired_total(struct http_deadlines *d)
{
    pthread_mutex_lock(&d->mu);
    uint64_t n = d->expired_total;
    pthread_mutex_unlock(&d->mu);
    return n;
}
