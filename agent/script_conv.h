/* script_conv: the conversions between RESP replies and Lua values that
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
 * RESP3 (a script that called redis.setresp(3) gets RESP3 replies; any
 * script may return the typed tables, converted for the caller's protocol):
 *   null _        -> nil                        {double=n}      -> ,n   (RESP2: bulk)
 *   boolean #t/#f -> true/false                 {big_number=s}  -> (s   (RESP2: bulk)
 *   double ,d     -> {double=d}                 {verbatim_string={format=f,string=s}}
 *   big number (  -> {big_number=s}                             -> =f:s (RESP2: bulk s)
 *   verbatim =    -> {verbatim_string={format=, string=}}
 *   map %         -> {map={k=v}}                {map=t} -> %n   (RESP2: flat array)
 *   set ~         -> {set={k=true}}             {set=t} -> ~n   (RESP2: array)
 *   attribute |   -> dropped, the value after it converted
 * A RESP3 script's booleans are booleans (#t/#f; :1/:0 to a RESP2 caller);
 * nil and a RESP2 script's false are a null (_ to a RESP3 caller).
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

/* Push the Lua value of the one RESP2/RESP3 reply at buf[0..len). Returns the
 * bytes it used, or 0 (nothing pushed) when buf does not hold one whole
 * well-formed reply. */
size_t script_conv_resp_to_lua(lua_State *L, const char *buf, size_t len);

/* Append the RESP2 encoding of the Lua value at stack index idx to out
 * (returned, possibly moved). The stack is left as it was. */
kstr script_conv_lua_to_resp(lua_State *L, int idx, kstr out);
/* The same for a caller speaking caller_resp (2 or 3), from a script whose
 * redis.setresp is script_resp. */
kstr script_conv_lua_to_resp_proto(lua_State *L, int idx, kstr out, int caller_resp, int script_resp);

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
