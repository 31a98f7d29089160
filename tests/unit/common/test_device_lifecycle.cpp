#include "common/device_lifecycle.hpp"
#include "common/registry.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

using namespace pilehub;
using lifecycle::Action;
using lifecycle::Stage;

TEST_CASE("lifecycle: the stages are the words stock, installed and retired") {
    for (auto s : {Stage::Stock, Stage::Installed, Stage::Retired})
        CHECK(lifecycle::parse_stage(lifecycle::to_string(s)) == s);
    for (const char* bad : {"", "Stock", "in_stock", "installed ", "deleted"})
        CHECK_MESSAGE(!lifecycle::parse_stage(bad), bad);
}

TEST_CASE("lifecycle: the table covers every (stage, action, session live) triple: stock installs or retires, an "
          "installed device relocates or retires only while no session is live, a retired one never moves") {
    // stage, action, live → next stage (nullopt: refused with conflict)
    using Key = std::tuple<Stage, Action, bool>;
    const std::map<Key, std::optional<Stage>> want{
        {{Stage::Stock, Action::Install, false}, Stage::Installed},
        {{Stage::Stock, Action::Install, true}, Stage::Installed}, // a device in stock holds no session
        {{Stage::Stock, Action::Relocate, false}, std::nullopt},
        {{Stage::Stock, Action::Relocate, true}, std::nullopt},
        {{Stage::Stock, Action::Retire, false}, Stage::Retired},
        {{Stage::Stock, Action::Retire, true}, Stage::Retired},
        {{Stage::Installed, Action::Install, false}, std::nullopt},
        {{Stage::Installed, Action::Install, true}, std::nullopt},
        {{Stage::Installed, Action::Relocate, false}, Stage::Installed},
        {{Stage::Installed, Action::Relocate, true}, std::nullopt},
        {{Stage::Installed, Action::Retire, false}, Stage::Retired},
        {{Stage::Installed, Action::Retire, true}, std::nullopt},
        {{Stage::Retired, Action::Install, false}, std::nullopt},
        {{Stage::Retired, Action::Install, true}, std::nullopt},
        {{Stage::Retired, Action::Relocate, false}, std::nullopt},
        {{Stage::Retired, Action::Relocate, true}, std::nullopt},
        {{Stage::Retired, Action::Retire, false}, std::nullopt},
        {{Stage::Retired, Action::Retire, true}, std::nullopt},
    };
    CHECK(want.size() == 3 * 3 * 2);
    for (const auto& [key, next] : want) {
        const auto [stage, action, live] = key;
        const auto out = lifecycle::handle(stage, action, lifecycle::Facts{live});
        CAPTURE(lifecycle::to_string(stage));
        CAPTURE(lifecycle::to_string(action));
        CAPTURE(live);
        CHECK(out.next == next);
        // Exactly one of a next stage and a refusal; a refusal is a conflict with its reason.
        CHECK(out.next.has_value() != out.refusal.has_value());
        if (out.refusal) {
            CHECK(*out.refusal == ErrorCode::Conflict);
            CHECK_FALSE(out.why.empty());
        }
    }
}

TEST_CASE("lifecycle: a station given to a device in stock installs it, to any other device relocates it") {
    CHECK(lifecycle::placement_action(Stage::Stock) == Action::Install);
    CHECK(lifecycle::placement_action(Stage::Installed) == Action::Relocate);
    CHECK(lifecycle::placement_action(Stage::Retired) == Action::Relocate);
    // so that a retired device is refused
    CHECK(lifecycle::handle(Stage::Retired, lifecycle::placement_action(Stage::Retired), {}).refusal.has_value());
}

TEST_CASE("registry: a device without a station is registered into stock; a retired device has no broker user; "
          "migration 013 made existing devices installed") {
    test::TempDir dir{"device-lifecycle"};
    db::Database core{dir.file("pilehub.db")};
    // A device registered before the lifecycle migration is installed at its station afterwards.
    const auto all = db::core_migrations();
    const auto lifecycle_at = std::find_if(all.begin(), all.end(), [](const db::Migration& m) {
        return m.name.find("device_lifecycle") != std::string::npos;
    });
    REQUIRE(lifecycle_at != all.end());
    const auto before = static_cast<int>(lifecycle_at - all.begin());
    db::migrate(core, std::vector<db::Migration>(all.begin(), lifecycle_at));
    registry::Store store{core};
    registry::Station st;
    st.operator_id = store.ensure_operator("op", 1);
    st.name = std::string(1, 'S');
    const auto station = store.add_station(st, 1);
    db::Statement(core, "INSERT INTO devices(id, kind, station_id, created_at) VALUES ('old-1', 'ebike_pile', ?, 5)")
        .bind_all(station)
        .run();
    db::Statement(core, "INSERT INTO device_credentials(device_id, password_hash, created_at) VALUES ('old-1', 'h', 5)")
        .run();
    CHECK(db::migrate(core, all) == static_cast<int>(all.size()) - before);
    auto old = store.device("old-1");
    REQUIRE(old);
    CHECK(old->lifecycle == "installed");
    CHECK(old->station_id == station);

    registry::Device d;
    d.id = "new-1";
    d.ports = 2;
    store.add_device(d, "h2", 10); // no station: stock
    auto stock = store.device("new-1");
    REQUIRE(stock);
    CHECK(stock->lifecycle == "stock");
    CHECK_FALSE(stock->station_id.has_value());
    CHECK(stock->ports == 2);

    auto users = [&] {
        std::map<std::string, std::string> out;
        for (const auto& [u, h] : store.broker_users())
            out[u] = h;
        return out;
    };
    CHECK(users().count("old-1") == 1);
    CHECK(users().count("new-1") == 1); // a device in stock connects, for commissioning
    db::Statement(core, "UPDATE devices SET lifecycle = 'retired', retired_at = 20 WHERE id = 'old-1'").run();
    CHECK(users().count("old-1") == 0);
    CHECK(users().count("new-1") == 1);
    // The schema keeps the stages consistent with the station.
    CHECK_THROWS_AS(db::Statement(core, "UPDATE devices SET lifecycle = 'installed' WHERE id = 'new-1'").run(),
                    db::Error);
    CHECK_THROWS_AS(db::Statement(core, "UPDATE devices SET lifecycle = 'retired' WHERE id = 'new-1'").run(),
                    db::Error);
}
