#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Who the client is behind a reverse proxy (REVIEW-reliability #3; docs/config.md "Behind a
/// proxy"). The peer of a TCP connection is the client unless it is one of the trusted proxies
/// (`pilehub-api.trusted_proxies`); then the client is the right-most address of X-Forwarded-For
/// that is not itself a trusted proxy, so a client cannot choose its address by sending the header
/// itself (a proxy appends the address it saw; everything left of that is the client's word).
/// Pure; the rate limits (SMS codes, operator logins), the audit log and the access log key on it.
namespace pilehub::api {

/// One address or network: IPv4 addresses are held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so
/// `127.0.0.1` and `::ffff:127.0.0.1` are the same peer.
struct Network {
    std::array<std::uint8_t, 16> addr{};
    int prefix = 128; ///< bits that must match
    bool contains(const std::array<std::uint8_t, 16>& a) const;
};

/// The canonical text of an address (`inet_ntop`; an IPv4-mapped one as plain IPv4), or nothing for
/// anything that is not an IPv4 or IPv6 address.
std::optional<std::string> canonical_address(std::string_view text);

/// The trusted proxies: addresses and CIDR networks.
class TrustedProxies {
public:
    /// Parses a comma-separated list (`127.0.0.1, 10.0.0.0/8, ::1, fd00::/8`; spaces allowed; empty
    /// = none). Returns the error (naming the bad entry) in `error` and an empty list when one entry
    /// is not an address or network.
    static TrustedProxies parse(std::string_view list, std::string* error = nullptr);
    bool empty() const { return nets_.empty(); }
    /// Whether `address` (text) is a trusted proxy; false for anything that is not an address.
    bool contains(std::string_view address) const;

private:
    std::vector<Network> nets_;
};

/// The client's address: `peer` when it is not trusted; else, walking `forwarded_for` (the
/// X-Forwarded-For values joined by commas) from the right, the first address that is not a trusted
/// proxy. An entry that is not an address ends the walk (the last trusted hop is then the client),
/// and when every entry is trusted the left-most one is. Canonical text (see canonical_address).
std::string client_address(std::string_view peer, std::string_view forwarded_for, const TrustedProxies& trusted);

} // namespace pilehub::api
