/* log.h - controller log: one line per event, Redis-like format.
 *
 *   <pid>:C 23 Nov 2026 16:06:30.123 * message
 *
 * Level marks follow Redis: '.' debug, '-' verbose, '*' notice, '#' warning.
 * Thread safe (one fprintf per line on a line-buffered stream). */
#ifndef KVFLEET_CTL_LOG_H
#define KVFLEET_CTL_LOG_H

enum ctl_log_level { CTL_LOG_DEBUG = 0, CTL_LOG_VERBOSE, CTL_LOG_NOTICE, CTL_LOG_WARNING };

/* path NULL or "" logs to stderr. Returns 0 or -1 (errno set). */
int ctl_log_open(const char *path, int level);
void ctl_log_set_level(int level);
int ctl_log_level_parse(const char *s);  /* -1 when unknown */
void ctl_log_close(void);
void ctl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ctl_log_debug(...)   ctl_log(CTL_LOG_DEBUG, __VA_ARGS__)
#define ctl_log_verbose(...) ctl_log(CTL_LOG_VERBOSE, __VA_ARGS__)
#define ctl_log_notice(...)  ctl_log(CTL_LOG_NOTICE, __VA_ARGS__)
#define ctl_log_warning(...) ctl_log(CTL_LOG_WARNING, __VA_ARGS__)

#endif
