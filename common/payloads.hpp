#pragma once
/// The single entry point for device payloads (CONTRACT A): structs, codecs, reply helpers.
///
/// - `payloads::decode<T>(text)` → `Result<Message<T>>`; `payloads::encode(msg)` → text.
/// - Presence has no envelope: `decode_presence` / `encode_presence`.
/// - Replies: `Message<Reply<D>>`; `ReplyFor<Cmd>`; `make_reply(request, env, status, data)`.
/// - `payload_codecs()` lists every payload by schema name (`schema/payloads/<name>.json`).
/// - Error codes shared with HTTP: "common/error_codes.hpp".
#include "common/error_codes.hpp"
#include "common/payloads/camera.hpp"
#include "common/payloads/ebike.hpp"
#include "common/payloads/envelope.hpp"
#include "common/payloads/ev.hpp"
#include "common/payloads/shared.hpp"
#include "common/topics.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::payloads {

/// One payload codec, looked up by schema name: for tests, validation tools and the recorder.
struct PayloadCodec {
    std::string_view name; ///< schema name, e.g. `ebike_tele`
    Flow flow;             ///< Flow::Status for presence
    std::string_view leaf; ///< topic leaf, e.g. `evt/card_swipe`
    /// decode then encode: the canonical text, or the decode failure.
    Result<std::string> (*recode)(std::string_view text);
    /// decode, encode, decode again: true when both decoded values are equal.
    Result<bool> (*round_trips)(std::string_view text);
};

/// Every payload of CONTRACT A (plus `presence` and `envelope`), one entry per schema.
const std::vector<PayloadCodec> &payload_codecs();
/// The codec for a schema name; nullptr if there is none.
const PayloadCodec *find_codec(std::string_view name);

/// The schema name of what a device of `kind` sends or receives on `topic`, e.g.
/// (EbikePile, `evt/card_swipe`) → `ebike_evt_card_swipe`, (EvCharger, `cmd-reply/reset`) → `reply`;
/// nullopt for a leaf that kind does not have.
std::optional<std::string_view> schema_for(DeviceKind kind, const topics::DeviceTopic &topic);

} // namespace pilehub::payloads
