// The shipped broker configuration (broker-config/) enforces CONTRACT A.1 against a real
// Mosquitto: who may publish and receive what, who may connect, how presence survives a crash,
// how credentials change at run time, and what the listeners expose.
//
// Denial in Mosquitto is silent (a denied publish is dropped, a denied subscription is granted
// and never delivered), so every "cannot" below is proven against a message that must arrive
// AFTER the denied one: the check cannot pass because nothing arrived at all.
#include "common/broker_auth.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace pilehub;
using namespace pilehub::test;
using namespace std::chrono_literals;

namespace {

const std::string kA = "pile-A1";
const std::string kB = "pile-B2";
const std::string kMonitor = "svc.monitor";

/// A payload that can be found again: `|<label>#<n>|` is unique within the test process.
std::string tagged(std::string_view label) {
    static std::atomic<int> n{0};
    return fmt::format("{{\"v\":1,\"probe\":\"|{}#{}|\"}}", label, ++n);
}

mqtt::Message msg(std::string topic, std::string payload, bool retained = false) {
    return mqtt::Message{std::move(topic), std::move(payload), 1, retained, false};
}

std::string svc_marker_topic(const std::string& user) {
    return "ph/v1/svc/test/" + user + "/marker";
}

/// A broker with two devices and one connected client per user (both devices, every service
/// user), all connected at once; svc.monitor watches ph/v1/#.
struct Fleet {
    Broker broker{{kA, ""}, {kB, ""}};
    std::map<std::string, Inbox> inboxes;
    std::map<std::string, std::unique_ptr<mqtt::Client>> clients;

    explicit Fleet(std::map<std::string, std::vector<std::string>> subscriptions = {}) {
        subscriptions[kMonitor] = {"ph/v1/#"};
        std::vector<std::string> users{kA, kB};
        for (const auto& u : pilehub::broker::service_users())
            users.push_back(u);
        std::vector<ClientSpec> specs;
        for (const auto& u : users)
            specs.push_back(ClientSpec{broker.client_options(u), subscriptions[u], &inboxes[u]});
        auto connected = connect_all(specs);
        for (std::size_t i = 0; i < users.size(); ++i)
            clients[users[i]] = std::move(connected[i]);
    }
    mqtt::Client& client(const std::string& user) { return *clients.at(user); }
    Inbox& inbox(const std::string& user) { return inboxes.at(user); }
    Inbox& monitor() { return inboxes.at(kMonitor); }
};

/// A topic a user may certainly publish to and svc.monitor reads (none for svc.monitor).
std::optional<std::string> allowed_marker(const std::string& user) {
    if (user == kMonitor)
        return std::nullopt;
    if (user.rfind("svc.", 0) == 0)
        return svc_marker_topic(user);
    return topics::evt(user, "marker");
}

} // namespace

