// Parking at the API (CONTRACT E.2, E.3) against the running stack: real Mosquitto, the real
// pilehub-api, real HTTP. parkingd's rows (occupancies, captures, decisions, space states) are
// written by the tests as fixtures; lock and snapshot requests go to a stand-in parkingd (rpc
// "parkingd", read and answered with the svc codecs) or, with none running, time out.
#include "api_stack.hpp"

#include "common/svc/parkingd_rpc.hpp"
#include "common/tariff.hpp"

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

constexpr const char* kTariff = R"({"tariff": {
  "name": "Parking and e-bike", "timezone": "Asia/Shanghai", "modes": ["time"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120]},
  "min_start_balance_fen": 300, "stop_below_balance_fen": 0,
  "parking": {"free_minutes": 30, "fen_per_hour": 600, "max_fen": 5000, "raise_delay_s": 30,
              "reservation_hold_minutes": 45}}})";

/// A station with a camera of 4 spaces (`<cam>-1..4`) and a 2-gun charger (`<cp>-1..2`).
struct Park {
    std::int64_t station = 0;
    std::string cam, cp;
};

Park park(Stack& st, const std::string& admin, const std::string& name, const std::string& prefix) {
    Park p;
    p.station = st.station(admin, name);
    p.cam = prefix + "-cam";
    p.cp = prefix + "-cp";
    st.device(admin, p.cam, p.station, 4, "camera");
    st.device(admin, p.cp, p.station, 2, "ev_charger");
    return p;
}

/// A rider with `balance_fen` on the wallet (counter recharge) and `plate` registered and certified.
std::string rider_with_plate(Stack& st, const std::string& admin, const std::string& phone, const std::string& plate,
                             std::int64_t balance_fen = 1000) {
    const auto rider = st.rider(phone);
    if (balance_fen > 0)
        REQUIRE(st.money(fmt::format("/api/v1/admin/users/{}/recharge", st.rider_id(rider)),
                         fmt::format(R"({{"amount_fen":{}}})", balance_fen), admin)
                    .status == 200);
    REQUIRE(st.post("/api/v1/me/plates", fmt::format(R"({{"plate":"{}","color":"green"}})", plate), rider).status ==
            201);
    auto c = st.post("/api/v1/admin/plates/" + plate + "/certify", "", admin);
    REQUIRE_MESSAGE(c.status == 200, c);
    return rider;
}

Http reserve(Stack& st, const std::string& token, const std::string& space, const std::string& plate) {
    return st.post("/api/v1/reservations", fmt::format(R"({{"space":"{}","plate":"{}"}})", space, plate), token);
}

/// An occupancy as parkingd leaves it; returns its id.
std::int64_t add_stay(Stack& st, std::int64_t station, const std::string& cam, int space, const std::string& plate,
                      const std::string& state, std::int64_t fee_fen, std::int64_t owed_fen) {
    auto d = st.db();
    const auto now = SystemClock::instance().now_ms();
    db::Statement(d, "INSERT INTO occupancies(station_id, camera_id, space, plate, color, arrived_at, left_at, "
                     "duration_s, charging_s, billable_s, fee_fen, owed_fen, state) "
                     "VALUES (?, ?, ?, ?, 'blue', ?, ?, 7200, 0, 5400, ?, ?, ?)")
        .bind_all(station, cam, space, plate, now - 7'200'000, now - 60'000, fee_fen, owed_fen, state)
        .run();
    db::Statement id(d, "SELECT max(id) FROM occupancies");
    REQUIRE(id.step());
    return id.int64(0);
}

std::int64_t parking_entries(Stack& st, const std::string& key) {
    auto d = st.db();
    db::Statement c(d, "SELECT count(*) FROM ledger WHERE kind = 'parking' AND idempotency_key = ?");
    c.bind_all(key);
    REQUIRE(c.step());
    return c.int64(0);
}

std::string occupancy_state(Stack& st, std::int64_t id) {
    auto d = st.db();
    db::Statement c(d, "SELECT state FROM occupancies WHERE id = ?");
    c.bind_all(id);
    REQUIRE(c.step());
    return c.text(0);
}

EpochMs time_at(const Http& h, const std::string& path) {
    const auto t = billing::parse_rfc3339(h.str(path));
    REQUIRE_MESSAGE(t, path << " is not a time: " << h);
    return *t;
}

/// A stand-in parkingd: answers `lock` and `snapshot` as parkingd does, or refuses them with the
/// status and code set by refuse().
class FakeParkingd {
public:
    explicit FakeParkingd(Broker& broker) {
        mqtt_ = mqtt::make_client(broker.client_options("svc.parkingd"));
        server_ = std::make_unique<rpc::Server>(*mqtt_, router_, std::string(svc::kParkingdService));
        server_->handle("lock", [this](rpc::Request& r) {
            const auto q = svc::decode<svc::LockRequest>(*r.data_value);
            if (!q)
                return rpc::Reply::refuse("invalid_request", q.error(), "invalid");
            last_operator_ = q.value().operator_name;
            if (auto no = refusal())
                return *no;
            svc::LockReply rep;
            rep.space = q.value().space;
            rep.lock.st = q.value().action == payloads::LockAction::Lower ? payloads::LockStatus::Lowered
                                                                          : payloads::LockStatus::Raised;
            return rpc::Reply::success(svc::encode(rep));
        });
        server_->handle("snapshot", [this](rpc::Request& r) {
            const auto q = svc::decode<svc::SnapshotRequest>(*r.data_value);
            if (!q)
                return rpc::Reply::refuse("invalid_request", q.error(), "invalid");
            if (auto no = refusal())
                return *no;
            return rpc::Reply::success(svc::encode(svc::SnapshotReply{31, "https://img.example/" + q.value().space}));
        });
        router_.attach(*mqtt_);
        mqtt_->start();
        REQUIRE(mqtt_->wait_ready(10s));
    }
    ~FakeParkingd() { mqtt_->stop(); }

    /// Every request is refused with `status` and `code` (empty status: answered).
    void refuse(const std::string& status, const std::string& code = "", const std::string& msg = "") {
        std::lock_guard l(m_);
        status_ = status;
        code_ = code;
        msg_ = msg;
    }
    std::string last_operator() {
        std::lock_guard l(m_);
        return last_operator_;
    }

private:
    std::optional<rpc::Reply> refusal() {
        std::lock_guard l(m_);
        if (status_.empty())
            return std::nullopt;
        return rpc::Reply::refuse(code_, msg_, status_);
    }
    std::mutex m_;
    std::string status_, code_, msg_, last_operator_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    std::unique_ptr<rpc::Server> server_;
};

} // namespace

