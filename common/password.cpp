#include "common/password.hpp"

#include "common/crypto.hpp"

#include <argon2.h>
#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::password {
namespace {
constexpr std::uint32_t kTimeCost = 3;
constexpr std::uint32_t kMemoryKiB = 64 * 1024;
constexpr std::uint32_t kParallelism = 1;
constexpr std::size_t kSaltLen = 16;
constexpr std::size_t kHashLen = 32;
} // namespace

std::optional<std::string> password_problem(std::string_view pw) {
    if (pw.size() < kMinLength)
        return fmt::format("must have at least {} characters", kMinLength);
    if (pw.size() > kMaxLength)
        return fmt::format("must have at most {} characters", kMaxLength);
    return std::nullopt;
}

std::string hash(std::string_view pw) {
    const auto salt = crypto::random_bytes(kSaltLen);
    const std::size_t len = argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltLen, kHashLen, Argon2_id);
    std::string out(len, '\0');
    const int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, pw.data(), pw.size(), salt.data(),
                                         salt.size(), kHashLen, out.data(), out.size());
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