TEST_CASE("broker acl: each user publishes exactly what its block allows (device and service matrix)") {
    struct Row {
        std::string who;
        std::string topic;
        bool allowed;
    };
    const std::vector<Row> rows = {
        // A device writes every uplink of its own id ...
        {kA, topics::presence(kA), true},
        {kA, topics::info(kA), true},
        {kA, topics::state(kA), true},
        {kA, topics::conn_state(kA, 1), true},
        {kA, topics::space_state(kA, 2), true},
        {kA, topics::tele(kA), true},
        {kA, topics::evt(kA, "fault"), true},
        {kA, topics::req(kA, "authorize"), true},
        {kA, topics::cmd_reply(kA, "start_port"), true},
        {kA, topics::cfg_reported(kA), true},
        // ... but none of its downlinks (only the platform commands and answers it) ...
        {kA, topics::cmd(kA, "start_port"), false},
        {kA, topics::req_reply(kA, "authorize"), false},
        {kA, topics::cfg_desired(kA), false},
        // ... nothing under another device's id ...
        {kA, topics::presence(kB), false},
        {kA, topics::evt(kB, "session_stopped"), false},
        {kA, topics::tele(kB), false},
        {kA, topics::req(kB, "session_record"), false},
        // ... no leaf outside the contract, and nothing of the platform's.
        {kA, "ph/v1/dev/" + kA + "/unknown", false},
        {kA, topics::evt(kA, "fault") + "/extra", false},
        {kA, topics::svc_status("sessiond"), false},
        // sessiond commands piles and answers their requests, and cannot forge what a device says.
        {"svc.sessiond", topics::cmd(kA, "start_port"), true},
        {"svc.sessiond", topics::req_reply(kA, "authorize"), true},
        {"svc.sessiond", svc_marker_topic("svc.sessiond"), true},
        {"svc.sessiond", topics::evt(kA, "session_stopped"), false},
        {"svc.sessiond", topics::presence(kA), false},
        {"svc.sessiond", topics::cfg_desired(kA), false},
        // The read-only workers never command a device nor speak for one.
        {"svc.autostopd", topics::cmd(kA, "stop_port"), false},
        {"svc.autostopd", svc_marker_topic("svc.autostopd"), true},
        {"svc.billingd", topics::req_reply(kA, "session_record"), false},
        {"svc.billingd", topics::cmd(kA, "stop_port"), false},
        {"svc.presenced", topics::presence(kA), false},
        {"svc.presenced", topics::cmd(kA, "query_device"), false},
        {"svc.recorderd", topics::cmd(kA, "start_port"), false},
        {"svc.recorderd", topics::tele(kA), false},
        // parkingd commands locks and answers cameras.
        {"svc.parkingd", topics::cmd(kA, "lock"), true},
        {"svc.parkingd", topics::req_reply(kA, "authorize"), true},
        {"svc.parkingd", topics::cfg_desired(kA), false},
        // The API and pilehubctl write the desired configuration, nothing that commands.
        {"svc.pilehub-api", topics::cfg_desired(kA), true},
        {"svc.pilehub-api", topics::cmd(kA, "start_port"), false},
        {"svc.pilehub-api", topics::req_reply(kA, "authorize"), false},
        {"svc.pilehubctl", topics::cfg_desired(kB), true},
        {"svc.pilehubctl", topics::cmd(kB, "reboot"), false},
        // The OCPP gateway speaks for its chargers (uplinks of any id), never as the platform.
        {"svc.pilehub-ocpp", topics::evt(kB, "plug_in"), true},
        {"svc.pilehub-ocpp", topics::presence(kB), true},
        {"svc.pilehub-ocpp", topics::cmd(kB, "start_session"), false},
        {"svc.pilehub-ocpp", topics::cfg_desired(kB), false},
        // The operators' monitor reads everything and writes nothing.
        {kMonitor, svc_marker_topic(kMonitor), false},
        {kMonitor, topics::cmd(kA, "start_port"), false},
        {kMonitor, topics::evt(kA, "fault"), false},
    };

    Fleet fleet;
    int denied_checked = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        CAPTURE(row.who);
        CAPTURE(row.topic);
        auto& c = fleet.client(row.who);
        const auto payload = tagged("pub" + std::to_string(i));
        REQUIRE(c.publish(msg(row.topic, payload)));
        if (row.allowed) {
            CHECK(fleet.monitor().wait_for(row.topic, payload).has_value());
            continue;
        }
        // The marker follows the denied message on the same connection, so Mosquitto handles it
        // after the denied one; svc.monitor has no allowed topic at all, so for it another
        // client's marker follows a pause instead.
        const auto marker = tagged("marker" + std::to_string(i));
        auto marker_topic = allowed_marker(row.who);
        if (marker_topic) {
            REQUIRE(c.publish(msg(*marker_topic, marker)));
        } else {
            std::this_thread::sleep_for(300ms);
            marker_topic = svc_marker_topic("svc.sessiond");
            REQUIRE(fleet.client("svc.sessiond").publish(msg(*marker_topic, marker)));
        }
        REQUIRE(fleet.monitor().wait_for(*marker_topic, marker).has_value());
        CHECK_FALSE(fleet.monitor().has_payload(payload));
        ++denied_checked;
    }
    CHECK(denied_checked == std::count_if(rows.begin(), rows.end(), [](const Row& r) { return !r.allowed; }));
    // Nobody was disconnected for trying: a denied publish is dropped, not punished.
    for (const auto& [user, c] : fleet.clients) {
        CAPTURE(user);
        CHECK(c->connected());
        CHECK(c->stats().connects == 1);
    }
}