TEST_CASE("api parking: a rider registers plates (normalised, colour required); another account's plate is "
          "plate_taken; a reserved plate cannot be removed") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Plates", "pl");
    const auto a = st.rider("13500000001"), b = st.rider("13500000002");
    auto added = st.post("/api/v1/me/plates", R"({"plate":"粤b 12-345","color":"blue"})", a);
    REQUIRE_MESSAGE(added.status == 201, added);
    CHECK(added.str("plate") == "粤B12345");
    CHECK(added.str("color") == "blue");
    CHECK_FALSE(added.boolean("certified"));
    // The same plate again (any spelling) is the one the rider holds.
    auto again = st.post("/api/v1/me/plates", R"({"plate":"粤B12345","color":"blue"})", a);
    CHECK(again.status == 200);
    CHECK(again.str("plate") == "粤B12345");
    CHECK(st.post("/api/v1/me/plates", R"({"plate":"粤B·12345","color":"blue"})", b).code() == "plate_taken");
    CHECK(st.post("/api/v1/me/plates", R"({"plate":"粤B99999"})", a).code() == "invalid_request");
    CHECK(st.post("/api/v1/me/plates", R"({"plate":"粤B99999","color":"red"})", a).code() == "invalid_request");
    CHECK(st.post("/api/v1/me/plates", R"({"plate":" - ","color":"blue"})", a).code() == "invalid_request");
    auto mine = st.get("/api/v1/me/plates", a);
    REQUIRE(mine.size("plates") == 1);
    CHECK(mine.str("plates.0.plate") == "粤B12345");
    CHECK(st.get("/api/v1/me/plates", b).size("plates") == 0);
    // Another rider's plate is not theirs to remove; percent-encoded plates reach the route.
    const std::string encoded = "%E7%B2%A4B12345";
    CHECK(st.request("DELETE", "/api/v1/me/plates/" + encoded, "", b).code() == "not_found");
    // Certified, reserved: the plate stays while the reservation is active.
    REQUIRE(
        st.money("/api/v1/admin/users/" + std::to_string(st.rider_id(a)) + "/recharge", R"({"amount_fen":1000})", admin)
            .status == 200);
    REQUIRE(st.post("/api/v1/admin/plates/" + encoded + "/certify", "", admin).status == 200);
    auto r = reserve(st, a, p.cam + "-1", "粤B12345");
    REQUIRE_MESSAGE(r.status == 201, r);
    CHECK(st.request("DELETE", "/api/v1/me/plates/" + encoded, "", a).code() == "conflict");
    REQUIRE(st.post(fmt::format("/api/v1/reservations/{}/cancel", r.i64("reservation.id")), "", a).status == 200);
    auto gone = st.request("DELETE", "/api/v1/me/plates/" + encoded, "", a);
    CHECK_MESSAGE(gone.status == 200, gone);
    CHECK(st.get("/api/v1/me/plates", a).size("plates") == 0);
}

TEST_CASE("api parking: a station's spaces show free, occupied, reserved and disabled, the lock (null without one) "
          "and the gun") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Spaces", "sp");
    REQUIRE(
        st.put("/api/v1/admin/spaces/" + p.cam + "-1", fmt::format(R"({{"ev_gun":"{}-2","name":"A1"}})", p.cp), admin)
            .status == 200);
    REQUIRE(st.put("/api/v1/admin/spaces/" + p.cam + "-3", R"({"enabled":false})", admin).status == 200);
    REQUIRE(st.put("/api/v1/admin/spaces/" + p.cam + "-4", R"({"lock_type":"none"})", admin).status == 200);
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO space_states(camera_id, space, occupied, lock_st, updated_at) "
                         "VALUES (?, 2, 1, 'lowered', 1)")
            .bind_all(p.cam)
            .run();
    }
    const auto rider = rider_with_plate(st, admin, "13500000010", "粤B00010");
    REQUIRE(reserve(st, rider, p.cam + "-1", "粤B00010").status == 201);
    auto r = st.get(fmt::format("/api/v1/stations/{}/spaces", p.station), rider);
    REQUIRE_MESSAGE(r.status == 200, r);
    REQUIRE(r.size("spaces") == 4);
    CHECK(r.str("spaces.0.id") == p.cam + "-1");
    CHECK(r.str("spaces.0.name") == "A1");
    CHECK(r.str("spaces.0.state") == "reserved");
    CHECK(r.str("spaces.0.ev_gun") == p.cp + "-2");
    CHECK(r.str("spaces.0.lock.st") == "unknown");
    CHECK(r.str("spaces.1.state") == "occupied");
    CHECK(r.str("spaces.1.lock.st") == "lowered");
    CHECK(r.str("spaces.2.state") == "disabled");
    CHECK(r.str("spaces.3.state") == "free");
    CHECK(r.at("spaces.3.lock")->IsNull());
    CHECK(r.at("spaces.3.ev_gun")->IsNull());
    CHECK(st.get("/api/v1/stations/999/spaces", rider).status == 404);
    // A disabled camera disables every space.
    REQUIRE(st.put("/api/v1/admin/devices/" + p.cam, R"({"enabled":false})", admin).status == 200);
    auto off = st.get(fmt::format("/api/v1/stations/{}/spaces", p.station), rider);
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(off.str(fmt::format("spaces.{}.state", i)) == "disabled");
}

