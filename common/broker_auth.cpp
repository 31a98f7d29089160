#include "common/broker_auth.hpp"

#include "common/config.hpp"
#include "common/crypto.hpp"
#include "common/files.hpp"

#include <openssl/evp.h>
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace pilehub::broker {

const std::vector<std::string>& service_users() {
    static const std::vector<std::string> k{"svc.sessiond",   "svc.autostopd", "svc.billingd",    "svc.presenced",
                                            "svc.parkingd",   "svc.recorderd", "svc.pilehub-api", "svc.pilehub-ocpp",
                                            "svc.pilehubctl", "svc.monitor",   "svc.alertd",      "svc.otad"};
    return k;
}

std::string random_secret() {
    return crypto::random_token(24);
}

std::string hash_password_with_salt(std::string_view password, std::string_view salt, int iterations) {
    unsigned char out[64];
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                          iterations, EVP_sha512(), sizeof out, out) != 1)
        throw std::runtime_error("broker_auth: PBKDF2 failed");
    return "$7$" + std::to_string(iterations) + "$" + crypto::base64(salt) + "$" +
           crypto::base64(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string hash_password(std::string_view password) {
    return hash_password_with_salt(password, crypto::random_bytes(12));
}

bool verify_password(std::string_view password, std::string_view encoded) {
    // $7$<iterations>$<salt>$<hash>
    if (encoded.substr(0, 3) != "$7$")
        return false;
    const auto rest = encoded.substr(3);
    const auto d1 = rest.find('$');
    if (d1 == std::string_view::npos)
        return false;
    const auto d2 = rest.find('$', d1 + 1);
    if (d2 == std::string_view::npos)
        return false;
    int iterations = 0;
    for (char c : rest.substr(0, d1)) {
        if (c < '0' || c > '9' || iterations > 10'000'000)
            return false;
        iterations = iterations * 10 + (c - '0');
    }
    if (iterations <= 0)
        return false;
    const auto salt = crypto::unbase64(rest.substr(d1 + 1, d2 - d1 - 1));
    if (salt.empty())
        return false;
    const auto expect = hash_password_with_salt(password, salt, iterations);
    return crypto::equal_constant_time(expect, encoded);
}

void write_password_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& users) {
    std::string text;
    for (const auto& [user, hash] : users) {
        if (user.empty() || user.find_first_of(":\n\r") != std::string::npos ||
            hash.find_first_of("\n\r") != std::string::npos)
            throw std::invalid_argument("broker_auth: refusing user name `" + user + "` in the password file");
        text += user + ":" + hash + "\n";
    }
    files::write_private_file_atomically(path, text);
}

bool reload_broker(const std::string& pid_file, std::string* reason) {
    std::string text;
    try {
        text = read_secret_file(pid_file);
    } catch (const std::exception&) {
        if (reason)
            *reason = "no broker pid file at " + pid_file;
        return false;
    }
    long pid = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            if (reason)
                *reason = "pid file " + pid_file + " does not hold a pid";
            return false;
        }
        pid = pid * 10 + (c - '0');
    }
    if (pid <= 1 || ::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
        if (reason)
            *reason = "broker pid " + std::to_string(pid) + " is not running";
        return false;
    }
    return true;
}

namespace {

/// The thread behind reload_broker_later(): one per process, started on first use.
class TrailingReload {
public:
    static TrailingReload& instance() {
        static TrailingReload r;
        return r;
    }
    void request(const std::string& pid_file, std::chrono::milliseconds after) {
        {
            std::lock_guard l(m_);
            pid_file_ = pid_file;
            due_ = std::chrono::steady_clock::now() + after;
            if (!thread_.joinable())
                thread_ = std::thread([this] { run(); });
        }
        cv_.notify_one();
    }
    ~TrailingReload() {
        {
            std::lock_guard l(m_);
            stop_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable())
            thread_.join();
    }

private:
    TrailingReload() = default;
    void run() {
        std::unique_lock l(m_);
        while (!stop_) {
            if (!due_) {
                cv_.wait(l);
                continue;
            }
            if (const auto when = *due_; std::chrono::steady_clock::now() < when) {
                cv_.wait_until(l, when); // then look again: a later request moves the time
                continue;
            }
            const auto file = pid_file_;
            due_.reset();
            l.unlock();
            reload_broker(file, nullptr); // no broker any more: nothing to reload
            l.lock();
        }
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::string pid_file_;
    std::optional<std::chrono::steady_clock::time_point> due_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace

void reload_broker_later(const std::string& pid_file, std::chrono::milliseconds after) {
    TrailingReload::instance().request(pid_file, after);
}

} // namespace pilehub::broker