TEST_CASE("broker acl: each user receives exactly what its block allows, whatever it subscribes to") {
    struct Row {
        std::string reader;
        std::string writer;
        std::string topic;
        bool delivered;
    };
    const std::vector<Row> rows = {
        // A device receives its own downlinks ...
        {kA, "svc.sessiond", topics::cmd(kA, "start_port"), true},
        {kA, "svc.sessiond", topics::req_reply(kA, "authorize"), true},
        {kA, "svc.pilehub-api", topics::cfg_desired(kA), true},
        // ... not another device's, though its subscription to them was accepted ...
        {kB, "svc.sessiond", topics::cmd(kA, "stop_port"), false},
        {kB, "svc.sessiond", topics::req_reply(kA, "authorize"), false},
        {kB, "svc.pilehub-api", topics::cfg_desired(kA), false},
        {kB, kA, topics::evt(kA, "card_swipe"), false},
        {kB, kA, topics::presence(kA), false},
        // ... and not its own uplinks back.
        {kA, "svc.pilehub-ocpp", topics::evt(kA, "fault"), false},
        // Read-only workers get device uplinks, not what the platform sends to devices.
        {"svc.recorderd", kA, topics::tele(kA), true},
        {"svc.recorderd", kA, topics::evt(kA, "fault"), true},
        {"svc.recorderd", "svc.sessiond", topics::cmd(kA, "start_port"), false},
        {"svc.recorderd", "svc.pilehub-api", topics::cfg_desired(kA), false},
        {"svc.sessiond", kA, topics::req(kA, "session_record"), true},
        {"svc.sessiond", "svc.parkingd", topics::cmd(kA, "lock"), false},
        // The API reads the whole device tree; pilehubctl only presence.
        {"svc.pilehub-api", "svc.sessiond", topics::cmd(kA, "start_port"), true},
        {"svc.pilehub-api", kA, topics::cfg_reported(kA), true},
        {"svc.pilehubctl", kA, topics::evt(kA, "fault"), false},
        {"svc.pilehubctl", kA, topics::cfg_reported(kA), false},
        {"svc.pilehubctl", kA, topics::presence(kA), true},
        // The gateway receives downlinks for the chargers it speaks for.
        {"svc.pilehub-ocpp", "svc.sessiond", topics::cmd(kB, "start_session"), true},
        {"svc.pilehub-ocpp", kB, topics::tele(kB), false},
        // The platform tree is shared by the platform's processes.
        {"svc.recorderd", "svc.sessiond", "ph/v1/svc/rpc/test", true},
    };

    // Everyone subscribes as widely as it likes; the ACL decides what is delivered.
    Fleet fleet({
        {kA, {topics::device_all(kA)}},
        {kB, {topics::device_all(kA), topics::device_all(kB)}},
        {"svc.recorderd", {"ph/v1/#"}},
        {"svc.sessiond", {"ph/v1/#"}},
        {"svc.pilehub-api", {"ph/v1/#"}},
        {"svc.pilehubctl", {"ph/v1/#"}},
        {"svc.pilehub-ocpp", {"ph/v1/#"}},
    });
    // Mosquitto 2.0's acl_file grants every subscription: none of the above was refused.
    for (const auto& [user, c] : fleet.clients) {
        CAPTURE(user);
        CHECK(c->stats().subscribe_denied == 0);
    }

    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        CAPTURE(row.reader);
        CAPTURE(row.writer);
        CAPTURE(row.topic);
        const auto payload = tagged("read" + std::to_string(i));
        REQUIRE(fleet.client(row.writer).publish(msg(row.topic, payload)));
        // svc.monitor seeing it proves it was published and routed to every subscriber.
        REQUIRE(fleet.monitor().wait_for(row.topic, payload).has_value());
        auto& inbox = fleet.inbox(row.reader);
        if (row.delivered) {
            CHECK(inbox.wait_for(row.topic, payload).has_value());
            continue;
        }
        // A marker the reader may receive, sent only after the probe was routed: Mosquitto queues
        // a client's messages in order, so the probe would have arrived first.
        const bool device = row.reader.rfind("svc.", 0) != 0;
        const auto marker_topic = device ? topics::cmd(row.reader, "marker") : svc_marker_topic("svc.sessiond");
        const auto marker = tagged("readmarker" + std::to_string(i));
        REQUIRE(fleet.client("svc.sessiond").publish(msg(marker_topic, marker)));
        REQUIRE(inbox.wait_for(marker_topic, marker).has_value());
        CHECK_FALSE(inbox.has_payload(payload));
    }
}

