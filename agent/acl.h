/* acl: Redis 7.0 ACL users. A registry of users (the "default" user mirrors
 * requirepass as Redis does), the rule parser behind ACL SETUSER, the rule
 * string ACL LIST prints, the permission check cmd_process runs for every
 * command, the ACL LOG of refusals, and the users of the config file
 * (`user` directives) or of the aclfile (ACL LOAD / ACL SAVE). The users are
 * built from the configuration the first time they are needed. A user's
 * own rules form its root selector; 7.0's "(...)" selectors add others, and
 * a command runs when any one of them allows it. */
#ifndef KV_ACL_H
#define KV_ACL_H
#include <stddef.h>
#include "resp.h"

struct client;
struct cmd_def;
struct srv;
typedef struct acl_user acl_user;

/* The user named name (case sensitive), or NULL. */
acl_user *acl_user_find(const char *name, size_t len);
/* The default user, synchronised with config requirepass. */
acl_user *acl_default_user(struct srv *s);
/* Loads the configured users (`user` directives or aclfile) now; -1 with
 * the reason when Redis would refuse to start with them (both given, or an
 * aclfile with errors). */
int acl_check_startup(struct srv *s, char *err, size_t errlen);
const char *acl_user_name(const acl_user *u);
/* 1 when a client of the default user must AUTH (the default user has a
 * password, from requirepass or ACL SETUSER, or is off). */
int acl_default_needs_auth(struct srv *s);
/* 1 when c authenticated, or needs not (its user is the default user
 * without a password). */
int acl_client_authenticated(const struct client *c);
/* A client's user (NULL in the client means "default"). */
const char *acl_client_user_name(const struct client *c);

/* Applies one rule ("on", ">pw", "+@hash", "~k*" ...) to u. Returns 0, or
 * -1 with *err set to the reason ACL SETUSER quotes ("Syntax error"). */
int acl_user_apply(acl_user *u, const char *rule, size_t len, const char **err);
/* A user not in the registry, with Redis' initial state ("off
 * resetchannels -@all"), for the parser's tests and dry runs. */
acl_user *acl_user_new_detached(const char *name);
void acl_user_free(acl_user *u);
/* The rule string of ACL LIST without "user <name> ", malloc'd (mem_free). */
char *acl_user_describe(const acl_user *u);

/* AUTH: 1 when user/pass match an enabled user (c->user is set), 0 after
 * logging the failure in ACL LOG (the caller replies WRONGPASS). user NULL:
 * the default user. */
int acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass, size_t plen);

/* cmd_process's check: NULL when c's user may run cmd with c->argv, else the
 * -NOPERM text (the refusal is logged in ACL LOG). */
const char *acl_command_refusal(struct client *c, const struct cmd_def *cmd);

/* EXEC's re-check of one queued command (c->argv is the command's): NULL,
 * or the -NOPERM text 7.0 puts in EXEC's reply (logged in ACL LOG with the
 * "multi" context). */
const char *acl_exec_refusal(struct client *c, const struct cmd_def *cmd);

/* A `user` config directive's words (name, rules...): NULL when valid, else
 * the reason (config.c wraps it in Redis' "Error in user declaration"). */
const char *acl_config_user_check(int argc, const char *const *argv);

/* Every Redis 7.0 command and subcommand ("config|get") with its ACL
 * categories, space separated without '@' (acl_commands_table.c, generated
 * by agent/gen_acl_commands.py). */
typedef struct acl_command_entry {
    const char *fullname;
    const char *categories;
} acl_command_entry;
extern const acl_command_entry acl_command_table[];
extern const size_t acl_command_table_len;

/* redis.call / redis.pcall: NULL, or the script's error text for the
 * script's fake client (its user is the caller's), logged in ACL LOG with
 * the "lua" context. */
const char *acl_script_refusal(struct client *fake, const struct cmd_def *cmd, int argc, const resp_arg *argv);
/* redis.acl_check_cmd: 1 when c's user may run cmd with argv; no log. */
int acl_check_allowed(struct client *c, const struct cmd_def *cmd, int argc, const resp_arg *argv);

/* SORT BY / GET with a pattern: 1 when a selector of c's user that allows
 * cmd may read every key ("~*", "%R~*" or allkeys), else SORT refuses the
 * option ("BY option of SORT denied due to insufficient ACL permissions."). */
int acl_full_read_access(struct client *c, const struct cmd_def *cmd, int argc, const resp_arg *argv);

/* Frees every user and log entry (tests, shutdown). */
void acl_reset_all(void);
#endif
