// The tariff in force for a session, as each process that needs it finds it: sessiond when it
// creates the session (and records tariff_id), billingd when it prices it, autostopd when it reads
// the session's caps. All three go through billing::TariffStore; these tests hold them to one
// answer, also for a session row without tariff_id.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include "common/tariff_store.hpp"
#include "workers/autostopd/autostopd_store.hpp"
#include "workers/billingd/billingd_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using namespace pilehub;
using pilehub::test::World;

namespace {

/// kSessiondTariff with another cap.max_minutes, so that each version is recognisable.
std::string tariff_with_cap(int max_minutes) {
    std::string doc = pilehub::test::kSessiondTariff;
    const std::string from = R"("max_minutes": 720)";
    doc.replace(doc.find(from), from.size(), fmt::format(R"("max_minutes": {})", max_minutes));
    return doc;
}

std::int64_t add_tariff(db::Database& d, std::int64_t station, std::optional<std::int64_t> area, int version,
                        const std::string& doc, EpochMs effective_from, EpochMs created_at) {
    db::Statement(d, "INSERT INTO tariffs (station_id, area_id, version, document, effective_from, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind_all(station, area, version, doc, effective_from, created_at)
        .run();
    return d.last_insert_rowid();
}

std::int64_t add_area(db::Database& d, std::int64_t station, const std::string& name) {
    db::Statement(d, "INSERT INTO areas (station_id, name, created_at) VALUES (?1, ?2, 0)")
        .bind_all(station, name)
        .run();
    return d.last_insert_rowid();
}

std::int64_t add_device_tariff(db::Database& d, std::int64_t station, const std::string& device, int version,
                               const std::string& doc, EpochMs effective_from) {
    db::Statement(d, "INSERT INTO tariffs (station_id, device_id, version, document, effective_from, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?5)")
        .bind_all(station, device, version, doc, effective_from)
        .run();
    return d.last_insert_rowid();
}

std::optional<std::int64_t> recorded_tariff(db::Database& d, const std::string& sid) {
    db::Statement q(d, "SELECT tariff_id FROM sessions WHERE id = ?1");
    q.bind(1, sid);
    REQUIRE(q.step());
    return q.opt_int64(0);
}

/// What each of the three finds for session `sid`: sessiond's recorded id, billingd's id and
/// autostopd's cap (which names the version).
struct Found {
    std::optional<std::int64_t> billingd_id;
    std::optional<std::int64_t> autostopd_cap;
};

Found found(World& w, db::Database& tele, const std::string& sid) {
    billing::Store billing(*w.db, tele, w.clock);
    autostopd::Store autostop(*w.db);
    const auto row = autostop.session(sid);
    REQUIRE(row);
    return Found{billing.tariff_for_session(sid).id, row->terms.max_minutes};
}

} // namespace

TEST_CASE("tariff in force: an area tariff and a station tariff with the same start resolve alike in sessiond, "
          "billingd and autostopd") {
    World w;
    db::Database tele(w.dir.file("telemetry.db"));
    db::migrate(tele, db::telemetry_migrations());
    const EpochMs start = w.clock.now_ms() - 60'000;
    const auto area = add_area(*w.db, w.station, "North");
    db::Statement(*w.db, "UPDATE devices SET area_id = ?1 WHERE id = 'P2'").bind_all(area).run();
    // Same effective_from and same save time: the station's new version, and two versions of the area's.
    const auto station_v2 = add_tariff(*w.db, w.station, std::nullopt, 2, tariff_with_cap(600), start, start);
    add_tariff(*w.db, w.station, area, 1, tariff_with_cap(300), start, start);
    const auto area_v2 = add_tariff(*w.db, w.station, area, 2, tariff_with_cap(240), start, start);

    w.presence("P1", true, 1);
    w.presence("P2", true, 1);
    const auto in_area = w.start(w.rich, "P2-1");
    const auto station_only = w.start(w.rich2, "P1-1");

    // sessiond records the version it checked the start against: the area's own, the latest id on a tie.
    CHECK(recorded_tariff(*w.db, in_area) == area_v2);
    CHECK(recorded_tariff(*w.db, station_only) == station_v2);
    for (const auto& [sid, id, cap] : {std::tuple{in_area, area_v2, 240}, std::tuple{station_only, station_v2, 600}}) {
        const auto with_id = found(w, tele, sid);
        CHECK_MESSAGE(with_id.billingd_id == id, sid);
        CHECK_MESSAGE(with_id.autostopd_cap == cap, sid);
        // A row without tariff_id (written before sessions always carried it) resolves the same way.
        db::Statement(*w.db, "UPDATE sessions SET tariff_id = NULL WHERE id = ?1").bind_all(sid).run();
        const auto without = found(w, tele, sid);
        CHECK_MESSAGE(without.billingd_id == id, sid);
        CHECK_MESSAGE(without.autostopd_cap == cap, sid);
    }
}

TEST_CASE("tariff in force: the store chooses by effective_from, then save time, then id; an area's version "
          "applies once in effect and is never replaced by the station's") {
    World w;
    auto& d = *w.db;
    const auto area = add_area(d, w.station, "South");
    // The fixture's station version 1 is in force from 0.
    const auto s2 = add_tariff(d, w.station, std::nullopt, 2, tariff_with_cap(600), 1000, 500);
    const auto s3 = add_tariff(d, w.station, std::nullopt, 3, tariff_with_cap(500), 1000, 400); // saved earlier
    const auto a1 = add_tariff(d, w.station, area, 1, tariff_with_cap(300), 5000, 5000);
    billing::TariffStore store(d);
    struct Row {
        const char* what;
        std::optional<std::int64_t> area;
        EpochMs at;
        std::optional<std::int64_t> want;
    };
    const Row rows[] = {
        {"before the station's change", std::nullopt, 999, 1},
        {"same start: the later save wins", std::nullopt, 1000, s2},
        {"an area without versions uses the station's", area + 1, 2000, s2},
        {"the area's version before it is in effect: the station's", area, 4999, s2},
        {"the area's version", area, 5000, a1},
    };
    CHECK(s3 > s2);
    for (const auto& r : rows)
        CHECK_MESSAGE(store.in_force(w.station, r.area, std::nullopt, r.at).id == r.want, r.what);
    const auto chosen = store.in_force(w.station, area, std::nullopt, 6000);
    REQUIRE(chosen.tariff);
    CHECK(chosen.tariff->cap.max_minutes == 300);
    // An unreadable chosen version is reported, not replaced by an older one.
    db::Statement(d, "UPDATE tariffs SET document = '{' WHERE id = ?1").bind_all(a1).run();
    billing::TariffStore fresh(d);
    const auto broken = fresh.in_force(w.station, area, std::nullopt, 6000);
    CHECK(broken.id == a1);
    CHECK_FALSE(broken.tariff);
    CHECK_FALSE(broken.problem.empty());
    CHECK(fresh.by_id(999999).problem == "no such tariff row");
    CHECK_FALSE(fresh.for_session("no-such-session").id);
}

TEST_CASE("tariff in force: the most specific level with a version in effect wins (device, then area, then station)") {
    World w;
    auto& d = *w.db;
    const auto area = add_area(d, w.station, "East");
    db::Statement(d, "UPDATE devices SET area_id = ?1").bind_all(area).run(); // P1 and P2 both in the area
    // The fixture's station version 1 (id 1) is in force from 0. The area's from 2000, P1's own from 4000
    // (and a second one from 8000); P2 has none.
    const std::int64_t s1 = 1;
    const auto a1 = add_tariff(d, w.station, area, 1, tariff_with_cap(300), 2000, 2000);
    const auto p1v1 = add_device_tariff(d, w.station, "P1", 1, tariff_with_cap(500), 4000);
    const auto p1v2 = add_device_tariff(d, w.station, "P1", 2, tariff_with_cap(240), 8000);
    billing::TariffStore store(d);
    struct Row {
        const char* what;
        std::optional<std::int64_t> area;
        std::optional<std::string> device;
        EpochMs at;
        std::int64_t want;
        billing::TariffLevel level;
    };
    using L = billing::TariffLevel;
    const Row rows[] = {
        {"device with versions, none in effect yet, area neither: station", area, "P1", 1999, s1, L::Station},
        {"device's version not yet in effect: the area's", area, "P1", 3999, a1, L::Area},
        {"device's version in effect", area, "P1", 4000, p1v1, L::Device},
        {"device's later version once in effect", area, "P1", 9000, p1v2, L::Device},
        {"device's earlier version between the two", area, "P1", 7999, p1v1, L::Device},
        {"another device of the area: the area's", area, "P2", 9000, a1, L::Area},
        {"no device (a parking space) in the area: the area's", area, std::nullopt, 9000, a1, L::Area},
        {"no area, no device: the station's", std::nullopt, std::nullopt, 9000, s1, L::Station},
        {"a device's own versions follow it outside its area", std::nullopt, "P1", 9000, p1v2, L::Device},
    };
    for (const auto& r : rows) {
        CHECK_MESSAGE(store.in_force(w.station, r.area, r.device, r.at).id == r.want, r.what);
        const auto c = store.candidates(w.station, r.area, r.device);
        const auto* chosen = billing::most_specific_in_force(c, r.at);
        REQUIRE_MESSAGE(chosen, r.what);
        CHECK_MESSAGE(chosen->level == r.level, r.what);
    }
    CHECK(billing::to_string(L::Device) == "device");
    const auto p1_later = store.in_force(w.station, area, "P1", 9000);
    REQUIRE(p1_later.tariff);
    CHECK(p1_later.tariff->cap.max_minutes == 240);

    // An unreadable device version in effect is reported; neither the area's nor an older one stands in.
    db::Statement(d, "UPDATE tariffs SET document = '{' WHERE id = ?1").bind_all(p1v2).run();
    billing::TariffStore fresh(d);
    const auto broken = fresh.in_force(w.station, area, "P1", 9000);
    CHECK(broken.id == p1v2);
    CHECK_FALSE(broken.tariff);
    CHECK_FALSE(broken.problem.empty());
}

TEST_CASE("tariff in force: sessiond records the device's own version; billingd and autostopd price by it, not by "
          "a device version saved later") {
    World w;
    db::Database tele(w.dir.file("telemetry.db"));
    db::migrate(tele, db::telemetry_migrations());
    const EpochMs start = w.clock.now_ms() - 60'000;
    const auto p2_own = add_device_tariff(*w.db, w.station, "P2", 1, tariff_with_cap(600), start);
    w.presence("P1", true, 1);
    w.presence("P2", true, 1);
    const auto on_p2 = w.start(w.rich, "P2-1");
    const auto on_p1 = w.start(w.rich2, "P1-1");
    CHECK(recorded_tariff(*w.db, on_p2) == p2_own);
    CHECK(recorded_tariff(*w.db, on_p1) == 1);
    // A newer device version saved after the start does not reprice the session.
    add_device_tariff(*w.db, w.station, "P2", 2, tariff_with_cap(240), start + 1);
    CHECK(found(w, tele, on_p2).billingd_id == p2_own);
    CHECK(found(w, tele, on_p2).autostopd_cap == 600);
}
