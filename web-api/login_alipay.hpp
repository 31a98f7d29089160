#pragma once
#include "web-api/alipay_gateway.hpp"
#include "web-api/identity.hpp"
#include "web-api/provider_settings.hpp"

#include <memory>
#include <string>

/// Alipay mini-program login (CONTRACT F.1, docs/providers.md §3; Alipay "换取授权访问令牌"
/// https://opendocs.alipay.com/open/02ailc (alipay.system.oauth.token) and "获取会员手机号"
/// https://opendocs.alipay.com/mini/api/getphonenumber with "敏感信息加解密"
/// https://opendocs.alipay.com/common/02mse3).
///
/// - exchange: `alipay.system.oauth.token` (`grant_type=authorization_code`, `code`) through the
///   gateway (RSA2-signed, the answer verified on its exact text) → Subject{`user_id`, else `open_id`}.
/// - phone: `phone_code` is the text my.getPhoneNumber gave the mini-program,
///   `{"response":"<base64>","sign":"…","sign_type":"RSA2","encrypt_type":"AES",…}`. `sign` is
///   Alipay's RSA2 signature of the ciphertext: Alipay's sample code signs it in double quotes
///   (`"<response>"`, as it stands in the JSON); PROVIDERS-SPEC §3 (the test stub) signs the bare text;
///   either verifies. Then AES-128-CBC (the app's AES key, IV 16 zero bytes, PKCS#7) gives
///   `{"code":"10000","msg":"Success","mobile":"138…"}`.
namespace pilehub::api {

struct AlipayLoginConfig {
    alipay::GatewayConfig gateway;
    std::string aes_key; ///< pilehub-api.alipay.aes_key_file, decoded (16 bytes; 24 or 32 also accepted)
};

class AlipayLogin final : public identity::LoginProvider {
public:
    /// Throws std::invalid_argument naming the configuration key of a bad value.
    AlipayLogin(AlipayLoginConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());
    /// The configuration from the settings, key files read and the AES key base64-decoded (ConfigError
    /// naming an unreadable or undecodable one).
    static AlipayLoginConfig config_from(const ProviderSettings& s);
    /// config_from() and the provider; a bad key or value is a ConfigError naming its key.
    static std::unique_ptr<AlipayLogin> from(const ProviderSettings& s, outbound::Client& http,
                                             const Clock& clock = SystemClock::instance());

    std::string_view name() const override { return "alipay"; }
    Result<identity::Subject> exchange(const std::string& code) override;
    Result<std::string> phone(const std::string& phone_code) override;

private:
    AlipayLoginConfig config_;
    alipay::Gateway gateway_;
};

} // namespace pilehub::api
