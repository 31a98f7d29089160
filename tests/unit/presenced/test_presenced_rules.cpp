#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/registry.hpp"
#include "workers/presenced/presenced_rules.hpp"
#include "workers/presenced/presenced_store.hpp"
#include "workers/presenced/presenced_worker.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace pilehub;
using namespace pilehub::presenced;

namespace {

constexpr const char* kDev = "pile-1";

payloads::Presence online(std::int64_t boot) {
    payloads::Presence p;
    p.online = true;
    p.boot = boot;
    return p;
}

payloads::Presence offline(std::int64_t boot, const char* reason) {
    payloads::Presence p;
    p.online = false;
    p.boot = boot;
    p.reason = reason;
    return p;
}

/// The states of the table: how to bring a fresh Rules into each.
struct StateSetup {
    const char* name;
    std::function<void(Rules&, ManualClock&)> enter;
};

/// The events of the table.
struct Event {
    const char* name;
    std::function<Decision(Rules&)> apply;
};

/// A temporary SQLite file, removed with its WAL files at the end of the test.
struct TempDb {
    std::string path;
    explicit TempDb(const char* name)
        : path((std::filesystem::temp_directory_path() /
                (std::string("pilehub-presenced-") + name + "-" + std::to_string(::getpid()) + ".db"))
                   .string()) {
        clean();
    }
    ~TempDb() { clean(); }
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
};

void register_device(db::Database& d, const std::string& id, registry::DeviceKind kind) {
    registry::Store reg(d);
    const auto op = reg.ensure_operator("op", 1);
    registry::Station st;
    st.operator_id = op;
    st.name = "Station " + id;
    const auto sid = reg.add_station(st, 1);
    registry::Device dev;
    dev.id = id;
    dev.kind = kind;
    dev.station_id = sid;
    dev.ports = kind == registry::DeviceKind::Camera ? 4 : 10;
    reg.add_device(dev, "hash", 1);
}

} // namespace

TEST_CASE("presence: every (state, event) pair of the table") {
    const std::vector<StateSetup> states{
        {"unknown", [](Rules&, ManualClock&) {}},
        {"online b5", [](Rules& r, ManualClock&) { r.on_presence(kDev, online(5)); }},
        {"offline(lwt) b5",
         [](Rules& r, ManualClock&) {
             r.on_presence(kDev, online(5));
             r.on_presence(kDev, offline(5, "lwt"));
         }},
        {"offline(silent) b5",
         [](Rules& r, ManualClock& c) {
             r.on_presence(kDev, online(5));
             c.advance_ms(3 * 300 * 1000);
             REQUIRE(r.tick().size() == 1);
         }},
    };
    const std::vector<Event> events{
        {"online b4", [](Rules& r) { return r.on_presence(kDev, online(4)); }},
        {"online b5", [](Rules& r) { return r.on_presence(kDev, online(5)); }},
        {"online b6", [](Rules& r) { return r.on_presence(kDev, online(6)); }},
        {"lwt b4", [](Rules& r) { return r.on_presence(kDev, offline(4, "lwt")); }},
        {"lwt b5", [](Rules& r) { return r.on_presence(kDev, offline(5, "lwt")); }},
        {"lwt b6", [](Rules& r) { return r.on_presence(kDev, offline(6, "lwt")); }},
        {"shutdown b5", [](Rules& r) { return r.on_presence(kDev, offline(5, "shutdown")); }},
        {"traffic b4", [](Rules& r) { return r.on_traffic(kDev, 4, std::nullopt); }},
        {"traffic b5", [](Rules& r) { return r.on_traffic(kDev, 5, std::nullopt); }},
        {"traffic b6", [](Rules& r) { return r.on_traffic(kDev, 6, std::nullopt); }},
    };
    struct Expect {
        Outcome outcome;
        Status status;
        std::int64_t boot;
        const char* reason;
    };
    using O = Outcome;
    using S = Status;
    // rows: states in order; columns: events in order.
    const std::vector<std::vector<Expect>> table{
        // unknown: the first thing heard decides
        {{O::WentOnline, S::Online, 4, "connect"},
         {O::WentOnline, S::Online, 5, "connect"},
         {O::WentOnline, S::Online, 6, "connect"},
         {O::WentOffline, S::Offline, 4, "lwt"},
         {O::WentOffline, S::Offline, 5, "lwt"},
         {O::WentOffline, S::Offline, 6, "lwt"},
         {O::WentOffline, S::Offline, 5, "shutdown"},
         {O::WentOnline, S::Online, 4, "resumed"},
         {O::WentOnline, S::Online, 5, "resumed"},
         {O::WentOnline, S::Online, 6, "resumed"}},
        // online b5
        {{O::Stale, S::Online, 5, "connect"},
         {O::Duplicate, S::Online, 5, "connect"},
         {O::WentOnline, S::Online, 6, "connect"},
         {O::LateWill, S::Online, 5, "connect"},
         {O::WentOffline, S::Offline, 5, "lwt"},
         {O::WentOffline, S::Offline, 6, "lwt"},
         {O::WentOffline, S::Offline, 5, "shutdown"},
         {O::Stale, S::Online, 5, "connect"},
         {O::Duplicate, S::Online, 5, "connect"},
         {O::WentOnline, S::Online, 6, "connect"}},
        // offline (lwt) b5
        {{O::Stale, S::Offline, 5, "lwt"},
         {O::Stale, S::Offline, 5, "lwt"},
         {O::WentOnline, S::Online, 6, "connect"},
         {O::LateWill, S::Offline, 5, "lwt"},
         {O::Duplicate, S::Offline, 5, "lwt"},
         {O::Updated, S::Offline, 6, "lwt"},
         {O::Duplicate, S::Offline, 5, "lwt"},
         {O::Stale, S::Offline, 5, "lwt"},
         {O::Stale, S::Offline, 5, "lwt"},
         {O::WentOnline, S::Online, 6, "connect"}},
        // offline (silent) b5: traffic of the same boot brings it back
        {{O::Stale, S::Offline, 5, "silent"},
         {O::Stale, S::Offline, 5, "silent"},
         {O::WentOnline, S::Online, 6, "connect"},
         {O::LateWill, S::Offline, 5, "silent"},
         {O::Duplicate, S::Offline, 5, "silent"},
         {O::Updated, S::Offline, 6, "lwt"},
         {O::Duplicate, S::Offline, 5, "silent"},
         {O::Stale, S::Offline, 5, "silent"},
         {O::WentOnline, S::Online, 5, "resumed"},
         {O::WentOnline, S::Online, 6, "connect"}},
    };
    REQUIRE(table.size() == states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
        REQUIRE(table[i].size() == events.size());
        for (std::size_t j = 0; j < events.size(); ++j) {
            CAPTURE(states[i].name);
            CAPTURE(events[j].name);
            ManualClock clock;
            Rules rules(clock);
            states[i].enter(rules, clock);
            const auto d = events[j].apply(rules);
            const auto& e = table[i][j];
            CHECK(to_string(d.outcome) == to_string(e.outcome));
            CHECK(to_string(d.record.status) == to_string(e.status));
            CHECK(d.record.boot == e.boot);
            CHECK(d.record.reason == e.reason);
            // What the rules now hold is what the decision said.
            auto rec = rules.record(kDev);
            REQUIRE(rec.has_value());
            CHECK(*rec == d.record);
            CHECK(d.logs_row() == (e.outcome == O::WentOnline || e.outcome == O::WentOffline));
        }
    }
}

