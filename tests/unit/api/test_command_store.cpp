#include "web-api/command_store.hpp"

#include "api_test_util.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {

/// sessiond's log on piles of stations A and B, and a lock command of parkingd on a camera of A.
struct World {
    db::Database d{testutil::temp_db("commands")};
    std::int64_t a = test::register_piles(d, {"pa"}, 10, "A");
    std::int64_t b = test::register_piles(d, {"pb"}, 10, "B");

    World() {
        const auto sent = [&](const std::string& device, const std::string& name, const std::string& rid, EpochMs at,
                              std::optional<std::string> outcome) {
            db::Statement(d, "INSERT INTO device_commands (device_id, name, n, rid, payload, requested_by, sent_at, "
                             "reply_status, replied_at, latency_ms, outcome) VALUES (?1, ?2, 1, ?3, '{\"n\":1}', "
                             "'alice', ?4, ?5, ?4 + 40, CASE WHEN ?5 IS NULL THEN NULL ELSE 40 END, ?5)")
                .bind_all(device, name, rid, at, outcome)
                .run();
        };
        sent("pa", "start_port", "S1.start", 1000, std::string("ok"));
        sent("pb", "reboot", "dc-2", 2000, std::string("timeout"));
        sent("pa", "stop_port", "S1.stop", 3000, std::nullopt);
        // The camera of a parking space at station A (its lock commands are parkingd's).
        db::Statement(d, "INSERT INTO devices (id, kind, station_id, created_at) VALUES ('cam1', 'camera', ?1, 0)")
            .bind_all(a)
            .run();
        db::Statement(d, "INSERT INTO lock_commands (rid, camera_id, space, action, cause, requested_by, state, "
                         "created_at, sent_at, done_at, result_st, code, msg) VALUES ('lk-1', 'cam1', 2, 'raise', "
                         "'departure', 'parkingd', 'failed', 2500, 2500, 2600, 'failed', 'device_failed', 'jammed')")
            .run();
    }

    std::vector<std::string> rids(const CommandFilter& f) {
        std::vector<std::string> out;
        for (const auto& r : CommandStore(d).commands(f))
            out.push_back(r.rid);
        return out;
    }
};

using Rids = std::vector<std::string>;

} // namespace

TEST_CASE("command log: sessiond's commands and parkingd's lock commands in one list, newest first") {
    World w;
    CommandFilter f;
    CHECK(w.rids(f) == Rids{"S1.stop", "lk-1", "dc-2", "S1.start"});
    const auto rows = CommandStore(w.d).commands(f);
    CHECK(rows[0].outcome == "pending"); // no answer yet
    CHECK_FALSE(rows[0].latency_ms.has_value());
    const auto& lock = rows[1];
    CHECK(lock.source == "parkingd");
    CHECK(lock.name == "lock");
    CHECK(lock.n == 2);
    CHECK(lock.payload == R"({"action":"raise","cause":"departure"})");
    CHECK(lock.requested_by == "system:parkingd");
    CHECK(lock.outcome == "failed");
    CHECK(lock.reply_code == "device_failed");
    CHECK(lock.reply_msg == "jammed");
    CHECK(lock.latency_ms == 100);
    CHECK(lock.station_id == w.a);
    CHECK(rows[3].latency_ms == 40);
    CHECK(rows[3].requested_by == "alice");
}

TEST_CASE("command log: filtered by device, name, outcome and time; a scoped operator sees its stations only") {
    World w;
    CommandFilter f;
    f.device_id = "pa";
    CHECK(w.rids(f) == Rids{"S1.stop", "S1.start"});
    f = {};
    f.name = "reboot";
    CHECK(w.rids(f) == Rids{"dc-2"});
    f = {};
    f.outcome = "timeout";
    CHECK(w.rids(f) == Rids{"dc-2"});
    f = {};
    f.from = 1500;
    f.to = 3000;
    CHECK(w.rids(f) == Rids{"lk-1", "dc-2"});
    f = {};
    f.scope = std::set<std::int64_t>{w.a};
    CHECK(w.rids(f) == Rids{"S1.stop", "lk-1", "S1.start"});
    f.limit = 1;
    f.offset = 1;
    CHECK(w.rids(f) == Rids{"lk-1"});
    f = {};
    f.scope = std::set<std::int64_t>{};
    CHECK(w.rids(f).empty());
}
