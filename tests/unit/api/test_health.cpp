#include "web-api/health.hpp"
#include "web-api/monitor_store.hpp"

#include "api_test_util.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {

health::Probe good() {
    health::Probe p;
    p.db_write_ok = true;
    p.free_mb = 4096;
    p.min_free_mb = 512;
    p.broker_connected = true;
    return p;
}

std::string failed(const health::Verdict& v) {
    std::string out;
    for (const auto& c : v.checks)
        if (!c.ok)
            out += (out.empty() ? "" : ",") + c.name;
    return out;
}

} // namespace

TEST_CASE("health: the verdict is ok only when the database takes a write, the disk has room and the broker is "
          "connected") {
    struct Row {
        const char* what;
        void (*change)(health::Probe&);
        const char* failing; // the checks that fail, in order
    };
    const Row rows[] = {
        {"all good", [](health::Probe&) {}, ""},
        {"write failed", [](health::Probe& p) { p.db_write_ok = false, p.db_error = "disk I/O error"; },
         "database_write"},
        {"free exactly at the bar", [](health::Probe& p) { p.free_mb = 512; }, ""},
        {"free one below the bar", [](health::Probe& p) { p.free_mb = 511; }, "disk"},
        {"free space unknown", [](health::Probe& p) { p.free_mb.reset(); }, "disk"},
        {"bar 0 and disk full", [](health::Probe& p) { p.free_mb = 0, p.min_free_mb = 0; }, ""},
        {"broker lost", [](health::Probe& p) { p.broker_connected = false; }, "broker"},
        {"no broker client (tests)", [](health::Probe& p) { p.broker_connected.reset(); }, ""},
        {"everything down", [](health::Probe& p) { p.db_write_ok = false, p.free_mb = 1, p.broker_connected = false; },
         "database_write,disk,broker"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.what);
        auto p = good();
        r.change(p);
        const auto v = health::decide(p);
        REQUIRE(v.checks.size() == 3);
        CHECK(v.checks[0].name == "database_write");
        CHECK(v.checks[1].name == "disk");
        CHECK(v.checks[2].name == "broker");
        CHECK(failed(v) == r.failing);
        CHECK(v.ok == std::string(r.failing).empty());
        for (const auto& c : v.checks)
            CHECK(c.detail.empty() == c.ok);
    }
}

TEST_CASE("health: the failed disk check names the figure and the bar") {
    auto p = good();
    p.free_mb = 100;
    const auto v = health::decide(p);
    CHECK(v.checks[1].detail == "100 MiB free in the data directory, below 512 MiB");
}

TEST_CASE("health: the write probe updates its one row, and fails while another connection holds the write lock") {
    const auto path = testutil::temp_db("health");
    db::Database d(path);
    MonitorStore(d).probe_write(1000);
    MonitorStore(d).probe_write(2000);
    db::Statement st(d, "SELECT probed_at, probes, (SELECT count(*) FROM health_probe) FROM health_probe");
    REQUIRE(st.step());
    CHECK(st.int64(0) == 2000);
    CHECK(st.int64(1) == 2);
    CHECK(st.int64(2) == 1);
    st.reset();

    db::Database holder(path);
    holder.exec("BEGIN IMMEDIATE");
    db::Database probe(path, {db::Sync::Full, 50, false});
    CHECK_THROWS_AS(MonitorStore(probe).probe_write(3000), db::Error);
    holder.exec("ROLLBACK");
    MonitorStore(probe).probe_write(3000);
}

TEST_CASE("health: free space of an existing directory is known, of a missing one is not") {
    const auto mb = health::free_mb("/");
    REQUIRE(mb);
    CHECK(*mb >= 0);
    CHECK_FALSE(health::free_mb("/nonexistent/pilehub/health"));
}
