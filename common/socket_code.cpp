#include "common/socket_code.hpp"

#include "common/payloads/envelope.hpp"
#include "common/topics.hpp"

#include <charconv>

namespace pilehub::sockets {

std::optional<SocketRef> parse_socket_code(std::string_view code) {
    const auto dash = code.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 >= code.size())
        return std::nullopt;
    const auto dev = code.substr(0, dash);
    const auto num = code.substr(dash + 1);
    if (num.front() == '0' || !topics::valid_device_id(dev))
        return std::nullopt;
    int n = 0;
    const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || p != num.data() + num.size() || n < 1 || n > payloads::kMaxSockets)
        return std::nullopt;
    return SocketRef{std::string(dev), n};
}

std::string socket_code(const SocketRef& s) {
    return s.device_id + "-" + std::to_string(s.n);
}

} // namespace pilehub::sockets
