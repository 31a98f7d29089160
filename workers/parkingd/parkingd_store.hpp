#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/parking.hpp"
#include "common/payloads/camera.hpp"
#include "common/tariff_store.hpp"
#include "workers/parkingd/parking_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// parkingd's SQL (schema/core/009_parking.sql): every row it owns, and the few it reads (spaces
/// and their station, the whitelist, reservations, plates' owners through common/parking_fees,
/// sessions on a space's gun, the station's tariff).
namespace pilehub::parkingd {

/// A registered space of an enabled camera, as parkingd needs it.
struct SpaceConfig {
    parking::SpaceId id;
    std::int64_t station_id = 0;
    std::optional<std::int64_t> area_id;
    bool has_lock = true;
    bool enabled = true;
    std::optional<std::string> ev_gun; ///< `<charger id>-<n>`
};

/// A space's active reservation.
struct ActiveReservation {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string plate;
    parking::ReservationState state = parking::ReservationState::Reserved;
};

/// A reservation that timed out.
struct TimedOut {
    std::int64_t id = 0;
    parking::SpaceId space;
};

/// A lock command as stored (state pending).
struct StoredLockCommand {
    parking::SpaceId space;
    LockCommand cmd;
    std::string cause;
    std::string requested_by;
};

/// A plate read or snapshot to keep (captures).
struct Capture {
    std::int64_t station_id = 0;
    std::string camera;
    int space = 0;
    std::string source; ///< plate, snapshot
    std::optional<std::string> plate;
    std::optional<std::string> color;
    std::optional<std::string> direction;
    std::optional<int> confidence;
    std::string image_url;
    EpochMs at = 0;
    std::optional<std::string> msg_id;
};

/// What a closed stay came to.
struct ClosedStay {
    std::int64_t id = 0;
    parking::Fee fee;
    std::optional<std::string> plate;
    std::optional<std::int64_t> tariff_id;
};

class Store {
public:
    explicit Store(db::Database& core) : db_(core), tariffs_(core) {}
    db::Database& db() { return db_; }

    /// Every space of every camera (enabled or not) with its station.
    std::vector<SpaceConfig> spaces();
    /// One space; nothing when it is not registered.
    std::optional<SpaceConfig> space(const parking::SpaceId& id);

    /// The tracks as stored: space_states and open occupancies (the spaces without a row start free).
    std::vector<std::pair<parking::SpaceId, Track>> tracks();
    /// Writes a space's state (space_states).
    void save_track(const parking::SpaceId& id, const Track& t, bool occupied, EpochMs now);

    /// Whether the plate is on the station's enabled whitelist.
    bool whitelisted(std::int64_t station_id, const std::string& plate);
    /// The space's active reservation, if any.
    std::optional<ActiveReservation> reservation_on(const parking::SpaceId& id);
    void reservation_arrived(std::int64_t reservation_id, std::int64_t occupancy_id, EpochMs at);
    /// The reservation whose car this stay was (occupying) is completed.
    void reservation_completed(std::int64_t occupancy_id, EpochMs at);
    /// Reserved reservations whose hold has passed become timed_out; returns them.
    std::vector<TimedOut> time_out_reservations(EpochMs now);

    /// The station tariff's parking section in force at `at` (default_parking() when none) and its id.
    std::pair<billing::ParkingPricing, std::optional<std::int64_t>> parking_pricing(const SpaceConfig& s, EpochMs at);

    /// Opens an occupancy; returns its id.
    std::int64_t open_stay(const SpaceConfig& s, const Stay& stay, std::optional<std::int64_t> reservation_id);
    void attach_plate(std::int64_t occupancy_id, const std::string& plate, payloads::PlateColor color,
                      bool whitelisted);
    /// Seconds a session was charging on `ev_gun` within [from, to).
    std::int64_t charging_s(const std::string& ev_gun, EpochMs from, EpochMs to);
    /// Writes the stay's departure and fee figures (state stays open until settled).
    void close_stay(std::int64_t occupancy_id, EpochMs left_at, const parking::Fee& fee,
                    std::optional<std::int64_t> tariff_id);

    void record_decision(const SpaceConfig& s, const std::optional<std::string>& plate, payloads::PlateColor color,
                         const Decision& d, std::optional<std::int64_t> capture_id,
                         std::optional<std::int64_t> occupancy_id, EpochMs at);
    std::int64_t record_capture(const Capture& c);

    /// Whether (device, message id) is new for parkingd; records it (in the caller's transaction).
    bool first_time(const std::string& device, const std::string& msg_id, EpochMs now);

    // ---- lock commands and faults ----
    /// Marks the space's pending command superseded and stores a new pending one.
    void new_lock_command(const parking::SpaceId& id, const LockCommand& c, std::string_view cause,
                          std::string_view requested_by, EpochMs now);
    std::vector<StoredLockCommand> pending_lock_commands();
    void lock_sent(const std::string& rid, int attempts, EpochMs at);
    /// Ends a command: state ok or failed, with the camera's answer.
    void lock_done(const std::string& rid, bool ok, std::optional<payloads::LockStatus> st, const std::string& code,
                   const std::string& msg, EpochMs at);
    /// Opens a fault for the space unless one is open; true when it opened one.
    bool open_fault(const parking::SpaceId& id, std::string_view cause, const std::string& detail, EpochMs at);
    /// Closes the space's open fault; true when there was one.
    bool close_fault(const parking::SpaceId& id, EpochMs at);

private:
    db::Database& db_;
    billing::TariffStore tariffs_;
};

} // namespace pilehub::parkingd