TEST_CASE("api parking: a reservation is held for the tariff's hold minutes (120 without one) and refused exactly as "
          "CONTRACT E.2 says") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Reserve", "rs");
    const auto a = rider_with_plate(st, admin, "13500000020", "粤B00020");
    const auto b = rider_with_plate(st, admin, "13500000021", "粤B00021");

    // No tariff: 120 minutes.
    auto r = reserve(st, a, p.cam + "-1", "粤b 00020");
    REQUIRE_MESSAGE(r.status == 201, r);
    CHECK(r.str("reservation.state") == "reserved");
    CHECK(r.str("reservation.space") == p.cam + "-1");
    CHECK(r.str("reservation.plate") == "粤B00020");
    CHECK(time_at(r, "reservation.expires_at") - time_at(r, "reservation.created_at") == 120 * 60'000);
    const auto rid = r.i64("reservation.id");

    CHECK(reserve(st, b, p.cam + "-1", "粤B00021").code() == "space_busy");        // reserved
    CHECK(reserve(st, a, p.cam + "-2", "粤B00020").code() == "reservation_limit"); // one per account
    CHECK(reserve(st, b, "nope-cam-1", "粤B00021").code() == "unknown_space");
    CHECK(reserve(st, b, p.cam + "-9", "粤B00021").code() == "unknown_space");
    CHECK(reserve(st, b, p.cp + "-1", "粤B00021").code() == "unknown_space"); // a gun is no space
    REQUIRE(st.put("/api/v1/admin/spaces/" + p.cam + "-3", R"({"enabled":false})", admin).status == 200);
    CHECK(reserve(st, b, p.cam + "-3", "粤B00021").code() == "unknown_space");
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO space_states(camera_id, space, occupied, updated_at) VALUES (?, 4, 1, 1)")
            .bind_all(p.cam)
            .run();
    }
    CHECK(reserve(st, b, p.cam + "-4", "粤B00021").code() == "space_busy");          // occupied
    CHECK(reserve(st, b, p.cam + "-2", "粤B00020").code() == "plate_not_certified"); // a's plate
    REQUIRE(st.post("/api/v1/me/plates", R"({"plate":"粤B00022","color":"blue"})", b).status == 201);
    CHECK(reserve(st, b, p.cam + "-2", "粤B00022").code() == "plate_not_certified"); // not certified
    CHECK(reserve(st, b, p.cam + "-2", "???").code() == "plate_not_certified");

    const auto poor = rider_with_plate(st, admin, "13500000023", "粤B00023", 100);
    CHECK(reserve(st, poor, p.cam + "-2", "粤B00023").code() == "balance_too_low"); // under the default 200
    const auto frozen = rider_with_plate(st, admin, "13500000024", "粤B00024");
    REQUIRE(st.post(fmt::format("/api/v1/admin/users/{}/freeze", st.rider_id(frozen)), "", admin).status == 200);
    auto fr = reserve(st, frozen, p.cam + "-2", "粤B00024");
    CHECK(fr.status == 403);
    CHECK(fr.code() == "account_frozen");

    // The tariff's parking section sets the hold, its min_start_balance_fen the balance needed.
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", p.station), kTariff, admin).status == 200);
    const auto c = rider_with_plate(st, admin, "13500000025", "粤B00025", 250);
    CHECK(reserve(st, c, p.cam + "-2", "粤B00025").code() == "balance_too_low"); // under 300
    auto held = reserve(st, b, p.cam + "-2", "粤B00021");
    REQUIRE_MESSAGE(held.status == 201, held);
    CHECK(time_at(held, "reservation.expires_at") - time_at(held, "reservation.created_at") == 45 * 60'000);

    // Reads: own only.
    auto own = st.get(fmt::format("/api/v1/reservations/{}", rid), a);
    CHECK(own.status == 200);
    CHECK(own.i64("reservation.id") == rid);
    CHECK(st.get(fmt::format("/api/v1/reservations/{}", rid), b).code() == "not_found");
    CHECK(st.get("/api/v1/reservations?state=active", a).size("reservations") == 1);
    // Cancel: own, from reserved only.
    CHECK(st.post(fmt::format("/api/v1/reservations/{}/cancel", rid), "", b).code() == "not_found");
    auto cancelled = st.post(fmt::format("/api/v1/reservations/{}/cancel", rid), "", a);
    REQUIRE_MESSAGE(cancelled.status == 200, cancelled);
    CHECK(cancelled.str("reservation.state") == "cancelled");
    CHECK(cancelled.str("reservation.ended_by") == "rider");
    CHECK(st.post(fmt::format("/api/v1/reservations/{}/cancel", rid), "", a).code() == "conflict");
    CHECK(st.get("/api/v1/reservations?state=active", a).size("reservations") == 0);
    CHECK(st.get("/api/v1/reservations", a).size("reservations") == 1);
    // Free again: another account may take the space.
    CHECK(reserve(st, c, p.cam + "-1", "粤B00025").code() == "balance_too_low");
    const auto d2 = rider_with_plate(st, admin, "13500000026", "粤B00026");
    CHECK(reserve(st, d2, p.cam + "-1", "粤B00026").status == 201);
}

TEST_CASE("api parking: two accounts reserving one space at once: exactly one wins") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Race", "rc");
    for (int round = 1; round <= 3; ++round) {
        const auto plate_a = fmt::format("粤R{}001", round), plate_b = fmt::format("粤R{}002", round);
        const auto a = rider_with_plate(st, admin, fmt::format("1350000{}031", round), plate_a);
        const auto b = rider_with_plate(st, admin, fmt::format("1350000{}032", round), plate_b);
        const auto space = fmt::format("{}-{}", p.cam, round);
        Http ra, rb;
        std::thread ta([&] { ra = reserve(st, a, space, plate_a); });
        std::thread tb([&] { rb = reserve(st, b, space, plate_b); });
        ta.join();
        tb.join();
        CAPTURE(ra);
        CAPTURE(rb);
        CHECK(((ra.status == 201) != (rb.status == 201)));
        CHECK((ra.status == 201 ? rb : ra).code() == "space_busy");
    }
}

