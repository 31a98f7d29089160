#include "web-api/monitor_store.hpp"

#include "api_test_util.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {

/// A core database with incidents s-1 .. s-6, one per second from t = 1000: odd ones on a pile of
/// station A, even ones on a pile of station B, and s-0 (oldest) without a device.
struct World {
    db::Database d{testutil::temp_db("monitor")};
    std::int64_t a = test::register_piles(d, {"pa"}, 10, "A");
    std::int64_t b = test::register_piles(d, {"pb"}, 10, "B");

    World() {
        const auto add = [&](const std::string& device, const std::string& sid, EpochMs at) {
            db::Statement(d, "INSERT INTO incidents (kind, device_id, session_id, detail, at) VALUES (?, ?, ?, '', ?)")
                .bind_all(std::string(at % 2000 == 0 ? "record_overdue" : "suspend_timeout"), device, sid, at)
                .run();
        };
        add("", "s-0", 0);
        for (int i = 1; i <= 6; ++i)
            add(i % 2 ? "pa" : "pb", "s-" + std::to_string(i), i * 1000);
    }

    std::vector<std::string> sids(const IncidentFilter& f) {
        std::vector<std::string> out;
        for (const auto& r : MonitorStore(d).incidents(f))
            out.push_back(r.session_id.value_or("-"));
        return out;
    }
};

using Sids = std::vector<std::string>;

} // namespace

TEST_CASE("incidents: newest first; each row carries its device's station, none without a device") {
    World w;
    IncidentFilter f;
    CHECK(w.sids(f) == Sids{"s-6", "s-5", "s-4", "s-3", "s-2", "s-1", "s-0"});
    const auto rows = MonitorStore(w.d).incidents(f);
    CHECK(rows.front().station_id == w.b);
    CHECK(rows[1].station_id == w.a);
    CHECK_FALSE(rows.back().station_id.has_value());
}

TEST_CASE("incidents: a scoped operator's page is counted among its stations' rows only") {
    World w;
    IncidentFilter f;
    f.scope = std::set<std::int64_t>{w.a};
    CHECK(w.sids(f) == Sids{"s-5", "s-3", "s-1"});
    f.limit = 1;
    f.offset = 1;
    CHECK(w.sids(f) == Sids{"s-3"});
    f.scope = std::set<std::int64_t>{};
    f.limit = 50;
    f.offset = 0;
    CHECK(w.sids(f).empty());
}

