/* clock.h - the controller's two clocks.
 *
 * Every duration, timeout, cooldown and "down after" decision uses the
 * monotonic clock, so a wall-clock step (NTP, an operator's date command)
 * can neither fail a master over nor hold a failover back. The wall clock is
 * only for what people read: event times, API timestamps, the database. */
#ifndef KVFLEET_CTL_CLOCK_H
#define KVFLEET_CTL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds (arbitrary origin, never goes back). */
static inline int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall clock in milliseconds since the Unix epoch (display only). */
static inline int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
