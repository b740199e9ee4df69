/* pause: CLIENT PAUSE / UNPAUSE as redis-server 7.0 has them. While a pause
 * is on, a command that it covers (every command for ALL; for WRITE, the
 * ones flagged write or may-replicate: EVAL, FCALL, PUBLISH..., and an EXEC
 * whose transaction holds one) is postponed, not refused: the client's
 * input stays buffered, reading stops, and the command runs when the pause
 * ends (its timeout, or CLIENT UNPAUSE). Replicas and our master link are
 * never paused. networking.c asks before each command; t_conn.c starts and
 * ends pauses. */
#ifndef KV_PAUSE_H
#define KV_PAUSE_H
#include <stdint.h>
#include "resp.h"

struct client;
struct srv;

enum { PAUSE_OFF = 0, PAUSE_WRITE = 1, PAUSE_ALL = 2 };

/* Start or extend a pause until end_ms (unix ms): a pause already on keeps
 * the later end and the stronger type, as in 7.0. */
void pause_start(struct srv *s, int type, int64_t end_ms);
/* End the pause now and run what was postponed. */
void pause_end(struct srv *s);
/* The pause in force for s (PAUSE_OFF once its end passed). */
int pause_type(struct srv *s);
/* Whether the parsed command argv of c must wait for the pause to end. */
int pause_postpones(struct client *c, int argc, const resp_arg *argv);
/* Park c until the pause ends (its unread input stays in its buffer). */
void pause_hold_client(struct client *c);

#endif
