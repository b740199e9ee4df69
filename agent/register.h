/* register: announce this agent to a kvfleetd controller (directives
 * `controller`, `controller-token`, `node-name`, `cluster`). Runs on its own
 * thread with libcurl and retries with exponential backoff while the
 * controller is unreachable, so clients are never blocked by it. */
#ifndef KV_REGISTER_H
#define KV_REGISTER_H
#include "config.h"

/* Starts the registration thread when `controller` is configured.
 * Returns 0 (also when nothing is configured) or -1 if the thread could not
 * be started. */
int register_start(const cfg *c);
/* Asks the thread to stop and waits for it (shutdown). */
void register_stop(void);
/* Builds the JSON bodies (pure; for tests). Caller frees with mem_free. */
char *register_node_body(const char *host, int port, const char *name);
char *register_join_body(const char *name);
char *register_cluster_body(const char *cluster, const char *name);

#endif