TEST_CASE("presence: a late Will with a lower boot is ignored") {
    ManualClock clock;
    Rules rules(clock);
    CHECK(rules.on_presence(kDev, online(17)).outcome == Outcome::WentOnline);
    CHECK(rules.on_presence(kDev, offline(17, "lwt")).outcome == Outcome::WentOffline);
    CHECK(rules.on_presence(kDev, online(18)).outcome == Outcome::WentOnline);
    // The broker publishes the Will of the dead boot-17 connection after boot 18 said online.
    const auto d = rules.on_presence(kDev, offline(17, "lwt"));
    CHECK(d.outcome == Outcome::LateWill);
    CHECK_FALSE(d.persists());
    CHECK(d.why.find("late Will") != std::string::npos);
    CHECK(rules.record(kDev)->status == Status::Online);
    CHECK(rules.record(kDev)->boot == 18);
}

TEST_CASE("presence: three silent telemetry periods mark a pile offline") {
    ManualClock clock;
    Rules rules(clock);
    rules.set_periods(kDev, Periods{60, 300});
    rules.on_presence(kDev, online(3));
    SUBCASE("idle: 3 x idle_tele_period_s") {
        clock.advance_ms(3 * 300 * 1000 - 1);
        CHECK(rules.tick().empty());
        clock.advance_ms(1);
        const auto out = rules.tick();
        REQUIRE(out.size() == 1);
        CHECK(out[0].outcome == Outcome::WentOffline);
        CHECK(out[0].record.reason == "silent");
        CHECK(out[0].record.boot == 3);
        CHECK(out[0].record.since == clock.now_ms());
        CHECK(rules.tick().empty()); // once
    }
    SUBCASE("active: 3 x tele_period_s") {
        rules.on_traffic(kDev, 3, true);
        clock.advance_ms(3 * 60 * 1000 - 1);
        CHECK(rules.tick().empty());
        clock.advance_ms(1);
        CHECK(rules.tick().size() == 1);
    }
    SUBCASE("every message restarts the silence clock") {
        clock.advance_ms(800 * 1000);
        rules.on_traffic(kDev, 3, std::nullopt);
        clock.advance_ms(800 * 1000);
        CHECK(rules.tick().empty());
        clock.advance_ms(100 * 1000);
        CHECK(rules.tick().size() == 1);
    }
    SUBCASE("telemetry afterwards brings it back as resumed, once") {
        clock.advance_ms(900 * 1000);
        REQUIRE(rules.tick().size() == 1);
        auto d = rules.on_traffic(kDev, 3, false);
        CHECK(d.outcome == Outcome::WentOnline);
        CHECK(d.record.reason == "resumed");
        CHECK(rules.on_traffic(kDev, 3, false).outcome == Outcome::Duplicate);
    }
    SUBCASE("the Will after silence adds no second offline") {
        clock.advance_ms(900 * 1000);
        REQUIRE(rules.tick().size() == 1);
        CHECK(rules.on_presence(kDev, offline(3, "lwt")).outcome == Outcome::Duplicate);
    }
}

