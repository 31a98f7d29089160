#include "web-api/parking_store.hpp"

#include "web-api/report_store.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

// Every list takes its stations in scope as a JSON array (NULL: every station), so a scoped
// operator's page counts its own stations' rows only.
#define PH_IN_SCOPE(col, n) "(?" #n " IS NULL OR " col " IN (SELECT value FROM json_each(?" #n ")))"
#define PH_ACTIVE "('reserved', 'occupying')"

constexpr const char* kPlateCols = "SELECT p.plate, p.account_id, a.phone, p.color, p.certified, p.certified_by, "
                                   "p.certified_at, p.created_at FROM plates p JOIN accounts a ON a.id = p.account_id ";
constexpr const char* kAddPlate = "INSERT INTO plates(plate, account_id, color, created_at) VALUES (?, ?, ?, ?) "
                                  "ON CONFLICT(plate) DO NOTHING";
constexpr const char* kPlateHeld =
    "SELECT 1 FROM reservations WHERE account_id = ? AND plate = ? AND state IN " PH_ACTIVE;
constexpr const char* kRemovePlate = "DELETE FROM plates WHERE plate = ? AND account_id = ?";
constexpr const char* kCertify = "UPDATE plates SET certified = 1, certified_by = ?, certified_at = ? WHERE plate = ?";
constexpr const char* kPlates = "SELECT p.plate, p.account_id, a.phone, p.color, p.certified, p.certified_by, "
                                "p.certified_at, p.created_at FROM plates p JOIN accounts a ON a.id = p.account_id "
                                "WHERE (?1 IS NULL OR p.certified = ?1) AND " PH_IN_SCOPE(
                                    "a.home_station_id", 2) " ORDER BY p.created_at DESC, p.plate LIMIT ?3 OFFSET ?4";

constexpr const char* kSpaceCols =
    "SELECT x.device_id, x.n, d.station_id, d.area_id, x.label, x.has_lock, x.ev_gun, x.enabled, "
    "d.lifecycle = 'installed' AND d.enabled AND coalesce(ar.enabled, 1) AND s.enabled, "
    "coalesce(ss.occupied, 0) OR EXISTS (SELECT 1 FROM occupancies o WHERE o.camera_id = x.device_id AND "
    "o.space = x.n AND o.state = 'open'), r.state, r.account_id, coalesce(ss.lock_st, 'unknown'), "
    "coalesce(ss.lock_alarm, 0), f.cause, f.detail, f.opened_at, x.side "
    "FROM spaces x JOIN devices d ON d.id = x.device_id JOIN stations s ON s.id = d.station_id "
    "LEFT JOIN areas ar ON ar.id = d.area_id "
    "LEFT JOIN space_states ss ON ss.camera_id = x.device_id AND ss.space = x.n "
    "LEFT JOIN reservations r ON r.camera_id = x.device_id AND r.space = x.n AND r.state IN " PH_ACTIVE " "
    "LEFT JOIN lock_faults f ON f.camera_id = x.device_id AND f.space = x.n AND f.closed_at IS NULL ";
constexpr const char* kUpdateSpace =
    "UPDATE spaces SET label = ?, has_lock = ?, ev_gun = ?, enabled = ?, side = ? WHERE device_id = ? AND n = ?";
constexpr const char* kGunAtStation = "SELECT 1 FROM guns g JOIN devices d ON d.id = g.device_id WHERE g.device_id = ? "
                                      "AND g.n = ? AND d.kind = 'ev_charger' AND d.station_id = ?";
constexpr const char* kGunReservedBy = "SELECT r.account_id FROM spaces x JOIN reservations r ON r.camera_id = "
                                       "x.device_id AND r.space = x.n AND r.state IN " PH_ACTIVE " WHERE x.ev_gun = ?";

constexpr const char* kSpaceTaken =
    "SELECT 1 FROM reservations WHERE camera_id = ?1 AND space = ?2 AND state IN " PH_ACTIVE
    " UNION ALL SELECT 1 FROM occupancies WHERE camera_id = ?1 AND space = ?2 AND state = 'open' "
    "UNION ALL SELECT 1 FROM space_states WHERE camera_id = ?1 AND space = ?2 AND occupied = 1";
constexpr const char* kAccountHolds = "SELECT 1 FROM reservations WHERE account_id = ? AND state IN " PH_ACTIVE;
constexpr const char* kAddReservation =
    "INSERT INTO reservations(account_id, station_id, camera_id, space, plate, state, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?) RETURNING id";
