#define _GNU_SOURCE
#include "cairn_socket.h"

#include <poll.h>
#include <sys/socket.h>

long cairn_socket_peer_uid(int fd) {
#ifdef SO_PEERCRED
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return (long)credentials.uid;
#else
    (void)fd;
    return -1;
#endif
}

int cairn_socket_peer_hung_up(int fd) {
    struct pollfd poller = { .fd = fd, .events = POLLIN, .revents = 0 };
#ifdef POLLRDHUP
    poller.events |= POLLRDHUP;
    if (poll(&poller, 1, 0) > 0 && (poller.revents & (POLLRDHUP | POLLHUP | POLLERR))) return 1;
#else
    if (poll(&poller, 1, 0) > 0 && (poller.revents & (POLLHUP | POLLERR))) return 1;
#endif
    return 0;
}
