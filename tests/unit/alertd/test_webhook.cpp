// The webhook: its signature against a fixed vector, the back-off schedule, and the outbox sender
// against a real SQLite file with a fake HTTP client (delivered once, retried after failures).
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/svc.hpp"
#include "tests/unit/alertd/core_file.hpp"
#include "workers/alertd/alertd_store.hpp"
#include "workers/alertd/webhook.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace std::chrono_literals;
namespace wh = alertd::webhook;

namespace {

/// Answers each request with the next status of `statuses` (the last one repeated) and records it.
class FakeHttp final : public wh::Transport {
public:
    struct Sent {
        std::string url;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
    };
    explicit FakeHttp(std::vector<int> statuses) : statuses_(std::move(statuses)) {}
    wh::Answer post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body) override {
        requests.push_back({url, headers, body});
        return {statuses_[std::min(requests.size(), statuses_.size()) - 1], {}};
    }
    std::string header(std::size_t i, const std::string& name) const {
        for (const auto& [k, v] : requests.at(i).headers)
            if (k == name)
                return v;
        return {};
    }
    std::vector<Sent> requests;

private:
    std::vector<int> statuses_;
};

alertd::Decision offline(EpochMs at) {
    return alertd::Decision{alerts::Action::Open, {"offline", "pile-1", 0, "pile-1"}, "offline (lwt) for 300 s", at};
}

} // namespace

TEST_CASE("alertd webhook: the signature is HMAC-SHA256 over <timestamp>.<body>, as a fixed vector") {
    const std::string body = R"({"v":1,"id":7,"kind":"offline"})";
    CHECK(wh::signature("whsec_test", 1'732'183'200, body) ==
          "95e501cf3efac652946dc97fc2cabcd9a986c7c045004ac7f4b907dcafa4fbb7");
    CHECK(wh::signature_header("whsec_test", 1'732'183'200, body) ==
          "t=1732183200,v1=95e501cf3efac652946dc97fc2cabcd9a986c7c045004ac7f4b907dcafa4fbb7");
}

TEST_CASE("alertd webhook: the back-off doubles from the first wait and stops at the longest") {
    const std::vector<std::int64_t> want{1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000};
    for (std::size_t i = 0; i < want.size(); ++i)
        CHECK(wh::backoff(static_cast<std::int64_t>(i + 1), 1s, 60s).count() == want[i]);
}

TEST_CASE("alertd webhook: an opened alert is queued with it, retried after a 500 with back-off, delivered once "
          "after the 200, signed") {
    log::set_level(log::Level::Error);
    test::CoreFile t("alertd-webhook");
    db::Database core(t.path);
    ManualClock clock;
    alertd::Store store(core);
    const auto id = store.open(offline(clock.now_ms()), true);
    REQUIRE(id);
    CHECK_FALSE(store.open(offline(clock.now_ms()), true)); // one current alert per key

    FakeHttp http({500, 200});
    wh::Options o;
    o.url = "http://127.0.0.1:9/hook";
    o.secret = "s3cret";
    o.retry_first = 1s;
    wh::Sender sender(core, http, clock, o);
    CHECK(sender.run_once() == 0);
    REQUIRE(http.requests.size() == 1);
    CHECK(sender.run_once() == 0); // not due before its back-off
    CHECK(http.requests.size() == 1);
    clock.advance_ms(1'000);
    CHECK(sender.run_once() == 1);
    REQUIRE(http.requests.size() == 2);
    CHECK(sender.run_once() == 0); // delivered once
    clock.advance_ms(3'600'000);
    CHECK(sender.run_once() == 0);
    CHECK(http.requests.size() == 2);

    const auto& r = http.requests[1];
    CHECK(r.url == "http://127.0.0.1:9/hook");
    CHECK(http.header(1, "X-PileHub-Alert-Id") == std::to_string(*id));
    const auto ts = (clock.now_ms() - 3'600'000) / 1000;
    CHECK(http.header(1, "X-PileHub-Signature") == wh::signature_header("s3cret", ts, r.body));
    const auto a = svc::decode<svc::Alert>(r.body);
    REQUIRE(a);
    CHECK(a->id == *id);
    CHECK(a->kind == "offline");
    CHECK(a->device_id == "pile-1");
    CHECK(a->open);

    // Resolved by the system, the key is free: the next raise is a new alert.
    CHECK(store.resolve(offline(clock.now_ms())) == id);
    CHECK_FALSE(store.resolve(offline(clock.now_ms())));
    const auto again = store.open(offline(clock.now_ms()), false);
    REQUIRE(again);
    CHECK(*again != *id);
}
