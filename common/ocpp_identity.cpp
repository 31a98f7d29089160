#include "common/ocpp_identity.hpp"

#include "common/crypto.hpp"
#include "common/files.hpp"

#include <string>

namespace pilehub::ocpp_identity {

std::string key_path(const std::string& data_dir) {
    return data_dir + "/secrets/ocpp-gateway.key";
}

std::string load_or_create_key(const std::string& path) {
    return files::load_or_create_secret(path, [] { return crypto::random_token(33); });
}

std::string mqtt_password(std::string_view key, std::string_view device_id) {
    std::string msg = "pilehub-ocpp-mqtt:";
    msg += device_id;
    const auto mac_hex = crypto::hmac_sha256_hex(key, msg);
    std::string mac;
    for (std::size_t i = 0; i + 1 < mac_hex.size(); i += 2)
        mac.push_back(static_cast<char>(std::stoi(mac_hex.substr(i, 2), nullptr, 16)));
    auto b64 = crypto::base64(mac);
    while (!b64.empty() && b64.back() == '=')
        b64.pop_back();
    for (auto& c : b64) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    return b64;
}

} // namespace pilehub::ocpp_identity
