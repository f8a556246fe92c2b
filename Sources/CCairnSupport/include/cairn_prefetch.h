#ifndef CAIRN_PREFETCH_H
#define CAIRN_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` (HNSW search prefetches the
/// vectors of the neighbours it is about to compare).
static inline void cairn_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
