// The OCPP test bridge itself (tests/ocpp/ocpp_peer.hpp driving charge_point.mjs) against
// ocpp-rpc's own RPCServer (mini_csms.mjs), so that gateway tests can trust what it reports:
// refused handshakes, strict mode refusing our invalid payloads locally, CALLs from the central
// system answered as configured, raw frames, forced closes, and wss with a given CA.
#include "tests/ocpp/ocpp_peer.hpp"
#include "tests/support/loopback.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>

using namespace pilehub::test;
using namespace std::chrono_literals;

namespace {

const std::string kSourceDir = PILEHUB_SOURCE_DIR;

/// A private directory for logs and certificates, removed at the end unless
/// PILEHUB_KEEP_TEST_DIRS is set.
struct TestDir {
    std::string path;
    TestDir() {
        char tmpl[] = "/tmp/pilehub-ocpp-peer-XXXXXX";
        if (!::mkdtemp(tmpl))
            throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TestDir() {
        if (!std::getenv("PILEHUB_KEEP_TEST_DIRS")) {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    }
};

/// mini_csms.mjs on a free loopback port (TLS with the certificates in `tls_dir` if given).
struct MiniCsms {
    std::unique_ptr<LineChild> node;
    int port = 0;

    MiniCsms(const std::string& log, const std::string& tls_dir = "") {
        for (int attempt = 0; attempt < 3 && !node; ++attempt) {
            port = free_tcp_port();
            std::vector<std::string> argv{"node", kSourceDir + "/tests/ocpp/mini_csms.mjs", std::to_string(port)};
            if (!tls_dir.empty())
                argv.push_back(tls_dir);
            node = std::make_unique<LineChild>(argv, log);
            if (!next("listening", 10s))
                node.reset(); // the port was taken meanwhile: try another
        }
        REQUIRE_MESSAGE(node, "mini_csms.mjs did not listen; see " << log);
    }
    std::string url(const char* scheme = "ws") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/ocpp";
    }
    /// The next line reporting `event` (earlier other lines are skipped), as JSON text.
    std::optional<std::string> next(std::string_view event, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (auto line = node->read_line(deadline))
            if (json_text_at(*line, "event") == event)
                return line;
        return std::nullopt;
    }
};

ConnectOptions cp1(const MiniCsms& csms, std::string password = "secret") {
    return ConnectOptions(csms.url(), "CP1", std::move(password));
}

const char* kBoot = R"({"chargePointVendor":"PileHub","chargePointModel":"Bridge"})";

/// The frame (JSON text) an event reports in "text"; fails the test if the event did not come.
std::string frame_of(const std::optional<std::string>& event) {
    REQUIRE(event);
    const auto text = json_text_at(*event, "text");
    REQUIRE(text);
    return *text;
}

/// CP1 connected to a mini_csms that has seen it arrive.
struct Connected {
    TestDir dir;
    MiniCsms csms{dir.path + "/csms.log"};
    OcppPeer cp{dir.path + "/cp.log"};
    Connected() {
        const auto c = cp.connect(cp1(csms));
        REQUIRE_MESSAGE(c.ok, c.error_message);
        REQUIRE(csms.next("client"));
    }
};

} // namespace

TEST_CASE("ocpp peer: connects with the right password and is refused with 401 for a wrong one") {
    TestDir dir;
    MiniCsms csms(dir.path + "/csms.log");
    OcppPeer cp(dir.path + "/cp.log");

    const auto refused = cp.connect(cp1(csms, "wrong"));
    CHECK_FALSE(refused.ok);
    CHECK(refused.error_kind == "http");
    CHECK(refused.http_status == 401);

    const auto ok = cp.connect(cp1(csms));
    REQUIRE_MESSAGE(ok.ok, ok.error_message);
    CHECK(ok.protocol == "ocpp1.6");
    const auto client = csms.next("client");
    REQUIRE(client);
    CHECK(json_text_at(*client, "identity") == "CP1");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a BootNotification gets the central system's Accepted") {
    const auto boot = cp.call("BootNotification", kBoot);
    REQUIRE_MESSAGE(boot.ok, boot.error_kind << " " << boot.error_message);
    CHECK(json_text_at(boot.result_json, "status") == "Accepted");
    CHECK(json_text_at(boot.result_json, "interval") == "300");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: strict mode refuses our invalid payloads before sending them") {
    const auto missing = cp.call("BootNotification", R"({"chargePointVendor":"PileHub"})");
    CHECK_FALSE(missing.ok);
    CHECK(missing.error_kind == "invalid_request");
    CHECK(missing.error_code == "OccurenceConstraintViolation"); // ocpp-rpc's spelling
    CHECK(json_text_at(missing.error_details_json, "errors.0.params.missingProperty") == "chargePointModel");

    const auto wrong_type = cp.call("BootNotification", R"({"chargePointVendor":7,"chargePointModel":"M"})");
    CHECK(wrong_type.error_kind == "invalid_request");
    CHECK(wrong_type.error_code == "TypeConstraintViolation");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: strict mode refuses the central system's invalid CALLRESULT and reports it") {
    // mini_csms answers Authorize with idTagInfo.status "Bogus", outside the schema's enum.
    const auto auth = cp.call("Authorize", R"({"idTag":"CARD-1"})");
    CHECK_FALSE(auth.ok);
    CHECK(auth.error_kind == "invalid_response");
    const auto violation = cp.wait_event("strict_violation");
    REQUIRE(violation);
    CHECK(json_text_at(*violation, "isCall") == "false");
    CHECK(json_text_at(*violation, "action") == "Authorize");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: an invalid CALL from the central system is reported and refused") {
    cp.handle("RemoteStartTransaction", R"({"status":"Accepted"})");
    csms.node->send(R"({"op":"raw","text":"[2,\"s-1\",\"RemoteStartTransaction\",{\"connectorId\":1}]"})");

    const auto call = cp.wait_call("RemoteStartTransaction"); // reported before validation
    REQUIRE(call);
    CHECK(json_text_at(*call, "connectorId") == "1");
    const auto violation = cp.wait_event("strict_violation");
    REQUIRE(violation);
    CHECK(json_text_at(*violation, "isCall") == "true");
    CHECK(json_text_at(*violation, "uniqueId") == "s-1");
    CHECK(json_text_at(*violation, "code") == "OccurenceConstraintViolation"); // ocpp-rpc's spelling
    // On the wire ocpp-rpc spells it as the OCPP 1.6 errata do.
    const auto frame = frame_of(csms.next("unmatched"));
    CHECK(json_text_at(frame, "1") == "s-1");
    CHECK(json_text_at(frame, "2") == "OccurrenceConstraintViolation");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a CALLERROR from the central system is reported with its code") {
    // Valid, but mini_csms handles only BootNotification and Heartbeat.
    const auto status =
        cp.call("StatusNotification", R"({"connectorId":1,"errorCode":"NoError","status":"Available"})");
    CHECK_FALSE(status.ok);
    CHECK(status.error_kind == "callerror");
    CHECK(status.error_code == "NotImplemented");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a CALL the central system never answers times out") {
    const auto dt = cp.call("DataTransfer", R"({"vendorId":"PileHub"})", 300ms);
    CHECK_FALSE(dt.ok);
    CHECK(dt.error_kind == "timeout");
    CHECK(cp.call("Heartbeat", "{}").ok); // the connection is still usable
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a raw frame bypasses validation and the reply comes back as raw_message") {
    cp.raw(R"([2,"raw-1","Heartbeat",{"unexpected":1}])");
    const auto frame = frame_of(cp.wait_event("raw_message"));
    CHECK(json_text_at(frame, "0") == "4");
    CHECK(json_text_at(frame, "1") == "raw-1");
    CHECK(json_text_at(frame, "2") == "PropertyConstraintViolation");
}

TEST_CASE_FIXTURE(
    Connected, "ocpp peer: a RemoteStartTransaction from the central system is reported and answered as configured") {
    SUBCASE("configured: the configured payload") {
        cp.handle("RemoteStartTransaction", R"({"status":"Accepted"})");
        csms.node->send(R"({"op":"remote_start","idTag":"CARD-1"})");
        const auto payload = cp.wait_call("RemoteStartTransaction");
        REQUIRE(payload);
        CHECK(json_text_at(*payload, "idTag") == "CARD-1");
        CHECK(json_text_at(*payload, "connectorId") == "1");
        const auto result = csms.next("remote_start_result");
        REQUIRE(result);
        CHECK(json_text_at(*result, "ok") == "true");
        CHECK(json_text_at(*result, "result.status") == "Accepted");
    }
    SUBCASE("configured as an error: that CALLERROR") {
        cp.handle("RemoteStartTransaction", R"({"error":{"code":"NotSupported","message":"not here"}})");
        csms.node->send(R"({"op":"remote_start","idTag":"CARD-1"})");
        REQUIRE(cp.wait_call("RemoteStartTransaction"));
        const auto result = csms.next("remote_start_result");
        REQUIRE(result);
        CHECK(json_text_at(*result, "ok") == "false");
        CHECK(json_text_at(*result, "error.code") == "NotSupported");
    }
    SUBCASE("not configured: NotImplemented") {
        csms.node->send(R"({"op":"remote_start","idTag":"CARD-1"})");
        REQUIRE(cp.wait_call("RemoteStartTransaction"));
        const auto result = csms.next("remote_start_result");
        REQUIRE(result);
        CHECK(json_text_at(*result, "error.code") == "NotImplemented");
    }
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a forced close drops the connection without a close frame") {
    CHECK(cp.close(/*force=*/true).code == 1006);
    const auto seen = csms.next("disconnect");
    REQUIRE(seen);
    CHECK(json_text_at(*seen, "code") == "1006");

    const auto after = cp.call("Heartbeat", "{}");
    CHECK(after.error_kind == "closed");
}

TEST_CASE_FIXTURE(Connected, "ocpp peer: a clean close reaches the central system with its code") {
    CHECK(cp.close(false, 1000).code == 1000);
    const auto seen = csms.next("disconnect");
    REQUIRE(seen);
    CHECK(json_text_at(*seen, "code") == "1000");
}

TEST_CASE("ocpp peer: wss trusts the CA it is given and no other") {
    TestDir dir;
    const auto tls = dir.path + "/tls";
    const auto ca = run({kSourceDir + "/broker-config/make-dev-ca", tls});
    REQUIRE_MESSAGE(ca.exit_code == 0, ca.output);
    MiniCsms csms(dir.path + "/csms.log", tls);
    OcppPeer cp(dir.path + "/cp.log");

    auto options = cp1(csms);
    options.url = csms.url("wss");
    const auto untrusted = cp.connect(options);
    CHECK_FALSE(untrusted.ok);
    CHECK(untrusted.error_kind == "socket");

    options.ca_file = tls + "/ca.crt";
    const auto trusted = cp.connect(options);
    REQUIRE_MESSAGE(trusted.ok, trusted.error_message);
    CHECK(cp.call("BootNotification", kBoot).ok);
}
