/* http_deadline.h - the request deadline of the HTTP front end.
 *
 * Every connection must deliver a complete request (request line, headers
 * and body) within `limit_ms` of being opened or of its previous answer,
 * however it spreads its bytes. libmicrohttpd 0.9.75 only has an idle
 * timeout, which a slow-loris client resets with every byte it trickles;
 * without a deadline such clients keep their connection slots forever and
 * lock everyone else out once the connection limit is reached.
 *
 * http.c registers each connection from MHD's connection callbacks; a
 * watchdog thread shuts down (shutdown(2), never close(2)) the sockets of
 * the ones past their deadline, and MHD, seeing the end of the stream,
 * closes and frees them on its own thread. The registry's lock is what
 * makes that safe: an entry is removed (MHD_CONNECTION_NOTIFY_CLOSED)
 * before MHD closes its descriptor, so a descriptor found in the registry
 * under the lock can never be one the kernel has reused for another
 * connection. */
#ifndef KVFLEET_API_HTTP_DEADLINE_H
#define KVFLEET_API_HTTP_DEADLINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct http_deadline_conn {
    int fd;
    int64_t due_ms;         /* CLOCK_MONOTONIC ms; 0: not waiting for a request */
    int expired;            /* shut down by the watchdog (once) */
    struct http_deadline_conn *prev, *next;
};

struct http_deadlines {
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* signalled to stop the watchdog */
    pthread_t thread;
    int running;            /* the watchdog thread exists */
    int stopping;
    int64_t limit_ms;
    int tick_ms;            /* watchdog period */
    struct http_deadline_conn *head;
    uint64_t expired_total; /* connections shut down for missing the deadline */
};

/* Set up the registry (no thread yet). 0, or -1 when pthread init fails. */
int http_deadlines_init(struct http_deadlines *d, int64_t limit_ms);
/* Start the watchdog thread, which checks every `tick_ms`. 0 or -1. */
int http_deadlines_start(struct http_deadlines *d, int tick_ms);
/* Stop the watchdog (if started) and free the registry; entries still
 * registered are freed too, their sockets left alone. */
void http_deadlines_destroy(struct http_deadlines *d);

/* Register a connection, its deadline armed from now. NULL: out of memory
 * (the connection then only has MHD's idle timeout). */
struct http_deadline_conn *http_deadlines_add(struct http_deadlines *d, int fd);
void http_deadlines_remove(struct http_deadlines *d, struct http_deadline_conn *c);
/* A request was answered: the next one is due `limit_ms` from now. */
void http_deadlines_arm(struct http_deadlines *d, struct http_deadline_conn *c);
/* The request is complete and being answered: no deadline meanwhile. */
void http_deadlines_disarm(struct http_deadlines *d, struct http_deadline_conn *c);

/* Shut down every registered socket whose deadline is before now_ms; the
 * number shut down this time. The watchdog's step, public for unit tests. */
size_t http_deadlines_expire(struct http_deadlines *d, int64_t now_ms);
uint64_t http_deadlines_expired_total(struct http_deadlines *d);

#endif
