#include "workers/sessiond/sessiond_rules.hpp"

#include "common/clock.hpp"
#include "common/topics.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>
#include <string>

using namespace pilehub;
using namespace pilehub::sessiond;

namespace {

using S = State;
using E = Event;

/// The facts a session in each state normally has: a record once settling, started_at once the pile
/// confirmed, a stop sent and not yet confirmed while stopping.
Facts typical(State s) {
    switch (s) {
    case S::Starting:
        return {false, false, false, false};
    case S::Charging:
        return {false, true, false, false};
    case S::Stopping:
        return {false, true, true, true};
    case S::Suspended:
        return {false, true, false, false};
    case S::Settling:
    case S::Completed:
        return {true, true, false, false};
    case S::Failed:
        return {false, false, false, false};
    }
    return {};
}

/// A decision written compactly: verdict A(pply)/I(gnore)/X (refuse), the next state, and flags
/// R commit record, F forced record, S send stop, E resend the stop, C clear command, K ack record,
/// W await the record (the socket is idle).
Decision D(char verdict, State next, std::string_view flags = "") {
    Decision d;
    d.verdict = verdict == 'A' ? Verdict::Apply : verdict == 'X' ? Verdict::Refuse : Verdict::Ignore;
    d.next = next;
    for (char c : flags) {
        switch (c) {
        case 'R':
            d.commit_record = true;
            break;
        case 'F':
            d.forced_record = true;
            break;
        case 'S':
            d.send_stop = true;
            break;
        case 'E':
            d.resend_stop = true;
            break;
        case 'C':
            d.clear_command = true;
            break;
        case 'K':
            d.ack_record = true;
            break;
        case 'W':
            d.await_record = true;
            break;
        default:
            FAIL("bad flag");
        }
    }
    return d;
}

std::string show(const Decision& d) {
    return fmt::format("{} {} {}{}{}{}{}{}{}",
                       d.verdict == Verdict::Apply    ? "apply"
                       : d.verdict == Verdict::Refuse ? "refuse"
                                                      : "ignore",
                       to_string(d.next), d.commit_record ? "R" : "", d.forced_record ? "F" : "",
                       d.send_stop ? "S" : "", d.resend_stop ? "E" : "", d.clear_command ? "C" : "",
                       d.ack_record ? "K" : "", d.await_record ? "W" : "");
}

struct Row {
    State state;
    Event event;
    Decision expected;
};

// Every (state, event) pair, with the facts typical() gives that state. BILLING.md §3:
// starting → charging → stopping → completed; starting → failed; charging → suspended → settling.
const std::vector<Row> kTable = {
    // --- starting: a command (or a card deadline) is outstanding, nothing confirmed yet ---
    {S::Starting, E::StartAccepted, D('A', S::Charging, "C")},
    {S::Starting, E::StartRefused, D('A', S::Failed, "C")},
    {S::Starting, E::StartTimedOut, D('A', S::Failed, "C")},
    {S::Starting, E::PileStarted, D('A', S::Charging, "C")},
    {S::Starting, E::SocketIdle, D('I', S::Starting)}, // the pile has not started yet
    {S::Starting, E::StopRequested, D('A', S::Stopping, "S")},
    {S::Starting, E::StopAccepted, D('I', S::Starting)},
    {S::Starting, E::StopRefused, D('I', S::Starting)},
    {S::Starting, E::StopTimedOut, D('I', S::Starting)},
    {S::Starting, E::PileStopped, D('A', S::Stopping, "C")},
    {S::Starting, E::RecordReceived, D('A', S::Stopping, "RCK")},
    {S::Starting, E::PileOffline, D('I', S::Starting)}, // the command's time-out decides
    {S::Starting, E::PileOnline, D('I', S::Starting)},
    {S::Starting, E::ForceEnd, D('A', S::Failed, "SC")},
    {S::Starting, E::SuspendTimedOut, D('I', S::Starting)},
    {S::Starting, E::RecordOverdue, D('I', S::Starting)},
    // --- charging ---
    {S::Charging, E::StartAccepted, D('I', S::Charging)},
    {S::Charging, E::StartRefused, D('I', S::Charging)},
    {S::Charging, E::StartTimedOut, D('I', S::Charging)},
    {S::Charging, E::PileStarted, D('I', S::Charging)},
    {S::Charging, E::SocketIdle, D('A', S::Stopping, "W")}, // its record is due now
    {S::Charging, E::StopRequested, D('A', S::Stopping, "S")},
    {S::Charging, E::StopAccepted, D('I', S::Charging)},
    {S::Charging, E::StopRefused, D('I', S::Charging)},
    {S::Charging, E::StopTimedOut, D('I', S::Charging)},
    {S::Charging, E::PileStopped, D('A', S::Stopping)},
    {S::Charging, E::RecordReceived, D('A', S::Stopping, "RCK")},
    {S::Charging, E::PileOffline, D('A', S::Suspended)},
    {S::Charging, E::PileOnline, D('I', S::Charging)},
    {S::Charging, E::ForceEnd, D('A', S::Stopping, "S")},
    {S::Charging, E::SuspendTimedOut, D('I', S::Charging)},
    {S::Charging, E::RecordOverdue, D('I', S::Charging)},
    // --- stopping: a stop_port is outstanding until the pile confirms it; waiting for the record ---
    {S::Stopping, E::StartAccepted, D('I', S::Stopping)},
    {S::Stopping, E::StartRefused, D('I', S::Stopping)},
    {S::Stopping, E::StartTimedOut, D('I', S::Stopping)},
    {S::Stopping, E::PileStarted, D('I', S::Stopping)},
    {S::Stopping, E::SocketIdle, D('I', S::Stopping, "CW")}, // the idle socket confirms the stop
    {S::Stopping, E::StopRequested, D('I', S::Stopping)},
    {S::Stopping, E::StopAccepted, D('I', S::Stopping, "C")},
    {S::Stopping, E::StopRefused, D('I', S::Stopping, "C")},
    {S::Stopping, E::StopTimedOut, D('I', S::Stopping, "E")}, // not confirmed: sent again, same rid
    {S::Stopping, E::PileStopped, D('I', S::Stopping, "C")},  // evt/session_stopped confirms it
    {S::Stopping, E::RecordReceived, D('A', S::Stopping, "RCK")},
    {S::Stopping, E::PileOffline, D('I', S::Stopping)},     // its record comes after it reconnects
    {S::Stopping, E::PileOnline, D('I', S::Stopping, "E")}, // back: the stop goes at once
    {S::Stopping, E::ForceEnd, D('A', S::Stopping, "FC")},  // stuck stopping: settled on the last report
    {S::Stopping, E::SuspendTimedOut, D('I', S::Stopping)},
    {S::Stopping, E::RecordOverdue, D('A', S::Stopping, "FC")}, // idle, no record: settled on the last report
    // --- suspended: the pile went away while charging ---
    {S::Suspended, E::StartAccepted, D('I', S::Suspended)},
    {S::Suspended, E::StartRefused, D('I', S::Suspended)},
    {S::Suspended, E::StartTimedOut, D('I', S::Suspended)},
    {S::Suspended, E::PileStarted, D('I', S::Suspended)},
    {S::Suspended, E::SocketIdle, D('I', S::Suspended, "W")}, // back idle: its record is due now
    {S::Suspended, E::StopRequested, D('I', S::Suspended, "S")},
    {S::Suspended, E::StopAccepted, D('I', S::Suspended, "C")},
    {S::Suspended, E::StopRefused, D('I', S::Suspended, "C")},
    {S::Suspended, E::StopTimedOut, D('I', S::Suspended, "C")},
    {S::Suspended, E::PileStopped, D('I', S::Suspended)},
    {S::Suspended, E::RecordReceived, D('A', S::Settling, "RCK")},
    {S::Suspended, E::PileOffline, D('I', S::Suspended)},
    {S::Suspended, E::PileOnline, D('I', S::Suspended)}, // waits for the resent record
    {S::Suspended, E::ForceEnd, D('A', S::Settling, "FC")},
    {S::Suspended, E::SuspendTimedOut, D('A', S::Settling, "FC")}, // settled on the last report: power_loss
    {S::Suspended, E::RecordOverdue, D('A', S::Settling, "FC")},
    // --- settling: the record is committed; billingd completes it ---
    {S::Settling, E::StartAccepted, D('I', S::Settling)},
    {S::Settling, E::StartRefused, D('I', S::Settling)},
    {S::Settling, E::StartTimedOut, D('I', S::Settling)},
    {S::Settling, E::PileStarted, D('I', S::Settling)},
    {S::Settling, E::SocketIdle, D('I', S::Settling)},
    {S::Settling, E::StopRequested, D('I', S::Settling)},
    {S::Settling, E::StopAccepted, D('I', S::Settling, "C")},
    {S::Settling, E::StopRefused, D('I', S::Settling, "C")},
    {S::Settling, E::StopTimedOut, D('I', S::Settling, "C")},
    {S::Settling, E::PileStopped, D('I', S::Settling)},
    {S::Settling, E::RecordReceived, D('I', S::Settling, "K")},
    {S::Settling, E::PileOffline, D('I', S::Settling)},
    {S::Settling, E::PileOnline, D('I', S::Settling)},
    {S::Settling, E::ForceEnd, D('I', S::Settling)},
    {S::Settling, E::SuspendTimedOut, D('I', S::Settling)},
    {S::Settling, E::RecordOverdue, D('I', S::Settling)},
    // --- completed (billingd's): nothing moves it ---
    {S::Completed, E::StartAccepted, D('I', S::Completed)},
    {S::Completed, E::StartRefused, D('I', S::Completed)},
    {S::Completed, E::StartTimedOut, D('I', S::Completed)},
    {S::Completed, E::PileStarted, D('I', S::Completed)},
    {S::Completed, E::SocketIdle, D('I', S::Completed)},
    {S::Completed, E::StopRequested, D('I', S::Completed)},
    {S::Completed, E::StopAccepted, D('I', S::Completed)},
    {S::Completed, E::StopRefused, D('I', S::Completed)},
    {S::Completed, E::StopTimedOut, D('I', S::Completed)},
    {S::Completed, E::PileStopped, D('I', S::Completed)},
    {S::Completed, E::RecordReceived, D('I', S::Completed, "K")},
    {S::Completed, E::PileOffline, D('I', S::Completed)},
    {S::Completed, E::PileOnline, D('I', S::Completed)},
    {S::Completed, E::ForceEnd, D('X', S::Completed)},
    {S::Completed, E::SuspendTimedOut, D('I', S::Completed)},
    {S::Completed, E::RecordOverdue, D('I', S::Completed)},
    // --- failed: nothing charged, ever; a pile that runs it anyway is told to stop ---
    {S::Failed, E::StartAccepted, D('I', S::Failed, "S")},
    {S::Failed, E::StartRefused, D('I', S::Failed)},
    {S::Failed, E::StartTimedOut, D('I', S::Failed)},
    {S::Failed, E::PileStarted, D('I', S::Failed, "S")},
    {S::Failed, E::SocketIdle, D('I', S::Failed)},
    {S::Failed, E::StopRequested, D('I', S::Failed)},
    {S::Failed, E::StopAccepted, D('I', S::Failed)},
    {S::Failed, E::StopRefused, D('I', S::Failed)},
    {S::Failed, E::StopTimedOut, D('I', S::Failed)},
    {S::Failed, E::PileStopped, D('I', S::Failed)},
    {S::Failed, E::RecordReceived, D('I', S::Failed, "K")},
    {S::Failed, E::PileOffline, D('I', S::Failed)},
    {S::Failed, E::PileOnline, D('I', S::Failed)},
    {S::Failed, E::ForceEnd, D('X', S::Failed)},
    {S::Failed, E::SuspendTimedOut, D('I', S::Failed)},
    {S::Failed, E::RecordOverdue, D('I', S::Failed)},
};

} // namespace

