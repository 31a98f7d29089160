#include "web-api/client_addr.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace pilehub::api {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// The address as 16 bytes (IPv4 mapped), and whether it was written as IPv4.
std::optional<std::pair<std::array<std::uint8_t, 16>, bool>> parse_address(std::string_view text) {
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    const std::string s(text);
    std::array<std::uint8_t, 16> out{};
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        out[10] = 0xff;
        out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return std::pair{out, true};
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return std::pair{out, false};
    }
    return std::nullopt;
}

bool is_v4_mapped(const std::array<std::uint8_t, 16>& a) {
    for (int i = 0; i < 10; ++i)
        if (a[static_cast<std::size_t>(i)] != 0)
            return false;
    return a[10] == 0xff && a[11] == 0xff;
}

template <class F> void for_each_entry(std::string_view list, F&& f) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        f(trim(list.substr(0, comma)));
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
}

} // namespace

bool Network::contains(const std::array<std::uint8_t, 16>& a) const {
    int bits = prefix;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
        if ((a[i] & mask) != (addr[i] & mask))
            return false;
    }
    return true;
}

std::optional<std::string> canonical_address(std::string_view text) {
    const auto a = parse_address(trim(text));
    if (!a)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4_mapped(a->first))
        ::inet_ntop(AF_INET, a->first.data() + 12, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET6, a->first.data(), buf, sizeof buf);
    return std::string(buf);
}

TrustedProxies TrustedProxies::parse(std::string_view list, std::string* error) {
    TrustedProxies t;
    bool bad = false;
    for_each_entry(list, [&](std::string_view e) {
        if (bad || e.empty())
            return;
        const auto slash = e.find('/');
        const auto a = parse_address(e.substr(0, slash));
        int prefix = a && a->second ? 32 : 128;
        bool ok = a.has_value();
        if (ok && slash != std::string_view::npos) {
            const auto p = e.substr(slash + 1);
            int n = -1;
            const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
            ok = ec == std::errc() && end == p.data() + p.size() && n >= 0 && n <= prefix;
            prefix = n;
        }
        if (!ok) {
            bad = true;
            if (error)
                *error = fmt::format("`{}` is not an address or a network (address/prefix)", e.substr(0, 64));
            return;
        }
        Network n;
        n.addr = a->first;
        n.prefix = a->second ? 96 + prefix : prefix; // IPv4 is held mapped: its prefix follows 96 bits
        t.nets_.push_back(n);
    });
    if (bad)
        t.nets_.clear();
    return t;
}

bool TrustedProxies::contains(std::string_view address) const {
    const auto a = parse_address(trim(address));
    if (!a)
        return false;
    for (const auto& n : nets_)
        if (n.contains(a->first))
            return true;
    return false;
}

std::string client_address(std::string_view peer, std::string_view forwarded_for, const TrustedProxies& trusted) {
    std::string client = canonical_address(peer).value_or(std::string(peer));
    if (trusted.empty() || !trusted.contains(peer))
        return client;
    std::vector<std::string_view> hops;
    for_each_entry(forwarded_for, [&](std::string_view e) { hops.push_back(e); });
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        const auto a = canonical_address(*it);
        if (!a)
            break; // not an address: the hop that passed it on is the last one we can believe
        client = *a;
        if (!trusted.contains(*a))
            break;
    }
    return client;
}

} // namespace pilehub::api
