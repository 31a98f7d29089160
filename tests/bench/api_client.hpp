#pragma once
// The rider's side of pilehub-api for the benchmarks (`api`, `ocpp`): a keep-alive HTTP client,
// pilehub-api started as a child in a benchmark's data directory, riders registered and funded
// through the API as the app does it.
#include "bench_util.hpp"

#include "tests/support/broker.hpp"
#include "tests/support/json_path.hpp"
#include "tests/support/process.hpp"

#include <httplib.h>

#include <string>
#include <vector>

namespace pilehub::bench {

/// The last `lines` lines of `text`.
std::string tail(const std::string& text, std::size_t lines = 20);

/// One HTTP exchange; the body parsed when it is JSON.
struct Reply {
    int status = 0; ///< 0: no answer at all
    std::string body;
    rapidjson::Document json;

    /// The value at a dotted path (`session.id`, `stations.0.name`), or nullptr.
    const rapidjson::Value* at(const std::string& path) const { return test::json_at(json, path); }
    std::string str(const std::string& path) const {
        auto v = at(path);
        return v && v->IsString() ? v->GetString() : std::string();
    }
    std::size_t size(const std::string& path) const {
        auto v = at(path);
        return v && v->IsArray() ? v->Size() : 0;
    }
    std::string brief() const { return fmt::format("{} {}", status, body.substr(0, 300)); }
};

/// A keep-alive connection to the API, as the rider's app holds one (not thread-safe).
class ApiClient {
public:
    explicit ApiClient(int port);
    Reply get(const std::string& path, const std::string& token = "");
    Reply post(const std::string& path, const std::string& body, const std::string& token = "");

private:
    httplib::Client c_;
};

/// `r` if its status is `status`; throws std::runtime_error naming `what` otherwise.
Reply expect(Reply r, int status, const std::string& what);

/// pilehub-api (`<bin_dir>/web-api/pilehub-api`) as our child on 127.0.0.1:`port`, in `dir` (its
/// broker password written to `dir/secrets`), dev mode, production log level and HTTP threads; only
/// the SMS and login limits are raised, so that one address may register hundreds of riders.
/// Returns once it is ready; throws with the tail of its log if it is not within 20 s.
test::Process start_api(const std::string& bin_dir, const test::Broker& broker, const std::string& dir, int port);

/// `count` riders (phones 1380xxxxxxx from `first_phone`): SMS code (dev), login, a sandbox recharge
/// of `fen`, confirmed. Their bearer tokens, in order.
std::vector<std::string> funded_riders(ApiClient& http, int count, std::int64_t fen, int first_phone = 0);

} // namespace pilehub::bench
