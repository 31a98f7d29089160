#pragma once
#include "common/crypto.hpp"
#include "web-api/outbound.hpp"

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::api::testutil {

/// An outbound::Client that never touches the network: it records every request and answers with
/// `answer` when set, else with the next canned response (status 0 "no canned answer" when none is left).
class FakeOutbound final : public outbound::Client {
public:
    std::function<outbound::Response(const outbound::Request&)> answer;
    std::deque<outbound::Response> canned;

    outbound::Response send(const outbound::Request& r) override {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        if (answer)
            return answer(r);
        if (canned.empty()) {
            outbound::Response none;
            none.error = "no canned answer";
            return none;
        }
        auto res = canned.front();
        canned.pop_front();
        return res;
    }
    std::vector<outbound::Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::size_t count_path(std::string_view path) const {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& r : requests_)
            if (r.url.find(path) != std::string::npos)
                ++n;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<outbound::Request> requests_;
};

/// A response with `status` and `body` (and headers, names in lower case).
inline outbound::Response response(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    outbound::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

/// The decoded query of a URL (after `?`), in order.
inline std::vector<std::pair<std::string, std::string>> query_of(const std::string& url) {
    const auto q = url.find('?');
    return q == std::string::npos ? std::vector<std::pair<std::string, std::string>>{}
                                  : outbound::form_decode(std::string_view(url).substr(q + 1)).value();
}

/// The value of `name` in decoded pairs ("" when absent).
inline std::string value_of(const std::vector<std::pair<std::string, std::string>>& pairs, std::string_view name) {
    for (const auto& [k, v] : pairs)
        if (k == name)
            return v;
    return {};
}

/// Test RSA key `n` (PKCS#8 PEM), generated once per program: a merchant's, a platform's, an app's.
inline const std::string& test_key_pem(int n) {
    static std::mutex mutex;
    static std::map<int, std::string> keys;
    std::lock_guard lock(mutex);
    auto& k = keys[n];
    if (k.empty())
        k = crypto::PrivateKey::generate_pem();
    return k;
}

} // namespace pilehub::api::testutil
