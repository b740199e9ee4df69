/* hooks.h - operator hooks run after a failover.
 *
 * When kvfleetd moves a cluster's master (automatic failover, operator
 * failover, planned switchover) it tells the outside world through two
 * optional hooks from the configuration: a shell command (`on-failover`,
 * given the event in KVFLEET_* environment variables) and an HTTP webhook
 * (`failover-webhook`, a JSON POST retried with backoff). Both run on one
 * worker thread owned by this module. hooks_fire() only copies the event
 * into a bounded queue, so a slow, hanging or failing hook can never delay
 * the failover that triggered it; a full queue drops the event with a
 * warning. Each run's outcome goes back through a callback so the
 * controller can journal it (`hook.command`, `hook.webhook`).
 *
 * Secrets stay out of the log: the command text is never logged (it may
 * carry credentials) and the webhook URL is logged with its user:password
 * and query string masked. */
#ifndef KVFLEET_CTL_HOOKS_H
#define KVFLEET_CTL_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* One failover, as the hooks see it. Strings are NUL-terminated; "" means
 * unknown/none (old_master when the cluster had no master), port 0 too. */
struct hook_failover {
    int64_t failover_id;
    char cluster[65];
    char kind[16];            /* "automatic", "manual", "switchover" */
    char old_master[65];      /* node name, "" if none */
    char old_host[256];
    int old_port;
    char new_master[65];
    char new_host[256];
    int new_port;
    char reason[512];
    int64_t ts_ms;            /* wall clock, ms since epoch; 0: hooks_fire fills it in */
};

/* Outcome of one hook run, called on the hook thread: hook is "command" or
 * "webhook", ok 1 on success (exit 0 / HTTP 2xx), detail a short human
 * sentence ("exit 0 in 35 ms", "killed after 10000 ms timeout",
 * "HTTP 200 after 2 attempts", "HTTP 500, gave up after 4 attempts"). */
typedef void (*hook_result_fn)(void *arg, const struct hook_failover *f, const char *hook,
                               int ok, const char *detail);

struct hooks;

/* Copy what the hooks need from cfg (cfg may be freed afterwards) and start
 * the worker thread when at least one hook is configured. on_result may be
 * NULL. Returns 0, or -1 (logged) when out of memory, libcurl cannot be
 * initialised or the thread cannot be created. */
int hooks_start(struct hooks **out, const struct cfg *cfg, hook_result_fn on_result, void *arg);

/* Queue the hooks for one failover and return at once: never blocks on a
 * running hook. A no-op when h is NULL or no hook is configured. */
void hooks_fire(struct hooks *h, const struct hook_failover *f);

/* Stop the worker: the hook running now finishes or hits its own timeout
 * (the command is killed then; a webhook does not retry any more), queued
 * runs are dropped with a log line. Frees h; NULL is allowed. */
void hooks_stop(struct hooks *h);

/* Pure helpers, exposed for the unit tests. */

/* The webhook's JSON body (malloc'd, caller frees with free()), NULL when
 * out of memory. */
char *hooks_webhook_body(const struct hook_failover *f);

/* Copy url to out with the user:password@ part and the query string
 * replaced by "***", so it can be logged. */
void hooks_mask_url(const char *url, char *out, size_t outlen);

#endif
