/* fuzz_info: the controller's INFO parser (server/info.c:
 * info_parse_replication), which reads whatever a monitored node answers
 * to INFO: a redis-server of any version, a kvfleet agent, or anything
 * listening on a registered port. The input is the reply's text, in a
 * buffer of exactly its size (no NUL after it, as hiredis hands it over
 * with its length). The result must be self-consistent: every string
 * field terminated inside its array, counts within their arrays, the role
 * one the monitor knows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "health.h"
#include "info.h"

#define FUZZ_MAX_INPUT (256 * 1024)

static void terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    struct info_repl *r = malloc(sizeof(*r));
    int rc = info_parse_replication(text, size, r);
    terminated(r->master_host, sizeof(r->master_host));
    terminated(r->run_id, sizeof(r->run_id));
    terminated(r->replid, sizeof(r->replid));
    terminated(r->version, sizeof(r->version));
    if (r->nslaves < 0 || r->nslaves > INFO_MAX_SLAVES)
        abort();
    for (int i = 0; i < r->nslaves; i++) {
        terminated(r->slaves[i].ip, sizeof(r->slaves[i].ip));
        terminated(r->slaves[i].state, sizeof(r->slaves[i].state));
    }
    if (rc == 0 && r->role != ROLE_MASTER && r->role != ROLE_REPLICA)
        abort();
    if (rc == 0 && r->role == ROLE_MASTER && r->link != LINK_NONE)
        abort();
    free(r);
    free(text);
    return 0;
}
