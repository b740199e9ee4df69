/* script_conv: the conversions between RESP2 replies and Lua values that
 * Redis documents for scripts (EVAL, and later FCALL):
 *
 *   RESP -> Lua (what redis.call returns)       Lua -> RESP (what a script returns)
 *   integer      -> number                      number  -> integer (truncated: 3.99 -> 3)
 *   bulk         -> string                      string  -> bulk
 *   nil bulk/arr -> false                       table   -> array of t[1..] up to the first nil
 *   array        -> table (1-based)             {ok=s}  -> status, {err=s} -> error
 *   status       -> {ok=s}                      false/nil -> nil bulk, true -> integer 1
 *   error        -> {err=s}                     other types -> nil bulk
 *
 * Both directions work on plain buffers so the unit test drives them
 * without a server. */
#ifndef KV_SCRIPT_CONV_H
#define KV_SCRIPT_CONV_H
#include <stddef.h>
#include <lua.h>
#include "kstr.h"

/* Deepest nesting converted either way; deeper levels become nil / an
 * error, so a self-referencing table cannot recurse forever. */
#define SCRIPT_CONV_MAX_DEPTH 1000

/* Push the Lua value of the one RESP2 reply at buf[0..len). Returns the
 * bytes it used, or 0 (nothing pushed) when buf does not hold one whole
 * well-formed reply. */
size_t script_conv_resp_to_lua(lua_State *L, const char *buf, size_t len);

/* Append the RESP2 encoding of the Lua value at stack index idx to out
 * (returned, possibly moved). The stack is left as it was. */
kstr script_conv_lua_to_resp(lua_State *L, int idx, kstr out);

/* The string field `name` of the table at idx (raw access, no
 * metamethods), or NULL when idx is not a table or the field is not a
 * string. The pointer lives as long as the table holds the string. */
const char *script_conv_table_string(lua_State *L, int idx, const char *name, size_t *len);

/* Format a Lua number as redis.call passes it to a command: "%.17g", as
 * Redis does (3.7 -> "3.7000000000000002", 5 -> "5"). Returns the length. */
size_t script_conv_number_arg(lua_Number n, char *buf, size_t size);

/* Append s to out with CR and LF turned into spaces: a status or error
 * line cannot hold them (Redis does the same). */
kstr script_conv_cat_line(kstr out, const char *s, size_t len);
#endif