TEST_CASE("api parking: a reserved space's gun is not offered to other riders; its holder may start") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto p = park(st, admin, "Guns", "gn");
    REQUIRE(st.put("/api/v1/admin/spaces/" + p.cam + "-1", fmt::format(R"({{"ev_gun":"{}-1"}})", p.cp), admin).status ==
            200);
    const auto holder = rider_with_plate(st, admin, "13500000041", "粤G00041");
    const auto other = rider_with_plate(st, admin, "13500000042", "粤G00042");
    const auto gun = p.cp + "-1";
    CHECK_FALSE(st.get("/api/v1/sockets/" + gun, other).boolean("reserved"));
    REQUIRE(reserve(st, holder, p.cam + "-1", "粤G00041").status == 201);
    auto seen = st.get("/api/v1/sockets/" + gun, other);
    REQUIRE_MESSAGE(seen.status == 200, seen);
    CHECK(seen.boolean("reserved"));
    CHECK_FALSE(st.get("/api/v1/sockets/" + gun, holder).boolean("reserved"));
    CHECK_FALSE(st.get("/api/v1/sockets/" + p.cp + "-2", other).boolean("reserved"));
    const auto start = fmt::format(R"({{"socket":"{}","mode":"energy"}})", gun);
    auto refused = st.post("/api/v1/sessions", start, other);
    CHECK(refused.status == 409);
    CHECK(refused.code() == "space_reserved");
    CHECK(fake.calls() == 0);
    auto started = st.post("/api/v1/sessions", start, holder);
    CHECK_MESSAGE(started.status == 202, started);
    CHECK(fake.calls() == 1);
    // The other gun is anyone's.
    CHECK(st.post("/api/v1/sessions", fmt::format(R"({{"socket":"{}-2","mode":"energy"}})", p.cp), other).status ==
          202);
}

TEST_CASE("api parking: unpaid parking is collected once, in the transaction of the next recharge (online and at the "
          "counter)") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Collect", "co");
    const auto first = add_stay(st, p.station, p.cam, 2, "粤C00051", "unpaid", 300, 300);
    const auto rider = st.rider("13500000051");
    REQUIRE(st.post("/api/v1/me/plates", R"({"plate":"粤C00051","color":"blue"})", rider).status == 201);
    auto orders = st.get("/api/v1/parking/orders", rider);
    REQUIRE(orders.size("orders") == 1);
    CHECK(orders.str("orders.0.state") == "unpaid");
    CHECK(orders.i64("orders.0.owed_fen") == 300);
    CHECK(orders.i64("orders.0.fee_fen") == 300);
    CHECK(orders.i64("orders.0.billable_s") == 5400);

    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":5000})", rider);
    REQUIRE_MESSAGE(pay.status == 201, pay);
    const auto pid = pay.str("payment.id");
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", rider).status == 200);
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", rider).status == 200); // replay
    CHECK(occupancy_state(st, first) == "paid");
    CHECK(parking_entries(st, fmt::format("park:{}", first)) == 1);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 4700);
    auto ledger = st.get("/api/v1/wallet/ledger", rider);
    CHECK(ledger.str("entries.0.kind") == "parking");
    CHECK(ledger.i64("entries.0.real_fen") == -300);
    CHECK(st.get("/api/v1/parking/orders", rider).str("orders.0.state") == "paid");

    // At the counter: a stay larger than the wallet waits until the recharge covers it.
    const auto second = add_stay(st, p.station, p.cam, 3, "粤C00051", "unpaid", 6000, 6000);
    auto counter =
        st.money(fmt::format("/api/v1/admin/users/{}/recharge", st.rider_id(rider)), R"({"amount_fen":2000})", admin);
    REQUIRE_MESSAGE(counter.status == 200, counter);
    CHECK(counter.str("entry.kind") == "recharge");
    CHECK(occupancy_state(st, second) == "paid");
    CHECK(parking_entries(st, fmt::format("park:{}", second)) == 1);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 4700 + 2000 - 6000);
    auto kinds = st.get(fmt::format("/api/v1/admin/ledger?account_id={}&kind=parking", st.rider_id(rider)), admin);
    REQUIRE_MESSAGE(kinds.status == 200, kinds);
    CHECK(kinds.size("entries") == 2);
    // Someone else's unpaid stay is not this rider's to pay.
    const auto foreign = add_stay(st, p.station, p.cam, 4, "粤C99999", "unpaid", 100, 100);
    REQUIRE(st.money(fmt::format("/api/v1/admin/users/{}/recharge", st.rider_id(rider)), R"({"amount_fen":100})", admin)
                .status == 200);
    CHECK(occupancy_state(st, foreign) == "unpaid");
}