TEST_CASE("sessiond rules: the table covers every (state, event) pair exactly once") {
    std::set<std::pair<int, int>> seen;
    for (const auto& r : kTable)
        CHECK_MESSAGE(seen.insert({static_cast<int>(r.state), static_cast<int>(r.event)}).second, to_string(r.state),
                      " x ", to_string(r.event), " listed twice");
    CHECK(seen.size() == svc::kAllSessionStates.size() * kAllEvents.size());
}

TEST_CASE("sessiond rules: every (state, event) pair decides as the table says") {
    for (const auto& r : kTable) {
        const auto got = handle(r.state, r.event, typical(r.state));
        CHECK_MESSAGE(got == r.expected, to_string(r.state), " x ", to_string(r.event), ": expected ", show(r.expected),
                      ", got ", show(got));
    }
}

TEST_CASE("sessiond rules: a session ends once: only one event per session ever commits a record") {
    // From any state, after the record is committed (has_record), no event commits another one.
    for (auto s : svc::kAllSessionStates) {
        Facts f = typical(s);
        f.has_record = true;
        for (auto e : kAllEvents) {
            const auto d = handle(s, e, f);
            CHECK_FALSE_MESSAGE(d.commit_record, to_string(s), " x ", to_string(e));
            CHECK_FALSE_MESSAGE(d.forced_record, to_string(s), " x ", to_string(e));
        }
    }
    // Completed and failed never move, whatever arrives.
    for (auto s : {S::Completed, S::Failed})
        for (auto e : kAllEvents)
            CHECK(handle(s, e, typical(s)).next == s);
}

