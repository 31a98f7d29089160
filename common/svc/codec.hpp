#pragma once
#include "common/json.hpp"
#include "common/money.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// The codec of the platform's own contract, `ph/v1/svc/...` (docs/topics.md): one template pair
/// for every payload struct of common/svc, a schema per payload in schema/svc/, and the limits
/// every producer and reader shares. Include "common/svc.hpp", not this file.
///
/// ```
/// auto t = svc::decode<svc::SessionTransition>(m.payload);   // Result<SessionTransition>
/// if (!t) log::warn("bad transition: {}", t.error());       // "state must be one of starting|charging|..."
/// mqtt.publish({topics::session_state(sid), svc::encode(transition), 1, false});
/// ```
///
/// Strictness: an RPC request (`Traits<T>::kStrict`) refuses a member it does not know, so a
/// request is never half understood (a newer requester's constraint silently ignored). Broadcasts
/// and replies ignore unknown members, so a publisher may add an optional member without breaking
/// readers; removing a member or changing its type or meaning needs a new `v`.
namespace pilehub::svc {

/// The version of the broadcasts (`v`); the RPC envelope (common/rpc.hpp) carries its own.
inline constexpr int kVersion = 1;

// ---- limits shared by every producer and reader (spelled here only) ----
/// Session ids: `[A-Za-z0-9_.:-]{1,64}`.
inline constexpr std::size_t kMaxSessionIdLen = 64;
/// Socket codes `<device id>-<n>`: at most 64 bytes.
inline constexpr std::size_t kMaxSocketCodeLen = 64;
/// A time-mode session's chosen minutes: 1..2880 (48 h).
inline constexpr std::int64_t kMinMinutes = 1;
inline constexpr std::int64_t kMaxMinutes = 2880;
/// A rider's prepaid amount (`max_fen`): 1..100 000 000 fen (ledger::kMaxAmountFen).
inline constexpr std::int64_t kMaxPrepaidFen = 100'000'000;
/// Who asks sessiond for something (`actor` of a stop, `operator`): at most 64 bytes.
inline constexpr std::size_t kMaxActorLen = 64;
/// A transition's `reason` and `actor` (`offline:<word>`, `operator:<name>`, ...): at most 128 bytes.
inline constexpr std::size_t kMaxTransitionTextLen = 128;
/// A session's `stop_reason`: at most 64 bytes.
inline constexpr std::size_t kMaxStopReasonLen = 64;
/// A session's `failure` (may quote a device's reply message): at most 512 bytes.
inline constexpr std::size_t kMaxFailureLen = 512;
/// A running cost's `error` (why the session cannot be priced): at most 1024 bytes.
inline constexpr std::size_t kMaxCostErrorLen = 1024;

/// Per-payload facts, specialised next to each struct: `kName` (the schema
/// `schema/svc/<kName>.json` and the docs block tag), `kTopic` (where it travels) and `kStrict`
/// (unknown members refused); an RPC request also names its `kMethod` (`start`, `stop`, ...), so
/// a requester sends a struct, never a method word of its own.
template <typename T> struct Traits;

/// Parses and checks one payload from JSON text. The reason names the field and the rule, e.g.
/// `state must be one of starting|charging|...`, `minutes is 0, outside 1..2880`,
/// `socket is required`, `minutez is not a field of a sessiond start request`. Never throws.
template <typename T> Result<T> decode(std::string_view text);
/// The same for an already parsed value, e.g. the `data` of an RPC request.
template <typename T> Result<T> decode(const rapidjson::Value& value);
/// Writes one payload in exactly the documented shape.
template <typename T> std::string encode(const T& value);

/// One payload's codec by schema name: for tests and tools.
struct Codec {
    std::string_view name;  ///< schema name, e.g. `session_transition`
    std::string_view topic; ///< where it travels, e.g. `ph/v1/svc/session/{sid}/state`
    bool strict;            ///< unknown members refused
    /// decode then encode: the canonical text, or the decode failure.
    Result<std::string> (*recode)(std::string_view text);
    /// decode, encode, decode again: true when both decoded values are equal.
    Result<bool> (*round_trips)(std::string_view text);
};
/// Every svc payload, one entry per schema file in schema/svc/.
const std::vector<Codec>& codecs();
/// The codec for a schema name; nullptr if there is none.
const Codec* find_codec(std::string_view name);

} // namespace pilehub::svc
