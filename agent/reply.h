/* reply: RESP2 reply encoding into a client's output chain. Every function
 * appends one complete RESP value (or the header of an aggregate). Error
 * texts are passed without the leading '-' and trailing CRLF, and must start
 * with their code ("ERR ...", "WRONGTYPE ..."). */
#ifndef KV_REPLY_H
#define KV_REPLY_H
#include <stddef.h>
#include "kstr.h"

struct client;
struct obj;

/* Shared error texts (Redis 7.0 wording). */
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_NO_KEY "ERR no such key"
#define ERR_OUT_OF_RANGE "ERR index out of range"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_NOAUTH "NOAUTH Authentication required."
#define ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."
#define ERR_TIMEOUT_INVALID "ERR timeout is not a float or out of range"
#define ERR_TIMEOUT_NEGATIVE "ERR timeout is negative"

void reply_raw(struct client *c, const void *p, size_t len);
/* 1 when nothing more sent to c will be delivered (CLIENT REPLY OFF/SKIP,
 * a client being closed, e.g. past its output-buffer limit). A loop whose
 * only effect is its reply (SRANDMEMBER with a count of -10^18) stops
 * there instead of running on for nothing. */
int reply_is_discarded(const struct client *c);
void reply_ok(struct client *c);
void reply_simple(struct client *c, const char *status);   /* "+status" */
void reply_error(struct client *c, const char *err);       /* "-err" */
void reply_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "-ERR wrong number of arguments for '<name>' command" */
void reply_error_arity(struct client *c, const char *cmdname);
void reply_int(struct client *c, long long v);
void reply_bulk(struct client *c, const void *p, size_t len);
void reply_bulk_cstr(struct client *c, const char *s);     /* NULL: null bulk */
void reply_bulk_kstr(struct client *c, const kstr s);
void reply_bulk_ll(struct client *c, long long v);
void reply_bulk_double(struct client *c, double d);        /* as Redis formats scores */
/* The value of a string object as a bulk. */
void reply_bulk_obj(struct client *c, const struct obj *o);
void reply_null(struct client *c);        /* $-1 */
void reply_null_array(struct client *c);  /* *-1 */
void reply_array(struct client *c, long long len);
void reply_empty_array(struct client *c);
/* For replies whose length is known only at the end. */
void *reply_defer_len(struct client *c);
void reply_set_deferred_len(struct client *c, void *handle, long long len);
/* Verbatim-free "help" reply: array of status lines. NULL-terminated. */
void reply_help(struct client *c, const char *cmd, const char **lines);

#endif