TEST_CASE("api parking: operators manage spaces, whitelist, plates, reservations, orders, captures and decisions; "
          "each write is in the audit log") {
    Stack st;
    const auto admin = st.admin();
    const auto p = park(st, admin, "Ops", "op");
    // Spaces.
    auto spaces = st.get(fmt::format("/api/v1/admin/spaces?station_id={}", p.station), admin);
    REQUIRE_MESSAGE(spaces.status == 200, spaces);
    REQUIRE(spaces.size("spaces") == 4);
    CHECK(spaces.str("spaces.0.lock_type") == "ground_lock");
    CHECK(spaces.at("spaces.0.fault")->IsNull());
    CHECK_FALSE(spaces.boolean("spaces.0.camera_online"));
    auto put = st.put("/api/v1/admin/spaces/" + p.cam + "-2",
                      fmt::format(R"({{"name":"B2","lock_type":"none","ev_gun":"{}-1","enabled":true}})", p.cp), admin);
    REQUIRE_MESSAGE(put.status == 200, put);
    CHECK(put.str("name") == "B2");
    CHECK(put.str("lock_type") == "none");
    CHECK(put.str("ev_gun") == p.cp + "-1");
    CHECK(put.at("lock")->IsNull());
    auto cleared = st.put("/api/v1/admin/spaces/" + p.cam + "-2", R"({"ev_gun":null})", admin);
    CHECK(cleared.at("ev_gun")->IsNull());
    CHECK(cleared.str("name") == "B2");
    CHECK(cleared.at("side")->IsNull());
    CHECK(st.put("/api/v1/admin/spaces/" + p.cam + "-2", R"({"side":"left"})", admin).str("side") == "left");
    CHECK(st.put("/api/v1/admin/spaces/" + p.cam + "-2", R"({"side":"middle"})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/spaces/" + p.cam + "-2", fmt::format(R"({{"ev_gun":"{}-9"}})", p.cp), admin).code() ==
          "invalid_connector");
    CHECK(st.put("/api/v1/admin/spaces/" + p.cam + "-2", fmt::format(R"({{"ev_gun":"{}-1"}})", p.cam), admin).code() ==
          "invalid_connector"); // a camera has no guns
    const auto other = park(st, admin, "Elsewhere", "el");
    CHECK(
        st.put("/api/v1/admin/spaces/" + p.cam + "-2", fmt::format(R"({{"ev_gun":"{}-1"}})", other.cp), admin).code() ==
        "invalid_connector"); // another station's gun
    CHECK(st.put("/api/v1/admin/spaces/nope-9", R"({"name":"x"})", admin).code() == "unknown_space");
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO lock_faults(camera_id, space, cause, detail, opened_at) VALUES (?, 1, "
                         "'command_failed', 'jammed', 1)")
            .bind_all(p.cam)
            .run();
    }
    CHECK(st.get(fmt::format("/api/v1/admin/spaces?station_id={}", p.station), admin).str("spaces.0.fault.detail") ==
          "jammed");

    // Whitelist.
    auto wl = st.post("/api/v1/admin/whitelist",
                      fmt::format(R"({{"plate":"粤w 00061","station_id":{},"note":"staff"}})", p.station), admin);
    REQUIRE_MESSAGE(wl.status == 201, wl);
    CHECK(wl.str("plate") == "粤W00061");
    CHECK(wl.boolean("enabled"));
    const auto wid = wl.i64("id");
    CHECK(st.post("/api/v1/admin/whitelist", fmt::format(R"({{"plate":"粤W00061","station_id":{}}})", p.station), admin)
              .code() == "duplicate");
    CHECK(st.post("/api/v1/admin/whitelist", R"({"plate":"粤W00061","station_id":999})", admin).code() == "not_found");
    auto off = st.put(fmt::format("/api/v1/admin/whitelist/{}", wid), R"({"enabled":false,"note":"left"})", admin);
    CHECK(off.status == 200);
    CHECK_FALSE(off.boolean("enabled"));
    CHECK(off.str("note") == "left");
    CHECK(st.get(fmt::format("/api/v1/admin/whitelist?station_id={}", p.station), admin).size("whitelist") == 1);
    CHECK(st.request("DELETE", fmt::format("/api/v1/admin/whitelist/{}", wid), "", admin).status == 200);
    CHECK(st.get("/api/v1/admin/whitelist", admin).size("whitelist") == 0);
    CHECK(st.request("DELETE", fmt::format("/api/v1/admin/whitelist/{}", wid), "", admin).code() == "not_found");

    // Plates and their certification.
    const auto rider = st.rider("13500000061");
    REQUIRE(st.post("/api/v1/me/plates", R"({"plate":"粤P00061","color":"yellow_green"})", rider).status == 201);
    auto uncertified = st.get("/api/v1/admin/plates?certified=false", admin);
    REQUIRE(uncertified.size("plates") == 1);
    CHECK(uncertified.str("plates.0.phone") == "13500000061");
    CHECK(st.post("/api/v1/admin/plates/%E7%B2%A4P99999/certify", "", admin).code() == "not_found");
    auto cert = st.post("/api/v1/admin/plates/%E7%B2%A4P00061/certify", "", admin);
    REQUIRE_MESSAGE(cert.status == 200, cert);
    CHECK(cert.boolean("certified"));
    CHECK(cert.str("certified_by") == "admin");
    CHECK(st.get("/api/v1/admin/plates?certified=true", admin).size("plates") == 1);
    CHECK(st.get("/api/v1/admin/plates?certified=false", admin).size("plates") == 0);
    CHECK(st.get("/api/v1/me/plates", rider).boolean("plates.0.certified"));

    // Reservations: the operator ends an active one.
    REQUIRE(
        st.money(fmt::format("/api/v1/admin/users/{}/recharge", st.rider_id(rider)), R"({"amount_fen":1000})", admin)
            .status == 200);
    auto res = reserve(st, rider, p.cam + "-3", "粤P00061");
    REQUIRE(res.status == 201);
    auto listed = st.get(fmt::format("/api/v1/admin/reservations?station_id={}&state=active", p.station), admin);
    REQUIRE(listed.size("reservations") == 1);
    CHECK(listed.str("reservations.0.phone") == "13500000061");
    auto ended = st.post(fmt::format("/api/v1/admin/reservations/{}/end", res.i64("reservation.id")), "", admin);
    REQUIRE_MESSAGE(ended.status == 200, ended);
    CHECK(ended.str("reservation.state") == "completed");
    CHECK(ended.str("reservation.ended_by") == "admin");
    CHECK(st.post(fmt::format("/api/v1/admin/reservations/{}/end", res.i64("reservation.id")), "", admin).code() ==
          "conflict");
    CHECK(st.get("/api/v1/admin/reservations?state=completed", admin).size("reservations") == 1);

    // Orders and their export.
    add_stay(st, p.station, p.cam, 1, "粤P00061", "paid", 200, 0);
    add_stay(st, p.station, p.cam, 2, "粤Q00001", "unpaid", 500, 500);
    auto orders = st.get(fmt::format("/api/v1/admin/parking-orders?station_id={}", p.station), admin);
    REQUIRE_MESSAGE(orders.status == 200, orders);
    CHECK(orders.size("orders") == 2);
    auto unpaid = st.get("/api/v1/admin/parking-orders?state=unpaid", admin);
    REQUIRE(unpaid.size("orders") == 1);
    CHECK(unpaid.str("orders.0.plate") == "粤Q00001");
    CHECK(st.get("/api/v1/parking/orders", rider).size("orders") == 1); // the rider's plate only
    auto csv = st.get(fmt::format("/api/v1/admin/exports/parking-orders?station_id={}", p.station), admin);
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("id,station_id,space,plate") != std::string::npos);
    CHECK(csv.body.find("粤Q00001") != std::string::npos);
    auto xlsx = st.get("/api/v1/admin/exports/parking-orders?format=xlsx", admin);
    CHECK(xlsx.status == 200);
    CHECK(xlsx.body.substr(0, 2) == "PK");

    // Captures and decisions.
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO captures(station_id, camera_id, space, source, plate, color, direction, "
                         "image_url, at) VALUES (?, ?, 1, 'plate', '粤Z00001', 'blue', 'in', 'https://img/1.jpg', ?)")
            .bind_all(p.station, p.cam, SystemClock::instance().now_ms() - 1000)
            .run();
        db::Statement(d, "INSERT INTO parking_decisions(station_id, camera_id, space, plate, color, allowed, reason, "
                         "capture_id, at) VALUES (?, ?, 1, '粤Z00001', 'blue', 0, 'not_nev', "
                         "(SELECT max(id) FROM captures), 1)")
            .bind_all(p.station, p.cam)
            .run();
        db::Statement(d, "INSERT INTO parking_decisions(station_id, camera_id, space, plate, allowed, reason, at) "
                         "VALUES (?, ?, 2, '粤P00061', 1, 'nev', 2)")
            .bind_all(p.station, p.cam)
            .run();
    }
    auto caps = st.get(
        fmt::format("/api/v1/admin/captures?station_id={}&device={}&plate=%E7%B2%A4z00001", p.station, p.cam), admin);
    REQUIRE_MESSAGE(caps.size("captures") == 1, caps);
    CHECK(caps.str("captures.0.image_url") == "https://img/1.jpg");
    CHECK(st.get("/api/v1/admin/captures?space=" + p.cam + "-2", admin).size("captures") == 0);
    CHECK(st.get("/api/v1/admin/captures?from=2000-01-01&to=2001-01-01", admin).size("captures") == 0);
    auto refused = st.get(fmt::format("/api/v1/admin/parking/decisions?station_id={}&allowed=false", p.station), admin);
    REQUIRE(refused.size("decisions") == 1);
    CHECK(refused.str("decisions.0.reason") == "not_nev");
    CHECK(refused.str("decisions.0.image_url") == "https://img/1.jpg");
    CHECK(st.get("/api/v1/admin/parking/decisions", admin).size("decisions") == 2);

    // The audit log has every write.
    for (const char* action : {"admin.spaces.update", "admin.whitelist.add", "admin.whitelist.update",
                               "admin.whitelist.remove", "admin.plates.certify", "admin.reservations.end"}) {
        CAPTURE(action);
        auto audit = st.get(std::string("/api/v1/admin/audit-log?action=") + action, admin);
        CHECK(audit.size("entries") >= 1);
        CHECK(audit.str("entries.0.username") == "admin");
    }
}

