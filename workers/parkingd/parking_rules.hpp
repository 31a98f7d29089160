#pragma once
#include "common/clock.hpp"
#include "common/parking.hpp"
#include "common/payloads/camera.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

/// parkingd's rules (CONTRACT E.1), pure: no SQL, no MQTT, time passed in. Three parts:
///
/// - decide_entry: may this plate have this space (the lock lowered)?
/// - Track: one space's arrivals and departures. Cameras report a car twice (`evt/plate` and
///   `evt/space`), in either order, sometimes twice, sometimes not at all; the Track turns that into
///   exactly one stay per car, opened at its first report and closed at its first departure.
/// - LockPlan: one space's lock command, re-sent with the same rid and a fresh exp until the camera
///   answers finally or the lock is seen where it was sent (CONTRACT A.6 addition).
namespace pilehub::parkingd {

// ---- the entry decision --------------------------------------------------------------------------

/// How a space's active reservation relates to an arriving plate.
enum class Reserved { No, ForThisPlate, ForAnother };

/// What the decision looks at; the worker fetches it for the plate before asking.
struct EntryFacts {
    bool has_lock = true;
    std::optional<std::string> plate; ///< normalised; nothing when the camera read none
    payloads::PlateColor color = payloads::PlateColor::Unknown;
    bool whitelisted = false; ///< on the station's enabled whitelist
    Reserved reserved = Reserved::No;
};

/// Why a plate may or may not have the space (the `reason` of parking_decisions).
enum class Reason { Whitelist, Reservation, Nev, NoLock, NotNev, ReservedForAnother, NoPlate };
std::string_view to_string(Reason r);

struct Decision {
    bool allowed = false;
    Reason reason = Reason::NoPlate;
    bool operator==(const Decision&) const = default;
};

/// CONTRACT E.1: allowed when the plate is whitelisted, or holds the space's reservation, or is an
/// NEV plate and the space is not reserved for another; otherwise refused (not_nev,
/// reserved_for_another, no_plate). A space without a lock lets every car in (reason no_lock) and
/// records its stay the same way.
Decision decide_entry(const EntryFacts& f);

// ---- one space's arrivals and departures -------------------------------------------------------

/// A car on the space: an open occupancy.
struct Stay {
    std::int64_t id = 0;              ///< occupancies.id, set by the worker once stored
    std::optional<std::string> plate; ///< normalised; nothing while no plate was read
    payloads::PlateColor color = payloads::PlateColor::Unknown;
    EpochMs arrived_at = 0;
    bool whitelisted = false;
    bool operator==(const Stay&) const = default;
};

/// What the rules know of one space between events (persisted by the worker).
struct Track {
    bool has_lock = true;
    std::optional<Stay> stay;
    /// The lock as last reported by the camera (space state, evt/lock, a command's reply).
    payloads::LockState lock;
    /// When the lock should rise after a departure; nothing when no rise is due.
    std::optional<EpochMs> raise_due_at;
    bool operator==(const Track&) const = default;
};

/// A camera's report about one space.
struct PlateIn {
    std::string plate; ///< normalised
    payloads::PlateColor color = payloads::PlateColor::Unknown;
};
struct PlateOut {
    std::string plate; ///< normalised
};
struct SpaceOccupied {
    std::optional<std::string> plate; ///< normalised, when the camera names it
};
struct SpaceFree {};
using SpaceEvent = std::variant<PlateIn, PlateOut, SpaceOccupied, SpaceFree>;

/// What the worker must do after an event, in order.
struct OpenStay {
    Stay stay;
    Decision decision;
};
struct AttachPlate { ///< the open stay's car is identified now
    std::string plate;
    payloads::PlateColor color = payloads::PlateColor::Unknown;
    Decision decision;
};
struct CloseStay {
    EpochMs left_at = 0;
};
struct Refuse { ///< a car the lock keeps out: record the decision, open nothing
    std::string plate;
    payloads::PlateColor color = payloads::PlateColor::Unknown;
    Decision decision;
};
struct MoveLock {
    payloads::LockAction action = payloads::LockAction::Raise;
    std::string_view cause; ///< arrival, departure, sync
};
using Effect = std::variant<OpenStay, AttachPlate, CloseStay, Refuse, MoveLock>;

/// Everything one event does to a space.
struct Outcome {
    Track track; ///< the space after the event
    std::vector<Effect> effects;
};

/// The facts of the arriving plate: whitelist and reservation, looked up by the worker.
struct PlateFacts {
    bool whitelisted = false;
    Reserved reserved = Reserved::No;
};

/// Applies one report at time `at`. `facts` are those of the plate the event names (PlateIn,
/// SpaceOccupied with a plate); `raise_delay_ms` is the station tariff's parking.raise_delay_s.
///
/// - PlateIn: no stay → decide; allowed (or no lock) → OpenStay (+ lower the lock unless lowered),
///   refused → Refuse. A stay with the same plate → nothing (a duplicate). A stay without a plate →
///   AttachPlate (no lock move: the car is already on the space). A stay with another plate → the
///   first car left unseen: CloseStay at `at`, then the new car as above.
/// - SpaceOccupied (it carries no colour): no stay and the lock raised → a car waiting at the lock,
///   not on the space: it comes in only if its plate alone allows it (whitelist, its reservation),
///   else the plate read with its colour decides. No stay and the lock not raised (or no lock) → the
///   car is on the space: OpenStay with the decision (the plate, if named). A stay of another named
///   plate → as PlateIn; anything else → nothing. A later PlateIn of the stay's plate adds its colour.
/// - PlateOut: closes the stay of that plate (or a stay without a plate); another plate's out is
///   ignored. SpaceFree closes any stay. A close schedules the lock to rise at at + delay.
Outcome apply(const Track& t, const SpaceEvent& e, EpochMs at, const PlateFacts& facts, EpochMs raise_delay_ms);

/// The tick: the lock of a free space whose rise is due goes up (MoveLock raise, cause departure).
Outcome tick(const Track& t, EpochMs now);

/// What the lock of a space should be when nothing is moving it: lowered under a stay, raised on a
/// free space (a rise not yet due counts as lowered); nothing for a space without a lock.
std::optional<payloads::LockAction> wanted_lock(const Track& t, EpochMs now);

/// Whether a lock state satisfies an action (raised for raise, lowered for lower, without alarm).
bool reached(const payloads::LockState& s, payloads::LockAction a);

// ---- lock commands ----------------------------------------------------------------------------

/// One unanswered lock command of a space.
struct LockCommand {
    std::string rid;
    payloads::LockAction action = payloads::LockAction::Raise;
    int attempts = 0;    ///< times sent
    EpochMs sent_at = 0; ///< last send (0: never)
    bool operator==(const LockCommand&) const = default;
};

/// The camera's final answer to a lock command, or its state.
enum class LockResult { Pending, Ok, Failed, Resend };

/// How a reply status (`ok`, `failed`, `busy`, `expired`, `accepted`, ...) ends a lock command:
/// ok → Ok; accepted → Pending; expired and busy → Resend (the same rid, a fresh exp); anything
/// else (failed, rejected, invalid, unsupported) → Failed.
LockResult lock_result(payloads::ReplyStatus s);

/// Whether to (re)send `c` now: never while the camera is offline; at once if never sent; again
/// `retry_ms` after the last send.
bool due(const LockCommand& c, bool camera_online, EpochMs now, EpochMs retry_ms);

} // namespace pilehub::parkingd
