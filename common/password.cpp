#include "common/password.hpp"

#include <argon2.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace pilehub::password {
namespace {
constexpr std::uint32_t kTimeCost = 3;
constexpr std::uint32_t kMemoryKiB = 64 * 1024;
constexpr std::uint32_t kParallelism = 1;
constexpr std::size_t kSaltLen = 16;
constexpr std::size_t kHashLen = 32;
} // namespace

std::string hash(std::string_view pw) {
    unsigned char salt[kSaltLen];
    if (RAND_bytes(salt, sizeof salt) != 1)
        throw std::runtime_error("password: no randomness available");
    const std::size_t len = argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltLen, kHashLen, Argon2_id);
    std::string out(len, '\0');
    const int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, pw.data(), pw.size(), salt, sizeof salt,
                                         kHashLen, out.data(), out.size());
    if (rc != ARGON2_OK)
        throw std::runtime_error(std::string("password: argon2id failed: ") + argon2_error_message(rc));
    out.resize(out.find('\0'));
    return out;
}

bool verify(std::string_view pw, const std::string& encoded) {
    if (encoded.rfind("$argon2id$", 0) != 0)
        return false;
    return argon2id_verify(encoded.c_str(), pw.data(), pw.size()) == ARGON2_OK;
}

} // namespace pilehub::password
