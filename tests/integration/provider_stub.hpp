#pragma once
// The provider stub (tests/stubs/providers.mjs: WeChat login, WeChat Pay v3, Alipay, Aliyun SMS,
// each speaking its published protocol with fresh keys) as a child process of a C++ test, and the
// `--set` lines that point pilehub-api at it.
//
//   ProviderStub stub(dir);
//   Stack st(StackOptions{false, stub.sets()});   // production mode, every provider configured
//   stub.post("/_stub/wechat/codes", R"({"code":"c1","openid":"o1"})");
#include "tests/integration/api_stack.hpp"
#include "tests/support/process.hpp"

#include <httplib.h>

#include <chrono>
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
    ~ProviderStub() {
        if (proc_.pid())
            proc_.stop();
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

} // namespace pilehub::test::api
