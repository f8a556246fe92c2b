#if defined(__linux__)
#include <malloc.h>
#endif

#include "cairn_memory.h"

void cairn_limit_allocator_retention(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}
