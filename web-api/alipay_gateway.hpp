#pragma once
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "common/money.hpp"
#include "web-api/outbound.hpp"
#include "web-api/provider_settings.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Alipay's open API gateway as PileHub speaks it (docs/providers.md; Alipay "开放平台 接入指南 / 签名",
/// https://opendocs.alipay.com/common/02kf5q): every call is one `POST gateway_url` with a
/// form (`app_id, method, format=JSON, charset=utf-8, sign_type=RSA2, timestamp` in Beijing time,
/// `version=1.0`, `biz_content` JSON, the method's own parameters, `sign`). The request is signed
/// with SHA256withRSA over the parameters but `sign` with a non-empty value, sorted by name, raw
/// `k=v` joined by `&`. The answer is `{"<method, . → _>_response":{…},"sign":"…"}` and its
/// signature covers the member's JSON text exactly as it stands in the body, so it is verified on
/// that substring (never on a re-serialisation). `code` 10000 is success; 40004 is a business
/// refusal with `sub_code` (ACQ.…). Asynchronous notifications are forms verified the same way
/// (without `sign` and `sign_type`). Shared by pay_alipay (trades) and login_alipay (oauth, phone).
namespace pilehub::api::alipay {

/// The gateway's configuration. Key texts are PEM (or bare base64 as Alipay's tools print them).
struct GatewayConfig {
    std::string app_id;
    std::string app_private_key_pem;   ///< pilehub-api.alipay.app_private_key_file
    std::string alipay_public_key_pem; ///< pilehub-api.alipay.alipay_public_key_file
    std::string gateway_url = "https://openapi.alipay.com/gateway.do";
};

/// The gateway's part of the settings, key files read (ConfigError naming an unreadable one).
GatewayConfig gateway_config_from(const ProviderSettings& s);

/// One verified answer from the gateway.
struct Reply {
    bool success = false; ///< code 10000, or no code at all (alipay.system.oauth.token's success)
    std::string code;     ///< `10000`, `40004`, …
    std::string msg;
    std::string sub_code; ///< business refusals: `ACQ.TRADE_NOT_EXIST`, …
    std::string sub_msg;
    std::string member; ///< the response member's JSON text, as signed
    /// Reads the member's fields (valid while this Reply lives).
    json::Object fields(std::string* err) const;
    rapidjson::Document doc;
    /// `code sub_code: sub_msg` for logs and failure reasons.
    std::string why() const;
};

/// Signs calls and verifies answers and notifications. Thread-safe (immutable after construction).
class Gateway {
public:
    /// Throws std::invalid_argument naming the configuration key of a bad key or URL.
    Gateway(GatewayConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());

    /// Calls `method` with `biz_content` (JSON text; empty: none) and the method's own parameters.
    /// A verified `<method>_response` is a Reply (success or a business refusal); the network, a
    /// non-200 status, an `error_response` (the gateway refused the call itself), a missing member or
    /// a bad signature are failures.
    Result<Reply> call(std::string_view method, std::string_view biz_content,
                       std::vector<std::pair<std::string, std::string>> params = {}) const;

    /// The text that is signed: `params` but `sign` (and `sign_type` when `drop_sign_type`) with a
    /// non-empty value, sorted by name, `k=v` joined by `&`.
    static std::string canonical(std::vector<std::pair<std::string, std::string>> params, bool drop_sign_type);
    /// Whether `sign` is Alipay's RSA2 signature of `content`.
    bool verify(std::string_view content, std::string_view sign) const;
    /// Verifies a notification form (values decoded): `sign` over canonical(form, true).
    bool verify_notification(const std::vector<std::pair<std::string, std::string>>& form) const;
    /// Our RSA2 signature of `content` (base64).
    std::string sign(std::string_view content) const { return app_key_.sign_sha256_base64(content); }
    const std::string& app_id() const { return config_.app_id; }
    const Clock& clock() const { return clock_; }

private:
    GatewayConfig config_;
    crypto::PrivateKey app_key_;
    crypto::PublicKey alipay_key_;
    outbound::Client& http_;
    const Clock& clock_;
};

/// Parses Alipay's yuan amount ("12.34", "0.5", "100") into fen without floating point: digits, an
/// optional `.` followed by one or two digits; nothing for anything else (sign, exponent, spaces,
/// three decimals, an empty part, more than 12 integer digits).
std::optional<Fen> parse_yuan(std::string_view s);
/// Fen as Alipay's yuan text with two decimals ("12.34", "0.05").
std::string yuan(Fen f);
/// `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8), the gateway's `timestamp`.
std::string beijing_time(EpochMs t);
/// Parses Alipay's `yyyy-MM-dd HH:mm:ss` (Beijing time).
std::optional<EpochMs> parse_beijing_time(std::string_view s);
/// The JSON text of the top-level member `name` of the object `body`, exactly as it stands
/// (a string member's text includes its quotes); nothing if absent or the text is not an object.
std::optional<std::string_view> member_text(std::string_view body, std::string_view name);
/// The value of `name` in a decoded form, or nothing.
std::optional<std::string> form_value(const std::vector<std::pair<std::string, std::string>>& form,
                                      std::string_view name);

} // namespace pilehub::api::alipay