TEST_CASE("presence: a camera is never marked silent, an offline device is not silenced twice") {
    ManualClock clock;
    Rules rules(clock);
    rules.set_watch_silence("cam-1", false);
    rules.on_presence("cam-1", online(1));
    rules.on_presence(kDev, online(1));
    rules.on_presence(kDev, offline(1, "shutdown"));
    clock.advance_ms(24LL * 3600 * 1000);
    CHECK(rules.tick().empty());
}

TEST_CASE("presence: a restored record starts its silence clock at start-up") {
    ManualClock clock;
    Rules rules(clock);
    Record r;
    r.device_id = kDev;
    r.status = Status::Online;
    r.boot = 9;
    r.since = clock.now_ms() - 10'000'000;
    r.last_seen = clock.now_ms() - 10'000'000; // presenced was down for hours
    rules.restore(r);
    CHECK(rules.tick().empty());
    CHECK(rules.on_presence(kDev, online(9)).outcome == Outcome::Duplicate);
    clock.advance_ms(900 * 1000);
    CHECK(rules.tick().size() == 1);
}

TEST_CASE("presence: telemetry periods are read from cfg documents in any of their shapes") {
    CHECK(periods_from_config(R"({"tele_period_s": 30, "idle_tele_period_s": 120})") == Periods{30, 120});
    CHECK(periods_from_config(R"({"version": 3, "status": "applied", "values": {"tele_period_s": 10}})") ==
          Periods{10, 300});
    CHECK(
        periods_from_config(
            R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":2,"status":"applied","values":{"idle_tele_period_s":50}}})") ==
        Periods{60, 50});
    CHECK(periods_from_config(R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":2,"tele_period_s":7}})") ==
          Periods{7, 300});
    CHECK_FALSE(periods_from_config(R"({"full_stop_w": 5})"));
    CHECK_FALSE(periods_from_config(R"({"tele_period_s": 1})")); // below 5: refused
    CHECK_FALSE(periods_from_config("not json"));
    CHECK_FALSE(periods_from_config("[1,2]"));
}

TEST_CASE("presence: the verdict carries online, boot, since and reason") {
    Record r{kDev, Status::Offline, 17, 1'732'183'200'000, 1'732'183'200'000, "lwt"};
    CHECK(svc::encode(verdict(r)) == R"({"v":1,"online":false,"boot":17,"since":1732183200000,"reason":"lwt"})");
}

TEST_CASE("presence: repeated retained messages after a restart add no log rows") {
    TempDb tmp("restart");
    db::Database d(tmp.path);
    db::migrate(d, db::core_migrations());
    register_device(d, kDev, registry::DeviceKind::EbikePile);
    ManualClock clock;
    {
        Rules rules(clock);
        Store store(d);
        for (const auto& p : {online(1), online(1), offline(1, "lwt"), online(2), offline(1, "lwt")}) {
            auto dec = rules.on_presence(kDev, p);
            if (dec.persists())
                store.save(dec);
            clock.advance_ms(1000);
        }
    }
    // presenced restarts: the broker hands it the retained messages again.
    Rules rules(clock);
    Store store(d);
    for (auto& r : store.load())
        rules.restore(r);
    for (const auto& p : {offline(1, "lwt"), online(2)}) {
        auto dec = rules.on_presence(kDev, p);
        if (dec.persists())
            store.save(dec);
    }
    const auto log = Store::log_of(d, kDev);
    REQUIRE(log.size() == 3);
    CHECK((log[0].online && log[0].boot == 1 && log[0].reason == "connect"));
    CHECK((!log[1].online && log[1].boot == 1 && log[1].reason == "lwt"));
    CHECK((log[2].online && log[2].boot == 2 && log[2].reason == "connect"));
    CHECK(log[1].at > log[0].at);
    const auto rows = store.load();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].status == Status::Online);
    CHECK(rows[0].boot == 2);
    CHECK(store.device_kind(kDev) == std::optional<std::string>("ebike_pile"));
    CHECK_FALSE(store.device_kind("nobody"));
}

TEST_CASE("presence: last_seen is flushed for devices heard from") {
    TempDb tmp("touch");
    db::Database d(tmp.path);
    db::migrate(d, db::core_migrations());
    register_device(d, kDev, registry::DeviceKind::EbikePile);
    ManualClock clock;
    Rules rules(clock);
    Store store(d);
    store.save(rules.on_presence(kDev, online(1)));
    CHECK(rules.take_seen().empty());
    clock.advance_ms(5000);
    rules.on_traffic(kDev, 1, true);
    auto seen = rules.take_seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].second == clock.now_ms());
    store.touch(seen);
    CHECK(store.load()[0].last_seen == clock.now_ms());
    CHECK(rules.take_seen().empty());
}
