/* acl_int: what acl.c (users, rules, checks, ACL LOG), acl_file.c (the
 * config's users and the aclfile) and acl_cmd.c (the ACL command) share.
 * Private to those three files. */
#ifndef KV_ACL_INT_H
#define KV_ACL_INT_H
#include <stddef.h>
#include <stdint.h>
#include "acl.h"
#include "command.h"

struct srv;
struct client;

enum { ACL_READ = 1, ACL_WRITE = 2 };
enum { SANITIZE_NONE, SANITIZE_YES, SANITIZE_SKIP };

typedef struct acl_pattern {
    int perm;      /* ACL_READ | ACL_WRITE */
    char *glob;
} acl_pattern;

/* What one selector allows: the root selector (the user's own rules) or
 * one of 7.0's "(...)" selectors. A command runs when any selector allows
 * the command, every key it touches and every channel. */
typedef struct acl_selector {
    uint8_t *allowed;        /* per acl_command_table entry */
    /* Set only by +@all: the selector also allows commands added later,
     * and ACL LIST starts its rules from +@all instead of -@all. */
    int future;
    char **firstargs;        /* "index|arg": +select|0 on a command without subcommands */
    int nfirstargs;
    int allkeys;
    acl_pattern *keys;
    int nkeys;
    int allchannels;
    char **channels;
    int nchannels;
} acl_selector;

struct acl_user {
    char *name;
    int enabled;
    int nopass;
    int sanitize;
    char **hashes;           /* SHA-256 of each password, 64 lower hex */
    int nhashes;
    acl_selector root;
    acl_selector **selectors; /* the "(...)" selectors, in the order given */
    int nselectors;
    struct acl_user *next;
};

/* ACL CAT's order, which is also the order ACL LIST tries categories in. */
extern const char *const acl_categories[];
extern acl_user *acl_users;   /* the registry, sorted by name */

#define ACL_ERR_SYNTAX "Syntax error"

/* Command universe (acl_command_table). */
size_t acl_ncmds(void);
int acl_in_category(size_t i, const char *cat);
int acl_category_known(const char *cat);

/* Users. */
char *acl_strndup(const char *s, size_t n);
void acl_set_all_commands(acl_selector *s, int allow);
/* A deep copy of u, detached from the registry (ACL SETUSER stages on it). */
acl_user *acl_user_dup(const acl_user *u);
/* Splits "(+get ~k)" back into one word when a client or a file line gave
 * it as several: NULL (and *bad the word that opens the unclosed selector)
 * when a "(" is never closed; else *n malloc'd words (acl_words_free). */
char **acl_merge_selector_args(int argc, const char *const *argv, const size_t *lens, int *n, int *bad);
void acl_words_free(char **w, int n);
void acl_registry_add(acl_user *u);
void acl_reset_user(acl_user *u);
void acl_default_from_requirepass(acl_user *u, const char *pass);
/* The default user now mirrors the current requirepass. */
void acl_requirepass_synced(const struct srv *s);
/* After any change of users: refreshes cmd_process's fast path. */
void acl_rules_changed(void);
/* Reads acl-pubsub-default before users are made or reset. */
void acl_read_pubsub_default(struct srv *s);
/* ACL SETUSER default: was_open is whether it needed no password before. */
void acl_default_closed(struct srv *s, int was_open);
int acl_user_unrestricted(const acl_user *u);

typedef struct acl_buf {
    char *p;
    size_t len, cap;
} acl_buf;
void acl_buf_add(acl_buf *b, const char *s, size_t n);
void acl_buf_str(acl_buf *b, const char *s);
void acl_describe_commands(const acl_selector *s, acl_buf *b);
void acl_describe_keys(const acl_selector *s, acl_buf *b);

/* Checks. */
enum { ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_CHANNEL };
int acl_check(const acl_user *u, const cmd_def *cmd, int argc, const resp_arg *argv, int *errpos);
const char *acl_fullname(const cmd_def *cmd, int argc, const resp_arg *argv);

/* acl_keys.c: the keys of argv, each with the permissions it needs
 * (ACL_READ / ACL_WRITE from its key spec); *out is malloc'd (mem_free),
 * also when 0 is returned. */
typedef struct acl_keyref {
    int pos;
    int need;
    int flags;     /* the key spec's flags, ACL_KF_* (COMMAND GETKEYSANDFLAGS) */
} acl_keyref;
/* Redis' key-spec flags, in the order COMMAND GETKEYSANDFLAGS names them. */
enum {
    ACL_KF_RO = 1 << 0, ACL_KF_RW = 1 << 1, ACL_KF_OW = 1 << 2, ACL_KF_RM = 1 << 3,
    ACL_KF_ACCESS = 1 << 4, ACL_KF_UPDATE = 1 << 5, ACL_KF_INSERT = 1 << 6, ACL_KF_DELETE = 1 << 7,
    ACL_KF_NOT_KEY = 1 << 8, ACL_KF_INCOMPLETE = 1 << 9, ACL_KF_VARIABLE_FLAGS = 1 << 10,
};
#define ACL_KF_COUNT 11
/* The name of flag bit i (0 .. ACL_KF_COUNT-1). */
const char *acl_key_flag_name(int i);
int acl_keys_of(const cmd_def *cmd, int argc, const resp_arg *argv, acl_keyref **out);
void acl_keys_reset(void);
/* How many COMMAND INFO entries have key specs acl_keys.c cannot read
 * (the unit test wants 0). */
int acl_keys_unreadable(void);

/* ACL LOG. */
typedef struct acl_log_entry {
    long long count;
    const char *reason;
    const char *context;
    char *object;
    char *username;
    int64_t ctime_ms;
    char *cinfo;
    struct acl_log_entry *next;
} acl_log_entry;
extern acl_log_entry *acl_log;   /* newest first */
void acl_log_reset(void);

/* acl_file.c */
char *acl_file_path(struct srv *s);
void acl_kill_clients_of(struct srv *s, struct client *caller, const acl_user *u);
/* acl.c: closes u's subscribers whose subscriptions u no longer allows. */
void acl_kill_revoked_subscribers(struct srv *s, struct client *caller, const acl_user *u);
void acl_errf(acl_buf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *acl_load_file(struct srv *s, const char *path, struct client *caller);
int acl_save_file(struct srv *s, const char *path);
char *acl_load_configured(struct srv *s);
#endif