TEST_CASE("broker: a device cannot take over another device's connection by using its client id") {
    Broker broker{{kA, ""}, {kB, ""}};
    std::atomic<int> victim_lost{0};
    Inbox victim_inbox;
    auto victim_options = broker.client_options(kA);
    // The victim's Will: had the broker dropped its connection for the attacker's, it would be published.
    const auto will = tagged("victim-will");
    victim_options.make_will = [&] { return std::optional<mqtt::Message>(msg(topics::presence(kA), will)); };
    Inbox monitor_inbox;
    auto monitor = connect_all({{broker.client_options(kMonitor), {topics::presence(kA)}, &monitor_inbox}});
    auto victim = mqtt::make_client(victim_options);
    victim->on_message(victim_inbox.handler());
    victim->on_lost([&](const std::string&) { ++victim_lost; });
    victim->subscribe(topics::cmd(kA, "+"), 1);
    victim->start();
    REQUIRE(victim->wait_ready(5s));

    // pile-B2, with its own valid credentials, claims pile-A1's client id.
    auto attacker_options = broker.client_options(kB);
    attacker_options.client_id = kA;
    Inbox attacker_inbox;
    auto others = connect_all({{attacker_options, {topics::cmd(kA, "+"), topics::cmd(kB, "+")}, &attacker_inbox},
                               {broker.client_options("svc.sessiond")}});
    auto& attacker = *others[0];
    auto& sessiond = *others[1];

    // Both stay connected, and each gets only its own commands: the attacker became pile-B2.
    const auto to_a = tagged("to-a");
    const auto to_b = tagged("to-b");
    REQUIRE(sessiond.publish(msg(topics::cmd(kA, "query_device"), to_a)));
    REQUIRE(sessiond.publish(msg(topics::cmd(kB, "query_device"), to_b)));
    CHECK(victim_inbox.wait_for(topics::cmd(kA, "query_device"), to_a).has_value());
    CHECK(attacker_inbox.wait_for(topics::cmd(kB, "query_device"), to_b).has_value());
    CHECK_FALSE(attacker_inbox.has_payload(to_a));
    CHECK(attacker.connected());
    CHECK(victim->connected());
    CHECK(victim_lost == 0);
    CHECK(victim->stats().connects == 1);
    CHECK_FALSE(monitor_inbox.has_payload(will)); // the victim's Will did not fire

    // Control: the same connect with pile-A1's OWN username does replace the connection, so the
    // checks above would have seen a takeover.
    auto twin = connect_client(broker.client_options(kA));
    for (int i = 0; i < 300 && victim_lost == 0; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(victim_lost >= 1);
    twin->stop();
}

TEST_CASE("broker: anonymous and wrong-password connections are refused") {
    Broker broker{{kA, "correct-horse-battery"}};

    // What the broker answers (MQTT 3.1.1 CONNACK): 5 = not authorised, 0 = accepted.
    CHECK(broker.connack("", "") == 5);
    CHECK(broker.connack(kA, "wrong") == 5);
    CHECK(broker.connack(kA, "") == 5);
    CHECK(broker.connack("pile-unknown", "correct-horse-battery") == 5);
    CHECK(broker.connack(kMonitor, "correct-horse-battery") == 5);
    CHECK(broker.connack(kA, "correct-horse-battery") == 0);

    // What our client sees (MQTT 5): started together with one that has the right password, the
    // two others never get connected, however long the right one took.
    auto anonymous = broker.client_options(kA);
    anonymous.username.clear();
    anonymous.password.clear();
    anonymous.client_id = "anonymous-probe";
    auto wrong = broker.client_options(kA);
    wrong.password = "wrong";
    auto c1 = mqtt::make_client(anonymous);
    auto c2 = mqtt::make_client(wrong);
    c1->start();
    c2->start();
    auto ok = connect_client(broker.client_options(kA));
    CHECK(ok->connected());
    std::this_thread::sleep_for(1s);
    CHECK_FALSE(c1->connected());
    CHECK_FALSE(c2->connected());
    CHECK(c1->stats().connects == 0);
    CHECK(c2->stats().connects == 0);
    c1->stop();
    c2->stop();
}

TEST_CASE("broker: an abrupt kill of a device leaves online:false retained through its Will") {
    Broker broker{{kA, ""}};
    const auto presence = topics::presence(kA);

    // The device was online (retained) ...
    {
        auto device = connect_client(broker.client_options(kA));
        REQUIRE(device->publish(msg(presence, R"({"v":1,"online":true,"boot":7,"ts":1,"fw":"2.4.1"})", true)));
        device->stop();
    }
    Inbox watcher_inbox;
    auto platform = connect_all({{broker.client_options("svc.presenced"), {presence}, &watcher_inbox},
                                 {broker.client_options("svc.sessiond")}});
    REQUIRE(watcher_inbox.wait_for(presence, R"("online":true)").has_value());

    // ... and now runs as a real client process with its Will set.
    const auto out = broker.data_dir() + "/mosquitto_sub.out";
    const std::string will = R"({"v":1,"online":false,"boot":7,"reason":"lwt"})";
    SpawnOptions so;
    so.output = out;
    auto device = Process::spawn({"mosquitto_sub",
                                  "-h",
                                  broker.host(),
                                  "-p",
                                  std::to_string(broker.port()),
                                  "-u",
                                  kA,
                                  "-P",
                                  broker.password(kA),
                                  "-i",
                                  kA,
                                  "-k",
                                  "60",
                                  "-q",
                                  "1",
                                  "-v",
                                  "--will-topic",
                                  presence,
                                  "--will-payload",
                                  will,
                                  "--will-qos",
                                  "1",
                                  "--will-retain",
                                  "-t",
                                  topics::cmd(kA, "+")},
                                 so);
    // It is connected and subscribed once it prints a command sent to it.
    const auto ping = tagged("ping");
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {
        REQUIRE(platform[1]->publish(msg(topics::cmd(kA, "query_device"), ping)));
        std::this_thread::sleep_for(50ms);
        std::ifstream in(out);
        std::stringstream ss;
        ss << in.rdbuf();
        seen = ss.str().find(ping) != std::string::npos;
    }
    REQUIRE(seen);

    // SIGKILL: no DISCONNECT, the broker only sees the socket close.
    CHECK(device.kill() == 128 + SIGKILL);
    CHECK(watcher_inbox.wait_for(presence, R"("reason":"lwt")").has_value());
    platform.clear();

    // A subscriber arriving afterwards is told the device is offline, as a retained message.
    Inbox fresh_inbox;
    auto fresh_options = broker.client_options(kMonitor);
    fresh_options.clean_session = true;
    auto fresh = connect_client(fresh_options, {presence}, &fresh_inbox);
    const auto retained = fresh_inbox.wait_for(presence, R"("online":false)");
    REQUIRE(retained.has_value());
    CHECK(retained->retained);
    CHECK(retained->payload == will);
    CHECK(fresh_inbox.messages().size() == 1);
}

TEST_CASE("broker: credentials added while the broker runs work after reload, without a restart") {
    Broker broker{{kA, ""}};
    const pid_t pid = broker.pid();
    std::atomic<int> monitor_lost{0};
    Inbox monitor_inbox;
    auto monitor = mqtt::make_client(broker.client_options(kMonitor));
    monitor->on_message(monitor_inbox.handler());
    monitor->on_lost([&](const std::string&) { ++monitor_lost; });
    monitor->subscribe("ph/v1/#", 1);
    monitor->start();
    REQUIRE(monitor->wait_ready(5s));

    const std::string fresh = "pile-N3";
    const std::string secret = "n3-secret-0123456789";
    CHECK(broker.connack(fresh, secret) == 5);
    broker.add_user(fresh, secret);
    // The rewritten file alone changes nothing until the broker is told.
    CHECK(broker.connack(fresh, secret) == 5);
    broker.reload();
    CHECK(broker.connack(fresh, secret) == 0);

    // The new device has the device rights at once (the ACL patterns apply to it).
    auto device = connect_client(broker.client_options(fresh));
    const auto hello = tagged("hello");
    REQUIRE(device->publish(msg(topics::evt(fresh, "boot"), hello)));
    CHECK(monitor_inbox.wait_for(topics::evt(fresh, "boot"), hello).has_value());

    // A changed password replaces the old one the same way.
    const std::string old_password = broker.password(kA);
    CHECK(broker.connack(kA, old_password) == 0);
    broker.add_user(kA, "a1-rotated-secret-0123");
    broker.reload();
    CHECK(broker.connack(kA, "a1-rotated-secret-0123") == 0);
    CHECK(broker.connack(kA, old_password) == 5);

    // Same broker process, and the connection that was open all along stayed open.
    CHECK(broker.pid() == pid);
    CHECK(::kill(pid, 0) == 0);
    CHECK(monitor->connected());
    CHECK(monitor_lost == 0);
    CHECK(monitor->stats().connects == 1);
}

namespace {

/// Listening TCP sockets of one process, as "address:port" from /proc/net/tcp{,6}.
std::set<std::string> listening_sockets(pid_t pid) {
    std::set<std::string> inodes;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(e.path(), ec).string();
        if (!ec && target.rfind("socket:[", 0) == 0)
            inodes.insert(target.substr(8, target.size() - 9));
    }
    std::set<std::string> out;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            std::istringstream ls(line);
            std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
            ls >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
            if (st != "0A" || !inodes.count(inode))
                continue;
            const auto colon = local.find(':');
            const auto hex_addr = local.substr(0, colon);
            const int port = std::stoi(local.substr(colon + 1), nullptr, 16);
            std::string addr;
            if (hex_addr.size() == 8) {
                in_addr a{};
                a.s_addr = static_cast<in_addr_t>(std::stoul(hex_addr, nullptr, 16));
                addr = inet_ntoa(a);
            } else {
                addr = hex_addr == std::string(32, '0') ? "::" : "ipv6:" + hex_addr;
            }
            out.insert(addr + ":" + std::to_string(port));
        }
    }
    return out;
}

