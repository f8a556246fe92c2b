#ifndef CAIRN_SPINLOCK_H
#define CAIRN_SPINLOCK_H

#include <stdint.h>

/// Takes the one-byte spin lock at `lock` (0 free, 1 held): graph building holds one per node
/// for the few hundred nanoseconds it reads or rewrites that node's neighbour list.
static inline void cairn_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

/// Releases a lock taken with `cairn_spin_lock`.
static inline void cairn_spin_unlock(uint8_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

#endif
