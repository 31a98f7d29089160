#pragma once
#include "common/db.hpp"
#include "common/registry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pilehub::test {

/// Registers the piles `ids` (`ports` sockets each, an unused secret hash) at one new station of
/// operator "op" named `station_name` (unique per call) in a migrated core database; returns the
/// station's id.
inline std::int64_t register_piles(db::Database& core, const std::vector<std::string>& ids, int ports = 10,
                                   const std::string& station_name = "S") {
    registry::Store reg(core);
    registry::Station st;
    st.operator_id = reg.ensure_operator("op", 1);
    st.name = station_name;
    const auto station = reg.add_station(st, 1);
    for (const auto& id : ids) {
        registry::Device dev;
        dev.id = id;
        dev.station_id = station;
        dev.ports = ports;
        reg.add_device(dev, "$7$unused", 1);
    }
    return station;
}

} // namespace pilehub::test