/// A non-loopback IPv4 address of this machine, if it has one.
std::optional<std::string> non_loopback_ipv4() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return std::nullopt;
    std::optional<std::string> found;
    for (auto* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
            continue;
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf))
            found = buf;
    }
    ::freeifaddrs(list);
    return found;
}

bool tcp_connects(const std::string& address, int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

} // namespace

TEST_CASE("broker: the TLS listener accepts the development chain and refuses plain MQTT") {
    Broker broker{{kA, ""}};
    const auto other_ca = broker.data_dir() + "/other-ca";
    REQUIRE(run({std::string(PILEHUB_SOURCE_DIR) + "/broker-config/make-dev-ca", other_ca}).exit_code == 0);

    // Plain MQTT on the TLS port, and TLS from a client that trusts another CA ...
    auto plain_on_tls = broker.client_options(kB);
    plain_on_tls.port = broker.tls_port();
    auto untrusting = broker.client_options("svc.sessiond", Listener::Tls);
    untrusting.ca_file = other_ca + "/ca.crt";
    auto c1 = mqtt::make_client(plain_on_tls);
    auto c2 = mqtt::make_client(untrusting);
    c1->start();
    c2->start();

    // ... started together with a device over TLS that trusts the development CA.
    Inbox monitor_inbox;
    auto ok = connect_all(
        {{broker.client_options(kMonitor), {"ph/v1/#"}, &monitor_inbox}, {broker.client_options(kA, Listener::Tls)}});
    const auto over_tls = tagged("tls");
    REQUIRE(ok[1]->publish(msg(topics::evt(kA, "fault"), over_tls)));
    CHECK(monitor_inbox.wait_for(topics::evt(kA, "fault"), over_tls).has_value());

    std::this_thread::sleep_for(1s);
    CHECK(c1->stats().connects == 0);
    CHECK(c2->stats().connects == 0);
    c1->stop();
    c2->stop();
    // The broker saw both attempts fail in the TLS handshake (the second because the client
    // rejected the chain: verification is really on).
    const auto log = broker.log();
    CHECK(log.find("alert unknown ca") != std::string::npos);
}

