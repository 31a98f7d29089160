#pragma once
#include "common/error_codes.hpp"
#include "common/json.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Device payloads of CONTRACT A: one struct per payload `data`, the envelope around it, and
/// the codec (`decode<T>` / `encode`). Include "common/payloads.hpp", not this file.
///
/// How to use:
/// ```
/// auto m = payloads::decode<payloads::EbikeTele>(text);      // Result<Message<EbikeTele>>
/// if (!m) log(m.error());                                    // "data.sockets[2].power_w is -5, outside 0..20000"
/// m->env.boot; m->data.sockets[0].power_w;
/// std::string out = payloads::encode(*m);                    // exactly the CONTRACT shape
/// ```
/// Replies are `Message<Reply<D>>` where `D` is the reply's `data` (`Empty` when it has none);
/// `ReplyFor<Cmd>` names the reply type of a command or request and `make_reply` builds one.
namespace pilehub::payloads {

/// The payload major version this build speaks (`v`). Higher versions are refused.
inline constexpr int kVersion = 1;

/// Limits shared by every codec (CONTRACT A.1: sockets, guns and spaces number from 1).
inline constexpr int kMaxSockets = 64;       ///< ebike socket n: 1..64
inline constexpr int kMaxGuns = 16;          ///< ev gun n: 1..16
inline constexpr int kMaxSpaces = 64;        ///< camera space n: 1..64
inline constexpr std::size_t kMaxIdLen = 64; ///< id, rid, sid: `[A-Za-z0-9_.:-]{1,64}`
/// Latest accepted epoch-ms timestamp (9999-12-31T23:59:59.999Z).
inline constexpr EpochMs kMaxEpochMs = 253402300799999;

/// What kind of message a payload is; decides which envelope fields are required.
enum class Flow {
    Status,  ///< retained state, info, tele: `v`, `ts`, `boot`, `seq`
    Event,   ///< `evt/*`: adds a required `id` (the platform de-duplicates on it)
    Request, ///< `req/*`: adds required `id` and `rid`
    Command, ///< `cmd/*`: adds required `rid` and `exp`
    Reply,   ///< `req-reply/*`, `cmd-reply/*`: required `rid` plus `status`, `code`, `msg`
    Config,  ///< `cfg/desired`, `cfg/reported`
};

/// The envelope of CONTRACT A.3 (every payload except presence). Unknown fields are ignored.
struct Envelope {
    int v = kVersion;               ///< payload major version; must be 1
    EpochMs ts = 0;                 ///< sender time, UTC epoch ms; 0 = no clock
    std::int64_t boot = 0;          ///< connect counter of the sender (survives reboots)
    std::int64_t seq = 0;           ///< message counter within one boot
    std::optional<std::string> id;  ///< unique per device; required on events and requests
    std::optional<std::string> rid; ///< request id; required on requests, commands and replies
    std::optional<EpochMs> exp;     ///< commands: absolute expiry, epoch ms
    bool operator==(const Envelope &) const = default;
};

/// A payload with an empty `data` object (`{}`), e.g. most command replies.
struct Empty {
    bool operator==(const Empty &) const = default;
};

/// Any `data` object kept as compact JSON text (`{}` at least); for code that only looks at
/// the envelope (logging, de-duplication) and for the `envelope` schema.
struct RawData {
    std::string json = "{}";
    bool operator==(const RawData &) const = default;
};

/// A decoded (or to-be-encoded) message: the envelope and the typed `data`.
template <typename T> struct Message {
    Envelope env;
    T data;
    bool operator==(const Message &) const = default;
};

/// Reply `status` (CONTRACT A.3).
enum class ReplyStatus { Accepted, Ok, Rejected, Failed, Busy, Expired, Unsupported, Invalid };

/// The body of a reply: `status`, `code`, `msg` beside the envelope, and an optional `data`.
/// `code` comes from the shared closed list (an unknown word is refused).
template <typename D> struct Reply {
    ReplyStatus status = ReplyStatus::Ok;
    std::optional<ErrorCode> code;
    std::optional<std::string> msg; ///< human-readable, at most 256 bytes
    std::optional<D> data;
    bool operator==(const Reply &) const = default;
};

/// Per-payload facts: `kName` (the schema file `schema/payloads/<kName>.json`), `kFlow`,
/// `kLeaf` (topic leaf under `ph/v1/dev/{id}/`), and for commands and requests `ReplyData`.
/// Specialised next to each payload struct.
template <typename T> struct PayloadTraits;

/// The reply type of a command or request `T`, e.g. `ReplyFor<EbikeQueryPort>`.
template <typename T> using ReplyFor = Reply<typename PayloadTraits<T>::ReplyData>;

/// Parses and checks one payload. The failure reason names the field path, e.g.
/// `data.sockets[2].power_w is -5, outside 0..20000`, `v is 2; this build speaks payload
/// version 1`, `rid is required`. Never throws, whatever the input.
template <typename T> Result<Message<T>> decode(std::string_view text);

/// Writes one payload in exactly the CONTRACT shape (envelope fields first, then `data`).
/// Writes what it is given: build commands with a `rid` and `exp`, events with an `id`.
template <typename T> std::string encode(const Message<T> &m);

/// Only the envelope of any enveloped payload (for routing, logging, de-duplication): `data`,
/// if present, must be an object but is not read.
Result<Envelope> peek_envelope(std::string_view text);

/// Whether a command must be refused with `expired`: it has an `exp` and `now_ms` is past it.
inline bool is_expired(const Envelope &e, EpochMs now_ms) {
    return e.exp && now_ms > *e.exp;
}

/// The name of a reply status: `accepted`, `ok`, ...
std::string_view to_string(ReplyStatus s);

/// Parses an enum's wire word (exact, snake_case). Defined for every payload enum.
template <typename E> std::optional<E> parse_enum(std::string_view s);

/// An envelope for a message about to be published.
inline Envelope make_envelope(EpochMs ts, std::int64_t boot, std::int64_t seq) {
    Envelope e;
    e.ts = ts;
    e.boot = boot;
    e.seq = seq;
    return e;
}

/// An envelope for an event (`id` required).
inline Envelope make_event_envelope(EpochMs ts, std::int64_t boot, std::int64_t seq, std::string id) {
    auto e = make_envelope(ts, boot, seq);
    e.id = std::move(id);
    return e;
}

/// An envelope for a request (`id` and `rid` required; a resent request keeps both).
inline Envelope make_request_envelope(EpochMs ts, std::int64_t boot, std::int64_t seq, std::string id,
                                      std::string rid) {
    auto e = make_event_envelope(ts, boot, seq, std::move(id));
    e.rid = std::move(rid);
    return e;
}

/// An envelope for a command: `rid` (kept when the command is retried) and absolute expiry `exp`.
inline Envelope make_command_envelope(EpochMs ts, std::int64_t boot, std::int64_t seq, std::string rid, EpochMs exp) {
    auto e = make_envelope(ts, boot, seq);
    e.rid = std::move(rid);
    e.exp = exp;
    return e;
}

/// A reply to `request` (a command or request message): echoes its `rid` into `env`.
template <typename Req>
Message<ReplyFor<Req>> make_reply(const Message<Req> &request, Envelope env, ReplyStatus status,
                                  std::optional<typename PayloadTraits<Req>::ReplyData> data = std::nullopt,
                                  std::optional<ErrorCode> code = std::nullopt,
                                  std::optional<std::string> msg = std::nullopt) {
    env.rid = request.env.rid;
    env.exp.reset();
    Message<ReplyFor<Req>> r;
    r.env = std::move(env);
    r.data.status = status;
    r.data.code = code;
    r.data.msg = std::move(msg);
    r.data.data = std::move(data);
    return r;
}

/// A refusal of `request`, e.g. `reply_error(cmd, env, ReplyStatus::Busy, ErrorCode::SocketBusy, "socket 3 busy")`.
template <typename Req>
Message<ReplyFor<Req>> reply_error(const Message<Req> &request, Envelope env, ReplyStatus status, ErrorCode code,
                                   std::optional<std::string> msg = std::nullopt) {
    return make_reply(request, std::move(env), status, std::nullopt, code, std::move(msg));
}

} // namespace pilehub::payloads
