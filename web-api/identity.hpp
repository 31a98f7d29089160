#pragma once
#include "common/json.hpp"

#include <string>

/// Riders' identity at WeChat and Alipay (CONTRACT F.1): the seams the login routes call. Each
/// provider lives in its own file (login_wechat, login_alipay) and speaks the provider's published
/// protocol over web-api/outbound; tests run them against tests/stubs/providers.mjs.
namespace pilehub::api::identity {

/// Who logged in at a provider.
struct Subject {
    std::string provider; ///< `wechat` or `alipay`
    std::string id;       ///< WeChat `openid`; Alipay `user_id` (or `open_id` when the app uses open ids)
    std::string union_id; ///< WeChat `unionid` when the mini-program is bound to an open platform; else empty
};

/// A mini-program login provider.
class LoginProvider {
public:
    virtual ~LoginProvider() = default;
    /// `wechat` or `alipay`.
    virtual std::string_view name() const = 0;
    /// Exchanges the code the mini-program got (wx.login `code`; my.getAuthCode `authCode`) for the
    /// rider's id at the provider. A failure says why (the provider's error code and message).
    virtual Result<Subject> exchange(const std::string& code) = 0;
    /// The rider's phone number (digits, with `+` and the country code when not 86) from the phone
    /// button's answer: WeChat `getPhoneNumber`'s `code` (exchanged at getuserphonenumber with a
    /// cached access token); Alipay `my.getPhoneNumber`'s `response` text (its RSA2 signature verified,
    /// then AES-decrypted).
    virtual Result<std::string> phone(const std::string& phone_code) = 0;
};

} // namespace pilehub::api::identity