TEST_CASE("broker: the TLS listener refuses TLS 1.1 and speaks TLS 1.2 and 1.3 (tls_version tlsv1.2 is a minimum)") {
    Broker broker;
    const auto hello = [&](const char* version) {
        // openssl's own floor is lowered (SECLEVEL=0) so that the refusal seen is the broker's.
        return run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(broker.tls_port()), "-CAfile",
                    broker.ca_file(), "-verify_return_error", version, "-cipher", "DEFAULT@SECLEVEL=0", "-brief"},
                   std::chrono::seconds(10));
    };
    const auto old = hello("-tls1_1");
    CAPTURE(old.output);
    CHECK(old.exit_code != 0);
    CHECK(old.output.find("alert protocol version") != std::string::npos); // the broker's alert, not the client's
    for (const char* good : {"-tls1_2", "-tls1_3"}) {
        const auto r = hello(good);
        CAPTURE(good);
        CAPTURE(r.output);
        CHECK(r.output.find(std::string("Protocol version: TLSv1.") + good[6]) != std::string::npos);
        CHECK(r.output.find("Verification: OK") != std::string::npos);
    }
}

TEST_CASE("broker: the plain listener is bound to 127.0.0.1 only and no other listener is open") {
    Broker broker;
    // The fixture binds the TLS listener to loopback too (PILEHUB_MQTTS_BIND); production binds
    // it to every interface. Exactly two sockets: no implicit default listener on 1883.
    const auto sockets = listening_sockets(broker.pid());
    CHECK(sockets == std::set<std::string>{"127.0.0.1:" + std::to_string(broker.port()),
                                           "127.0.0.1:" + std::to_string(broker.tls_port())});

    std::ifstream conf(broker.config_file());
    std::stringstream ss;
    ss << conf.rdbuf();
    CHECK(ss.str().find("\nlistener " + std::to_string(broker.port()) + " 127.0.0.1\n") != std::string::npos);

    if (const auto lan = non_loopback_ipv4()) {
        CAPTURE(*lan);
        CHECK_FALSE(tcp_connects(*lan, broker.port()));
        CHECK(tcp_connects("127.0.0.1", broker.port()));
    }
}

