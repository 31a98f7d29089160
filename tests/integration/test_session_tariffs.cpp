// A device's own tariff through the real processes (issue 14): real Mosquitto, pilehub-sim, sessiond,
// recorderd and billingd on real SQLite files. sessiond records the device's version at the start;
// a version saved for the device while the session runs prices later sessions only.
#include "tests/integration/sessions_world.hpp"

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

/// Saves version `version` of device `device`'s own tariff (what assigning a library scheme to it
/// writes), in force from `from`; its id.
std::int64_t save_device_version(World& w, const std::string& device, int version, EpochMs from) {
    db::Statement(w.db(), "INSERT INTO tariffs (station_id, device_id, version, document, effective_from, "
                          "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)")
        .bind_all(w.station_id(), device, version, std::string(kTariff), from)
        .run();
    return w.db().last_insert_rowid();
}

} // namespace

TEST_CASE("session tariffs: a session on a device with its own tariff keeps the device version it started with, "
          "through settlement, after the device gets a new one") {
    World w(WorldOptions{"session-tariffs"});
    const auto now = SystemClock::instance().now_ms();
    const auto p1_v1 = save_device_version(w, "P1", 1, now - 60'000);

    const auto on_p1 = w.start(w.accounts.at(0), "P1-1");
    const auto on_p2 = w.start(w.accounts.at(1), "P2-1");
    REQUIRE_MESSAGE(w.wait_state(on_p1, "charging"), w.logs());
    CHECK(w.number("SELECT tariff_id FROM sessions WHERE id = ?1", on_p1) == p1_v1);
    // P2 has no version of its own: the station's (version 1 of the world).
    CHECK(w.number("SELECT t.device_id IS NULL AND t.area_id IS NULL FROM sessions s JOIN tariffs t ON t.id = "
                   "s.tariff_id WHERE s.id = ?1",
                   on_p2) == 1);

    // The device is reassigned while the session runs: a new version, in force at once.
    const auto p1_v2 = save_device_version(w, "P1", 2, SystemClock::instance().now_ms() - 1);
    const auto later = w.start(w.accounts.at(2), "P1-2");
    CHECK(w.number("SELECT tariff_id FROM sessions WHERE id = ?1", later) == p1_v2);

    const auto stop =
        w.call("stop", fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", on_p1));
    REQUIRE_MESSAGE(stop.ok(), stop.code << " " << stop.msg);
    CHECK(w.number("SELECT tariff_id FROM sessions WHERE id = ?1", on_p1) == p1_v1);
    if (w.has_billingd()) {
        REQUIRE_MESSAGE(w.wait_state(on_p1, "completed", 15s), w.logs());
        CHECK(w.number("SELECT tariff_id FROM settlements WHERE session_id = ?1", on_p1) == p1_v1);
    } else {
        MESSAGE("billingd is not built: checked up to the recorded tariff");
    }
}
