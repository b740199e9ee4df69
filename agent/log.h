/* log: one line per event, "pid:role dd Mon yyyy hh:mm:ss.mmm <lvl> msg",
 * the format of Redis' own log so operators' tooling keeps working. */
#ifndef KV_LOG_H
#define KV_LOG_H

enum { LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3 };

void log_set_level(int level);
int log_get_level(void);
/* NULL or "" logs to stdout. Returns 0 or -1 (errno set). */
int log_set_file(const char *path);
void log_set_role_char(char c);  /* 'M' master, 'S' replica, 'C' child */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "debug", "verbose", "notice", "warning"; -1 if unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

#endif
