#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/parking.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Parking as the API reads and writes it (CONTRACT E.2, E.3; schema/core/009_parking.sql): the
/// configuration operators and riders write (space settings, plates and their certification, the
/// whitelist, a reservation's creation, cancellation and end) and what parkingd recorded
/// (occupancies and their fees, captures, lock decisions, space states, lock faults), read. All SQL
/// of these tables in the API lives here.
namespace pilehub::api {

/// Stations in scope (nullopt: every station), as list filters take them.
using StationScope = std::optional<std::set<std::int64_t>>;

/// A rider's plate (`plates`), with the holder's phone.
struct PlateRow {
    std::string plate; ///< normalised
    std::int64_t account_id = 0;
    std::string phone;
    std::string color;
    bool certified = false;
    std::optional<std::string> certified_by;
    std::optional<EpochMs> certified_at;
    EpochMs created_at = 0;
};

/// What became of a rider's request to register a plate.
enum class PlateAdded { Added, AlreadyMine, Taken };
/// What became of a rider's request to remove a plate.
enum class PlateRemoved { Removed, NotMine, Reserved };

/// A space with everything its state is read from.
struct SpaceRow {
    parking::SpaceId id;
    std::int64_t station_id = 0;
    std::optional<std::int64_t> area_id;
    std::string name; ///< `spaces.label`
    bool has_lock = true;
    std::optional<std::string> ev_gun;
    bool enabled = true;                          ///< the space itself
    bool camera_enabled = true;                   ///< its camera (and the camera's area and station)
    bool occupied = false;                        ///< space_states.occupied, or an open occupancy
    std::optional<std::string> reservation_state; ///< its active reservation's state, if any
    std::optional<std::int64_t> reserved_by;      ///< that reservation's account
    std::string lock_st = "unknown";              ///< space_states.lock_st (unknown before parkingd saw it)
    bool lock_alarm = false;
    std::optional<std::string> fault_cause; ///< its open lock fault, if any
    std::string fault_detail;
    std::optional<EpochMs> fault_opened_at;
    std::optional<std::string> side; ///< which side of its camera: `left` or `right` (seed 003 相机管理)
};

/// The rider's and operator's word for a space (CONTRACT E.2): `disabled` (the space or its camera
/// is), `reserved` (an active reservation not yet occupied), `occupied` (a car is there), `free`.
std::string_view space_state(const SpaceRow& s);

/// A space's settings as an operator changes them (`PUT /admin/spaces/{id}`).
struct SpaceSettings {
    std::string name;
    bool has_lock = true;
    std::optional<std::string> ev_gun;
    bool enabled = true;
    std::optional<std::string> side; ///< `left`, `right` or unset
};

struct ReservationRow {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string phone;
    std::int64_t station_id = 0;
    parking::SpaceId space;
    std::string plate;
    std::string state;
    EpochMs created_at = 0, expires_at = 0;
    std::optional<EpochMs> arrived_at, ended_at;
    std::optional<std::string> ended_by;
    std::optional<std::int64_t> occupancy_id;
};

struct ReservationFilter {
    std::optional<std::int64_t> account_id;
    std::optional<std::int64_t> station_id;
    StationScope scope;
    std::string state; ///< `active` (reserved or occupying), one state word, or empty (any)
    std::int64_t limit = 50, offset = 0;
};

/// A rider's new reservation.
struct NewReservation {
    std::int64_t account_id = 0;
    std::int64_t station_id = 0;
    parking::SpaceId space;
    std::string plate;
    EpochMs now = 0, expires_at = 0;
};
/// What became of it: made, or refused because the space or the account already holds an active one.
enum class Reserve { Created, SpaceBusy, ReservationLimit };

/// One occupancy (a parking order).
struct OrderRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    parking::SpaceId space;
    std::optional<std::string> plate, color;
    bool whitelisted = false;
    std::optional<std::int64_t> reservation_id, account_id;
    EpochMs arrived_at = 0;
    std::optional<EpochMs> left_at, paid_at;
    std::optional<std::int64_t> duration_s, charging_s, billable_s, fee_fen;
    std::int64_t owed_fen = 0;
    std::string state;
};

struct OrderFilter {
    std::optional<std::int64_t> holder; ///< only stays of the plates this account holds
    std::optional<std::int64_t> station_id;
    StationScope scope;
    std::string state;               ///< open, paid, unpaid, free or empty
    std::optional<EpochMs> from, to; ///< arrived_at in [from, to)
    std::int64_t limit = 50, offset = 0;
};

