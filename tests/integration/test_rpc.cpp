// common/rpc over a real broker started from broker-config/.
#include "common/mqtt_router.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

struct Pair {
    test::Broker broker;
    std::unique_ptr<mqtt::Client> server_mqtt;
    std::unique_ptr<mqtt::Client> client_mqtt;
    mqtt::Router server_router;
    mqtt::Router client_router;
    std::unique_ptr<rpc::Server> server;
    std::unique_ptr<rpc::Client> client;
    std::atomic<int> runs{0};

    Pair() {
        server_mqtt = mqtt::make_client(broker.client_options("svc.sessiond"));
        client_mqtt = mqtt::make_client(broker.client_options("svc.pilehub-api"));
        server = std::make_unique<rpc::Server>(*server_mqtt, server_router, "sessiond");
        server->handle("echo", [this](rpc::Request& r) {
            ++runs;
            const auto n = r.data.req_int("n", 0, 100);
            if (!r.data.ok())
                return rpc::Reply::refuse("invalid_request", "bad n", "invalid");
            return rpc::Reply::success("{\"n\":" + std::to_string(n * 2) + "}");
        });
        // A ph/v1/svc method: the whole `data` through the strict svc codec.
        server->handle("stop", [this](rpc::Request& r) {
            ++runs;
            REQUIRE(r.data_value != nullptr);
            const auto stop = svc::decode<svc::StopRequest>(*r.data_value);
            if (!stop)
                return rpc::Reply::refuse("invalid_request", stop.error(), "invalid");
            return rpc::Reply::success(R"({"sid":")" + stop.value().session_id + R"("})");
        });
        server->handle("slow", [this](rpc::Request&) {
            ++runs;
            std::this_thread::sleep_for(300ms);
            return rpc::Reply::success();
        });
        client = std::make_unique<rpc::Client>(*client_mqtt, client_router);
        server_router.attach(*server_mqtt);
        client_router.attach(*client_mqtt);
        server_mqtt->start();
        client_mqtt->start();
        REQUIRE(server_mqtt->wait_ready(5s));
        REQUIRE(client_mqtt->wait_ready(5s));
    }
};

} // namespace

TEST_CASE("rpc: a request is answered with its reply data, and validation failures come back as invalid") {
    Pair p;
    auto r = p.client->call("sessiond", "echo", R"({"n":21})", 2s);
    CHECK(r.status == "ok");
    CHECK(r.data_json == R"({"n":42})");
    auto bad = p.client->call("sessiond", "echo", R"({"n":"x"})", 2s);
    CHECK(bad.status == "invalid");
    CHECK(bad.code == "invalid_request");
    auto missing = p.client->call("sessiond", "echo", "", 2s);
    CHECK(missing.status == "invalid");
}

TEST_CASE("rpc: a handler decodes the raw data with a strict svc codec and answers its reason") {
    Pair p;
    auto r =
        p.client->call("sessiond", "stop", svc::encode(svc::StopRequest{"S1", svc::StopCause::Full, "autostopd"}), 2s);
    CHECK(r.status == "ok");
    CHECK(r.data_json == R"({"sid":"S1"})");
    auto unknown = p.client->call("sessiond", "stop", R"({"session_id":"S1","why":"x"})", 2s);
    CHECK(unknown.status == "invalid");
    CHECK(unknown.msg == "why is not a field of a sessiond stop request");
    auto empty = p.client->call("sessiond", "stop", "", 2s);
    CHECK(empty.status == "invalid");
    CHECK(empty.msg == "session_id is required");
}

TEST_CASE("rpc: an unknown method is answered unsupported, an absent service times out") {
    Pair p;
    auto r = p.client->call("sessiond", "nope", "{}", 2s);
    CHECK(r.status == "unsupported");
    const auto t0 = std::chrono::steady_clock::now();
    auto none = p.client->call("billingd", "echo", "{}", 300ms);
    CHECK(none.status == "timeout");
    CHECK(none.code == "timeout");
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("rpc: a request past its exp is answered expired and not run") {
    Pair p;
    // The first call occupies the server's callback for 300 ms; the second expires while queued.
    std::thread slow([&] { p.client->call("sessiond", "slow", "{}", 2s); });
    std::this_thread::sleep_for(50ms);
    auto r = p.client->call("sessiond", "echo", R"({"n":1})", 100ms);
    slow.join();
    // The caller either gave up first (timeout) or saw the server's refusal (expired); never ok.
    CHECK((r.status == "timeout" || r.status == "expired"));
    // The server saw it after its exp: it must not have run it (only "slow" ran).
    std::this_thread::sleep_for(200ms);
    CHECK(p.runs.load() == 1);
}

TEST_CASE("rpc: a repeated rid gets the first answer again without running twice") {
    Pair p;
    test::Inbox inbox;
    auto watcher =
        test::connect_client(p.broker.client_options("svc.billingd"), {topics::rpc_reply("svc.billingd")}, &inbox);
    const std::string req = R"({"v":1,"rid":"r-1","from":"svc.billingd","reply_to":")" +
                            topics::rpc_reply("svc.billingd") + R"(","exp":)" +
                            std::to_string(SystemClock::instance().now_ms() + 5000) + R"(,"data":{"n":5}})";
    REQUIRE(watcher->publish({topics::rpc("sessiond", "echo"), req, 1, false}));
    REQUIRE(inbox.wait_for(topics::rpc_reply("svc.billingd"), "\"n\":10"));
    REQUIRE(watcher->publish({topics::rpc("sessiond", "echo"), req, 1, false}));
    for (int i = 0; i < 50 && inbox.messages().size() < 2; ++i)
        std::this_thread::sleep_for(20ms);
    CHECK(inbox.messages().size() == 2);
    CHECK(p.runs.load() == 1);
}

TEST_CASE("rpc: malformed requests are dropped with a log line and never crash the server") {
    Pair p;
    auto raw = test::connect_client(p.broker.client_options("svc.billingd"));
    for (const char* junk : {"", "{", "[]", "{\"rid\":5}", "{\"rid\":\"x\",\"reply_to\":\"ph/v1/dev/e1/cmd/x\"}"})
        REQUIRE(raw->publish({topics::rpc("sessiond", "echo"), junk, 1, false}));
    auto r = p.client->call("sessiond", "echo", R"({"n":3})", 2s);
    CHECK(r.status == "ok");
    CHECK(r.data_json == R"({"n":6})");
    CHECK(p.runs.load() == 1);
}

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

TEST_CASE("mqtt: our client connections run with TCP_NODELAY (Nagle off)") {
    test::Broker broker;
    auto c = test::connect_client(broker.client_options("svc.recorderd"));
    int tcp = 0, nodelay = 0;
    DIR* d = ::opendir("/proc/self/fd");
    REQUIRE(d);
    while (auto* e = ::readdir(d)) {
        const int fd = std::atoi(e->d_name);
        int type = 0;
        socklen_t tl = sizeof type;
        sockaddr_storage peer{};
        socklen_t pl = sizeof peer;
        if (fd <= 2 || ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
            ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0 || peer.ss_family != AF_INET)
            continue;
        if (ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port) != broker.port())
            continue;
        ++tcp;
        int v = 0;
        socklen_t vl = sizeof v;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v)
            ++nodelay;
    }
    ::closedir(d);
    CHECK(tcp >= 1);
    CHECK(nodelay == tcp);
}
