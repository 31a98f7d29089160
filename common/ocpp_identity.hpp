#pragma once
#include <string>
#include <string_view>

/// How an OCPP charger behind the gateway is known to the broker (CONTRACT D.2, docs in
/// gateway/README.md "MQTT identity").
///
/// The gateway opens one MQTT connection per connected charger, under the charger's own device id
/// as username and client id, so the broker's device ACL (`pattern ... ph/v1/dev/%u/...`) confines
/// it to that charger's topics. Its password is not stored anywhere: it is derived from the
/// gateway key (`<data_dir>/secrets/ocpp-gateway.key`, 0600) and the device id. Whoever registers
/// an OCPP charger (pilehubctl, pilehub-api: they already write every broker credential) puts the
/// hash of that derived password into the broker's password file; the gateway derives the same
/// password when the charger connects. E-bike piles and MQTT chargers keep their random secrets,
/// which nothing can derive, so the gateway can never publish as one of them.
namespace pilehub::ocpp_identity {

/// `<data_dir>/secrets/ocpp-gateway.key`.
std::string key_path(const std::string& data_dir);

/// The gateway key at `path`, created (256 random bits, URL-safe base64) if it does not exist yet.
std::string load_or_create_key(const std::string& path);

/// The MQTT password of OCPP charger `device_id`: URL-safe base64 of HMAC-SHA256(key,
/// "pilehub-ocpp-mqtt:" + device_id), 43 characters.
std::string mqtt_password(std::string_view key, std::string_view device_id);

} // namespace pilehub::ocpp_identity
