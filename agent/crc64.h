/* crc64: the CRC-64 variant ("Jones") that Redis appends to RDB files and
 * DUMP payloads: reflected, polynomial 0xad93d23594c935a9, init 0, no final
 * xor. Table-driven, eight bytes per step, so checksumming a multi-gigabyte
 * snapshot costs little next to writing it. */
#ifndef KV_CRC64_H
#define KV_CRC64_H
#include <stddef.h>
#include <stdint.h>

/* Continue a checksum: pass 0 as crc for the first chunk. */
uint64_t crc64_update(uint64_t crc, const void *buf, size_t len);

#endif
