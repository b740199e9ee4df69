/* lua_libs: the two small Lua 5.1 libraries Redis exposes to scripts that
 * Debian does not package for 5.1, written from their documented behaviour
 * (and checked byte for byte against redis-server 7.0):
 *
 *   struct   - struct.pack(fmt, ...), struct.unpack(fmt, data [, pos]) and
 *              struct.size(fmt), Roberto Ierusalimschy's binary packing
 *              format language (lua_struct.c);
 *   cmsgpack - cmsgpack.pack(...), cmsgpack.unpack(s),
 *              cmsgpack.unpack_one(s [, offset]) and
 *              cmsgpack.unpack_limit(s, limit [, offset]), MessagePack as
 *              Redis' lua_cmsgpack 0.4.0 encodes it (lua_cmsgpack.c).
 *
 * Each luaopen_* function registers its global table (as luaL_register
 * does) and returns it. Both libraries treat their input as hostile: a
 * truncated, oversized or malformed input raises a Lua error, never reads
 * out of bounds, never recurses without bound. */
#ifndef KV_LUA_LIBS_H
#define KV_LUA_LIBS_H
#include <lua.h>
#include <lauxlib.h>

int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);

#endif