TEST_CASE("sessiond rules: a stop sent while starting fails the session if the pile never confirmed") {
    const Facts unconfirmed{false, false, true, true};
    for (auto e : {E::StartRefused, E::StopRefused, E::StopTimedOut}) {
        const auto d = handle(S::Stopping, e, unconfirmed);
        CHECK(d.verdict == Verdict::Apply);
        CHECK(d.next == S::Failed);
        CHECK(d.clear_command);
    }
    // The late start ok (the pile started, then gets our stop) is remembered, and nothing else moves:
    // once confirmed, a refused or unanswered stop no longer fails it (its record is on the way).
    for (auto e : {E::StartAccepted, E::PileStarted}) {
        const auto d = handle(S::Stopping, e, unconfirmed);
        CHECK(d.verdict == Verdict::Apply);
        CHECK(d.next == S::Stopping);
        CHECK_FALSE(d.send_stop);
    }
    const Facts confirmed{false, true, true, true};
    CHECK(handle(S::Stopping, E::StopRefused, confirmed).next == S::Stopping);
    CHECK(handle(S::Stopping, E::StopTimedOut, confirmed).next == S::Stopping);
    // Nor does the idle socket of an unconfirmed start confirm anything: the start may not have run yet.
    CHECK(handle(S::Stopping, E::SocketIdle, unconfirmed) == D('I', S::Stopping));
    CHECK(handle(S::Stopping, E::RecordOverdue, unconfirmed) == D('I', S::Stopping));
}

