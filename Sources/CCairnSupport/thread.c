#if defined(__linux__)
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "cairn_thread.h"

void cairn_lower_thread_priority(int niceness) {
#if defined(__linux__)
    pid_t thread = (pid_t)syscall(SYS_gettid);
    int current = getpriority(PRIO_PROCESS, (id_t)thread);
    setpriority(PRIO_PROCESS, (id_t)thread, current + niceness);
#else
    (void)niceness;
#endif
}
