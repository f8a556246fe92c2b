#ifndef CAIRN_MEMORY_H
#define CAIRN_MEMORY_H

/// Keeps the C allocator from holding on to large freed buffers (glibc: fixes the threshold
/// above which a block gets its own mapping at the default 128 KiB; left alone, it rises to the
/// largest block freed so far, and blocks up to that size are then carved from arenas that
/// seldom shrink: a flush's temporaries stayed resident after it). A no-op elsewhere.
void cairn_limit_allocator_retention(void);

#endif
