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
    db::Statement(*w.db, "INSERT INTO areas (station_id, name, created_at) VALUES (?1, 'North', 0)")
        .bind_all(w.station)
        .run();
    const auto area = w.db->last_insert_rowid();
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

TEST_CASE("tariff in force: the store chooses by effective_from, then save time, then id; an area with its own "
          "versions never falls back to the station's") {
    World w;
    auto& d = *w.db;
    db::Statement(d, "INSERT INTO areas (station_id, name, created_at) VALUES (?1, 'South', 0)")
        .bind_all(w.station)
        .run();
    const auto area = d.last_insert_rowid();
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
        {"the area's version before it is in effect: none", area, 4999, std::nullopt},
        {"the area's version", area, 5000, a1},
    };
    CHECK(s3 > s2);
    for (const auto& r : rows)
        CHECK_MESSAGE(store.in_force(w.station, r.area, r.at).id == r.want, r.what);
    const auto chosen = store.in_force(w.station, area, 6000);
    REQUIRE(chosen.tariff);
    CHECK(chosen.tariff->cap.max_minutes == 300);
    // An unreadable chosen version is reported, not replaced by an older one.
    db::Statement(d, "UPDATE tariffs SET document = '{' WHERE id = ?1").bind_all(a1).run();
    billing::TariffStore fresh(d);
    const auto broken = fresh.in_force(w.station, area, 6000);
    CHECK(broken.id == a1);
    CHECK_FALSE(broken.tariff);
    CHECK_FALSE(broken.problem.empty());
    CHECK(fresh.by_id(999999).problem == "no such tariff row");
    CHECK_FALSE(fresh.for_session("no-such-session").id);
}