TEST_CASE("incidents: filters combine (kind, device, station, [from, to), paging)") {
    World w;
    /// A filter spelled as a chain: Filter().kind("x").station(1).f
    struct Filter {
        IncidentFilter f;
        Filter& kind(std::string k) { return f.kind = std::move(k), *this; }
        Filter& device(std::string d) { return f.device_id = std::move(d), *this; }
        Filter& station(std::int64_t s) { return f.station_id = s, *this; }
        Filter& between(EpochMs from, EpochMs to) { return f.from = from, f.to = to, *this; }
        Filter& page(std::int64_t limit, std::int64_t offset) { return f.limit = limit, f.offset = offset, *this; }
    };
    struct Case {
        const char* what;
        IncidentFilter f;
        Sids want;
    };
    const std::vector<Case> cases{
        {"kind", Filter().kind("record_overdue").f, {"s-6", "s-4", "s-2", "s-0"}},
        {"device", Filter().device("pa").f, {"s-5", "s-3", "s-1"}},
        {"station", Filter().station(w.b).f, {"s-6", "s-4", "s-2"}},
        {"from inclusive, to exclusive", Filter().between(2000, 4000).f, {"s-3", "s-2"}},
        {"kind and station", Filter().kind("suspend_timeout").station(w.a).f, {"s-5", "s-3", "s-1"}},
        {"nothing matches", Filter().device("nobody").f, {}},
        {"paging", Filter().page(2, 5).f, {"s-1", "s-0"}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(w.sids(c.f) == c.want);
    }
}

namespace {

/// Two piles, pa at station A and pb at station B: presence transitions p-1 .. p-6 (one per second
/// from t = 1000, odd ones on pa) and fault records f-1 .. f-6 the same way, the even ones cleared.
struct DeviceWorld {
    db::Database d{testutil::temp_db("monitor-devices")};
    std::int64_t a = test::register_piles(d, {"pa"}, 10, "A");
    std::int64_t b = test::register_piles(d, {"pb"}, 10, "B");

    DeviceWorld() {
        for (int i = 1; i <= 6; ++i) {
            const std::string device = i % 2 ? "pa" : "pb";
            db::Statement(d, "INSERT INTO presence_log (device_id, online, boot, at, reason) VALUES (?, ?, ?, ?, ?)")
                .bind_all(device, i % 2, i, i * 1000, "p-" + std::to_string(i))
                .run();
            db::Statement(d, "INSERT INTO fault_records (device_id, n, code, bit, opened_at, cleared_at) VALUES (?, ?, "
                             "?, ?, ?, ?)")
                .bind_all(device, i, "f-" + std::to_string(i), i % 2 ? std::optional<std::int64_t>(i) : std::nullopt,
                          i * 1000, i % 2 ? std::nullopt : std::optional<EpochMs>(i * 1000 + 500))
                .run();
        }
    }

    std::vector<std::string> reasons(const MonitorFilter& f) {
        std::vector<std::string> out;
        for (const auto& r : MonitorStore(d).presence_log(f))
            out.push_back(r.reason);
        return out;
    }
    std::vector<std::string> codes(const MonitorFilter& f) {
        std::vector<std::string> out;
        for (const auto& r : MonitorStore(d).faults(f))
            out.push_back(r.code);
        return out;
    }
};

} // namespace

TEST_CASE("presence log and faults: newest first, each row with its device's station") {
    DeviceWorld w;
    MonitorFilter f;
    CHECK(w.reasons(f) == Sids{"p-6", "p-5", "p-4", "p-3", "p-2", "p-1"});
    CHECK(w.codes(f) == Sids{"f-6", "f-5", "f-4", "f-3", "f-2", "f-1"});
    const auto log = MonitorStore(w.d).presence_log(f);
    CHECK(log.front().station_id == w.b);
    CHECK(log.front().online == false);
    CHECK(log[1].station_id == w.a);
    CHECK(log[1].online == true);
    const auto faults = MonitorStore(w.d).faults(f);
    CHECK(faults.front().station_id == w.b);
    CHECK_FALSE(faults.front().bit.has_value());
    CHECK(faults.front().cleared_at == 6500);
    CHECK(faults[1].bit == 5);
    CHECK_FALSE(faults[1].cleared_at.has_value());
}

TEST_CASE("presence log and faults: a scoped operator's page is counted among its stations' rows only") {
    DeviceWorld w;
    MonitorFilter f;
    f.scope = std::set<std::int64_t>{w.a};
    CHECK(w.reasons(f) == Sids{"p-5", "p-3", "p-1"});
    CHECK(w.codes(f) == Sids{"f-5", "f-3", "f-1"});
    f.limit = 1;
    f.offset = 1;
    CHECK(w.reasons(f) == Sids{"p-3"});
    CHECK(w.codes(f) == Sids{"f-3"});
    f.scope = std::set<std::int64_t>{};
    CHECK(w.reasons(f).empty());
    CHECK(w.codes(f).empty());
}

TEST_CASE("presence log and faults: filters combine (device, station, [from, to), open only, paging)") {
    DeviceWorld w;
    struct Case {
        const char* what;
        MonitorFilter f;
        Sids presence, faults;
    };
    const auto filter = [](auto set) {
        MonitorFilter f;
        set(f);
        return f;
    };
    const std::vector<Case> cases{
        {"device", filter([](MonitorFilter& f) { f.device_id = "pa"; }), {"p-5", "p-3", "p-1"}, {"f-5", "f-3", "f-1"}},
        {"station",
         filter([&](MonitorFilter& f) { f.station_id = w.b; }),
         {"p-6", "p-4", "p-2"},
         {"f-6", "f-4", "f-2"}},
        {"from inclusive, to exclusive",
         filter([](MonitorFilter& f) { f.from = 2000, f.to = 4000; }),
         {"p-3", "p-2"},
         {"f-3", "f-2"}},
        {"open only (faults; the presence log ignores it)",
         filter([](MonitorFilter& f) { f.open_only = true; }),
         {"p-6", "p-5", "p-4", "p-3", "p-2", "p-1"},
         {"f-5", "f-3", "f-1"}},
        {"open only at one station",
         filter([&](MonitorFilter& f) { f.open_only = true, f.station_id = w.b; }),
         {"p-6", "p-4", "p-2"},
         {}},
        {"paging", filter([](MonitorFilter& f) { f.limit = 2, f.offset = 4; }), {"p-2", "p-1"}, {"f-2", "f-1"}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(w.reasons(c.f) == c.presence);
        CHECK(w.codes(c.f) == c.faults);
    }
}

TEST_CASE("device presence and open faults: presenced's verdict if any, open faults oldest first") {
    DeviceWorld w;
    MonitorStore m(w.d);
    CHECK_FALSE(m.presence("pa").has_value());
    db::Statement(w.d, "INSERT INTO device_presence (device_id, online, boot, since, last_seen, reason) VALUES ('pa', "
                       "1, 3, 100, 200, 'connect')")
        .run();
    const auto p = m.presence("pa");
    REQUIRE(p);
    CHECK(p->online);
    CHECK(p->boot == 3);
    CHECK(p->since == 100);
    CHECK(p->last_seen == 200);
    CHECK(p->reason == "connect");
    std::vector<std::string> open;
    for (const auto& f : m.open_faults("pa"))
        open.push_back(f.code);
    CHECK(open == Sids{"f-1", "f-3", "f-5"});
    CHECK(m.open_faults("pb").empty());
}