TEST_CASE("api parking: a station-scoped operator sees and changes its own stations' parking only") {
    Stack st;
    const auto admin = st.admin();
    const auto mine = park(st, admin, "Mine", "mn");
    const auto theirs = park(st, admin, "Theirs", "th");
    const auto op = st.staff(admin, "op1", "operator", fmt::format(R"("station_ids":[{}])", mine.station));
    auto listed = st.get("/api/v1/admin/spaces", op);
    REQUIRE_MESSAGE(listed.status == 200, listed);
    CHECK(listed.size("spaces") == 4);
    CHECK(listed.str("spaces.0.id") == mine.cam + "-1");
    CHECK(st.get(fmt::format("/api/v1/admin/spaces?station_id={}", theirs.station), op).code() == "not_found");
    CHECK(st.put("/api/v1/admin/spaces/" + theirs.cam + "-1", R"({"name":"x"})", op).code() == "unknown_space");
    CHECK(st.put("/api/v1/admin/spaces/" + mine.cam + "-1", R"({"name":"mine"})", op).status == 200);
    CHECK(st.post("/api/v1/admin/spaces/" + theirs.cam + "-1/lock", R"({"action":"lower"})", op).code() ==
          "unknown_space");
    CHECK(st.post("/api/v1/admin/spaces/" + theirs.cam + "-1/snapshot", "", op).code() == "unknown_space");
    // Whitelist.
    auto w = st.post("/api/v1/admin/whitelist",
                     fmt::format(R"({{"plate":"粤T00001","station_id":{}}})", theirs.station), admin);
    REQUIRE(w.status == 201);
    CHECK(
        st.post("/api/v1/admin/whitelist", fmt::format(R"({{"plate":"粤T00002","station_id":{}}})", theirs.station), op)
            .code() == "not_found");
    CHECK(st.post("/api/v1/admin/whitelist", fmt::format(R"({{"plate":"粤T00002","station_id":{}}})", mine.station), op)
              .status == 201);
    CHECK(st.put(fmt::format("/api/v1/admin/whitelist/{}", w.i64("id")), R"({"enabled":false})", op).code() ==
          "not_found");
    CHECK(st.request("DELETE", fmt::format("/api/v1/admin/whitelist/{}", w.i64("id")), "", op).code() == "not_found");
    auto wl = st.get("/api/v1/admin/whitelist", op);
    REQUIRE(wl.size("whitelist") == 1);
    CHECK(wl.str("whitelist.0.plate") == "粤T00002");
    CHECK(st.get(fmt::format("/api/v1/admin/whitelist?station_id={}", theirs.station), op).code() == "not_found");
    // Reservations, orders, captures, decisions of the other station stay out of sight.
    const auto rider = rider_with_plate(st, admin, "13500000071", "粤T00071");
    auto res = reserve(st, rider, theirs.cam + "-1", "粤T00071");
    REQUIRE(res.status == 201);
    CHECK(st.get("/api/v1/admin/reservations", op).size("reservations") == 0);
    CHECK(st.get("/api/v1/admin/reservations", admin).size("reservations") == 1);
    CHECK(st.post(fmt::format("/api/v1/admin/reservations/{}/end", res.i64("reservation.id")), "", op).code() ==
          "not_found");
    add_stay(st, theirs.station, theirs.cam, 2, "粤T00071", "paid", 100, 0);
    CHECK(st.get("/api/v1/admin/parking-orders", op).size("orders") == 0);
    CHECK(st.get("/api/v1/admin/parking-orders", admin).size("orders") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/parking-orders?station_id={}", theirs.station), op).code() == "not_found");
    CHECK(st.get("/api/v1/admin/exports/parking-orders", op).body.find("粤T00071") == std::string::npos);
    CHECK(st.get(fmt::format("/api/v1/admin/captures?station_id={}", theirs.station), op).code() == "not_found");
    CHECK(st.get(fmt::format("/api/v1/admin/parking/decisions?station_id={}", theirs.station), op).code() ==
          "not_found");
}

TEST_CASE("api parking: lock and snapshot go to parkingd; no answer is 504 timeout, an unknown space 404") {
    StackOptions o;
    o.sets = {"pilehub-api.command_timeout_ms=400"};
    Stack st(o);
    const auto admin = st.admin();
    const auto p = park(st, admin, "Locks", "lk");
    const auto space = p.cam + "-1";
    auto none = st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"lower"})", admin);
    CHECK(none.status == 504);
    CHECK(none.code() == "timeout");
    CHECK(st.post("/api/v1/admin/spaces/" + space + "/snapshot", "", admin).code() == "timeout");
    CHECK(st.post("/api/v1/admin/spaces/nope-1/lock", R"({"action":"lower"})", admin).code() == "unknown_space");
    CHECK(st.post("/api/v1/admin/spaces/" + p.cp + "-1/snapshot", "", admin).code() == "unknown_space");
    CHECK(st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"up"})", admin).code() == "invalid_request");

    FakeParkingd fake(st.broker());
    auto lowered = st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"lower"})", admin);
    REQUIRE_MESSAGE(lowered.status == 200, lowered);
    CHECK(lowered.str("space") == space);
    CHECK(lowered.str("lock.st") == "lowered");
    CHECK_FALSE(lowered.boolean("lock.alarm"));
    CHECK(fake.last_operator() == "admin");
    auto snap = st.post("/api/v1/admin/spaces/" + space + "/snapshot", "", admin);
    REQUIRE_MESSAGE(snap.status == 200, snap);
    CHECK(snap.i64("capture.id") == 31);
    CHECK(snap.str("capture.image_url") == "https://img.example/" + space);

    fake.refuse("rejected", "device_offline", "the camera is offline");
    auto offline = st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"raise"})", admin);
    CHECK(offline.status == 503);
    CHECK(offline.code() == "device_offline");
    fake.refuse("rejected", "unknown_space");
    CHECK(st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"raise"})", admin).code() == "unknown_space");
    fake.refuse("failed", "lock_jammed", "the lock jammed");
    auto failed = st.post("/api/v1/admin/spaces/" + space + "/lock", R"({"action":"raise"})", admin);
    CHECK(failed.status == 502);
    CHECK(failed.code() == "device_failed");
    CHECK(failed.str("error.message") == "the lock jammed");
    CHECK(st.post("/api/v1/admin/spaces/" + space + "/snapshot", "", admin).code() == "device_failed");
    CHECK(st.get("/api/v1/admin/audit-log?action=admin.spaces.lock", admin).size("entries") == 1);
}