TEST_CASE("sessiond rules: one stop rid per session: a new stop is sent once, the outstanding one re-sent") {
    CHECK_FALSE(handle(S::Suspended, E::StopRequested, {false, true, true, true}).send_stop);
    CHECK_FALSE(handle(S::Suspended, E::StopRequested, {false, true, true, false}).send_stop);
    CHECK_FALSE(handle(S::Failed, E::PileStarted, {false, false, true, false}).send_stop);
    CHECK_FALSE(handle(S::Starting, E::ForceEnd, {false, false, true, false}).send_stop);
    // A re-send is never a new stop.
    for (auto s : svc::kAllSessionStates)
        for (auto e : kAllEvents) {
            const auto d = handle(s, e, {false, true, true, true});
            CHECK_FALSE_MESSAGE((d.send_stop && d.resend_stop), to_string(s), " x ", to_string(e));
        }
}

TEST_CASE("sessiond rules: a stop is re-sent until the pile confirms it or a record settles the session") {
    const Facts out{false, true, true, true}; // a stop sent, not confirmed
    for (auto s : {S::Stopping, S::Suspended}) {
        // Not confirmed in time, or the pile is back: the same stop again (StopTimedOut no longer gives up).
        CHECK(handle(s, E::StopTimedOut, out).resend_stop);
        CHECK_FALSE(handle(s, E::StopTimedOut, out).clear_command);
        CHECK(handle(s, E::PileOnline, out).resend_stop);
        // The pile confirms: stop_port ok, evt/session_stopped, the socket idle.
        for (auto e : {E::StopAccepted, E::PileStopped, E::SocketIdle}) {
            const auto d = handle(s, e, out);
            CHECK_MESSAGE(d.clear_command, to_string(s), " x ", to_string(e));
            CHECK_FALSE(d.resend_stop);
        }
        // A record settles it: no more stops.
        const auto rec = handle(s, E::RecordReceived, out);
        CHECK(rec.commit_record);
        CHECK(rec.clear_command);
        const Facts settled{true, true, true, false};
        CHECK_FALSE(handle(s, E::StopTimedOut, settled).resend_stop);
        CHECK_FALSE(handle(s, E::PileOnline, settled).resend_stop);
    }
    // Nothing outstanding (confirmed already): nothing to resend.
    const Facts confirmed{false, true, true, false};
    CHECK_FALSE(handle(S::Stopping, E::PileOnline, confirmed).resend_stop);
    CHECK_FALSE(handle(S::Stopping, E::StopTimedOut, confirmed).resend_stop);
}

