#pragma once
#include "common/clock.hpp"
#include "common/payloads/camera.hpp"
#include "common/svc/codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The `data` of parkingd's RPC methods, `ph/v1/svc/rpc/parkingd/{method}` (the envelope is
/// common/rpc.hpp), and the alert parkingd raises. parkingd is the only process that commands a
/// camera's lock (CONTRACT E.1), so the API's lock and snapshot routes ask it.
namespace pilehub::svc {

/// The RPC service name of parkingd (`ph/v1/svc/rpc/parkingd/...`).
inline constexpr std::string_view kParkingdService = "parkingd";
/// A space id `<camera id>-<n>`: at most 51 bytes.
inline constexpr std::size_t kMaxSpaceIdLen = 51;

/// `lock`: an operator raises or lowers a space's lock (`POST /admin/spaces/{id}/lock`).
/// `{"space":"cam-01-2","action":"lower","operator":"alice"}`. Answered once the camera answered
/// (ok: LockReply; the camera's failure: `failed` with its code), `device_offline` at once when the
/// camera is offline, or `timeout`.
struct LockRequest {
    std::string space; ///< `<camera id>-<n>`
    payloads::LockAction action = payloads::LockAction::Raise;
    std::string operator_name; ///< the operator's user name, ≤ kMaxActorLen
    bool operator==(const LockRequest&) const = default;
};
template <> struct Traits<LockRequest> {
    static constexpr std::string_view kName = "parkingd_lock_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/parkingd/lock";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "lock";
};

/// The reply to `lock`: `{"space":"cam-01-2","lock":{"st":"lowered","alarm":false}}`.
struct LockReply {
    std::string space;
    payloads::LockState lock;
    bool operator==(const LockReply&) const = default;
};
template <> struct Traits<LockReply> {
    static constexpr std::string_view kName = "parkingd_lock_reply";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to lock)";
    static constexpr bool kStrict = false;
};

/// `snapshot`: an operator asks a camera for a picture of a space (`POST /admin/spaces/{id}/snapshot`).
/// `{"space":"cam-01-2","operator":"alice"}`.
struct SnapshotRequest {
    std::string space;
    std::string operator_name;
    bool operator==(const SnapshotRequest&) const = default;
};
template <> struct Traits<SnapshotRequest> {
    static constexpr std::string_view kName = "parkingd_snapshot_request";
    static constexpr std::string_view kTopic = "ph/v1/svc/rpc/parkingd/snapshot";
    static constexpr bool kStrict = true;
    static constexpr std::string_view kMethod = "snapshot";
};

/// The reply to `snapshot`: the capture parkingd recorded, `{"capture":{"id":31,"image_url":"..."}}`.
struct SnapshotReply {
    std::int64_t capture_id = 1;
    std::string image_url; ///< ≤ 1024 bytes
    bool operator==(const SnapshotReply&) const = default;
};
template <> struct Traits<SnapshotReply> {
    static constexpr std::string_view kName = "parkingd_snapshot_reply";
    static constexpr std::string_view kTopic = "ph/v1/svc/reply/{client id} (to snapshot)";
    static constexpr bool kStrict = false;
};

/// An alert (CONTRACT G), published not retained on `ph/v1/svc/alert/<kind>`:
/// `{"v":1,"kind":"lock_fault","device_id":"cam-01","subject":"cam-01-2","state":"open",
///   "msg":"the lock jammed","at":1732183200123}`. `state` is `open` or `resolved`.
/// alertd's alerts (workers/alertd) add `id` (its row in `alerts`), `n` and `severity`, and leave
/// out `device_id` for an alert that concerns no device (a payment order).
struct Alert {
    std::string kind;      ///< snake_case word, e.g. `lock_fault`
    std::string device_id; ///< the device concerned; empty: none (left out)
    std::string subject;   ///< what exactly (a space id, a socket code), ≤ 64 bytes
    bool open = true;      ///< `state`: open or resolved
    std::string msg;       ///< ≤ 512 bytes
    EpochMs at = 0;
    std::int64_t id = 0;  ///< alertd's alert id; 0: not alertd's (left out)
    std::int64_t n = 0;   ///< socket, gun or space; 0: the device itself (left out)
    std::string severity; ///< `critical`, `major` or `minor`; empty: left out
    bool operator==(const Alert&) const = default;
};
template <> struct Traits<Alert> {
    static constexpr std::string_view kName = "alert";
    static constexpr std::string_view kTopic = "ph/v1/svc/alert/{kind}";
    static constexpr bool kStrict = false;
};
} // namespace pilehub::svc
