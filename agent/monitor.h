/* monitor: the MONITOR command and the feed of executed commands to the
 * clients in monitor mode, line for line as redis-server 7.0 writes them:
 *
 *   +<sec>.<usec> [<db> <addr>] "arg" "arg" ...\r\n
 *
 * <db> is the client's db after the command ran (so SELECT 2 shows 2),
 * <addr> its ip:port, or "lua" for a command a script ran (a client with
 * CLIENT_SCRIPT set, see client.h), or "unix:<path>" for a unix socket.
 * Arguments are quoted and escaped as Redis' sdscatrepr does; passwords of
 * AUTH, HELLO ... AUTH and MIGRATE ... AUTH/AUTH2 read "(redacted)".
 *
 * What is shown follows 7.0: a command is fed after it ran, by cmd_call
 * (command.c), unless its own COMMAND INFO flags (the subcommand's for a
 * container such as CLIENT) say admin or skip_monitor, or it is a blocked
 * command being re-run. Commands refused before running (unknown, arity,
 * queued in MULTI) are not shown; a transaction shows its commands at EXEC.
 *
 * For scripting: EVAL/EVALSHA/FCALL carry CMD_SKIP_MONITOR in 7.0 and feed
 * themselves explicitly with monitor_feed_args() before running the script,
 * so the script line comes before the commands it runs. Those commands run
 * through a fake client with CLIENT_SCRIPT set and cmd_call(), which feeds
 * them with the "lua" address. */
#ifndef KV_MONITOR_H
#define KV_MONITOR_H
#include <stdint.h>
#include "kstr.h"
#include "resp.h"

struct client;
struct cmd_def;

/* MONITOR: turn the calling client into a monitor (+OK). */
void monitor_command(struct client *c);
/* Forget a monitor (RESET, or the client going away). Safe on any client. */
void monitor_remove(struct client *c);
/* Number of monitors attached (all servers of the process). */
int monitor_count(void);
/* cmd_call's feed: cmd just ran for c with argc/argv. Decides whether 7.0
 * would show it (flags, re-run after unblocking) and feeds the monitors. */
void monitor_feed_call(struct client *c, const struct cmd_def *cmd, int argc, const resp_arg *argv);
/* Unconditional feed of one command line as run by c in db dbid. */
void monitor_feed_args(struct client *c, int dbid, int argc, const resp_arg *argv);
/* The feed line for c (without the leading '+' and trailing CRLF) appended
 * to out, given the time in microseconds; exposed for unit tests. */
kstr monitor_format_line(kstr out, const struct client *c, int64_t now_us, int dbid, int argc,
                         const resp_arg *argv);

#endif