constexpr const char* kReservationCols =
    "SELECT r.id, r.account_id, a.phone, r.station_id, r.camera_id, r.space, r.plate, r.state, r.created_at, "
    "r.expires_at, r.arrived_at, r.ended_at, r.ended_by, r.occupancy_id FROM reservations r "
    "JOIN accounts a ON a.id = r.account_id ";
constexpr const char* kReservationFilter =
    "WHERE (?1 IS NULL OR r.account_id = ?1) AND (?2 IS NULL OR r.station_id = ?2) AND " PH_IN_SCOPE(
        "r.station_id", 3) " AND (?4 = '' OR r.state = ?4 OR (?4 = 'active' AND r.state IN " PH_ACTIVE ")) "
                           "ORDER BY r.created_at DESC, r.id DESC LIMIT ?5 OFFSET ?6";
constexpr const char* kEndReservation =
    "UPDATE reservations SET state = ?, ended_at = ?, ended_by = ? WHERE id = ? AND state IN (SELECT value FROM "
    "json_each(?))";

constexpr const char* kOrders =
    "SELECT o.id, o.station_id, o.camera_id, o.space, o.plate, o.color, o.whitelisted, o.reservation_id, "
    "o.account_id, o.arrived_at, o.left_at, o.paid_at, o.duration_s, o.charging_s, o.billable_s, o.fee_fen, "
    "o.owed_fen, o.state FROM occupancies o "
    "WHERE (?1 IS NULL OR o.plate IN (SELECT plate FROM plates WHERE account_id = ?1)) "
    "AND (?2 IS NULL OR o.station_id = ?2) AND " PH_IN_SCOPE(
        "o.station_id", 3) " AND (?4 = '' OR o.state = ?4) AND (?5 IS NULL OR o.arrived_at >= ?5) AND (?6 IS NULL OR "
                           "o.arrived_at < ?6) "
                           "ORDER BY o.arrived_at DESC, o.id DESC LIMIT ?7 OFFSET ?8";

constexpr const char* kCaptures =
    "SELECT c.id, c.station_id, c.camera_id, c.space, c.source, c.plate, c.color, c.direction, c.confidence, "
    "c.image_url, c.at FROM captures c WHERE (?1 IS NULL OR c.station_id = ?1) AND " PH_IN_SCOPE(
        "c.station_id",
        2) " AND (?3 = '' OR c.camera_id = ?3) AND (?4 IS NULL OR c.space = ?4) AND (?5 = '' OR c.plate = ?5) "
           "AND (?6 IS NULL OR c.at >= ?6) AND (?7 IS NULL OR c.at < ?7) ORDER BY c.at DESC, c.id DESC LIMIT ?8 OFFSET "
           "?9";

constexpr const char* kDecisions =
    "SELECT p.id, p.station_id, p.camera_id, p.space, p.plate, p.color, p.allowed, p.reason, p.capture_id, "
    "p.occupancy_id, c.image_url, p.at FROM parking_decisions p LEFT JOIN captures c ON c.id = p.capture_id "
    "WHERE (?1 IS NULL OR p.station_id = ?1) AND " PH_IN_SCOPE(
        "p.station_id", 2) " AND (?3 IS NULL OR p.allowed = ?3) ORDER BY p.at DESC, p.id DESC LIMIT ?4 OFFSET ?5";

constexpr const char* kWhitelistCols =
    "SELECT id, station_id, plate, note, enabled, created_by, created_at FROM parking_whitelist ";
constexpr const char* kWhitelist = "SELECT id, station_id, plate, note, enabled, created_by, created_at FROM "
                                   "parking_whitelist WHERE (?1 IS NULL OR station_id = ?1) AND " PH_IN_SCOPE(
                                       "station_id", 2) " ORDER BY station_id, plate";
constexpr const char* kAddWhitelist =
    "INSERT INTO parking_whitelist(station_id, plate, note, enabled, created_by, created_at) VALUES (?, ?, ?, 1, ?, ?) "
    "ON CONFLICT(station_id, plate) DO NOTHING RETURNING id";
constexpr const char* kUpdateWhitelist = "UPDATE parking_whitelist SET enabled = ?, note = ? WHERE id = ?";
constexpr const char* kRemoveWhitelist = "DELETE FROM parking_whitelist WHERE id = ?";

static_assert(std::string_view(PH_ACTIVE) == parking::kActiveReservationSql, "the active states of schema/core/009");
#undef PH_IN_SCOPE
#undef PH_ACTIVE