TEST_CASE("api parking: the OpenAPI document lists every parking route") {
    Stack st;
    auto doc = st.get("/api/v1/openapi.json");
    REQUIRE(doc.status == 200);
    const auto& paths = doc.json["paths"];
    const std::vector<std::pair<std::string, std::string>> routes{
        {"/api/v1/me/plates", "get"},
        {"/api/v1/me/plates", "post"},
        {"/api/v1/me/plates/{plate}", "delete"},
        {"/api/v1/stations/{id}/spaces", "get"},
        {"/api/v1/reservations", "post"},
        {"/api/v1/reservations", "get"},
        {"/api/v1/reservations/{id}", "get"},
        {"/api/v1/reservations/{id}/cancel", "post"},
        {"/api/v1/parking/orders", "get"},
        {"/api/v1/admin/spaces", "get"},
        {"/api/v1/admin/spaces/{id}", "put"},
        {"/api/v1/admin/spaces/{id}/lock", "post"},
        {"/api/v1/admin/spaces/{id}/snapshot", "post"},
        {"/api/v1/admin/captures", "get"},
        {"/api/v1/admin/whitelist", "get"},
        {"/api/v1/admin/whitelist", "post"},
        {"/api/v1/admin/whitelist/{id}", "put"},
        {"/api/v1/admin/whitelist/{id}", "delete"},
        {"/api/v1/admin/plates/{plate}/certify", "post"},
        {"/api/v1/admin/plates", "get"},
        {"/api/v1/admin/reservations", "get"},
        {"/api/v1/admin/reservations/{id}/end", "post"},
        {"/api/v1/admin/parking-orders", "get"},
        {"/api/v1/admin/exports/parking-orders", "get"},
        {"/api/v1/admin/parking/decisions", "get"},
    };
    for (const auto& [path, method] : routes) {
        CAPTURE(path);
        CAPTURE(method);
        REQUIRE(paths.HasMember(path.c_str()));
        CHECK(paths[path.c_str()].HasMember(method.c_str()));
    }
    std::set<std::string> codes;
    for (const auto& e :
         doc.json["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"].GetArray())
        codes.insert(e.GetString());
    for (const char* c : {"unknown_space", "space_busy", "reservation_limit", "plate_not_certified", "plate_taken",
                          "space_reserved", "device_failed"})
        CHECK(codes.count(c) == 1);
}

