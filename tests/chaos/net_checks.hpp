#pragma once
// What the network scenarios read from what the fleet world saw: presence by device and boot, the
// end of every session, percentiles. Header-only, shared by chaos_broker_kill, chaos_reconnect_storm
// and chaos_presence.
#include "common/db.hpp"
#include "common/mqtt.hpp"
#include "common/topics.hpp"
#include "tests/chaos/fleet_world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::chaos {

/// The integer after `"key":` in a JSON payload (flat lookup, enough for presence payloads).
inline std::optional<std::int64_t> json_int(const std::string& payload, const std::string& key) {
    const auto at = payload.find("\"" + key + "\":");
    if (at == std::string::npos)
        return std::nullopt;
    std::size_t i = at + key.size() + 3;
    std::int64_t v = 0;
    bool any = false;
    while (i < payload.size() && payload[i] >= '0' && payload[i] <= '9') {
        v = v * 10 + (payload[i++] - '0');
        any = true;
    }
    return any ? std::optional(v) : std::nullopt;
}

/// One presence message of a device: its own (`ph/v1/dev/{id}/presence`) or presenced's verdict.
struct PresenceSeen {
    std::string device;
    bool verdict = false; ///< presenced's (true) or the device's own (false)
    bool online = false;
    std::int64_t boot = 0;
    std::string reason;
    std::size_t index = 0; ///< position in the inbox
};

/// The presence messages among `messages` from position `from` on.
inline std::vector<PresenceSeen> presence_seen(const std::vector<mqtt::Message>& messages, std::size_t from = 0) {
    std::vector<PresenceSeen> out;
    for (std::size_t i = from; i < messages.size(); ++i) {
        const auto& m = messages[i];
        PresenceSeen p;
        if (auto dev = topics::device_of_presence(m.topic)) {
            p.device = *dev;
            p.verdict = true;
        } else if (auto own = topics::parse_device_topic(m.topic); own && own->leaf == topics::Leaf::Presence) {
            p.device = own->device_id;
        } else {
            continue;
        }
        if (m.payload.empty())
            continue;
        p.online = m.payload.find("\"online\":true") != std::string::npos;
        p.boot = json_int(m.payload, "boot").value_or(0);
        if (const auto r = m.payload.find("\"reason\":\""); r != std::string::npos)
            p.reason = m.payload.substr(r + 10, m.payload.find('"', r + 10) - r - 10);
        p.index = i;
        out.push_back(p);
    }
    return out;
}

/// The `q` quantile (0..1) of `v` (nearest rank); 0 for none.
inline std::int64_t quantile(std::vector<std::int64_t> v, double q) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(rank, v.size() - 1)];
}

/// Lines of the broker log containing `needle` (e.g. "Error saving": #23).
inline int log_lines_with(const std::string& log, const std::string& needle) {
    int n = 0;
    for (std::size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
        ++n;
    return n;
}

/// How the sessions of a fleet world ended (tests/integration/test_session_kill.cpp's checks).
struct SessionEnds {
    std::int64_t total = 0;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t open = 0;           ///< neither completed nor failed
    std::int64_t ended_twice = 0;    ///< more than one ending event (record or failure)
    std::int64_t never_ended = 0;    ///< no ending event
    std::int64_t without_record = 0; ///< completed without a committed record
    std::int64_t double_settled = 0; ///< more than one settle:<sid> ledger entry
    std::int64_t unsettled = 0;      ///< completed without its settle:<sid> entry
    /// The sessions that ended twice, each with its events, for a failure message.
    std::string twice_detail;
};

inline SessionEnds session_ends(FleetWorld& w) {
    SessionEnds e;
    e.total = w.number("SELECT count(*) FROM sessions");
    e.completed = w.number("SELECT count(*) FROM sessions WHERE state = 'completed'");
    e.failed = w.number("SELECT count(*) FROM sessions WHERE state = 'failed'");
    e.open = e.total - e.completed - e.failed;
    const std::string ends = "(SELECT count(*) FROM session_events e WHERE e.session_id = s.id AND "
                             "(e.reason LIKE 'record:%' OR e.to_state = 'failed'))";
    e.ended_twice = w.number("SELECT count(*) FROM sessions s WHERE " + ends + " > 1");
    e.never_ended = w.number("SELECT count(*) FROM sessions s WHERE " + ends + " = 0");
    e.without_record = w.number("SELECT count(*) FROM sessions WHERE state = 'completed' AND record_msg_id IS NULL");
    const std::string settles = "(SELECT count(*) FROM ledger l WHERE l.idempotency_key = 'settle:' || s.id)";
    e.double_settled = w.number("SELECT count(*) FROM sessions s WHERE " + settles + " > 1");
    db::Statement q(w.db(),
                    "SELECT s.id, s.state, group_concat(coalesce(e.from_state, '') || '->' || e.to_state || ' ' "
                    "|| e.reason, '; ') FROM sessions s JOIN session_events e ON e.session_id = s.id WHERE " +
                        ends + " > 1 GROUP BY s.id");
    while (q.step())
        e.twice_detail += fmt::format("{} ({}): {}\n", q.text(0), q.text(1), q.text(2));
    e.unsettled = w.number("SELECT count(*) FROM sessions s WHERE state = 'completed' AND " + settles + " = 0");
    return e;
}

} // namespace pilehub::chaos