std::optional<std::int64_t> flag(std::optional<bool> b) {
    if (!b)
        return std::nullopt;
    return *b ? 1 : 0;
}

PlateRow read_plate(db::Statement& st) {
    PlateRow p;
    p.plate = st.text(0);
    p.account_id = st.int64(1);
    p.phone = st.text(2);
    p.color = st.text(3);
    p.certified = st.int64(4) != 0;
    p.certified_by = st.opt_text(5);
    p.certified_at = st.opt_int64(6);
    p.created_at = st.int64(7);
    return p;
}

SpaceRow read_space(db::Statement& st) {
    SpaceRow s;
    s.id = parking::SpaceId{st.text(0), static_cast<int>(st.int64(1))};
    s.station_id = st.int64(2);
    s.area_id = st.opt_int64(3);
    s.name = st.text(4);
    s.has_lock = st.int64(5) != 0;
    s.ev_gun = st.opt_text(6);
    s.enabled = st.int64(7) != 0;
    s.camera_enabled = st.int64(8) != 0;
    s.occupied = st.int64(9) != 0;
    s.reservation_state = st.opt_text(10);
    s.reserved_by = st.opt_int64(11);
    s.lock_st = st.text(12);
    s.lock_alarm = st.int64(13) != 0;
    s.fault_cause = st.opt_text(14);
    s.fault_detail = st.opt_text(15).value_or("");
    s.fault_opened_at = st.opt_int64(16);
    s.side = st.opt_text(17);
    return s;
}

ReservationRow read_reservation(db::Statement& st) {
    ReservationRow r;
    r.id = st.int64(0);
    r.account_id = st.int64(1);
    r.phone = st.text(2);
    r.station_id = st.int64(3);
    r.space = parking::SpaceId{st.text(4), static_cast<int>(st.int64(5))};
    r.plate = st.text(6);
    r.state = st.text(7);
    r.created_at = st.int64(8);
    r.expires_at = st.int64(9);
    r.arrived_at = st.opt_int64(10);
    r.ended_at = st.opt_int64(11);
    r.ended_by = st.opt_text(12);
    r.occupancy_id = st.opt_int64(13);
    return r;
}

OrderRow read_order(db::Statement& st) {
    OrderRow o;
    o.id = st.int64(0);
    o.station_id = st.int64(1);
    o.space = parking::SpaceId{st.text(2), static_cast<int>(st.int64(3))};
    o.plate = st.opt_text(4);
    o.color = st.opt_text(5);
    o.whitelisted = st.int64(6) != 0;
    o.reservation_id = st.opt_int64(7);
    o.account_id = st.opt_int64(8);
    o.arrived_at = st.int64(9);
    o.left_at = st.opt_int64(10);
    o.paid_at = st.opt_int64(11);
    o.duration_s = st.opt_int64(12);
    o.charging_s = st.opt_int64(13);
    o.billable_s = st.opt_int64(14);
    o.fee_fen = st.opt_int64(15);
    o.owed_fen = st.int64(16);
    o.state = st.text(17);
    return o;
}

WhitelistRow read_whitelist(db::Statement& st) {
    return WhitelistRow{st.int64(0), st.int64(1), st.text(2), st.text(3), st.int64(4) != 0, st.text(5), st.int64(6)};
}

bool exists(db::Statement& st) {
    return st.step();
}

} // namespace

std::string_view space_state(const SpaceRow& s) {
    if (!s.enabled || !s.camera_enabled)
        return "disabled";
    if (s.reservation_state == parking::to_string(parking::ReservationState::Reserved))
        return "reserved";
    if (s.occupied)
        return "occupied";
    return "free";
}

// ---- plates ----

std::vector<PlateRow> ParkingStore::plates_of(std::int64_t account_id) {
    db::Statement st(db_, std::string(kPlateCols) + "WHERE p.account_id = ? ORDER BY p.created_at, p.plate");
    st.bind_all(account_id);
    std::vector<PlateRow> out;
    while (st.step())
        out.push_back(read_plate(st));
    return out;
}

std::optional<PlateRow> ParkingStore::plate(const std::string& plate) {
    db::Statement st(db_, std::string(kPlateCols) + "WHERE p.plate = ?");
    st.bind_all(plate);
    if (!st.step())
        return std::nullopt;
    return read_plate(st);
}

PlateAdded ParkingStore::add_plate(std::int64_t account_id, const std::string& plate, const std::string& color,
                                   EpochMs now) {
    if (db::Statement(db_, kAddPlate).bind_all(plate, account_id, color, now).run() == 1)
        return PlateAdded::Added;
    const auto held = this->plate(plate);
    return held && held->account_id == account_id ? PlateAdded::AlreadyMine : PlateAdded::Taken;
}

