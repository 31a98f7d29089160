#include "web-api/station_counts.hpp"

namespace pilehub::api {

void StationCounts::add(std::string_view device_kind, bool free) {
    auto& kind = device_kind == "ev_charger" ? ev : ebike;
    for (auto* c : {&all, &kind}) {
        ++c->total;
        if (free)
            ++c->free;
    }
}

std::optional<StationCounts> StationCountsCache::get(std::int64_t station, EpochMs now, EpochMs ttl_ms) const {
    if (ttl_ms <= 0)
        return std::nullopt;
    const auto gen = generation();
    std::lock_guard l(m_);
    auto it = entries_.find(station);
    if (it == entries_.end() || it->second.generation != gen || now - it->second.at >= ttl_ms || now < it->second.at)
        return std::nullopt;
    return it->second.counts;
}

void StationCountsCache::put(std::int64_t station, StationCounts counts, EpochMs now, std::uint64_t generation) {
    std::lock_guard l(m_);
    if (generation != generation_.load(std::memory_order_acquire))
        return; // counted across an operator's change: not worth keeping
    // Bounded by the number of stations; a city district has hundreds to a few thousand.
    entries_[station] = Entry{counts, now, generation};
}

void StationCountsCache::invalidate() {
    std::lock_guard l(m_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    entries_.clear();
}

} // namespace pilehub::api
