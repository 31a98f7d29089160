#pragma once
#include "common/payloads/shared.hpp"

#include <optional>
#include <string>

/// `camera` payloads (CONTRACT A.5): a parking-space camera with RS485 ground locks; spaces 1..64.
namespace pilehub::payloads {

/// Ground lock `st`: `raised|lowered|moving|fault|unknown`.
enum class LockStatus { Raised, Lowered, Moving, Fault, Unknown };
std::string_view to_string(LockStatus s);

/// `lock.action`: `raise|lower`.
enum class LockAction { Raise, Lower };
std::string_view to_string(LockAction a);

/// Plate colour as Chinese plates have them (`yellow_green`: large new-energy vehicles).
enum class PlateColor { Blue, Yellow, Green, White, Black, YellowGreen, Unknown };
std::string_view to_string(PlateColor c);

/// Vehicle movement of a plate read: `in|out`.
enum class PlateDirection { In, Out };
std::string_view to_string(PlateDirection d);

/// A ground lock `{st, alarm}`; `alarm` is true while the lock reports tampering or obstruction.
struct LockState {
    LockStatus st = LockStatus::Unknown;
    bool alarm = false;
    bool operator==(const LockState &) const = default;
};

/// `space/{n}/state` data (schema `camera_space_state`): `{occupied, plate, since, lock}`;
/// `lock` is absent for a space without a ground lock.
struct CameraSpaceState {
    bool occupied = false;
    std::optional<std::string> plate; ///< UTF-8, at most 32 bytes, e.g. "京A12345"
    EpochMs since = 0;
    std::optional<LockState> lock;
    bool operator==(const CameraSpaceState &) const = default;
};

/// `evt/plate` data `{space, plate, color, direction, confidence, image_url}` (schema `camera_evt_plate`).
struct CameraPlate {
    int space = 1;
    std::string plate;
    PlateColor color = PlateColor::Unknown;
    PlateDirection direction = PlateDirection::In;
    int confidence = 0;                   ///< per cent, 0..100
    std::optional<std::string> image_url; ///< at most 1024 bytes
    bool operator==(const CameraPlate &) const = default;
};

/// `evt/space` data `{space, occupied, plate}` (schema `camera_evt_space`).
struct CameraSpace {
    int space = 1;
    bool occupied = false;
    std::optional<std::string> plate;
    bool operator==(const CameraSpace &) const = default;
};

/// `evt/lock` data `{space, st, alarm}` (schema `camera_evt_lock`).
struct CameraLockEvent {
    int space = 1;
    LockStatus st = LockStatus::Unknown;
    bool alarm = false;
    bool operator==(const CameraLockEvent &) const = default;
};

/// `cmd/lock` data `{space, action}` (schema `camera_cmd_lock`). The device replies once the
/// lock reached its position or failed; the reply data is the LockState (schema `camera_cmd_reply_lock`).
struct CameraLockCmd {
    int space = 1;
    LockAction action = LockAction::Raise;
    bool operator==(const CameraLockCmd &) const = default;
};

/// `cmd/snapshot` data `{space}` (schema `camera_cmd_snapshot`); space 0 = the whole view.
struct CameraSnapshotCmd {
    int space = 0;
    bool operator==(const CameraSnapshotCmd &) const = default;
};

/// Snapshot reply data `{image_url}` (schema `camera_cmd_reply_snapshot`).
struct CameraSnapshotResult {
    std::string image_url;
    bool operator==(const CameraSnapshotResult &) const = default;
};

// --- traits ---
template <> struct PayloadTraits<CameraSpaceState> {
    static constexpr std::string_view kName = "camera_space_state";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "space/{n}/state";
};
template <> struct PayloadTraits<CameraPlate> {
    static constexpr std::string_view kName = "camera_evt_plate";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/plate";
};
template <> struct PayloadTraits<CameraSpace> {
    static constexpr std::string_view kName = "camera_evt_space";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/space";
};
template <> struct PayloadTraits<CameraLockEvent> {
    static constexpr std::string_view kName = "camera_evt_lock";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/lock";
};
template <> struct PayloadTraits<CameraLockCmd> {
    static constexpr std::string_view kName = "camera_cmd_lock";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/lock";
    using ReplyData = LockState;
};
template <> struct PayloadTraits<Reply<LockState>> {
    static constexpr std::string_view kName = "camera_cmd_reply_lock";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "cmd-reply/lock";
};
template <> struct PayloadTraits<CameraSnapshotCmd> {
    static constexpr std::string_view kName = "camera_cmd_snapshot";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/snapshot";
    using ReplyData = CameraSnapshotResult;
};
template <> struct PayloadTraits<Reply<CameraSnapshotResult>> {
    static constexpr std::string_view kName = "camera_cmd_reply_snapshot";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "cmd-reply/snapshot";
};

} // namespace pilehub::payloads