PlateRemoved ParkingStore::remove_plate(std::int64_t account_id, const std::string& plate) {
    db::Transaction tx(db_);
    db::Statement held(db_, kPlateHeld);
    held.bind_all(account_id, plate);
    if (exists(held))
        return PlateRemoved::Reserved;
    if (db::Statement(db_, kRemovePlate).bind_all(plate, account_id).run() != 1)
        return PlateRemoved::NotMine;
    tx.commit();
    return PlateRemoved::Removed;
}

bool ParkingStore::certify(const std::string& plate, const std::string& by, EpochMs now) {
    return db::Statement(db_, kCertify).bind_all(by, now, plate).run() == 1;
}

std::vector<PlateRow> ParkingStore::plates(std::optional<bool> certified, const StationScope& scope, std::int64_t limit,
                                           std::int64_t offset) {
    db::Statement st(db_, kPlates);
    st.bind_all(flag(certified), scope_json(scope, std::nullopt), limit, offset);
    std::vector<PlateRow> out;
    while (st.step())
        out.push_back(read_plate(st));
    return out;
}

// ---- spaces ----

std::optional<SpaceRow> ParkingStore::space(const parking::SpaceId& id) {
    db::Statement st(db_, std::string(kSpaceCols) + "WHERE x.device_id = ? AND x.n = ?");
    st.bind_all(id.camera, id.n);
    if (!st.step())
        return std::nullopt;
    return read_space(st);
}

std::vector<SpaceRow> ParkingStore::spaces(std::optional<std::int64_t> station_id, const StationScope& scope) {
    db::Statement st(db_, std::string(kSpaceCols) +
                              "WHERE (?1 IS NULL OR d.station_id = ?1) AND (?2 IS NULL OR d.station_id IN (SELECT "
                              "value FROM json_each(?2))) ORDER BY d.station_id, x.device_id, x.n");
    st.bind_all(station_id, scope_json(scope, std::nullopt));
    std::vector<SpaceRow> out;
    while (st.step())
        out.push_back(read_space(st));
    return out;
}

void ParkingStore::update_space(const parking::SpaceId& id, const SpaceSettings& s) {
    db::Statement(db_, kUpdateSpace)
        .bind_all(s.name, s.has_lock ? 1 : 0, s.ev_gun, s.enabled ? 1 : 0, s.side, id.camera, id.n)
        .run();
}

bool ParkingStore::gun_at_station(const std::string& device, int n, std::int64_t station_id) {
    db::Statement st(db_, kGunAtStation);
    st.bind_all(device, n, station_id);
    return exists(st);
}

std::optional<std::int64_t> ParkingStore::gun_reserved_by(const std::string& device, int n) {
    db::Statement st(db_, kGunReservedBy);
    st.bind_all(fmt::format("{}-{}", device, n));
    if (!st.step())
        return std::nullopt;
    return st.int64(0);
}

// ---- reservations ----

std::pair<Reserve, std::optional<std::int64_t>> ParkingStore::reserve(const NewReservation& r) {
    // BEGIN IMMEDIATE serialises writers, so the checks below see every committed reservation; the
    // partial unique indexes (one active per account, per space) would refuse a race all the same.
    db::Transaction tx(db_);
    auto refusal = [&]() -> std::optional<Reserve> {
        db::Statement mine(db_, kAccountHolds);
        mine.bind_all(r.account_id);
        if (exists(mine))
            return Reserve::ReservationLimit;
        db::Statement taken(db_, kSpaceTaken);
        taken.bind_all(r.space.camera, r.space.n);
        if (exists(taken))
            return Reserve::SpaceBusy;
        return std::nullopt;
    };
    if (const auto why = refusal())
        return {*why, std::nullopt};
    std::int64_t id = 0;
    try {
        db::Statement ins(db_, kAddReservation);
        ins.bind_all(r.account_id, r.station_id, r.space.camera, r.space.n, r.plate, r.now, r.expires_at);
        ins.step();
        id = ins.int64(0);
    } catch (const db::Error& e) {
        if (!e.is_constraint())
            throw;
        return {refusal().value_or(Reserve::SpaceBusy), std::nullopt};
    }
    tx.commit();
    return {Reserve::Created, id};
}

