#include "common/ota.hpp"

#include "common/crypto.hpp"
#include "common/files.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::ota {

std::string image_path(const std::string& data_dir, std::string_view sha256) {
    return fmt::format("{}/firmware/{}", data_dir, sha256);
}

std::string token_key(const std::string& data_dir) {
    files::ensure_private_directory(data_dir + "/secrets");
    auto key = files::load_or_create_secret(data_dir + "/secrets/ota-token.key", [] { return crypto::random_hex(32); });
    if (key.size() < 32)
        throw std::runtime_error("ota: the key in " + data_dir +
                                 "/secrets/ota-token.key is shorter than 32 characters");
    return key;
}

std::string rollout_token(std::string_view key, std::int64_t rollout_id) {
    return crypto::hmac_sha256_hex(key, fmt::format("ota-rollout:{}", rollout_id));
}

std::string download_url(std::string_view base, std::int64_t firmware_id, std::string_view token) {
    while (!base.empty() && base.back() == '/')
        base.remove_suffix(1);
    return fmt::format("{}/api/v1/firmware/{}?token={}", base, firmware_id, token);
}

} // namespace pilehub::ota
