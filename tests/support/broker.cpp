#include "tests/support/broker.hpp"

#include "common/broker_auth.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/mqtt_frames.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pilehub::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kSourceDir = PILEHUB_SOURCE_DIR;
/// Logs in after every reload() with a freshly changed password: success proves the broker has
/// re-read the password file. Not in the ACL, so it can do nothing but connect.
const std::string kReloadProbeUser = "svc.test-reload-probe";

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string make_temp_dir(const std::string& prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
    if (!::mkdtemp(templ.data()))
        throw std::runtime_error("mkdtemp " + templ + ": " + std::strerror(errno));
    return templ;
}

/// The development CA is made once per test process (two RSA keys take about half a second)
/// and copied into every broker's data directory; make-dev-ca then only checks it.
class DevCaCache {
public:
    static const std::string& dir() {
        static DevCaCache cache;
        return cache.dir_;
    }

private:
    DevCaCache() {
        dir_ = make_temp_dir("pilehub-test-ca");
        const auto r = run({kSourceDir + "/broker-config/make-dev-ca", dir_ + "/tls"});
        if (r.exit_code != 0)
            throw std::runtime_error("make-dev-ca failed (" + std::to_string(r.exit_code) + "): " + r.output);
        dir_ += "/tls";
    }
    ~DevCaCache() {
        std::error_code ec;
        fs::remove_all(fs::path(dir_).parent_path(), ec);
    }
    std::string dir_;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// Broker
// ---------------------------------------------------------------------------------------------

Broker::Broker(const std::vector<Credential>& users) {
    data_dir_ = make_temp_dir("pilehub-broker");
    try {
        const std::string tls = data_dir_ + "/tls";
        fs::create_directories(tls);
        fs::permissions(tls, fs::perms::owner_all);
        for (const char* f : {"ca.key", "ca.crt", "broker.key", "broker.crt"})
            fs::copy_file(DevCaCache::dir() + "/" + f, tls + "/" + f);
        const auto ca = run({kSourceDir + "/broker-config/make-dev-ca", tls});
        if (ca.exit_code != 0)
            throw std::runtime_error("make-dev-ca failed: " + ca.output);

        for (const auto& u : broker::service_users())
            users_[u] = broker::random_secret();
        users_[kReloadProbeUser] = broker::random_secret();
        for (const auto& c : users)
            users_[c.username] = c.password.empty() ? broker::random_secret() : c.password;

        // A port can be taken between free_tcp_port() and the broker's bind: retry with new ones.
        for (int attempt = 1;; ++attempt) {
            port_ = free_tcp_port();
            do {
                tls_port_ = free_tcp_port();
            } while (tls_port_ == port_);
            const auto r =
                run({kSourceDir + "/broker-config/render", data_dir_, std::to_string(port_), std::to_string(tls_port_)},
                    30s, {"PILEHUB_MQTTS_BIND=127.0.0.1"});
            if (r.exit_code != 0)
                throw std::runtime_error("broker-config/render failed: " + r.output);
            write_password_file();
            try {
                start();
                break;
            } catch (const std::runtime_error&) {
                if (attempt == 3)
                    throw;
            }
        }
    } catch (...) {
        if (process_.pid() != 0)
            process_.stop();
        if (!std::getenv("PILEHUB_KEEP_TEST_DIRS")) {
            std::error_code ec;
            fs::remove_all(data_dir_, ec);
        }
        throw;
    }
}

Broker::~Broker() {
    process_.stop(5s);
    if (!std::getenv("PILEHUB_KEEP_TEST_DIRS")) {
        std::error_code ec;
        fs::remove_all(data_dir_, ec);
    }
}

std::string Broker::ca_file() const {
    return data_dir_ + "/tls/ca.crt";
}

std::string Broker::config_file() const {
    return data_dir_ + "/broker/mosquitto.conf";
}

const std::string& Broker::password(const std::string& username) const {
    const auto it = users_.find(username);
    if (it == users_.end())
        throw std::runtime_error("Broker: unknown user " + username);
    return it->second;
}

std::string Broker::add_user(const std::string& username, std::string password) {
    if (password.empty())
        password = broker::random_secret();
    users_[username] = password;
    write_password_file();
    return password;
}

void Broker::write_password_file() {
    std::vector<std::pair<std::string, std::string>> lines;
    lines.reserve(users_.size());
    for (const auto& [user, pw] : users_)
        lines.emplace_back(user, broker::hash_password(pw));
    broker::write_password_file(data_dir_ + "/broker/passwd", lines);
}

void Broker::start() {
    SpawnOptions so;
    so.output = data_dir_ + "/broker/mosquitto.stderr";
    process_ = Process::spawn({"mosquitto", "-c", config_file()}, so);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        if (!process_.running())
            throw std::runtime_error("mosquitto exited at start-up:\n" + log());
        const int a = connect_loopback(port_, 200ms);
        const int b = a >= 0 ? connect_loopback(tls_port_, 200ms) : -1;
        if (a >= 0)
            ::close(a);
        if (b >= 0) {
            ::close(b);
            return;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            process_.stop();
            throw std::runtime_error("mosquitto did not accept connections within 10 s:\n" + log());
        }
        std::this_thread::sleep_for(10ms);
    }
}

