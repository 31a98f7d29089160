#pragma once
#include "common/clock.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace pilehub::api {

/// Free and total sockets (or guns) as a rider's list shows them.
struct SocketCounts {
    int free = 0;
    int total = 0;
};

/// A station's counts for riders: every socket and gun (`free_sockets`, `total_sockets`), and
/// e-bike sockets and car guns apart (`ebike`, `ev`).
struct StationCounts {
    SocketCounts all, ebike, ev;
    /// Counts one socket or gun of a device of `device_kind` (`ev_charger` guns count as ev, every
    /// other port as ebike); `free` is whether riders may start it (sockets::Availability::Free).
    void add(std::string_view device_kind, bool free);
};

/// A short-lived memory of each station's socket counts for the rider's station lists
/// (`/stations/nearby`). Counting evaluates every socket of a station (its row, live sessions,
/// faults, presence, last reported state), which dominated the list's cost in the profile
/// (docs/benchmarks.md); many riders looking at the same stations within a second share one count.
/// A count is used for at most `ttl_ms`, and never after an operator changed anything (the audit
/// hook calls invalidate()), so a disabled socket or station leaves the list at once; a socket that
/// became busy or free shows within `ttl_ms`. The single-socket view (`/sockets/{code}`) is always live.
class StationCountsCache {
public:
    /// The count of `station` if one was stored less than `ttl_ms` ago and since the last invalidate().
    std::optional<StationCounts> get(std::int64_t station, EpochMs now, EpochMs ttl_ms) const;
    /// The generation to pass to put(): read it before counting, so a count that raced with an
    /// operator's change is never used.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void put(std::int64_t station, StationCounts counts, EpochMs now, std::uint64_t generation);
    /// Forgets every count (an operator changed data).
    void invalidate();

private:
    struct Entry {
        StationCounts counts;
        EpochMs at = 0;
        std::uint64_t generation = 0;
    };
    mutable std::mutex m_;
    std::unordered_map<std::int64_t, Entry> entries_;
    std::atomic<std::uint64_t> generation_{1};
};

} // namespace pilehub::api
