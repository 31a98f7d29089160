#pragma once
// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the unix socket
// named by NOTIFY_SOCKET. The units in scripts/systemd use Type=notify.
#include <string>
#include <string_view>

namespace pilehub::sd_notify {

/// The message a daemon sends once it is ready: `READY=1\nMAINPID=<pid>\nSTATUS=<status>`.
std::string ready_message(long pid, std::string_view status);

/// Sends `state` (lines of `KEY=value`) to the socket named by `socket_path`: a file system path,
/// or an abstract socket when it starts with `@`. False (and `why`) when the path is not usable or the
/// send fails; an empty path sends nothing and is false without a reason (not under systemd).
bool send(const std::string& socket_path, std::string_view state, std::string* why = nullptr);

/// send() to `$NOTIFY_SOCKET`; false when it is unset or the send fails.
bool notify(std::string_view state, std::string* why = nullptr);

} // namespace pilehub::sd_notify