std::optional<ReservationRow> ParkingStore::reservation(std::int64_t id) {
    db::Statement st(db_, std::string(kReservationCols) + "WHERE r.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_reservation(st);
}

std::vector<ReservationRow> ParkingStore::reservations(const ReservationFilter& f) {
    db::Statement st(db_, std::string(kReservationCols) + kReservationFilter);
    st.bind_all(f.account_id, f.station_id, scope_json(f.scope, std::nullopt), f.state, f.limit, f.offset);
    std::vector<ReservationRow> out;
    while (st.step())
        out.push_back(read_reservation(st));
    return out;
}

bool ParkingStore::end_reservation(std::int64_t id, const std::vector<parking::ReservationState>& from,
                                   parking::ReservationState to, const std::string& by, EpochMs now) {
    std::string states = "[";
    for (auto s : from)
        states += fmt::format("{}\"{}\"", states.size() > 1 ? "," : "", parking::to_string(s));
    states += "]";
    return db::Statement(db_, kEndReservation)
               .bind_all(std::string(parking::to_string(to)), now, by, id, states)
               .run() == 1;
}

// ---- orders, captures, decisions ----

std::vector<OrderRow> ParkingStore::orders(const OrderFilter& f) {
    db::Statement st(db_, kOrders);
    st.bind_all(f.holder, f.station_id, scope_json(f.scope, std::nullopt), f.state, f.from, f.to, f.limit, f.offset);
    std::vector<OrderRow> out;
    while (st.step())
        out.push_back(read_order(st));
    return out;
}

std::vector<CaptureRow> ParkingStore::captures(const CaptureFilter& f) {
    db::Statement st(db_, kCaptures);
    st.bind_all(f.station_id, scope_json(f.scope, std::nullopt), f.device,
                f.space ? std::optional<std::int64_t>(*f.space) : std::nullopt, f.plate, f.from, f.to, f.limit,
                f.offset);
    std::vector<CaptureRow> out;
    while (st.step()) {
        CaptureRow c;
        c.id = st.int64(0);
        c.station_id = st.int64(1);
        c.camera_id = st.text(2);
        c.space = static_cast<int>(st.int64(3));
        c.source = st.text(4);
        c.plate = st.opt_text(5);
        c.color = st.opt_text(6);
        c.direction = st.opt_text(7);
        c.confidence = st.opt_int64(8);
        c.image_url = st.text(9);
        c.at = st.int64(10);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<DecisionRow> ParkingStore::decisions(const DecisionFilter& f) {
    db::Statement st(db_, kDecisions);
    st.bind_all(f.station_id, scope_json(f.scope, std::nullopt), flag(f.allowed), f.limit, f.offset);
    std::vector<DecisionRow> out;
    while (st.step()) {
        DecisionRow d;
        d.id = st.int64(0);
        d.station_id = st.int64(1);
        d.space = parking::SpaceId{st.text(2), static_cast<int>(st.int64(3))};
        d.plate = st.opt_text(4);
        d.color = st.opt_text(5);
        d.allowed = st.int64(6) != 0;
        d.reason = st.text(7);
        d.capture_id = st.opt_int64(8);
        d.occupancy_id = st.opt_int64(9);
        d.image_url = st.opt_text(10);
        d.at = st.int64(11);
        out.push_back(std::move(d));
    }
    return out;
}

// ---- whitelist ----

std::vector<WhitelistRow> ParkingStore::whitelist(std::optional<std::int64_t> station_id, const StationScope& scope) {
    db::Statement st(db_, kWhitelist);
    st.bind_all(station_id, scope_json(scope, std::nullopt));
    std::vector<WhitelistRow> out;
    while (st.step())
        out.push_back(read_whitelist(st));
    return out;
}

std::optional<WhitelistRow> ParkingStore::whitelist_entry(std::int64_t id) {
    db::Statement st(db_, std::string(kWhitelistCols) + "WHERE id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_whitelist(st);
}

std::optional<std::int64_t> ParkingStore::add_whitelist(const WhitelistRow& w) {
    db::Statement st(db_, kAddWhitelist);
    st.bind_all(w.station_id, w.plate, w.note, w.created_by, w.created_at);
    if (!st.step())
        return std::nullopt;
    return st.int64(0);
}

void ParkingStore::update_whitelist(std::int64_t id, bool enabled, const std::string& note) {
    db::Statement(db_, kUpdateWhitelist).bind_all(enabled ? 1 : 0, note, id).run();
}

void ParkingStore::remove_whitelist(std::int64_t id) {
    db::Statement(db_, kRemoveWhitelist).bind_all(id).run();
}

} // namespace pilehub::api
