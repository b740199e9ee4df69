/* t_migrate: MIGRATE (see t_migrate.c); its command table is declared in
 * command.h with the others. */
#ifndef KV_T_MIGRATE_H
#define KV_T_MIGRATE_H
#include <stddef.h>

/* Open connections kept for later MIGRATEs (INFO migrate_cached_sockets). */
size_t migrate_cached_sockets(void);

#endif