TEST_CASE("sessiond rules: a session given up on is settled on its last report, with the reason it ended") {
    const Facts suspended{false, true, false, false};
    CHECK(handle(S::Suspended, E::SuspendTimedOut, suspended) == D('A', S::Settling, "FC"));
    CHECK(handle(S::Suspended, E::SuspendTimedOut, {true, true, false, false}) == D('I', S::Suspended));
    CHECK(handle(S::Stopping, E::SuspendTimedOut, {false, true, true, true}) == D('I', S::Stopping));
    CHECK(synthesized_reason(S::Suspended, E::SuspendTimedOut, std::nullopt) == "power_loss");
    CHECK(synthesized_reason(S::Suspended, E::RecordOverdue, std::string("user_stop")) == "power_loss");
    CHECK(synthesized_reason(S::Stopping, E::RecordOverdue, std::string("user_stop")) == "remote_stop");
    CHECK(synthesized_reason(S::Stopping, E::RecordOverdue, std::string("over_temp")) == "over_temp");
    CHECK(synthesized_reason(S::Stopping, E::RecordOverdue, std::nullopt) == "other");
    CHECK(synthesized_reason(S::Suspended, E::ForceEnd, std::nullopt) == "forced");
    CHECK(synthesized_reason(S::Stopping, E::ForceEnd, std::string("user_stop")) == "forced");
}