struct CaptureRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    std::string camera_id;
    int space = 0; ///< 0: the camera's whole view
    std::string source;
    std::optional<std::string> plate, color, direction;
    std::optional<std::int64_t> confidence;
    std::string image_url;
    EpochMs at = 0;
};

struct CaptureFilter {
    std::optional<std::int64_t> station_id;
    StationScope scope;
    std::string device; ///< empty: any camera
    std::optional<int> space;
    std::string plate; ///< normalised; empty: any
    std::optional<EpochMs> from, to;
    std::int64_t limit = 50, offset = 0;
};

/// A lock decision at an arrival, with its capture's image.
struct DecisionRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    parking::SpaceId space;
    std::optional<std::string> plate, color;
    bool allowed = false;
    std::string reason;
    std::optional<std::int64_t> capture_id, occupancy_id;
    std::optional<std::string> image_url;
    EpochMs at = 0;
};

struct DecisionFilter {
    std::optional<std::int64_t> station_id;
    StationScope scope;
    std::optional<bool> allowed;
    std::int64_t limit = 50, offset = 0;
};

struct WhitelistRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    std::string plate, note;
    bool enabled = true;
    std::string created_by;
    EpochMs created_at = 0;
};

class ParkingStore {
public:
    explicit ParkingStore(db::Database& d) : db_(d) {}

    // plates
    std::vector<PlateRow> plates_of(std::int64_t account_id);
    std::optional<PlateRow> plate(const std::string& plate);
    /// Registers a plate to an account unless another account holds it.
    PlateAdded add_plate(std::int64_t account_id, const std::string& plate, const std::string& color, EpochMs now);
    /// Removes one of the account's plates unless an active reservation holds it (one transaction).
    PlateRemoved remove_plate(std::int64_t account_id, const std::string& plate);
    /// Marks a plate certified by `by`; false for an unknown plate.
    bool certify(const std::string& plate, const std::string& by, EpochMs now);
    /// Plates, certified or not (nullopt: both), of accounts opened at stations in scope (scoped
    /// operators) or of every account, newest first.
    std::vector<PlateRow> plates(std::optional<bool> certified, const StationScope& scope, std::int64_t limit,
                                 std::int64_t offset);

    // spaces
    std::optional<SpaceRow> space(const parking::SpaceId& id);
    /// The spaces of one station, or of every station in scope.
    std::vector<SpaceRow> spaces(std::optional<std::int64_t> station_id, const StationScope& scope);
    void update_space(const parking::SpaceId& id, const SpaceSettings& s);
    /// Whether `device`'s gun `n` exists and the device is an EV charger at `station_id`.
    bool gun_at_station(const std::string& device, int n, std::int64_t station_id);
    /// The account whose active reservation holds the space served by this gun, if any.
    std::optional<std::int64_t> gun_reserved_by(const std::string& device, int n);

    // reservations
    /// Creates the reservation in one transaction unless the space is occupied or reserved, or the
    /// account holds an active one; the partial unique indexes settle a race the same way.
    std::pair<Reserve, std::optional<std::int64_t>> reserve(const NewReservation& r);
    std::optional<ReservationRow> reservation(std::int64_t id);
    std::vector<ReservationRow> reservations(const ReservationFilter& f);
    /// Moves a reservation from one of `from` to `to`, ended now by `by`; false when it was in no such state.
    bool end_reservation(std::int64_t id, const std::vector<parking::ReservationState>& from,
                         parking::ReservationState to, const std::string& by, EpochMs now);

    // orders, captures, decisions
    std::vector<OrderRow> orders(const OrderFilter& f);
    std::vector<CaptureRow> captures(const CaptureFilter& f);
    std::vector<DecisionRow> decisions(const DecisionFilter& f);

    // whitelist
    std::vector<WhitelistRow> whitelist(std::optional<std::int64_t> station_id, const StationScope& scope);
    std::optional<WhitelistRow> whitelist_entry(std::int64_t id);
    /// Adds an entry; nothing when the station already lists the plate.
    std::optional<std::int64_t> add_whitelist(const WhitelistRow& w);
    void update_whitelist(std::int64_t id, bool enabled, const std::string& note);
    void remove_whitelist(std::int64_t id);

private:
    db::Database& db_;
};

} // namespace pilehub::api
