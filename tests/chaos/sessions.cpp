#include "tests/chaos/sessions.hpp"

#include <fmt/format.h>

#include <set>

namespace pilehub::chaos {

namespace {

std::int64_t count(db::Database& db, const char* sql, const std::string& sid) {
    db::Statement q(db, sql);
    q.bind(1, sid);
    return q.step() ? q.int64(0) : 0;
}

} // namespace

SessionTally tally_sessions(db::Database& db, const std::vector<std::string>& sids) {
    const std::set<std::string> only(sids.begin(), sids.end());
    SessionTally t;
    db::Statement q(db, "SELECT id, state, record_msg_id IS NOT NULL FROM sessions ORDER BY created_at");
    while (q.step()) {
        const auto sid = q.text(0);
        if (!only.empty() && !only.count(sid))
            continue;
        const auto st = q.text(1);
        const bool has_record = q.int64(2) == 1;
        ++t.total;
        t.completed += st == "completed";
        t.failed += st == "failed";
        const bool ended = st == "completed" || st == "failed";
        t.open += !ended;
        // Ending = entering settling, completed or failed from a live state (a forced end commits a
        // synthesized record: reason `forced`); a record committed twice would be a second `record:` event.
        const auto endings = count(db,
                                   "SELECT count(*) FROM session_events WHERE session_id = ?1 AND to_state IN "
                                   "('settling', 'completed', 'failed') AND ifnull(from_state, '') NOT IN "
                                   "('settling', 'completed', 'failed')",
                                   sid);
        const auto records =
            count(db, "SELECT count(*) FROM session_events WHERE session_id = ?1 AND reason LIKE 'record:%'", sid);
        const auto completions =
            count(db, "SELECT count(*) FROM session_events WHERE session_id = ?1 AND to_state = 'completed'", sid);
        const auto settlements = count(db, "SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid);
        const auto charges = count(db, "SELECT count(*) FROM ledger WHERE kind = 'charge' AND ref = ?1", sid);
        if (ended && endings == 1 && completions <= 1 && records <= 1)
            ++t.ended_once;
        else
            t.problems.push_back(fmt::format("{} ({}): {} ending events, {} completions, {} record events", sid, st,
                                             endings, completions, records));
        if (settlements > 1 || charges > 1) {
            ++t.doubles;
            t.problems.push_back(fmt::format("{}: {} settlements, {} charge entries", sid, settlements, charges));
        }
        if (st == "completed" && settlements != 1) {
            ++t.unsettled;
            t.problems.push_back(fmt::format("{}: completed with {} settlements", sid, settlements));
        }
        if (st != "failed" && !has_record) {
            ++t.lost;
            t.problems.push_back(fmt::format("{} ({}): no record committed", sid, st));
        }
    }
    return t;
}

} // namespace pilehub::chaos
