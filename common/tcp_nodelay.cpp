// TCP_NODELAY for our own MQTT connections.
//
// Paho C 1.3 opens its sockets itself and offers no option for TCP_NODELAY, and Nagle's algorithm
// dominates tail latency (DESIGN "Performance facts"). So the process's connect() is wrapped: every
// TCP stream socket gets TCP_NODELAY right after connect() is called. The definition lives in the
// executable (this object is pulled in with mqtt_paho.o, see mqtt_paho.cpp), so it interposes
// libc's connect() for libpaho as well; the real call is found with dlsym(RTLD_NEXT).
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace pilehub::mqtt {
/// Referenced by mqtt_paho.cpp so the linker keeps this object in every program that uses MQTT.
int tcp_nodelay_anchor = 0;
} // namespace pilehub::mqtt

extern "C" int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    using ConnectFn = int (*)(int, const struct sockaddr*, socklen_t);
    static const ConnectFn real = reinterpret_cast<ConnectFn>(dlsym(RTLD_NEXT, "connect"));
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    const int rc = real(fd, addr, len);
    const int saved = errno;
    if ((rc == 0 || saved == EINPROGRESS) && addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        int type = 0;
        socklen_t tl = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM) {
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
    errno = saved;
    return rc;
}
