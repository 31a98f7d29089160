#pragma once
// What every session scenario of the chaos suite proves on the core database at its end (the
// sessions-and-money checks of docs/reliability.md): each session ended exactly once (one event
// takes it from a live state into settling, completed or failed; at most one `completed` and one
// committed `record:` event), each completed session has exactly one
// settlement (`settle:<sid>`, and one `charge` entry with its id as ref), and no record is lost (an
// ended session that did not fail has its record).
#include "common/db.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pilehub::chaos {

struct SessionTally {
    std::int64_t total = 0;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t open = 0;             ///< neither completed nor failed
    std::int64_t ended_once = 0;       ///< exactly one ending event, at most one `completed`
    std::int64_t doubles = 0;          ///< sessions with more than one settlement or charge entry
    std::int64_t unsettled = 0;        ///< completed without its settlement
    std::int64_t lost = 0;             ///< not failed and no record committed
    std::vector<std::string> problems; ///< one line per session that broke a rule
};

/// Tallies every session of the core database `db` (or only `sids`, when not empty).
SessionTally tally_sessions(db::Database& db, const std::vector<std::string>& sids = {});

} // namespace pilehub::chaos