TEST_CASE("sessiond time-outs: a suspended session is given up on after the later of its suspension and last report") {
    const EpochMs t = 1'700'000'000'000;
    CHECK(suspend_deadline(t, std::nullopt, 43'200'000) == t + 43'200'000);
    CHECK(suspend_deadline(t, t - 60'000, 43'200'000) == t + 43'200'000);    // reported before it left
    CHECK(suspend_deadline(t, t + 3'600'000, 43'200'000) == t + 46'800'000); // back and still reporting
}

TEST_CASE("sessiond rules: a record arriving again is acknowledged and changes nothing") {
    for (auto s : {S::Stopping, S::Settling}) {
        const auto d = handle(s, E::RecordReceived, {true, true, true, false});
        CHECK(d.verdict == Verdict::Ignore);
        CHECK(d.ack_record);
        CHECK_FALSE(d.commit_record);
        CHECK(d.next == s);
    }
    CHECK(handle(S::Stopping, E::ForceEnd, {true, true, true, false}).verdict == Verdict::Ignore);
}

// ---- pre-checks ----

namespace {
StartFacts good() {
    StartFacts f;
    f.socket_exists = true;
    f.device_installed = true;
    f.account_exists = true;
    f.mode_offered = true;
    f.socket = sockets::Availability::Free;
    f.available_fen = Fen(500);
    f.min_start_balance_fen = Fen(200);
    return f;
}
} // namespace

TEST_CASE("sessiond records: a remote_stop asked for by an auto-stop rule ends with that rule's reason") {
    // autostopd asked; the pile only says it was told to stop.
    for (const char* r : {"full", "no_load", "socket_overload", "device_overload", "quota_reached", "balance_low",
                          "over_temp", "fault", "unplugged"})
        CHECK(ended_reason("remote_stop", std::string(r)) == r);
    // Rider and operator stops, and stops nobody asked for, keep the pile's word.
    CHECK(ended_reason("remote_stop", std::string("user_stop")) == "remote_stop");
    CHECK(ended_reason("remote_stop", std::string("forced")) == "remote_stop");
    CHECK(ended_reason("remote_stop", std::nullopt) == "remote_stop");
    // The pile stopped on its own rule before our stop arrived: its reason stands.
    CHECK(ended_reason("over_temp", std::string("no_load")) == "over_temp");
    CHECK(ended_reason("full", std::nullopt) == "full");
}

TEST_CASE("sessiond pre-checks: each refusal carries its CONTRACT B code") {
    CHECK_FALSE(precheck(good()).has_value());
    struct Case {
        const char* what;
        void (*spoil)(StartFacts&);
        const char* code;
    };
    const Case cases[] = {
        {"unknown socket", [](StartFacts& f) { f.socket_exists = false; }, "unknown_socket"},
        {"device in stock or retired", [](StartFacts& f) { f.device_installed = false; }, "device_not_installed"},
        {"frozen account", [](StartFacts& f) { f.account_frozen = true; }, "account_frozen"},
        {"account with arrears", [](StartFacts& f) { f.arrears_fen = Fen(1); }, "arrears"},
        {"mode not offered", [](StartFacts& f) { f.mode_offered = false; }, "invalid_mode"},
        {"socket disabled", [](StartFacts& f) { f.socket = sockets::Availability::Disabled; }, "unknown_socket"},
        {"pile offline", [](StartFacts& f) { f.socket = sockets::Availability::Offline; }, "device_offline"},
        {"socket faulted", [](StartFacts& f) { f.socket = sockets::Availability::Faulted; }, "socket_faulted"},
        {"socket busy", [](StartFacts& f) { f.socket = sockets::Availability::Busy; }, "socket_busy"},
        {"second session of the kind", [](StartFacts& f) { f.method_in_use = true; }, "session_limit"},
        {"balance below the minimum", [](StartFacts& f) { f.available_fen = Fen(199); }, "balance_too_low"},
        {"no such account", [](StartFacts& f) { f.account_exists = false; }, "not_found"},
    };
    for (const auto& c : cases) {
        auto f = good();
        c.spoil(f);
        const auto code = precheck(f);
        REQUIRE_MESSAGE(code.has_value(), c.what);
        CHECK_MESSAGE(to_string(*code) == c.code, c.what);
    }
    auto exact = good();
    exact.available_fen = Fen(200);
    CHECK_FALSE_MESSAGE(precheck(exact).has_value(), "balance + bonus equal to the minimum may start");
}

TEST_CASE("sessiond pre-checks: the first failing check decides, in CONTRACT order") {
    auto f = good();
    f.socket = sockets::Availability::Busy;
    f.available_fen = Fen(0);
    CHECK(precheck(f) == ErrorCode::SocketBusy);
    f.socket = sockets::Availability::Offline;
    CHECK(precheck(f) == ErrorCode::DeviceOffline);
    f.arrears_fen = Fen(5);
    CHECK(precheck(f) == ErrorCode::Arrears);
    f.account_frozen = true;
    CHECK(precheck(f) == ErrorCode::AccountFrozen);
    f.socket = sockets::Availability::Disabled;
    CHECK(precheck(f) == ErrorCode::UnknownSocket);
    f.device_installed = false; // a device in stock or retired is also out of service (Disabled)
    CHECK(precheck(f) == ErrorCode::DeviceNotInstalled);
    f.socket = sockets::Availability::Free;
    f.socket_exists = false;
    CHECK(precheck(f) == ErrorCode::UnknownSocket);
}

TEST_CASE("sessiond pre-checks: a pile is told balance_too_low for arrears and unknown_socket for a device not "
          "installed (the device contract has neither); every other code as it is") {
    CHECK(device_reason(ErrorCode::Arrears) == ErrorCode::BalanceTooLow);
    CHECK(device_reason(ErrorCode::DeviceNotInstalled) == ErrorCode::UnknownSocket);
    CHECK(device_reason(ErrorCode::AccountFrozen) == ErrorCode::AccountFrozen);
    CHECK(device_reason(ErrorCode::BalanceTooLow) == ErrorCode::BalanceTooLow);
}

TEST_CASE("sessiond pre-checks: modes and limits follow the tariff") {
    billing::Tariff t;
    t.modes = {billing::Mode::Time, billing::Mode::Power};
    t.time = billing::TimePricing{100, {60, 120}};
    CHECK(limit_for(t, {billing::Mode::Time, 60}) == payloads::ChargeLimit::time(60));
    CHECK_FALSE(limit_for(t, {billing::Mode::Time, 90}).has_value());
    CHECK_FALSE(limit_for(t, {billing::Mode::Time, std::nullopt}).has_value());
    CHECK(limit_for(t, {billing::Mode::Power, std::nullopt}) == payloads::ChargeLimit::full());
    CHECK_FALSE(limit_for(t, {billing::Mode::Energy, std::nullopt}).has_value());
    // Card sessions: the preferred mode if offered, else the first offered (time: the longest option).
    CHECK(card_mode(t, billing::Mode::Power)->mode == billing::Mode::Power);
    const auto c = card_mode(t, billing::Mode::Energy);
    REQUIRE(c.has_value());
    CHECK(c->mode == billing::Mode::Time);
    CHECK(c->minutes == 120);
}

TEST_CASE("sessiond: which session event a socket's conn state is") {
    using St = payloads::EbikeSocketStatus;
    payloads::EbikeConnState s;
    s.st = St::Charging;
    s.sid = "S1";
    CHECK(conn_event(s, "S1") == E::PileStarted);
    CHECK(conn_event(s, "S2") == E::SocketIdle);
    s.st = St::Starting;
    CHECK_FALSE(conn_event(s, "S1").has_value());
    s.st = St::Idle;
    s.sid.reset();
    CHECK(conn_event(s, "S1") == E::SocketIdle);
}

TEST_CASE("sessiond: which session event a gun's OCPP status is, for every status, ours, another's or none") {
    using St = payloads::EvGunStatus;
    struct Row {
        St st;
        std::optional<E> ours, other, none;
    };
    const std::optional<E> wait, start = E::PileStarted, idle = E::SocketIdle;
    const Row table[] = {
        {St::Available, idle, idle, idle},      {St::Preparing, wait, idle, wait},    {St::Charging, start, idle, wait},
        {St::SuspendedEvse, start, idle, wait}, {St::SuspendedEv, start, idle, wait}, {St::Finishing, idle, idle, idle},
        {St::Reserved, idle, idle, idle},       {St::Unavailable, idle, idle, idle},  {St::Faulted, idle, idle, idle},
    };
    CHECK(std::size(table) == 9); // every OCPP 1.6 ChargePointStatus
    for (const auto& r : table) {
        payloads::EvConnState s;
        s.st = r.st;
        s.sid = "S1";
        CHECK_MESSAGE(conn_event(s, "S1") == r.ours, payloads::to_string(r.st));
        CHECK_MESSAGE(conn_event(s, "S2") == r.other, payloads::to_string(r.st));
        s.sid.reset();
        CHECK_MESSAGE(conn_event(s, "S1") == r.none, payloads::to_string(r.st));
    }
}

TEST_CASE("sessiond EV: every OCPP stop reason has the platform's word") {
    using R = payloads::EvStopReason;
    const std::pair<R, const char*> table[] = {
        {R::EmergencyStop, "fault"},
        {R::EvDisconnected, "unplugged"},
        {R::HardReset, "other"},
        {R::Local, "user_stop"},
        {R::Other, "other"},
        {R::PowerLoss, "power_loss"},
        {R::Reboot, "other"},
        {R::Remote, "remote_stop"},
        {R::SoftReset, "other"},
        {R::UnlockCommand, "remote_stop"},
        {R::DeAuthorized, "remote_stop"},
        {R::QuotaReached, "quota_reached"},
    };
    for (const auto& [r, word] : table) {
        CHECK_MESSAGE(platform_stop_reason(r) == word, payloads::to_string(r));
        CHECK(billing::is_stop_reason(word)); // a CONTRACT A.5 stop reason
    }
}

TEST_CASE("sessiond: each device kind has its own commands") {
    using N = svc::DeviceCommandName;
    for (auto n : svc::kAllDeviceCommandNames) {
        const bool ebike = n == N::QueryPort || n == N::QueryDevice || n == N::Reboot || n == N::SetTime;
        const bool ev =
            n == N::Reset || n == N::Unlock || n == N::SetAvailability || n == N::SetTariff || n == N::SetTime;
        CHECK_MESSAGE(kind_has_command("ebike_pile", n) == ebike, svc::to_string(n));
        CHECK_MESSAGE(kind_has_command("ev_charger", n) == ev, svc::to_string(n));
        const bool camera = n == N::Reboot || n == N::SetTime; // a camera's lock and snapshot are parkingd's
        CHECK_MESSAGE(kind_has_command("camera", n) == camera, svc::to_string(n));
    }
    CHECK(app_id_tag(17) == "APP17");
    CHECK(app_id_tag(99'999'999'999'999'999).size() <= 20); // an OCPP idTag
}

// ---- commands, time-outs, presence ----

TEST_CASE("sessiond commands: rids derive from the session, so a resend keeps its rid") {
    CHECK(command_rid("S17", CommandKind::Start) == "S17.start");
    CHECK(command_rid("S17", CommandKind::Stop) == "S17.stop");
    CHECK(parse_command_rid("S17.stop") == std::make_pair(std::string("S17"), CommandKind::Stop));
    CHECK(parse_command_rid("S17.start") == std::make_pair(std::string("S17"), CommandKind::Start));
    CHECK_FALSE(parse_command_rid("dc-1-2").has_value());
    CHECK_FALSE(parse_command_rid(".stop").has_value());
}

TEST_CASE("sessiond time-outs: a command expires at exp and times out after the grace, by the injected clock") {
    ManualClock clock;
    const auto sent = clock.now_ms();
    const auto exp = command_exp(sent, 10'000);
    CHECK(exp == sent + 10'000);
    CHECK(may_send(exp, clock.now_ms()));
    Deadlines d;
    d.arm("S1", timeout_at(exp, 2'000));
    d.arm("S2", timeout_at(command_exp(sent + 5'000, 10'000), 2'000));
    CHECK(d.next() == sent + 12'000);

    clock.advance_ms(10'000);
    CHECK(may_send(exp, clock.now_ms())); // exactly at exp it may still go
    CHECK(d.due(clock.now_ms()).empty());
    clock.advance_ms(1);
    CHECK_FALSE(may_send(exp, clock.now_ms())); // never send an expired command
    clock.advance_ms(1'999);
    CHECK(d.due(clock.now_ms()) == std::vector<std::string>{"S1"});
    CHECK(d.due(clock.now_ms()).empty()); // fired once
    CHECK(d.size() == 1);

    d.arm("S2", sent + 30'000); // re-armed (e.g. a stop replaced the start): the old deadline is gone
    clock.set(sent + 17'000);
    CHECK(d.due(clock.now_ms()).empty());
    d.disarm("S2");
    clock.set(sent + 60'000);
    CHECK(d.due(clock.now_ms()).empty());
    CHECK_FALSE(d.next().has_value());
}

TEST_CASE("sessiond topics: presenced's verdict topic gives back its device id") {
    CHECK(topics::device_of_presence(topics::device_presence("P1")) == "P1");
    CHECK(topics::device_of_presence(topics::any_device_presence()) == std::nullopt); // `+` is no device id
    CHECK(topics::device_of_presence(topics::presence("P1")) == std::nullopt);
    CHECK(topics::device_of_presence("ph/v1/svc/device/P1/presence/x") == std::nullopt);
    CHECK(topics::device_of_presence("ph/v1/svc/device/svc.x/presence") == std::nullopt);
}

// ---- device records against platform time and rated power ----

TEST_CASE("sessiond records: a record beyond platform time or rated power is clamped to what the platform saw") {
    const EpochMs t0 = 1'700'000'000'000;
    struct Case {
        const char* what;
        std::int64_t duration_s;
        std::int64_t energy_wh;
        EpochMs started_at;       // offset from t0
        std::int64_t reported_wh; // the last energy the pile reported
        std::int64_t rated_w;     // the socket's rated power
        std::int64_t scale;       // device time scale
        bool clamped;
        std::int64_t want_duration_s;
        std::int64_t want_energy_wh;
    };
    // The platform created the session at t0 and the record arrives one hour later; tolerance 60 s.
    const Case cases[] = {
        {"plausible", 3590, 160, 2'000, 150, 600, 1, false, 3590, 160},
        {"30 days (the codec's bound)", 30 * 86'400, 160, 2'000, 150, 600, 1, true, 3598, 160},
        {"milliseconds read as seconds", 3'598'000, 160, 2'000, 150, 600, 1, true, 3598, 160},
        {"within the tolerance", 3660, 160, 2'000, 150, 600, 1, false, 3660, 160},
        {"just past the tolerance", 3661, 160, 2'000, 150, 600, 1, true, 3598, 160},
        {"energy beyond rated power x time", 3590, 10'000'000, 2'000, 150, 600, 1, true, 3590, 150},
        {"energy exactly at rated power x (time + tolerance)", 3590, 610, 2'000, 150, 600, 1, false, 3590, 610},
        {"energy one Wh above it", 3590, 611, 2'000, 150, 600, 1, true, 3590, 150},
        {"reports beyond the bound too: the bound", 3590, 9'000, 2'000, 5'000, 600, 1, true, 3590, 610},
        {"both absurd", 2'592'000, 10'000'000, 2'000, 150, 600, 1, true, 3598, 150},
        {"a pile clock behind: the platform's own start", 30 * 86'400, 160, -10'000, 150, 600, 1, true, 3600, 160},
        {"a simulator at 10x: its time runs faster", 35'990, 1'600, 2'000, 1'500, 600, 10, false, 35'990, 1'600},
        {"a simulator at 10x, still absurd", 30 * 86'400, 1'600, 2'000, 1'500, 600, 10, true, 35'980, 1'600},
    };
    for (const auto& c : cases) {
        PlatformView v;
        v.created_at = t0;
        v.started_at = t0 + c.started_at;
        v.now = t0 + 3'600'000;
        v.reported_energy_wh = c.reported_wh;
        v.rated_power_w = c.rated_w;
        const auto r = check_record(c.duration_s, c.energy_wh, v, RecordSlack{60, c.scale});
        CHECK_MESSAGE(r.clamped == c.clamped, c.what, ": ", r.why);
        CHECK_MESSAGE(r.duration_s == c.want_duration_s, c.what);
        CHECK_MESSAGE(r.energy_wh == c.want_energy_wh, c.what);
        CHECK_MESSAGE(r.why.empty() == !c.clamped, c.what);
    }
}

TEST_CASE("sessiond records: a session's pile limit follows its mode") {
    CHECK(session_limit("time", 60) == payloads::ChargeLimit::time(60));
    CHECK_FALSE(session_limit("time", std::nullopt).has_value());
    CHECK(session_limit("power", std::nullopt) == payloads::ChargeLimit::full());
    CHECK(session_limit("energy", std::nullopt) == payloads::ChargeLimit::full());
    CHECK_FALSE(session_limit("warp", std::nullopt).has_value());
}
