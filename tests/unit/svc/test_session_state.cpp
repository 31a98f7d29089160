#include "common/svc/session_state.hpp"
#include "schema/embedded.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;
using svc::SessionState;

namespace {

struct Row {
    SessionState state;
    const char* word;
    bool holds_socket;
    bool running;
    bool ended;
    bool duration_grows;
    bool takes_reports;
    bool awaits_settlement;
};

// The table of docs/topics.md "Session states".
constexpr Row kTable[] = {
    //                                    holds  running ended  grows  reports settlement
    {SessionState::Starting, "starting", true, true, false, false, true, false},
    {SessionState::Charging, "charging", true, true, false, true, true, false},
    {SessionState::Stopping, "stopping", true, false, false, true, true, true},
    {SessionState::Suspended, "suspended", true, false, false, false, true, false},
    {SessionState::Settling, "settling", true, false, false, false, false, true},
    {SessionState::Completed, "completed", false, false, true, false, false, false},
    {SessionState::Failed, "failed", false, false, true, false, false, false},
};

std::string holds_socket_sql_from_the_enum() {
    std::string out = "(";
    for (auto s : svc::kAllSessionStates) {
        if (!svc::holds_socket(s))
            continue;
        if (out.size() > 1)
            out += ", ";
        out += "'" + std::string(svc::to_string(s)) + "'";
    }
    return out + ")";
}

std::string core_migration(std::string_view name) {
    for (const auto& m : schema::core_migrations())
        if (m.name == name)
            return std::string(m.text);
    return {};
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
        ++n;
    return n;
}

} // namespace

TEST_CASE("session state: every state has its word and its answers to holds_socket, is_running, is_ended, "
          "duration_grows, takes_reports, awaits_settlement") {
    REQUIRE(std::size(kTable) == svc::kAllSessionStates.size());
    for (std::size_t i = 0; i < std::size(kTable); ++i) {
        const auto& r = kTable[i];
        CAPTURE(r.word);
        CHECK(svc::kAllSessionStates[i] == r.state);
        CHECK(svc::to_string(r.state) == r.word);
        CHECK(svc::parse_session_state(r.word) == r.state);
        CHECK(svc::holds_socket(r.state) == r.holds_socket);
        CHECK(svc::is_running(r.state) == r.running);
        CHECK(svc::is_ended(r.state) == r.ended);
        CHECK(svc::duration_grows(r.state) == r.duration_grows);
        CHECK(svc::takes_reports(r.state) == r.takes_reports);
        CHECK(svc::awaits_settlement(r.state) == r.awaits_settlement);
        if (svc::takes_reports(r.state) || svc::awaits_settlement(r.state))
            CHECK(svc::holds_socket(r.state));
        if (svc::duration_grows(r.state))
            CHECK(svc::holds_socket(r.state));
        CHECK(svc::holds_socket(r.state) != svc::is_ended(r.state));
        if (svc::is_running(r.state))
            CHECK(svc::holds_socket(r.state));
    }
}

TEST_CASE("session state: a word that is not a state is refused") {
    for (const char* w : {"", "Starting", "live", "active", "charging ", "stopped"})
        CHECK_FALSE(svc::parse_session_state(w).has_value());
}

TEST_CASE("session state: kHoldsSocketSql is holds_socket() over every state, in SQL") {
    CHECK(svc::kHoldsSocketSql == holds_socket_sql_from_the_enum());
    CHECK(std::string_view(PILEHUB_HOLDS_SOCKET_SQL) == svc::kHoldsSocketSql);
}

TEST_CASE("session state: kTakesReportsSql and kAwaitsSettlementSql are their questions over every state, in SQL") {
    CHECK(svc::kTakesReportsSql == svc::states_sql(svc::takes_reports));
    CHECK(std::string_view(PILEHUB_TAKES_REPORTS_SQL) == svc::kTakesReportsSql);
    CHECK(svc::kAwaitsSettlementSql == svc::states_sql(svc::awaits_settlement));
    CHECK(std::string_view(PILEHUB_AWAITS_SETTLEMENT_SQL) == svc::kAwaitsSettlementSql);
    CHECK(svc::kHoldsSocketSql == svc::states_sql(svc::holds_socket));
}

TEST_CASE("session state: the partial unique indexes of the core schema use exactly kHoldsSocketSql") {
    const auto sql = core_migration("003_sessions_presence");
    REQUIRE_FALSE(sql.empty());
    const std::string clause = "WHERE state IN " + std::string(svc::kHoldsSocketSql) + ";";
    for (const char* index : {"sessions_one_per_socket", "sessions_one_per_method"}) {
        CAPTURE(index);
        const auto at = sql.find(std::string("CREATE UNIQUE INDEX ") + index);
        REQUIRE(at != std::string::npos);
        const auto end = sql.find(';', at);
        REQUIRE(end != std::string::npos);
        CHECK(sql.substr(at, end + 1 - at).find(clause) != std::string::npos);
    }
    CHECK(count(sql, clause) == 2);
}

TEST_CASE("session state: the sessions table accepts every state word and no other") {
    const auto sql = core_migration("003_sessions_presence");
    const auto at = sql.find("state                TEXT NOT NULL CHECK (state IN (");
    REQUIRE(at != std::string::npos);
    const auto check = sql.substr(at, sql.find("),", at) - at);
    for (auto s : svc::kAllSessionStates)
        CHECK(check.find("'" + std::string(svc::to_string(s)) + "'") != std::string::npos);
    CHECK(count(check, "'") == 2 * svc::kAllSessionStates.size());
}
