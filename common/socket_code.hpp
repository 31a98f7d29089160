#pragma once
#include <optional>
#include <string>
#include <string_view>

/// Socket codes: the text printed in a socket's QR code, `<device_id>-<n>` (CONTRACT B).
namespace pilehub::sockets {

/// One socket (gun, space) of one device.
struct SocketRef {
    std::string device_id;
    int n = 0; ///< 1..payloads::kMaxSockets
    bool operator==(const SocketRef&) const = default;
    auto operator<=>(const SocketRef&) const = default;
};

/// Splits `<device_id>-<n>` at its last dash (a device id may itself contain `-`). Nothing unless
/// the device id is valid (topics::valid_device_id) and n is 1..payloads::kMaxSockets written
/// without a leading zero.
std::optional<SocketRef> parse_socket_code(std::string_view code);
/// `<device_id>-<n>`.
std::string socket_code(const SocketRef& s);

} // namespace pilehub::sockets
