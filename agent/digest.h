/* digest: DEBUG DIGEST and DEBUG DIGEST-VALUE, computed the way Redis 7.0
 * computes them so a kvfleet-agent and a redis-server holding the same data
 * print the same 40 hex digits (SHA1 from Nettle). */
#ifndef KV_DIGEST_H
#define KV_DIGEST_H
#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN 20   /* a SHA1 */

struct srv;
struct kvdb;
struct obj;

/* The whole keyspace (every db, logically expired keys included, as Redis
 * walks its dicts): all zeros when there is no key. */
void digest_dataset(struct srv *s, unsigned char out[DIGEST_LEN]);
/* One key's value, its type and whether it has a TTL (not the key name):
 * all zeros for a missing key. */
void digest_value(struct kvdb *db, const char *key, size_t len, unsigned char out[DIGEST_LEN]);
/* 40 lower-case hex digits and a NUL. */
void digest_to_hex(const unsigned char d[DIGEST_LEN], char hex[2 * DIGEST_LEN + 1]);
#endif
