#pragma once
// The provider stub (tests/stubs/providers.mjs: WeChat login, WeChat Pay v3, Alipay, Aliyun SMS,
// each speaking its published protocol with fresh keys) as a child process of a C++ test, and the
// `--set` lines that point pilehub-api at it.
//
//   ProviderStub stub(dir);
//   Stack st(StackOptions{false, stub.sets()});   // production mode, every provider configured
//   stub.post("/_stub/wechat/codes", R"({"code":"c1","openid":"o1"})");
// `Prod`: the stub and the API in production mode together, with riders logged in through each
// provider, recharge orders and the stub's payments of them (test_api_providers.cpp, tests/chaos/).
#include "tests/integration/api_stack.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace pilehub::test::api {

class ProviderStub {
public:
    explicit ProviderStub(const std::string& dir) : dir_(dir) {
        std::filesystem::create_directories(dir_);
        const auto out = dir_ + "/stub.out";
        SpawnOptions so;
        so.output = out;
        proc_ = Process::spawn(
            {"node", std::string(PILEHUB_SOURCE_DIR) + "/tests/stubs/providers.mjs", "--dir", dir_, "--port", "0"}, so);
        // Its one stdout line says where it listens, once its key files are written.
        for (int i = 0; i < 400 && port_ == 0; ++i) {
            std::ifstream in(out);
            std::string line;
            while (std::getline(in, line))
                if (line.rfind("{\"port\":", 0) == 0) {
                    auto doc = json::parse(line);
                    if (doc && doc->HasMember("port"))
                        port_ = (*doc)["port"].GetInt();
                }
            if (port_ == 0) {
                REQUIRE_MESSAGE(proc_.running(), "the provider stub exited:\n" << slurp(out));
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
        }
        REQUIRE_MESSAGE(port_ != 0, "the provider stub did not start in 10 s:\n" << slurp(out));
    }
    /// Stops the stub and removes its directory (kept with PILEHUB_KEEP_TEST_DIRS=1).
    ~ProviderStub() {
        if (proc_.pid())
            proc_.stop();
        const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
        if (!keep || std::string(keep) != "1") {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    int port() const { return port_; }
    const std::string& dir() const { return dir_; }

    /// providers.conf as `--set` values, plus the notify URLs at the API's own port and `extra`.
    std::vector<std::string> sets(std::vector<std::string> extra = {}) const {
        std::vector<std::string> out;
        std::ifstream in(dir_ + "/providers.conf");
        std::string line;
        while (std::getline(in, line)) {
            const auto eq = line.find(" = ");
            if (line.empty() || line[0] == '#' || eq == std::string::npos)
                continue;
            out.push_back(line.substr(0, eq) + "=" + line.substr(eq + 3));
        }
        out.push_back("pilehub-api.public_url=http://127.0.0.1:${pilehub-api.http_port}");
        for (auto& e : extra)
            out.push_back(std::move(e));
        return out;
    }

    Http post(const std::string& path, const std::string& body) const { return call("POST", path, body); }
    Http get(const std::string& path) const { return call("GET", path, ""); }

private:
    Http call(const std::string& method, const std::string& path, const std::string& body) const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(20, 0);
        auto r = method == "GET" ? c.Get(path) : c.Post(path, body, "application/json");
        Http out;
        if (!r)
            return out;
        out.status = r->status;
        out.body = r->body;
        out.json.Parse(out.body.c_str(), out.body.size());
        return out;
    }

    std::string dir_;
    Process proc_;
    int port_ = 0;
};

/// Production: every provider at the stub; the reconciler asks about silent orders after 1 s.
struct Prod {
    ProviderStub stub;
    Stack st;
    std::string admin;

    explicit Prod(const std::string& name, std::vector<std::string> extra = {})
        : stub(fmt::format("/tmp/pilehub-prov-{}-{}", name, ::getpid())),
          st(StackOptions{false, stub.sets(with_reconcile(std::move(extra))), {}}), admin(st.admin()) {}

    static std::vector<std::string> with_reconcile(std::vector<std::string> extra) {
        for (const char* s : {"pilehub-api.reconcile.interval_s=1", "pilehub-api.reconcile.query_after_s=1",
                              "pilehub-api.reconcile.refund_query_after_s=1"})
            extra.insert(extra.begin(), s);
        return extra;
    }

    /// A rider logged in by SMS through Aliyun (the code read from the stub's outbox).
    std::string sms_rider(const std::string& phone) const {
        auto sent = st.post("/api/v1/auth/sms-code", fmt::format(R"({{"phone":"{}"}})", phone));
        REQUIRE_MESSAGE(sent.status == 200, sent);
        CHECK(sent.str("dev_code").empty()); // production never reveals the code
        auto box = stub.get("/_stub/sms/messages?phone=" + phone);
        REQUIRE(box.json.IsArray());
        REQUIRE(box.json.Size() >= 1);
        const std::string code = box.json[box.json.Size() - 1]["params"]["code"].GetString();
        auto l = st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"{}","code":"{}"}})", phone, code));
        REQUIRE_MESSAGE(l.status == 200, l);
        return l.str("token");
    }

    /// A rider logged in with the WeChat mini-program (wx.login code, then the phone button).
    std::string wechat_rider(const std::string& openid, const std::string& phone) {
        const auto n = ++codes_;
        REQUIRE(stub.post("/_stub/wechat/codes", fmt::format(R"({{"code":"wx{}","openid":"{}"}})", n, openid)).status ==
                200);
        REQUIRE(
            stub.post("/_stub/wechat/phone-codes", fmt::format(R"({{"code":"ph{}","phone":"{}"}})", n, phone)).status ==
            200);
        auto l = st.post("/api/v1/auth/wechat", fmt::format(R"({{"code":"wx{}","phone_code":"ph{}"}})", n, n));
        REQUIRE_MESSAGE(l.status == 200, l);
        return l.str("token");
    }

    /// A rider logged in with the Alipay mini-program (auth code, then my.getPhoneNumber's text).
    std::string alipay_rider(const std::string& user_id, const std::string& phone) {
        const auto n = ++codes_;
        REQUIRE(
            stub.post("/_stub/alipay/codes", fmt::format(R"({{"code":"ali{}","user_id":"{}"}})", n, user_id)).status ==
            200);
        auto pc = stub.post("/_stub/alipay/phone", fmt::format(R"({{"phone":"{}"}})", phone));
        REQUIRE(pc.status == 200);
        json::Writer w;
        w.begin_object().field("auth_code", fmt::format("ali{}", n)).field("phone_code", pc.str("phone_code"));
        auto l = st.post("/api/v1/auth/alipay", w.end_object().str());
        REQUIRE_MESSAGE(l.status == 200, l);
        return l.str("token");
    }

    std::int64_t balance(const std::string& token) const { return st.get("/api/v1/wallet", token).i64("balance_fen"); }

    /// A recharge order through `channel`; its id.
    std::string order(const std::string& token, const std::string& channel, std::int64_t fen) const {
        auto r = st.post("/api/v1/wallet/recharge", fmt::format(R"({{"amount_fen":{},"channel":"{}"}})", fen, channel),
                         token);
        REQUIRE_MESSAGE(r.status == 201, r);
        CHECK(r.str("channel") == channel);
        CHECK(r.i64("amount_fen") == fen);
        return r.str("payment_id");
    }

    /// What the channel's stub calls the order (WeChat's out_trade_no has no `pay_`).
    static std::string trade_no(const std::string& channel, const std::string& payment_id) {
        return channel == "wechat" ? payment_id.substr(4) : payment_id;
    }

    /// The stub pays the order and notifies `times` times; the HTTP statuses our API answered.
    std::vector<int> pay(const std::string& channel, const std::string& payment_id, const std::string& tamper = "none",
                         int times = 1, bool deliver = true) const {
        auto r =
            stub.post(fmt::format("/_stub/{}/pay", channel == "wechat" ? "wechatpay" : "alipay"),
                      fmt::format(R"({{"out_trade_no":"{}","times":{},"concurrent":true,"deliver":{},"tamper":"{}"}})",
                                  trade_no(channel, payment_id), times, deliver ? "true" : "false", tamper));
        REQUIRE_MESSAGE(r.status == 200, r);
        std::vector<int> statuses;
        for (rapidjson::SizeType i = 0; i < r.size("deliveries"); ++i)
            statuses.push_back(static_cast<int>(r.i64(fmt::format("deliveries.{}.status", i))));
        return statuses;
    }

    Http refund(std::int64_t account, std::int64_t fen, const std::string& key) const {
        httplib::Headers h;
        if (!key.empty())
            h.emplace("Idempotency-Key", key);
        return st.request("POST", fmt::format("/api/v1/admin/users/{}/refund", account),
                          fmt::format(R"({{"amount_fen":{},"reason":"moving away"}})", fen), admin, h);
    }

    int codes_ = 0;
};

/// The requests the stub could not verify (signature, key, token), as `provider path error` lines.
inline std::vector<std::string> unverified(const ProviderStub& stub) {
    auto log = stub.get("/_stub/log");
    REQUIRE(log.json.IsArray());
    REQUIRE(log.json.Size() > 0);
    std::vector<std::string> out;
    for (const auto& e : log.json.GetArray())
        if (!e["verified"].GetBool())
            out.push_back(fmt::format("{} {} {}", e["provider"].GetString(), e["path"].GetString(),
                                      e.HasMember("error") && e["error"].IsString() ? e["error"].GetString() : ""));
    return out;
}

inline bool all_verified(const ProviderStub& stub) {
    const auto bad = unverified(stub);
    for (const auto& b : bad)
        MESSAGE("not verified by the stub: " << b);
    return bad.empty();
}

} // namespace pilehub::test::api
