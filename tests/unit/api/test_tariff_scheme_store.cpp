// TariffSchemeStore: the tariff library's names, assignments (in force, scheduled, superseded), and
// the migration that brings it keeping every earlier tariff version as it was.
#include "web-api/tariff_scheme_store.hpp"

#include "api_test_util.hpp"
#include "common/registry.hpp"
#include "common/tariff_store.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace pilehub;
using namespace pilehub::api;

namespace {

constexpr const char* kDoc = R"({"name": "Lib", "timezone": "Asia/Shanghai", "modes": ["time"],
  "time": {"fen_per_hour": 100, "options_minutes": [60]}, "min_start_balance_fen": 100})";

struct Library {
    db::Database d{testutil::temp_db("tariff-schemes")};
    std::int64_t op = registry::Store(d).ensure_operator("op", 1);
    std::int64_t station = test::register_piles(d, {"P1", "P2"}, 2);
    TariffSchemeStore lib{d};
    CatalogStore cat{d};

    TariffSchemeRow scheme(const std::string& name) {
        TariffSchemeRow s{0, op, name, "", kDoc, "tester", 10, 10, false};
        s.id = lib.add(s).value();
        return s;
    }
    TariffTarget device(const std::string& id) { return TariffTarget{station, std::nullopt, id}; }
};

} // namespace

TEST_CASE("tariff schemes: a name is unique among schemes not archived; archiving frees it") {
    Library w;
    auto a = w.scheme("Night");
    CHECK_FALSE(w.lib.add(TariffSchemeRow{0, w.op, "Night", "", kDoc, "", 1, 1, false}));
    auto b = w.scheme("Day");
    b.name = "Night";
    CHECK_FALSE(w.lib.update(b)); // renaming onto another scheme's name
    w.lib.archive(a.id, 20);
    CHECK(w.lib.update(b));
    CHECK(w.lib.list(w.op, false).size() == 1);
    CHECK(w.lib.list(w.op, true).size() == 2);
    CHECK(w.lib.get(w.op, a.id)->archived);
    CHECK_FALSE(w.lib.get(w.op + 1, a.id)); // another operator's library
}

TEST_CASE("tariff schemes: assignments list targets where the scheme's copy is in force or scheduled, not where a "
          "later save replaced it") {
    Library w;
    const auto s = w.scheme("Shared");
    const auto other = w.scheme("Other");
    // P1: the scheme from 100; P2: the scheme from 100, replaced by another from 200; the station: from 500.
    w.lib.assign(s, {w.device("P1"), w.device("P2")}, 100, 100, "t");
    w.lib.assign(other, {w.device("P2")}, 200, 150, "t");
    w.lib.assign(s, {TariffTarget{w.station, std::nullopt, std::nullopt}}, 500, 150, "t");
    struct Row {
        EpochMs now;
        std::vector<std::string> in_force; ///< "P1", "P2", "station"
        std::vector<std::string> scheduled;
    };
    const Row table[] = {
        {150, {"P1", "P2"}, {"station"}},
        {300, {"P1"}, {"station"}},
        {600, {"P1", "station"}, {}},
    };
    for (const auto& r : table) {
        std::vector<std::string> in_force, scheduled;
        for (const auto& a : w.lib.assignments(s.id, r.now))
            (a.in_force ? in_force : scheduled).push_back(a.version.device_id.value_or("station"));
        std::sort(in_force.begin(), in_force.end());
        CHECK_MESSAGE(in_force == r.in_force, r.now);
        CHECK_MESSAGE(scheduled == r.scheduled, r.now);
    }
    // Versions count per target; a device's are numbered on their own.
    const auto p2 = w.cat.target_tariffs(w.device("P2"));
    REQUIRE(p2.size() == 2);
    CHECK(p2[1].version == 2);
    CHECK(p2[1].scheme_id == other.id);
    CHECK(p2[1].level() == billing::TariffLevel::Device);
}

TEST_CASE("tariff schemes: the library's migration keeps every earlier version and the version in force") {
    const auto path = (std::filesystem::temp_directory_path() /
                       ("pilehub-tariff-library-migration-" + std::to_string(::getpid()) + ".db"))
                          .string();
    std::filesystem::remove(path);
    {
        db::Database d(path);
        const auto migs = db::core_migrations();
        const auto it = std::find_if(migs.begin(), migs.end(),
                                     [](const db::Migration& m) { return m.name.ends_with("_tariff_library"); });
        REQUIRE(it != migs.end());
        db::migrate(d, std::vector<db::Migration>(migs.begin(), it));
        d.exec("INSERT INTO operators (id, name, created_at) VALUES (1, 'op', 0)");
        d.exec("INSERT INTO stations (id, operator_id, name, lat_e6, lon_e6, created_at) VALUES (1, 1, 's', 0, 0, 0)");
        d.exec("INSERT INTO areas (id, station_id, name, created_at) VALUES (4, 1, 'a', 0)");
        d.exec("INSERT INTO devices (id, kind, station_id, area_id, created_at) VALUES ('P1', 'ebike_pile', 1, 4, 0)");
        d.exec(std::string("INSERT INTO tariffs (id, station_id, area_id, version, document, effective_from, "
                           "created_at) VALUES (1, 1, NULL, 1, '") +
               kDoc + "', 0, 0), (2, 1, 4, 1, '" + kDoc + "', 10, 10), (3, 1, NULL, 2, '" + kDoc + "', 20, 20)");

        CHECK(db::migrate(d, migs) == static_cast<int>(migs.end() - it));
        db::Statement rows(d, "SELECT count(*), count(device_id), count(scheme_id) FROM tariffs");
        REQUIRE(rows.step());
        CHECK(rows.int64(0) == 3);
        CHECK(rows.int64(1) == 0);
        CHECK(rows.int64(2) == 0);
        rows.reset();
        billing::TariffStore store(d);
        CHECK(store.in_force(1, 4, std::string("P1"), 30).id == 2); // the area's, as before
        CHECK(store.in_force(1, std::nullopt, std::nullopt, 30).id == 3);
        // The station's next version is still 3, the area's 2, and a device starts at 1.
        CatalogStore cat(d);
        CHECK(cat.add_tariff(1, kDoc, 40, 40, "t").version == 3);
        CHECK(cat.insert_tariff(TariffTarget{1, 4, std::nullopt}, kDoc, 40, 40, "t", std::nullopt).version == 2);
        CHECK(cat.insert_tariff(TariffTarget{1, std::nullopt, "P1"}, kDoc, 40, 40, "t", std::nullopt).version == 1);
        CHECK_THROWS_AS(d.exec(std::string("INSERT INTO tariffs (station_id, device_id, version, document, "
                                           "effective_from, created_at) VALUES (1, 'P1', 1, '") +
                               kDoc + "', 0, 0)"),
                        db::Error); // one version number per device
    }
    std::filesystem::remove(path);
}
