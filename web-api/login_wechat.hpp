#pragma once
#include "common/clock.hpp"
#include "web-api/identity.hpp"
#include "web-api/outbound.hpp"
#include "web-api/provider_settings.hpp"

#include <memory>
#include <mutex>
#include <string>

/// WeChat mini-program login (CONTRACT F.1, docs/providers.md §1; WeChat "小程序登录"
/// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html,
/// "获取接口调用凭据" …/mp-access-token/getAccessToken.html and "获取手机号"
/// …/user-info/phone-number/getPhoneNumber.html).
///
/// - exchange: `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code` →
///   Subject{openid, unionid}. A non-zero `errcode` (40029 invalid code, 40163 used, 40125 bad
///   secret, …) is a failure naming it.
/// - phone: `POST /wxa/business/getuserphonenumber?access_token=…` `{"code"}`; the answer's
///   `watermark.appid` must be ours; the phone is `purePhoneNumber` for country code 86, else
///   `+<countryCode><purePhoneNumber>`.
/// - The access token (`GET /cgi-bin/token?grant_type=client_credential`) is shared by every
///   thread, kept until `expires_in − 300 s`, and fetched again (the call retried once) when WeChat
///   answers 40001 (invalid credential) or 42001 (expired).
/// The secret and the token travel in query strings; failures never repeat a URL with its query.
namespace pilehub::api {

struct WechatLoginConfig {
    std::string appid;  ///< pilehub-api.wechat.appid
    std::string secret; ///< pilehub-api.wechat.secret_file (the AppSecret)
    std::string base_url = "https://api.weixin.qq.com";
};

class WechatLogin final : public identity::LoginProvider {
public:
    /// An access token is used until this long before WeChat says it expires.
    static constexpr std::int64_t kTokenMarginS = 300;

    /// Throws std::invalid_argument naming the configuration key of a bad value.
    WechatLogin(WechatLoginConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());
    /// The configuration from the settings, the secret file read (ConfigError naming it).
    static WechatLoginConfig config_from(const ProviderSettings& s);
    /// config_from() and the provider; a bad value is a ConfigError naming its key.
    static std::unique_ptr<WechatLogin> from(const ProviderSettings& s, outbound::Client& http,
                                             const Clock& clock = SystemClock::instance());

    std::string_view name() const override { return "wechat"; }
    Result<identity::Subject> exchange(const std::string& code) override;
    Result<std::string> phone(const std::string& phone_code) override;

private:
    /// The cached token, or a fresh one.
    Result<std::string> access_token();
    /// Forgets `token` if it is still the cached one (WeChat refused it).
    void forget_token(const std::string& token);
    /// One getuserphonenumber call with `token`.
    Result<std::string> phone_with(const std::string& token, const std::string& phone_code, int* errcode);
    /// The answer to `GET path_and_query` under base_url.
    outbound::Response get(const std::string& path_and_query);

    WechatLoginConfig config_;
    outbound::Client& http_;
    const Clock& clock_;
    std::string base_;

    std::mutex token_mutex_; ///< one fetch at a time; guards the two below
    std::string token_;
    EpochMs token_until_ = 0;
};

} // namespace pilehub::api
