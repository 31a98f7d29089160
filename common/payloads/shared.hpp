#pragma once
#include "common/payloads/envelope.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Payloads every device kind shares: presence, info, device state, the charge limit, the
/// authorisation reply and the housekeeping commands (reboot, set_time, ota).
namespace pilehub::payloads {

/// CONTRACT A.5 device kinds: `ebike_pile`, `ev_charger`, `camera`.
enum class DeviceKind { EbikePile, EvCharger, Camera };
std::string_view to_string(DeviceKind k);

/// `presence` (CONTRACT A.4): its own small shape, no envelope, no `data`.
/// `{"v":1,"online":false,"boot":17,"reason":"lwt"}` / `{"v":1,"online":true,"boot":17,"ts":...,"fw":"2.4.1"}`.
struct Presence {
    int v = kVersion;
    bool online = false;
    std::int64_t boot = 0;
    std::optional<EpochMs> ts;
    std::optional<std::string> fw;     ///< firmware version, at most 64 bytes
    std::optional<std::string> reason; ///< `lwt`, `shutdown`, or another snake_case word (at most 32 bytes)
    bool operator==(const Presence&) const = default;
};
/// Parses a presence payload (schema `presence`); the reason names the field.
Result<Presence> decode_presence(std::string_view text);
/// Writes a presence payload.
std::string encode_presence(const Presence& p);
/// Consumers ignore an `online:false` whose `boot` is lower than the latest `online:true` (a late Will).
inline bool is_late_will(const Presence& p, std::int64_t latest_online_boot) {
    return !p.online && p.boot < latest_online_boot;
}

/// `info` data: the device's self-description after every connect (schema `info`).
/// The count matching `kind` is required (`socket_count` 1..64, `gun_count` 1..16, `space_count` 1..64).
struct DeviceInfo {
    DeviceKind kind = DeviceKind::EbikePile;
    std::string model;    ///< at most 64 bytes
    std::string firmware; ///< at most 64 bytes
    std::optional<std::string> vendor;
    std::optional<std::string> serial;
    std::optional<std::string> hardware;
    std::optional<int> socket_count;   ///< ebike_pile
    std::optional<int> gun_count;      ///< ev_charger
    std::optional<int> space_count;    ///< camera
    std::optional<double> max_power_w; ///< rated power of the whole device
    bool operator==(const DeviceInfo&) const = default;
};

/// `state` data, device level (schema `device_state`): faults, temperature, total power.
/// For `ev_charger`, `faults` are the names of `fault_bits` (see EvFault); for other kinds they
/// are the vendor's snake_case fault words.
struct DeviceState {
    std::uint32_t fault_bits = 0;
    std::vector<std::string> faults;     ///< snake_case words, at most 32 of at most 32 bytes
    std::optional<double> temp_c;        ///< -50..200
    std::optional<double> total_power_w; ///< 0..2 000 000
    std::optional<int> rssi_dbm;         ///< -150..0
    bool operator==(const DeviceState&) const = default;
};

/// `limit.kind` of a start command or authorisation.
enum class LimitKind { Time, Energy, Full };
std::string_view to_string(LimitKind k);

/// `limit`: `{kind: time, minutes}`, `{kind: energy, wh}` or `{kind: full}` (charge until full).
/// Exactly the member matching `kind` is present: `minutes` 1..2880, `wh` 1..1 000 000.
struct ChargeLimit {
    LimitKind kind = LimitKind::Full;
    std::optional<std::int64_t> minutes;
    std::optional<std::int64_t> wh;
    bool operator==(const ChargeLimit&) const = default;
    static ChargeLimit time(std::int64_t minutes) { return {LimitKind::Time, minutes, std::nullopt}; }
    static ChargeLimit energy(std::int64_t wh) { return {LimitKind::Energy, std::nullopt, wh}; }
    static ChargeLimit full() { return {LimitKind::Full, std::nullopt, std::nullopt}; }
};

/// `decision` of an authorisation.
enum class Decision { Accept, Reject };
std::string_view to_string(Decision d);

/// `req-reply/authorize` data for both piles and chargers (schema `req_reply_authorize`):
/// `{decision, reason, balance_fen, sid, limit}`. An e-bike pile that is accepted starts the
/// socket itself with `sid` and `limit`; `reason` says why a card was rejected.
struct AuthorizeReply {
    Decision decision = Decision::Reject;
    std::optional<ErrorCode> reason;
    std::optional<std::int64_t> balance_fen; ///< real + bonus, fen
    std::optional<std::string> sid;
    std::optional<ChargeLimit> limit;
    bool operator==(const AuthorizeReply&) const = default;
};

/// `cfg/reported.status` (every kind with a configuration document: `ebike_pile`, `ev_charger`).
enum class CfgStatus { Applied, Partial, Rejected };
std::string_view to_string(CfgStatus s);

/// `reboot.when`.
enum class RebootWhen { Now, WhenIdle };
std::string_view to_string(RebootWhen w);

/// `cmd/reboot` data `{when: now|when_idle}` (schema `cmd_reboot`); absent `when` means `now`.
struct CmdReboot {
    RebootWhen when = RebootWhen::Now;
    bool operator==(const CmdReboot&) const = default;
};

/// `cmd/set_time` data `{epoch_ms}` (schema `cmd_set_time`).
struct CmdSetTime {
    EpochMs epoch_ms = 0;
    bool operator==(const CmdSetTime&) const = default;
};

/// `cmd/ota` data `{url, version, sha256}` (schema `cmd_ota`); `url` http(s), at most 1024
/// bytes; `sha256` 64 hex digits.
struct CmdOta {
    std::string url;
    std::string version;
    std::string sha256;
    bool operator==(const CmdOta&) const = default;
};

/// `evt/ota` `st`: where a firmware update stands on the device.
enum class OtaStatus { Downloading, Downloaded, Installing, Installed, Failed };
std::string_view to_string(OtaStatus s);

/// `evt/ota` data `{version, st, progress_pct, error}` (schema `evt_ota`), every device kind: the
/// progress of the update to `version` that a `cmd/ota` started. `progress_pct` 0..100; `error`
/// (at most 256 bytes) says why when `st` is `failed`.
struct EvtOta {
    std::string version;
    OtaStatus st = OtaStatus::Downloading;
    std::optional<int> progress_pct;
    std::optional<std::string> error;
    bool operator==(const EvtOta&) const = default;
};

// --- traits ---
template <> struct PayloadTraits<RawData> {
    static constexpr std::string_view kName = "envelope";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "*";
};
template <> struct PayloadTraits<Reply<Empty>> {
    static constexpr std::string_view kName = "reply";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "cmd-reply/{name}, req-reply/{name}";
};
template <> struct PayloadTraits<DeviceInfo> {
    static constexpr std::string_view kName = "info";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "info";
};
template <> struct PayloadTraits<DeviceState> {
    static constexpr std::string_view kName = "device_state";
    static constexpr Flow kFlow = Flow::Status;
    static constexpr std::string_view kLeaf = "state";
};
template <> struct PayloadTraits<Reply<AuthorizeReply>> {
    static constexpr std::string_view kName = "req_reply_authorize";
    static constexpr Flow kFlow = Flow::Reply;
    static constexpr std::string_view kLeaf = "req-reply/authorize";
};
template <> struct PayloadTraits<CmdReboot> {
    static constexpr std::string_view kName = "cmd_reboot";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/reboot";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<CmdSetTime> {
    static constexpr std::string_view kName = "cmd_set_time";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/set_time";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<CmdOta> {
    static constexpr std::string_view kName = "cmd_ota";
    static constexpr Flow kFlow = Flow::Command;
    static constexpr std::string_view kLeaf = "cmd/ota";
    using ReplyData = Empty;
};
template <> struct PayloadTraits<EvtOta> {
    static constexpr std::string_view kName = "evt_ota";
    static constexpr Flow kFlow = Flow::Event;
    static constexpr std::string_view kLeaf = "evt/ota";
};

} // namespace pilehub::payloads
