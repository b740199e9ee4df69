/* t_keys: shared helpers of the key commands used by other type modules. */
#ifndef KV_T_KEYS_H
#define KV_T_KEYS_H
struct client;
struct obj;
/* SCAN / HSCAN / SSCAN / ZSCAN: o == NULL scans the keyspace; cursor_arg is
 * the index of the cursor argument (1 for SCAN, 2 for the others). Parses
 * MATCH / COUNT (/ TYPE for SCAN), replies [cursor, [items]]. */
void keys_scan_generic(struct client *c, struct obj *o, int cursor_arg);
#endif
