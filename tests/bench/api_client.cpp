#include "api_client.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace pilehub::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string tail(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n)
        pos = text.rfind('\n', pos - 1);
    return pos == std::string::npos ? text : text.substr(pos + 1);
}

namespace {

httplib::Headers headers(const std::string& token) {
    httplib::Headers h;
    if (!token.empty())
        h.emplace("Authorization", "Bearer " + token);
    return h;
}

Reply wrap(const httplib::Result& r) {
    Reply out;
    if (!r)
        return out;
    out.status = r->status;
    out.body = r->body;
    if (r->get_header_value("Content-Type").find("json") != std::string::npos)
        out.json.Parse(out.body.c_str(), out.body.size());
    return out;
}

} // namespace

ApiClient::ApiClient(int port) : c_("127.0.0.1", port) {
    c_.set_keep_alive(true);
    c_.set_tcp_nodelay(true);
    c_.set_connection_timeout(5, 0);
    c_.set_read_timeout(15, 0);
}

Reply ApiClient::get(const std::string& path, const std::string& token) {
    return wrap(c_.Get(path, headers(token)));
}

Reply ApiClient::post(const std::string& path, const std::string& body, const std::string& token) {
    return wrap(c_.Post(path, headers(token), body, "application/json"));
}

Reply expect(Reply r, int status, const std::string& what) {
    if (r.status != status)
        throw std::runtime_error(fmt::format("{}: expected {}, got {}", what, status, r.brief()));
    return r;
}

test::Process start_api(const std::string& bin_dir, const test::Broker& broker, const std::string& dir, int port) {
    const std::string bin = bin_dir + "/web-api/pilehub-api";
    if (!fs::exists(bin))
        throw std::runtime_error(bin + " is not built");
    fs::create_directories(dir + "/secrets");
    std::ofstream(dir + "/secrets/svc.pilehub-api.pass") << broker.password("svc.pilehub-api") << "\n";
    test::SpawnOptions so;
    so.output = dir + "/pilehub-api.log";
    so.env.push_back("PILEHUB_ADMIN_PASSWORD=bench-admin-password-1");
    std::vector<std::string> argv{bin};
    for (const auto& s :
         {"data_dir=" + dir, fmt::format("mqtt.port={}", broker.port()), fmt::format("pilehub-api.http_port={}", port),
          std::string("dev_mode=true"),
          // Setup only: one address registers every rider (production: 30 codes/h per address).
          std::string("pilehub-api.sms_min_interval_s=0"), std::string("pilehub-api.sms_max_per_hour=1000"),
          std::string("pilehub-api.sms_max_per_ip_hour=100000"),
          std::string("pilehub-api.login_max_failures_per_ip=100000")}) {
        argv.push_back("--set");
        argv.push_back(s);
    }
    const auto ready = dir + "/run/pilehub-api.ready";
    fs::remove(ready);
    auto api = test::Process::spawn(argv, so);
    for (int i = 0; i < 800 && !fs::exists(ready); ++i) {
        if (!api.running())
            throw std::runtime_error("pilehub-api exited during start-up:\n" + tail(slurp(so.output)));
        std::this_thread::sleep_for(25ms);
    }
    if (!fs::exists(ready))
        throw std::runtime_error("pilehub-api not ready in 20 s:\n" + tail(slurp(so.output)));
    return api;
}

std::vector<std::string> funded_riders(ApiClient& http, int count, std::int64_t fen, int first_phone) {
    std::vector<std::string> tokens;
    for (int i = first_phone; i < first_phone + count; ++i) {
        const auto phone = fmt::format("1380{:07d}", i);
        auto c = expect(http.post("/api/v1/auth/sms-code", fmt::format(R"({{"phone":"{}"}})", phone)), 200, "sms-code");
        auto l = expect(
            http.post("/api/v1/auth/login", fmt::format(R"({{"phone":"{}","code":"{}"}})", phone, c.str("dev_code"))),
            200, "login");
        tokens.push_back(l.str("token"));
        auto pay =
            expect(http.post("/api/v1/wallet/recharge", fmt::format(R"({{"amount_fen":{}}})", fen), tokens.back()), 201,
                   "recharge");
        expect(http.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", tokens.back()), 200,
               "sandbox confirm");
    }
    return tokens;
}

} // namespace pilehub::bench
