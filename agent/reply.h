/* reply: RESP2/RESP3 reply encoding into a client's output chain. Every function
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
void reply_null(struct client *c);        /* RESP2 $-1, RESP3 _ */
void reply_null_array(struct client *c);  /* RESP2 *-1, RESP3 _ */
void reply_array(struct client *c, long long len);
void reply_empty_array(struct client *c);

/* RESP3 types. Each degrades to what Redis 7.0 sends a RESP2 client, so a
 * command written with them answers both protocols (c->resp_version). */
void reply_map(struct client *c, long long npairs);  /* RESP2 *2n, RESP3 %n */
void reply_set(struct client *c, long long len);     /* RESP2 *n,  RESP3 ~n */
void reply_push(struct client *c, long long len);    /* RESP2 *n,  RESP3 >n */
/* RESP3 |n, the attribute map before the reply it annotates; RESP2 clients
 * get nothing (as Redis: its pairs must then be skipped by the caller). */
void reply_attribute(struct client *c, long long npairs);
/* RESP3 ,d; RESP2 a bulk string as reply_bulk_double formats it. */
void reply_double(struct client *c, double d);
/* Long double in the "human" form (GEOPOS and WITHCOORD coordinates):
 * RESP2 a bulk string, RESP3 a double. */
void reply_human_ldouble(struct client *c, long double d);
void reply_bool(struct client *c, int b);            /* RESP2 :1/:0, RESP3 #t/#f */
/* RESP3 =len+4 "fmt:text" (fmt is three letters, "txt" or "mkd"); RESP2 a
 * plain bulk string of the text. */
void reply_verbatim(struct client *c, const char *p, size_t len, const char *fmt);
/* A big number given as its decimal digits: RESP3 (digits, RESP2 bulk. */
void reply_bigint(struct client *c, const char *digits, size_t len);

/* For replies whose length is known only at the end. */
void *reply_defer_len(struct client *c);
void reply_set_deferred_len(struct client *c, void *handle, long long len);
void reply_set_deferred_map_len(struct client *c, void *handle, long long npairs);
void reply_set_deferred_set_len(struct client *c, void *handle, long long len);
/* Verbatim-free "help" reply: array of status lines. NULL-terminated. */
void reply_help(struct client *c, const char *cmd, const char **lines);

#endif
