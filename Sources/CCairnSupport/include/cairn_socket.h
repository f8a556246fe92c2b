#ifndef CAIRN_SOCKET_H
#define CAIRN_SOCKET_H

/// The user id of the process at the other end of the Unix-domain socket `fd` (Linux:
/// SO_PEERCRED), or -1 when it cannot be known.
long cairn_socket_peer_uid(int fd);

/// Whether the peer of the connected socket `fd` has hung up (poll for POLLRDHUP or POLLHUP,
/// without waiting).
int cairn_socket_peer_hung_up(int fd);

#endif
