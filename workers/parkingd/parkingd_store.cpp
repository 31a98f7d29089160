#include "workers/parkingd/parkingd_store.hpp"

#include "common/socket_code.hpp"

#include <fmt/format.h>

namespace pilehub::parkingd {
namespace {

using parking::SpaceId;

constexpr std::string_view kSpaces =
    "SELECT s.device_id, s.n, d.station_id, d.area_id, s.has_lock, s.enabled AND d.enabled, s.ev_gun "
    "FROM spaces s JOIN devices d ON d.id = s.device_id WHERE d.kind = 'camera' AND d.lifecycle = 'installed' ";
constexpr std::string_view kTracks =
    "SELECT s.device_id, s.n, s.has_lock, st.lock_st, st.lock_alarm, st.raise_due_at, o.id, o.plate, o.color, "
    "o.arrived_at, o.whitelisted FROM spaces s JOIN devices d ON d.id = s.device_id AND d.kind = 'camera' "
    "LEFT JOIN space_states st ON st.camera_id = s.device_id AND st.space = s.n "
    "LEFT JOIN occupancies o ON o.camera_id = s.device_id AND o.space = s.n AND o.state = 'open'";
constexpr std::string_view kSaveTrack =
    "INSERT INTO space_states (camera_id, space, occupied, plate, lock_st, lock_alarm, raise_due_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (camera_id, space) DO UPDATE SET occupied = "
    "excluded.occupied, "
    "plate = excluded.plate, lock_st = excluded.lock_st, lock_alarm = excluded.lock_alarm, "
    "raise_due_at = excluded.raise_due_at, updated_at = excluded.updated_at";
constexpr std::string_view kWhitelisted =
    "SELECT 1 FROM parking_whitelist WHERE station_id = ? AND plate = ? AND enabled = 1";
constexpr std::string_view kReservationOn =
    "SELECT id, account_id, plate, state FROM reservations WHERE camera_id = ? AND space = ? AND state IN "
    "('reserved', 'occupying')";
constexpr std::string_view kReservationArrived =
    "UPDATE reservations SET state = 'occupying', arrived_at = ?2, occupancy_id = ?3 WHERE id = ?1 AND state = "
    "'reserved'";
constexpr std::string_view kReservationCompleted =
    "UPDATE reservations SET state = 'completed', ended_at = ?2, ended_by = 'parkingd' WHERE occupancy_id = ?1 AND "
    "state = 'occupying'";
constexpr std::string_view kTimeOut =
    "UPDATE reservations SET state = 'timed_out', ended_at = ?1, ended_by = 'parkingd' "
    "WHERE state = 'reserved' AND expires_at <= ?1 RETURNING id, camera_id, space";
constexpr std::string_view kOpenStay =
    "INSERT INTO occupancies (station_id, camera_id, space, plate, color, ev_gun, reservation_id, whitelisted, "
    "arrived_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id";
constexpr std::string_view kAttachPlate =
    "UPDATE occupancies SET plate = ?2, color = ?3, whitelisted = ?4 WHERE id = ?1 AND state = 'open'";
// Sessions on the gun that overlap [from, to): each one's charging interval, clipped by the caller.
constexpr std::string_view kGunSessions =
    "SELECT started_at, coalesce(ended_at, ?4) FROM sessions WHERE device_id = ?1 AND n = ?2 "
    "AND started_at IS NOT NULL AND started_at < ?4 AND coalesce(ended_at, ?4) > ?3";
constexpr std::string_view kCloseStay =
    "UPDATE occupancies SET left_at = ?2, duration_s = ?3, charging_s = ?4, billable_s = ?5, fee_fen = ?6, "
    "tariff_id = ?7 WHERE id = ?1";
constexpr std::string_view kDecision =
    "INSERT INTO parking_decisions (station_id, camera_id, space, plate, color, allowed, reason, capture_id, "
    "occupancy_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kCapture =
    "INSERT INTO captures (station_id, camera_id, space, source, plate, color, direction, confidence, image_url, at, "
    "msg_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
constexpr std::string_view kProcessed =
    "INSERT INTO processed_messages (consumer, device_id, msg_id, processed_at) VALUES ('parkingd', ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
constexpr std::string_view kSupersede =
    "UPDATE lock_commands SET state = 'superseded', done_at = ?3 WHERE camera_id = ?1 AND space = ?2 AND state = "
    "'pending'";
constexpr std::string_view kNewLock =
    "INSERT INTO lock_commands (rid, camera_id, space, action, cause, requested_by, state, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)";
constexpr std::string_view kPendingLocks =
    "SELECT camera_id, space, rid, action, attempts, coalesce(sent_at, 0), cause, requested_by FROM lock_commands "
    "WHERE state = 'pending'";
constexpr std::string_view kLockSent = "UPDATE lock_commands SET attempts = ?2, sent_at = ?3 WHERE rid = ?1";
constexpr std::string_view kLockDone =
    "UPDATE lock_commands SET state = ?2, result_st = ?3, code = ?4, msg = ?5, done_at = ?6 WHERE rid = ?1 AND "
    "state = 'pending'";
constexpr std::string_view kOpenFault =
    "INSERT INTO lock_faults (camera_id, space, cause, detail, opened_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
constexpr std::string_view kCloseFault =
    "UPDATE lock_faults SET closed_at = ?3 WHERE camera_id = ?1 AND space = ?2 AND closed_at IS NULL";

std::optional<payloads::LockStatus> lock_status(std::string_view s) {
    using payloads::LockStatus;
    for (auto st :
         {LockStatus::Raised, LockStatus::Lowered, LockStatus::Moving, LockStatus::Fault, LockStatus::Unknown})
        if (payloads::to_string(st) == s)
            return st;
    return std::nullopt;
}

std::optional<payloads::PlateColor> color_of(const std::optional<std::string>& s) {
    return s ? parking::parse_plate_color(*s) : std::nullopt;
}

std::optional<std::string> color_word(payloads::PlateColor c) {
    if (c == payloads::PlateColor::Unknown)
        return std::nullopt;
    return std::string(payloads::to_string(c));
}

SpaceConfig read_space(const db::Statement& st) {
    SpaceConfig s;
    s.id = SpaceId{st.text(0), static_cast<int>(st.int64(1))};
    s.station_id = st.int64(2);
    s.area_id = st.opt_int64(3);
    s.has_lock = st.int64(4) != 0;
    s.enabled = st.int64(5) != 0;
    s.ev_gun = st.opt_text(6);
    return s;
}

} // namespace

std::vector<SpaceConfig> Store::spaces() {
    std::vector<SpaceConfig> out;
    db::Statement st(db_, kSpaces);
    while (st.step())
        out.push_back(read_space(st));
    return out;
}

std::optional<SpaceConfig> Store::space(const SpaceId& id) {
    db::Statement st(db_, std::string(kSpaces) + "AND s.device_id = ? AND s.n = ?");
    st.bind_all(id.camera, id.n);
    if (!st.step())
        return std::nullopt;
    return read_space(st);
}

std::vector<std::pair<SpaceId, Track>> Store::tracks() {
    std::vector<std::pair<SpaceId, Track>> out;
    db::Statement st(db_, kTracks);
    while (st.step()) {
        Track t;
        t.has_lock = st.int64(2) != 0;
        if (const auto l = st.opt_text(3))
            t.lock.st = lock_status(*l).value_or(payloads::LockStatus::Unknown);
        t.lock.alarm = st.opt_int64(4).value_or(0) != 0;
        t.raise_due_at = st.opt_int64(5);
        if (const auto id = st.opt_int64(6)) {
            Stay s;
            s.id = *id;
            s.plate = st.opt_text(7);
            s.color = color_of(st.opt_text(8)).value_or(payloads::PlateColor::Unknown);
            s.arrived_at = st.int64(9);
            s.whitelisted = st.int64(10) != 0;
            t.stay = s;
        }
        out.emplace_back(SpaceId{st.text(0), static_cast<int>(st.int64(1))}, t);
    }
    return out;
}

void Store::save_track(const SpaceId& id, const Track& t, bool occupied, EpochMs now) {
    db::Statement(db_, kSaveTrack)
        .bind_all(id.camera, id.n, occupied ? 1 : 0, t.stay ? t.stay->plate : std::nullopt,
                  std::string(payloads::to_string(t.lock.st)), t.lock.alarm ? 1 : 0, t.raise_due_at, now)
        .run();
}

bool Store::whitelisted(std::int64_t station_id, const std::string& plate) {
    db::Statement st(db_, kWhitelisted);
    st.bind_all(station_id, plate);
    return st.step();
}

std::optional<ActiveReservation> Store::reservation_on(const SpaceId& id) {
    db::Statement st(db_, kReservationOn);
    st.bind_all(id.camera, id.n);
    if (!st.step())
        return std::nullopt;
    return ActiveReservation{
        st.int64(0), st.int64(1), st.text(2),
        parking::parse_reservation_state(st.text(3)).value_or(parking::ReservationState::Reserved)};
}

void Store::reservation_arrived(std::int64_t reservation_id, std::int64_t occupancy_id, EpochMs at) {
    db::Statement(db_, kReservationArrived).bind_all(reservation_id, at, occupancy_id).run();
}

void Store::reservation_completed(std::int64_t occupancy_id, EpochMs at) {
    db::Statement(db_, kReservationCompleted).bind_all(occupancy_id, at).run();
}

std::vector<TimedOut> Store::time_out_reservations(EpochMs now) {
    std::vector<TimedOut> out;
    db::Statement st(db_, kTimeOut);
    st.bind(1, now);
    while (st.step())
        out.push_back(TimedOut{st.int64(0), SpaceId{st.text(1), static_cast<int>(st.int64(2))}});
    return out;
}

std::pair<billing::ParkingPricing, std::optional<std::int64_t>> Store::parking_pricing(const SpaceConfig& s,
                                                                                       EpochMs at) {
    // A space has no device of its own: its area's or its station's tariff prices it.
    const auto choice = tariffs_.in_force(s.station_id, s.area_id, std::nullopt, at);
    if (choice.tariff && choice.tariff->parking)
        return {*choice.tariff->parking, choice.id};
    return {parking::default_parking(), choice.id};
}

std::int64_t Store::open_stay(const SpaceConfig& s, const Stay& stay, std::optional<std::int64_t> reservation_id) {
    db::Statement st(db_, kOpenStay);
    st.bind_all(s.station_id, s.id.camera, s.id.n, stay.plate, color_word(stay.color), s.ev_gun, reservation_id,
                stay.whitelisted ? 1 : 0, stay.arrived_at);
    st.step();
    return st.int64(0);
}

void Store::attach_plate(std::int64_t occupancy_id, const std::string& plate, payloads::PlateColor color,
                         bool whitelisted) {
    db::Statement(db_, kAttachPlate).bind_all(occupancy_id, plate, color_word(color), whitelisted ? 1 : 0).run();
}

std::int64_t Store::charging_s(const std::string& ev_gun, EpochMs from, EpochMs to) {
    const auto gun = sockets::parse_socket_code(ev_gun);
    if (!gun)
        return 0;
    std::int64_t total = 0;
    db::Statement st(db_, kGunSessions);
    st.bind_all(gun->device_id, gun->n, from, to);
    while (st.step())
        total += parking::overlap_s(from, to, st.int64(0), st.int64(1));
    return total;
}

void Store::close_stay(std::int64_t occupancy_id, EpochMs left_at, const parking::Fee& fee,
                       std::optional<std::int64_t> tariff_id) {
    db::Statement(db_, kCloseStay)
        .bind_all(occupancy_id, left_at, fee.duration_s, fee.charging_s, fee.billable_s, fee.fee_fen.value(), tariff_id)
        .run();
}

void Store::record_decision(const SpaceConfig& s, const std::optional<std::string>& plate, payloads::PlateColor color,
                            const Decision& d, std::optional<std::int64_t> capture_id,
                            std::optional<std::int64_t> occupancy_id, EpochMs at) {
    db::Statement(db_, kDecision)
        .bind_all(s.station_id, s.id.camera, s.id.n, plate, color_word(color), d.allowed ? 1 : 0,
                  std::string(to_string(d.reason)), capture_id, occupancy_id, at)
        .run();
}

std::int64_t Store::record_capture(const Capture& c) {
    db::Statement st(db_, kCapture);
    st.bind_all(c.station_id, c.camera, c.space, c.source, c.plate, c.color, c.direction,
                c.confidence ? std::optional<std::int64_t>(*c.confidence) : std::nullopt, c.image_url, c.at, c.msg_id);
    st.step();
    return st.int64(0);
}

bool Store::first_time(const std::string& device, const std::string& msg_id, EpochMs now) {
    db::Statement(db_, kProcessed).bind_all(device, msg_id, now).run();
    return db_.changes() == 1;
}

void Store::new_lock_command(const SpaceId& id, const LockCommand& c, std::string_view cause,
                             std::string_view requested_by, EpochMs now) {
    db::Statement(db_, kSupersede).bind_all(id.camera, id.n, now).run();
    db::Statement(db_, kNewLock)
        .bind_all(c.rid, id.camera, id.n, std::string(payloads::to_string(c.action)), std::string(cause),
                  std::string(requested_by), now)
        .run();
}

std::vector<StoredLockCommand> Store::pending_lock_commands() {
    std::vector<StoredLockCommand> out;
    db::Statement st(db_, kPendingLocks);
    while (st.step()) {
        StoredLockCommand c;
        c.space = SpaceId{st.text(0), static_cast<int>(st.int64(1))};
        c.cmd.rid = st.text(2);
        c.cmd.action = st.text(3) == "lower" ? payloads::LockAction::Lower : payloads::LockAction::Raise;
        c.cmd.attempts = static_cast<int>(st.int64(4));
        c.cmd.sent_at = st.int64(5);
        c.cause = st.text(6);
        c.requested_by = st.text(7);
        out.push_back(std::move(c));
    }
    return out;
}

void Store::lock_sent(const std::string& rid, int attempts, EpochMs at) {
    db::Statement(db_, kLockSent).bind_all(rid, attempts, at).run();
}

void Store::lock_done(const std::string& rid, bool ok, std::optional<payloads::LockStatus> st, const std::string& code,
                      const std::string& msg, EpochMs at) {
    db::Statement(db_, kLockDone)
        .bind_all(rid, std::string(ok ? "ok" : "failed"),
                  st ? std::optional<std::string>(std::string(payloads::to_string(*st))) : std::nullopt,
                  code.empty() ? std::nullopt : std::optional<std::string>(code),
                  msg.empty() ? std::nullopt : std::optional<std::string>(msg), at)
        .run();
}

bool Store::open_fault(const SpaceId& id, std::string_view cause, const std::string& detail, EpochMs at) {
    db::Statement(db_, kOpenFault).bind_all(id.camera, id.n, std::string(cause), detail, at).run();
    return db_.changes() == 1;
}

bool Store::close_fault(const SpaceId& id, EpochMs at) {
    db::Statement(db_, kCloseFault).bind_all(id.camera, id.n, at).run();
    return db_.changes() > 0;
}

} // namespace pilehub::parkingd
