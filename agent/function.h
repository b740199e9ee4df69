/* function: Redis 7.0 functions. Libraries of Lua functions are loaded with
 * FUNCTION LOAD ("#!lua name=<library>" then code calling
 * redis.register_function), called with FCALL / FCALL_RO, listed, deleted,
 * flushed, dumped and restored, written into every RDB snapshot (opcode
 * FUNCTION2, one library's code each, before the databases) and read back
 * from one. The FUNCTION commands that change libraries are propagated as
 * themselves; FCALL, like EVAL, is propagated as the writes it made.
 *
 * The registry lives here; the Lua side (the load environment, running a
 * callback) is script_lua.c, and running with the busy/kill machinery is
 * script.c. Library names are case-sensitive, function names are not (as
 * in 7.0). */
#ifndef KV_FUNCTION_H
#define KV_FUNCTION_H
#include <stddef.h>
#include "kstr.h"

struct srv;
struct rdb_writer;

/* FUNCTION LOAD's time limit for running a library's top-level code. */
#define FUNCTION_LOAD_TIMEOUT_MS 500

/* Load one library from its code (an RDB's FUNCTION2 record, AOF / DEBUG
 * RELOAD paths). replace: a library of the same name is replaced. 0, or -1
 * with Redis' error text in *err (a new kstr). */
int function_load_code(struct srv *s, const char *code, size_t len, int replace, kstr *err);
/* Calls fn with each library's code, in load order; stops at the first
 * non-zero return and returns it. */
typedef int function_code_fn(void *priv, const char *code, size_t len);
int function_each_library(struct srv *s, function_code_fn *fn, void *priv);
/* Every library's code as FUNCTION2 records (RDB snapshot, FUNCTION DUMP). */
int function_write_rdb(struct srv *s, struct rdb_writer *w);
/* Drop every library (a replica's full sync replaces them). */
void function_flush_all(struct srv *s);
/* INFO memory: used_memory_vm_functions / used_memory_functions. */
size_t function_count(struct srv *s);
size_t function_library_count(struct srv *s);
void function_module_release(struct srv *s);
#endif
