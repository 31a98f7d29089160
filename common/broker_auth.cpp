#include "common/broker_auth.hpp"

#include "common/config.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace pilehub::broker {
namespace {

std::string base64(const unsigned char* data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

std::string unbase64(std::string_view s) {
    std::string out(3 * (s.size() / 4) + 3, '\0');
    const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                    reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (len < 0)
        return {};
    std::size_t n = static_cast<std::size_t>(len);
    // EVP_DecodeBlock counts padding as zero bytes.
    if (!s.empty() && s.back() == '=')
        --n;
    if (s.size() > 1 && s[s.size() - 2] == '=')
        --n;
    out.resize(n);
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string b(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("broker_auth: no randomness available");
    return b;
}

} // namespace

const std::vector<std::string>& service_users() {
    static const std::vector<std::string> k{"svc.sessiond",    "svc.autostopd",   "svc.billingd",    "svc.presenced",
                                            "svc.parkingd",    "svc.recorderd",   "svc.pilehub-api", "svc.pilehub-ocpp",
                                            "svc.pilehubctl",  "svc.monitor"};
    return k;
}

std::string random_secret() {
    const auto b = random_bytes(24);
    auto s = base64(reinterpret_cast<const unsigned char*>(b.data()), b.size());
    for (auto& c : s) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    return s;
}

std::string hash_password_with_salt(std::string_view password, std::string_view salt, int iterations) {
    unsigned char out[64];
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                          EVP_sha512(), sizeof out, out) != 1)
        throw std::runtime_error("broker_auth: PBKDF2 failed");
    return "$7$" + std::to_string(iterations) + "$" +
           base64(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$" + base64(out, sizeof out);
}

std::string hash_password(std::string_view password) { return hash_password_with_salt(password, random_bytes(12)); }

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
    const auto salt = unbase64(rest.substr(d1 + 1, d2 - d1 - 1));
    if (salt.empty())
        return false;
    const auto expect = hash_password_with_salt(password, salt, iterations);
    // Constant-time comparison of the encoded forms.
    if (expect.size() != encoded.size())
        return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < expect.size(); ++i)
        diff |= static_cast<unsigned char>(expect[i] ^ encoded[i]);
    return diff == 0;
}

void write_password_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& users) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("broker_auth: cannot write " + tmp + ": " + std::strerror(errno));
    std::string text;
    for (const auto& [user, hash] : users) {
        if (user.empty() || user.find_first_of(":\n\r") != std::string::npos || hash.find_first_of("\n\r") != std::string::npos)
            throw std::invalid_argument("broker_auth: refusing user name `" + user + "` in the password file");
        text += user + ":" + hash + "\n";
    }
    std::size_t off = 0;
    while (off < text.size()) {
        const auto w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error("broker_auth: write failed: " + std::string(std::strerror(errno)));
        }
        off += static_cast<std::size_t>(w);
    }
    ::fsync(fd);
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("broker_auth: cannot replace " + path + ": " + std::strerror(errno));
    }
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

} // namespace pilehub::broker