TEST_CASE("broker: a service offline during a burst of 5000 QoS 1 messages receives all of them") {
    // Stock Mosquitto keeps 1000 queued messages per client and silently drops the rest.
    Broker broker{{kA, ""}};
    const auto filter = topics::any_device::evt();
    auto options = broker.client_options("svc.recorderd");
    {
        auto recorder = connect_client(options, {filter});
        recorder->stop(); // persistent session: the broker keeps the subscription and queues
    }
    constexpr int kBurst = 5000;
    const auto payload = [](int i) { return fmt::format("{{\"seq\":{}}}", i); };
    {
        Inbox monitor_inbox;
        auto up =
            connect_all({{broker.client_options(kMonitor), {filter}, &monitor_inbox}, {broker.client_options(kA)}});
        for (int i = 0; i < kBurst; ++i)
            REQUIRE(up[1]->publish(msg(topics::evt(kA, "burst"), payload(i))));
        REQUIRE(monitor_inbox.wait_for(topics::evt(kA, "burst"), payload(kBurst - 1), 10s));
    }

    std::atomic<int> received{0};
    std::atomic<int> last_seq{-1};
    std::atomic<bool> in_order{true};
    auto recorder = mqtt::make_client(options);
    recorder->on_message([&](const mqtt::Message& m) {
        const int seq = std::stoi(m.payload.substr(7));
        if (seq != last_seq + 1)
            in_order = false;
        last_seq = seq;
        ++received;
    });
    recorder->subscribe(filter, 1);
    recorder->start();
    REQUIRE(recorder->wait_ready(5s));
    for (int i = 0; i < 1000 && received < kBurst; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(received == kBurst);
    CHECK(in_order);
}

TEST_CASE("broker: retained messages survive a broker restart (persistence)") {
    Broker broker{{kA, ""}};
    const auto presence = topics::presence(kA);
    const std::string online = R"({"v":1,"online":true,"boot":3,"ts":1,"fw":"2.4.1"})";
    {
        Inbox inbox;
        auto c = connect_all({{broker.client_options(kMonitor), {presence}, &inbox}, {broker.client_options(kA)}});
        REQUIRE(c[1]->publish(msg(presence, online, true)));
        REQUIRE(inbox.wait_for(presence, online).has_value());
    }
    const pid_t before = broker.pid();
    broker.restart();
    CHECK(broker.pid() != before);

    Inbox inbox;
    auto options = broker.client_options(kMonitor);
    options.clean_session = true;
    auto fresh = connect_client(options, {presence}, &inbox);
    const auto m = inbox.wait_for(presence, online);
    REQUIRE(m.has_value());
    CHECK(m->retained);
}

TEST_CASE("broker: a client's kill_connection() makes the broker publish its Will; stop() does not") {
    Broker broker{{kA, ""}, {kB, ""}};
    const std::string will_a = R"({"v":1,"online":false,"boot":9,"reason":"lwt"})";
    const std::string will_b = R"({"v":1,"online":false,"boot":4,"reason":"lwt"})";
    auto options_a = broker.client_options(kA);
    options_a.make_will = [&] { return std::optional<mqtt::Message>(msg(topics::presence(kA), will_a, true)); };
    auto options_b = broker.client_options(kB);
    options_b.make_will = [&] { return std::optional<mqtt::Message>(msg(topics::presence(kB), will_b, true)); };
    Inbox watcher;
    auto c = connect_all({{broker.client_options(kMonitor), {"ph/v1/#"}, &watcher},
                          {options_a},
                          {options_b},
                          {broker.client_options("svc.pilehub-ocpp")}});

    // kill_connection(): DISCONNECT with reason 0x04, the broker publishes the Will.
    c[1]->kill_connection();
    const auto m = watcher.wait_for(topics::presence(kA), R"("reason":"lwt")");
    REQUIRE(m.has_value());
    CHECK(m->payload == will_a);
    CHECK_FALSE(c[1]->connected());

    // stop(): a normal DISCONNECT, the broker discards the Will. A later message from another
    // client arrives, the Will never does.
    c[2]->stop();
    std::this_thread::sleep_for(300ms);
    const auto marker = tagged("after-stop");
    REQUIRE(c[3]->publish(msg(topics::evt(kA, "marker"), marker)));
    REQUIRE(watcher.wait_for(topics::evt(kA, "marker"), marker).has_value());
    CHECK_FALSE(watcher.has_payload(will_b));
}