TEST_CASE("api parking e2e: the real parkingd lowers a simulated camera's lock and takes a snapshot for the "
          "operator") {
    if (!all_built({"parkingd", "pilehub-sim"}))
        return;
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Parking E2E");
    auto cam = st.device(admin, "e2e-cam", station, 2, "camera");
    {
        std::ofstream f(st.dir() + "/fleet.json");
        f << fmt::format(R"({{"devices":[{{"id":"e2e-cam","kind":"camera","spaces":2,"password":"{}"}}]}})",
                         cam.str("mqtt_password"));
    }
    Worker parkingd(st, "parkingd");
    auto sim = spawn_sim(st, 10);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return st.get(fmt::format("/api/v1/admin/spaces?station_id={}", station), admin)
                                .boolean("spaces.0.camera_online");
                        },
                        20s),
                    "the simulated camera never came online:\n"
                        << tail(slurp(st.dir() + "/sim.log")));
    // parkingd raises the free spaces' locks first (the simulator starts them down); a command that
    // meets a moving lock is answered busy and waits for parkingd's next send.
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            auto sp = st.get(fmt::format("/api/v1/admin/spaces?station_id={}", station), admin);
                            return sp.str("spaces.0.lock.st") == "raised" && sp.str("spaces.1.lock.st") == "raised";
                        },
                        20s),
                    tail(slurp(st.dir() + "/parkingd.log")));
    auto lowered = st.post("/api/v1/admin/spaces/e2e-cam-1/lock", R"({"action":"lower"})", admin);
    REQUIRE_MESSAGE(lowered.status == 200, lowered << "\n" << tail(slurp(st.dir() + "/parkingd.log")));
    CHECK(lowered.str("space") == "e2e-cam-1");
    CHECK(lowered.str("lock.st") == "lowered");
    auto snap = st.post("/api/v1/admin/spaces/e2e-cam-2/snapshot", "", admin);
    REQUIRE_MESSAGE(snap.status == 200, snap << "\n" << tail(slurp(st.dir() + "/parkingd.log")));
    CHECK(snap.i64("capture.id") > 0);
    CHECK_FALSE(snap.str("capture.image_url").empty());
    auto caps = st.get("/api/v1/admin/captures?device=e2e-cam", admin);
    CHECK(caps.size("captures") >= 1);

    // An NEV car nobody registered parks on space 2: parkingd leaves its stay unpaid; once its owner
    // registers the plate, their next recharge pays it, once.
    constexpr const char* kPaidParking = R"({"tariff": {
      "name": "Paid parking", "timezone": "Asia/Shanghai", "modes": ["time"],
      "time": {"fen_per_hour": 100, "options_minutes": [60]},
      "parking": {"free_minutes": 0, "fen_per_hour": 36000, "raise_delay_s": 1}}})";
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), kPaidParking, admin).status == 200);
    auto control = [&](const std::string& line) { std::ofstream(st.dir() + "/sim/control") << line << "\n"; };
    const std::string plate = "粤BD77777";
    control("plate e2e-cam 2 " + plate + " in green");
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return st.get(fmt::format("/api/v1/admin/spaces?station_id={}", station), admin)
                                       .str("spaces.1.lock.st") == "lowered";
                        },
                        10s),
                    tail(slurp(st.dir() + "/parkingd.log")));
    std::this_thread::sleep_for(3s);
    control("plate e2e-cam 2 " + plate + " out");
    Http order;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            order = st.get(fmt::format("/api/v1/admin/parking-orders?station_id={}", station), admin);
                            return order.size("orders") == 1 && order.str("orders.0.state") == "unpaid";
                        },
                        10s),
                    order << "\n"
                          << tail(slurp(st.dir() + "/parkingd.log")));
    const auto owed = order.i64("orders.0.owed_fen");
    CHECK(owed >= 30); // at least 3 s at 10 fen a second
    const auto rider = st.rider("13500000077");
    REQUIRE(st.post("/api/v1/me/plates", fmt::format(R"({{"plate":"{}","color":"green"}})", plate), rider).status ==
            201);
    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":5000})", rider);
    REQUIRE_MESSAGE(pay.status == 201, pay);
    REQUIRE(st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", rider).status == 200);
    auto mine = st.get("/api/v1/parking/orders", rider);
    REQUIRE(mine.size("orders") == 1);
    CHECK(mine.str("orders.0.state") == "paid");
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 5000 - owed);
    CHECK(st.get("/api/v1/wallet/ledger", rider).str("entries.0.kind") == "parking");

    // Clock sync and reboot reach a camera as they reach piles (through sessiond's device commands).
    Worker sessiond(st, "sessiond");
    auto synced = st.post("/api/v1/admin/devices/e2e-cam/commands/set_time", "{}", admin);
    REQUIRE_MESSAGE(synced.status == 200, synced << "\n" << tail(slurp(st.dir() + "/sessiond.log")));
    CHECK(synced.str("status") == "ok");
    auto rebooted = st.post("/api/v1/admin/devices/e2e-cam/commands/reboot", "{}", admin);
    REQUIRE_MESSAGE(rebooted.status == 200, rebooted);
    CHECK(rebooted.str("status") == "ok");
    sim.stop();
}
