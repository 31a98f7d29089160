#pragma once
#include "common/clock.hpp"
#include "web-api/context.hpp"
#include "web-api/outbound.hpp"
#include "web-api/provider_settings.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Login codes by Aliyun SMS (CONTRACT F.1, docs/providers.md §4; Alibaba Cloud "SendSms"
/// https://help.aliyun.com/document_detail/419273.html and the RPC "Signature mechanism"
/// https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism).
///
/// `GET endpoint?…&Signature=…` with AccessKeyId, Action=SendSms, Format=JSON, PhoneNumbers,
/// RegionId, SignName, SignatureMethod=HMAC-SHA1, SignatureNonce (a random UUID), SignatureVersion=1.0,
/// TemplateCode, TemplateParam `{"code":"…"}`, Timestamp (UTC `yyyy-MM-ddTHH:mm:ssZ`),
/// Version=2017-05-25. Signature = base64(HMAC-SHA1(secret + "&", `GET&%2F&` + enc(sorted
/// `enc(k)=enc(v)` joined by `&`))), enc being RFC 3986 percent-encoding. Only `Code == "OK"` is sent;
/// anything else (the provider's Code and Message, an HTTP error, no answer) is a failure saying why.
namespace pilehub::api {

struct AliyunSmsConfig {
    std::string access_key_id;     ///< pilehub-api.sms.access_key_id
    std::string access_key_secret; ///< pilehub-api.sms.access_key_secret_file
    std::string sign_name;         ///< pilehub-api.sms.sign_name
    std::string template_code;     ///< pilehub-api.sms.template_code (with a `${code}` parameter)
    std::string endpoint = "https://dysmsapi.aliyuncs.com/";
    std::string region_id = "cn-hangzhou";
};

class AliyunSmsProvider final : public SmsProvider {
public:
    using Params = std::vector<std::pair<std::string, std::string>>;

    /// Throws std::invalid_argument naming the configuration key of a bad value.
    AliyunSmsProvider(AliyunSmsConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());
    /// The configuration from the settings, the secret file read (ConfigError naming it).
    static AliyunSmsConfig config_from(const ProviderSettings& s);
    /// config_from() and the provider; a bad value is a ConfigError naming its key.
    static std::unique_ptr<AliyunSmsProvider> from(const ProviderSettings& s, outbound::Client& http,
                                                   const Clock& clock = SystemClock::instance());

    bool send(const std::string& phone, const std::string& code, std::string* why) override;
    bool reveals_code() const override { return false; }

    /// The request's parameters but `Signature` (exposed for tests): `nonce` and `timestamp` as given.
    Params params(std::string_view phone, std::string_view code, std::string_view nonce,
                  std::string_view timestamp) const;
    /// `enc(k)=enc(v)` sorted by name, joined by `&`.
    static std::string canonical_query(Params params);
    /// RPC signature v1.0 of `params` for `method` (GET) under `secret`: the pure rule.
    static std::string signature(std::string_view secret, std::string_view method, const Params& params);
    /// A random version-4 UUID (lower-case, 36 characters): the SignatureNonce.
    static std::string uuid4();

private:
    AliyunSmsConfig config_;
    outbound::Client& http_;
    const Clock& clock_;
};

} // namespace pilehub::api
