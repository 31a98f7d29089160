#pragma once
#include "fake_outbound.hpp"
#include "web-api/alipay_gateway.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>

namespace pilehub::api::testutil {

/// Keys: 4 = our app's, 5 = Alipay's.
inline const crypto::PrivateKey& alipay_app_key() {
    static const crypto::PrivateKey k(test_key_pem(4));
    return k;
}
inline const crypto::PrivateKey& alipay_key() {
    static const crypto::PrivateKey k(test_key_pem(5));
    return k;
}

inline alipay::GatewayConfig alipay_gateway_config() {
    return {"2021000000000001", test_key_pem(4), alipay_key().public_pem(), "http://127.0.0.1:9/alipay/gateway.do"};
}

/// Alipay's gateway over a FakeOutbound: checks our form's RSA2 signature with the app's public key
/// (`signed_ok`), and answers `{"<method>_response":<member text>,"sign":…}` signed by Alipay's key over
/// the member text exactly as written. `reply(method, form)` gives the member text; a reply starting
/// with `!` is a whole body, sent as is (error_response, unsigned answers).
struct AlipayGatewayFake {
    using Form = std::vector<std::pair<std::string, std::string>>;
    FakeOutbound http;
    std::function<std::string(const std::string& method, const Form& form)> reply;
    std::vector<Form> forms;
    bool signed_ok = true;

    AlipayGatewayFake() {
        http.answer = [this](const outbound::Request& r) {
            auto form = outbound::form_decode(r.body).value();
            forms.push_back(form);
            const crypto::PublicKey app_pub(alipay_app_key().public_pem());
            signed_ok = signed_ok &&
                        app_pub.verify_sha256_base64(alipay::Gateway::canonical(form, false), value_of(form, "sign"));
            auto method = value_of(form, "method");
            const auto member = reply(method, form);
            if (!member.empty() && member[0] == '!')
                return response(200, member.substr(1));
            std::replace(method.begin(), method.end(), '.', '_');
            return response(200, fmt::format(R"({{"{}_response":{},"sign":"{}"}})", method, member,
                                             alipay_key().sign_sha256_base64(member)));
        };
    }
    /// The value of form parameter `name` in the last call ("" when absent).
    std::string last(std::string_view name) const { return value_of(forms.back(), name); }
};

} // namespace pilehub::api::testutil