void Broker::reload() {
    const auto probe_password = broker::random_secret();
    users_[kReloadProbeUser] = probe_password;
    write_password_file();
    if (!process_.signal(SIGHUP))
        throw std::runtime_error("Broker::reload: the broker is not running:\n" + log());
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (connack(kReloadProbeUser, probe_password, 500ms) != 0) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("Broker::reload: new credentials not accepted within 5 s:\n" + log());
        std::this_thread::sleep_for(10ms);
    }
}

void Broker::restart() {
    process_.stop(5s);
    start();
}

void Broker::kill9() {
    process_.kill();
}

void Broker::start_again() {
    start();
}

mqtt::Options Broker::client_options(const std::string& username, Listener listener) const {
    mqtt::Options o;
    o.host = host_;
    o.tls = listener == Listener::Tls;
    o.port = o.tls ? tls_port_ : port_;
    if (o.tls)
        o.ca_file = ca_file();
    o.client_id = username;
    o.username = username;
    const auto it = users_.find(username);
    if (it != users_.end())
        o.password = it->second;
    o.clean_session = false;
    o.reconnect_min = 100ms;
    o.reconnect_max = 1000ms;
    return o;
}

int Broker::connack(const std::string& username, const std::string& password, std::chrono::milliseconds timeout) const {
    const int fd = connect_loopback(port_, timeout);
    if (fd < 0)
        return -1;
    mqtt_frames::Connect c;
    c.client_id = "probe-" + std::to_string(::getpid());
    c.username = username;
    c.password = password;
    c.keepalive_s = 10;
    const std::string packet = mqtt_frames::connect(c);
    int code = -1;
    if (send_all(fd, packet)) {
        unsigned char ack[4];
        std::size_t got = 0;
        while (got < sizeof ack) {
            const auto n = ::recv(fd, ack + got, sizeof ack - got, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        if (got == sizeof ack)
            code = mqtt_frames::connack_code(std::string_view(reinterpret_cast<const char*>(ack), got)).value_or(-1);
        if (code == 0)
            send_all(fd, mqtt_frames::disconnect());
    }
    ::close(fd);
    return code;
}

std::string Broker::log() const {
    return read_file(data_dir_ + "/broker/mosquitto.log") + read_file(data_dir_ + "/broker/mosquitto.stderr");
}

// ---------------------------------------------------------------------------------------------
// Inbox
// ---------------------------------------------------------------------------------------------

Inbox::Inbox() : state_(std::make_shared<State>()) {}

mqtt::MessageHandler Inbox::handler() const {
    return [s = state_](const mqtt::Message& m) {
        {
            std::lock_guard l(s->m);
            s->messages.push_back(m);
        }
        s->cv.notify_all();
    };
}

std::optional<mqtt::Message> Inbox::wait_for(std::string_view topic, std::string_view needle,
                                             std::chrono::milliseconds timeout) const {
    std::unique_lock l(state_->m);
    std::optional<mqtt::Message> found;
    state_->cv.wait_for(l, timeout, [&] {
        for (const auto& m : state_->messages)
            if (m.topic == topic && m.payload.find(needle) != std::string::npos) {
                found = m;
                return true;
            }
        return false;
    });
    return found;
}

bool Inbox::has_payload(std::string_view needle) const {
    std::lock_guard l(state_->m);
    for (const auto& m : state_->messages)
        if (m.payload.find(needle) != std::string::npos)
            return true;
    return false;
}

std::vector<mqtt::Message> Inbox::messages() const {
    std::lock_guard l(state_->m);
    return state_->messages;
}

std::vector<std::unique_ptr<mqtt::Client>> connect_all(const std::vector<ClientSpec>& specs,
                                                       std::chrono::milliseconds timeout) {
    std::vector<std::unique_ptr<mqtt::Client>> clients;
    clients.reserve(specs.size());
    for (const auto& spec : specs) {
        auto c = mqtt::make_client(spec.options);
        if (spec.inbox)
            c->on_message(spec.inbox->handler());
        for (const auto& f : spec.filters)
            c->subscribe(f, 1);
        c->start();
        clients.push_back(std::move(c));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (!clients[i]->wait_ready(std::max(left, std::chrono::milliseconds(0))))
            throw std::runtime_error("MQTT client " + specs[i].options.client_id + " (user " +
                                     specs[i].options.username + ") not ready within " +
                                     std::to_string(timeout.count()) + " ms");
    }
    return clients;
}

std::unique_ptr<mqtt::Client> connect_client(const mqtt::Options& options, const std::vector<std::string>& filters,
                                             Inbox* inbox, std::chrono::milliseconds timeout) {
    auto all = connect_all({ClientSpec{options, filters, inbox}}, timeout);
    return std::move(all.front());
}

} // namespace pilehub::test
