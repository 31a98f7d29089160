#pragma once
#include "common/mqtt.hpp"
#include "tests/support/process.hpp"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Integration-test support: a real Mosquitto started from the shipped broker-config/.
namespace pilehub::test {

/// A username and its password. An empty password means "make up a random one".
struct Credential {
    std::string username;
    std::string password;
};

/// Which listener a client connects to.
enum class Listener { Plain, Tls };

/// A private Mosquitto for one test: its own temporary data directory, free ports on 127.0.0.1,
/// the configuration rendered by broker-config/render, a development CA from
/// broker-config/make-dev-ca, a password file with the users asked for. Stopped (by its own PID)
/// and its directory removed when the object dies; set PILEHUB_KEEP_TEST_DIRS=1 to keep the
/// directory (the broker log is <data_dir>/broker/mosquitto.log).
///
/// Things every test author must know (they come from the shipped mosquitto.conf and ACL):
/// - The client id is the username (use_username_as_clientid): ONE live connection per user; a
///   second connection as the same user takes over the first. Give each client its own user.
/// - A subscription the ACL does not allow is still granted (SUBACK 0/1); its messages are
///   simply never delivered. A denied publish is dropped (MQTT 5 PUBACK 0x87), the client stays
///   connected. So denial is only observable as "did not arrive": always compare with a message
///   that must arrive after it.
/// - The TLS listener is bound to 127.0.0.1 here (PILEHUB_MQTTS_BIND), unlike production.
/// - Paho needs ~2 s to connect a client while another client of the process exists: connect
///   the clients of a test together (connect_all()).
class Broker {
public:
    /// Starts a broker whose password file holds every service user (`svc.*`, see
    /// broker::service_users()) with a random password, plus `users`. Throws std::runtime_error
    /// (with the broker log) if it does not come up within a few seconds.
    explicit Broker(const std::vector<Credential>& users);
    /// The same, spelled `Broker broker({{"pile-A1", ""}, {"pile-B2", "secret"}});`.
    explicit Broker(std::initializer_list<Credential> users = {}) : Broker(std::vector<Credential>(users)) {}
    /// Stops the broker: SIGTERM, then SIGKILL after 5 s.
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    /// Always "127.0.0.1".
    const std::string& host() const { return host_; }
    /// The plain listener (loopback).
    int port() const { return port_; }
    /// The TLS listener (server certificate for localhost / 127.0.0.1 signed by ca_file()).
    int tls_port() const { return tls_port_; }
    /// The development CA certificate that clients trust.
    std::string ca_file() const;
    /// The installation's data directory (broker/ holds mosquitto.conf, acl, passwd, the log).
    const std::string& data_dir() const { return data_dir_; }
    /// The rendered configuration file the broker runs with.
    std::string config_file() const;
    /// The broker's PID (changes on restart()).
    pid_t pid() const { return process_.pid(); }

    /// The password of a user added at construction or with add_user(). Throws if unknown.
    const std::string& password(const std::string& username) const;
    /// Adds a user, or changes the password of one, and rewrites the password file atomically
    /// (as pilehubctl does). Takes effect at the next reload(). Returns the password (random if
    /// `password` is empty).
    std::string add_user(const std::string& username, std::string password = {});
    /// Sends SIGHUP and returns once the broker has re-read its password and ACL files (checked
    /// by logging in with a credential changed just before the signal). Throws on time-out.
    void reload();
    /// Stops the broker cleanly (it saves its database) and starts it again on the same ports
    /// with the same data directory: retained messages and persistent sessions survive.
    void restart();
    /// kill -9: SIGKILL to the broker's PID (reaped). Nothing is saved beyond its last autosave and
    /// no Will goes out; clients see their connections drop. start_again() brings it back.
    void kill9();
    /// Starts the broker again after kill9(), on the same ports with the same data directory.
    void start_again();

    /// Options for our MQTT client as `username` (client id = username, its password, persistent
    /// session, quick reconnects suited to tests). For TLS: tls = true, ca_file = ca_file().
    mqtt::Options client_options(const std::string& username, Listener listener = Listener::Plain) const;

    /// Opens a raw MQTT 3.1.1 connection to the plain listener, sends CONNECT (clean session)
    /// and returns the CONNACK return code: 0 accepted, 5 not authorised (Mosquitto's answer to
    /// a wrong password, an unknown user and an anonymous client alike); -1 if no CONNACK came. An empty username sends none (anonymous). Accepted
    /// connections are closed with DISCONNECT. Note: logging in as a user takes over that user's
    /// live connection and clears its session (same client id).
    int connack(const std::string& username, const std::string& password,
                std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

    /// The broker log so far (for failure messages).
    std::string log() const;

private:
    void write_password_file();
    void start();
    std::string host_ = "127.0.0.1";
    int port_ = 0;
    int tls_port_ = 0;
    std::string data_dir_;
    std::map<std::string, std::string> users_;
    Process process_;
};

/// Records what one client receives, thread-safe, and waits for it. Hand handler() to
/// mqtt::Client::on_message; the handler keeps the recorded state alive on its own, so it does
/// not matter whether the client or the Inbox is destroyed first.
class Inbox {
public:
    Inbox();
    /// The message handler that records into this inbox.
    mqtt::MessageHandler handler() const;
    /// Waits until a message on exactly `topic` whose payload contains `needle` has arrived
    /// (also if it arrived before the call); returns it, or nullopt after `timeout`.
    std::optional<mqtt::Message> wait_for(std::string_view topic, std::string_view needle,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;
    /// Whether any message whose payload contains `needle` has arrived (on any topic).
    bool has_payload(std::string_view needle) const;
    /// Everything received so far, in arrival order.
    std::vector<mqtt::Message> messages() const;

private:
    struct State {
        mutable std::mutex m;
        std::condition_variable cv;
        std::vector<mqtt::Message> messages;
    };
    std::shared_ptr<State> state_;
};

/// One client for connect_all().
struct ClientSpec {
    ClientSpec(mqtt::Options options_, std::vector<std::string> filters_ = {}, Inbox* inbox_ = nullptr)
        : options(std::move(options_)), filters(std::move(filters_)), inbox(inbox_) {}
    mqtt::Options options;
    /// Subscribed with QoS 1 before the client starts.
    std::vector<std::string> filters;
    /// Receives what the client gets; may be null.
    Inbox* inbox = nullptr;
};

/// Creates our MQTT clients, starts them ALL, then waits until each is connected and its
/// subscriptions are acknowledged. Throws std::runtime_error naming the first one not ready
/// within `timeout`.
///
/// Why all at once: Paho C 1.3.12 takes about 2 s to connect a client while another client of
/// the same process exists (its receive thread polls with a 1 s time-out, twice; upstream
/// paho.mqtt.c #1430). Connecting N clients one after the other costs 2N seconds, together about
/// 2 s. The first client of a process (none other alive) connects in milliseconds.
std::vector<std::unique_ptr<mqtt::Client>> connect_all(const std::vector<ClientSpec>& specs,
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// connect_all() for one client.
std::unique_ptr<mqtt::Client> connect_client(const mqtt::Options& options, const std::vector<std::string>& filters = {},
                                             Inbox* inbox = nullptr,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace pilehub::test
