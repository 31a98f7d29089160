// ParkingStore: the words a space's state is shown with, and the writes riders and operators make
// (plates, reservations) with the refusals CONTRACT E.2 names.
#include "web-api/parking_store.hpp"

#include "api_test_util.hpp"
#include "common/ledger.hpp"
#include "common/registry.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {

struct World {
    db::Database d{testutil::temp_db("parking")};
    std::int64_t station = add_station();
    ParkingStore ps{d};
    std::int64_t a = open("13800000001"), b = open("13800000002");

    std::int64_t add_station() {
        registry::Store reg(d);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "P";
        const auto id = reg.add_station(st, 1);
        for (auto [dev, kind, ports] : {std::tuple{"cam", registry::DeviceKind::Camera, 3},
                                        std::tuple{"cp", registry::DeviceKind::EvCharger, 2}}) {
            registry::Device x;
            x.id = dev;
            x.kind = kind;
            x.station_id = id;
            x.ports = ports;
            reg.add_device(x, "$7$unused", 1);
        }
        return id;
    }
    std::int64_t open(const std::string& phone) { return testutil::open_account(d, phone); }
    NewReservation ask(std::int64_t account, int space, const std::string& plate) {
        return NewReservation{account, station, parking::SpaceId{"cam", space}, plate, 1000, 2000};
    }
};

} // namespace

TEST_CASE("parking store: a space's state word, table") {
    struct Row {
        bool enabled, camera_enabled, occupied;
        std::optional<std::string> reservation;
        std::string_view want;
    };
    const std::vector<Row> table{
        {true, true, false, std::nullopt, "free"},
        {true, true, true, std::nullopt, "occupied"},
        {true, true, false, "reserved", "reserved"},
        {true, true, true, "reserved", "reserved"},  // reserved for its plate while another car stands there
        {true, true, true, "occupying", "occupied"}, // the reserved car arrived
        {true, true, false, "occupying", "free"},    // parkingd has not recorded the arrival yet
        {false, true, false, std::nullopt, "disabled"},
        {true, false, false, std::nullopt, "disabled"},
        {false, true, true, "reserved", "disabled"},
    };
    for (const auto& r : table) {
        SpaceRow s;
        s.enabled = r.enabled;
        s.camera_enabled = r.camera_enabled;
        s.occupied = r.occupied;
        s.reservation_state = r.reservation;
        CAPTURE(r.want);
        CHECK(space_state(s) == r.want);
    }
}

TEST_CASE("parking store: a plate belongs to one account; one held by a reservation is not removed") {
    World w;
    CHECK(w.ps.add_plate(w.a, "粤B1", "blue", 1) == PlateAdded::Added);
    CHECK(w.ps.add_plate(w.a, "粤B1", "green", 2) == PlateAdded::AlreadyMine);
    CHECK(w.ps.plate("粤B1")->color == "blue");
    CHECK(w.ps.add_plate(w.b, "粤B1", "blue", 3) == PlateAdded::Taken);
    CHECK(w.ps.remove_plate(w.b, "粤B1") == PlateRemoved::NotMine);
    CHECK(w.ps.reserve(w.ask(w.a, 1, "粤B1")).first == Reserve::Created);
    CHECK(w.ps.remove_plate(w.a, "粤B1") == PlateRemoved::Reserved);
    CHECK_FALSE(w.ps.certify("粤X9", "ops", 5));
    CHECK(w.ps.certify("粤B1", "ops", 5));
    CHECK(w.ps.plate("粤B1")->certified_by == "ops");
}

TEST_CASE("parking store: one active reservation per account and per space; an ended one frees both") {
    World w;
    const auto [made, id] = w.ps.reserve(w.ask(w.a, 1, "A"));
    REQUIRE(made == Reserve::Created);
    CHECK(w.ps.reservation(*id)->state == "reserved");
    CHECK(w.ps.reserve(w.ask(w.a, 2, "A")).first == Reserve::ReservationLimit);
    CHECK(w.ps.reserve(w.ask(w.b, 1, "B")).first == Reserve::SpaceBusy);
    CHECK(w.ps.space({"cam", 1})->reserved_by == w.a);
    // Cancelling moves reserved only; completing moves any active state.
    CHECK(w.ps.end_reservation(*id, {parking::ReservationState::Reserved}, parking::ReservationState::Cancelled,
                               "rider", 3000));
    CHECK_FALSE(w.ps.end_reservation(*id, {parking::ReservationState::Reserved, parking::ReservationState::Occupying},
                                     parking::ReservationState::Completed, "ops", 3001));
    CHECK(w.ps.reservation(*id)->ended_by == "rider");
    CHECK(w.ps.reserve(w.ask(w.b, 1, "B")).first == Reserve::Created);
    // A car on the space (parkingd's state, or an open stay) makes it busy.
    db::Statement(w.d, "INSERT INTO space_states(camera_id, space, occupied, updated_at) VALUES ('cam', 2, 1, 1)")
        .run();
    CHECK(w.ps.reserve(w.ask(w.a, 2, "A")).first == Reserve::SpaceBusy);
    db::Statement(w.d, "INSERT INTO occupancies(station_id, camera_id, space, arrived_at, state) VALUES (?, 'cam', 3, "
                       "1, 'open')")
        .bind_all(w.station)
        .run();
    CHECK(w.ps.reserve(w.ask(w.a, 3, "A")).first == Reserve::SpaceBusy);
    CHECK(space_state(*w.ps.space({"cam", 3})) == "occupied");
}

TEST_CASE("parking store: the gun of a reserved space is held for the reservation's account") {
    World w;
    CHECK(w.ps.gun_at_station("cp", 2, w.station));
    CHECK_FALSE(w.ps.gun_at_station("cp", 3, w.station));
    CHECK_FALSE(w.ps.gun_at_station("cam", 1, w.station)); // a camera has no guns
    CHECK_FALSE(w.ps.gun_at_station("cp", 1, w.station + 1));
    auto s = *w.ps.space({"cam", 1});
    w.ps.update_space(s.id, SpaceSettings{"A1", true, "cp-2", true, "right"});
    CHECK(w.ps.space({"cam", 1})->side == "right");
    CHECK_FALSE(w.ps.gun_reserved_by("cp", 2));
    REQUIRE(w.ps.reserve(w.ask(w.b, 1, "B")).first == Reserve::Created);
    CHECK(w.ps.gun_reserved_by("cp", 2) == w.b);
    CHECK_FALSE(w.ps.gun_reserved_by("cp", 1));
}
