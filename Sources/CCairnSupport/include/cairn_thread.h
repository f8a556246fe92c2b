#ifndef CAIRN_THREAD_H
#define CAIRN_THREAD_H

/// Lowers the calling thread's scheduling priority by `niceness` (Linux: per-thread nice;
/// elsewhere a no-op), so background work yields the CPU to writers and searches.
void cairn_lower_thread_priority(int niceness);

#endif
