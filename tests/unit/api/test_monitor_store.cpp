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
