#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Device models (设备类型, seed 004; `device_models`, schema/core/018): what every device of a model has and
/// the per-socket / per-gun defaults it implies. All SQL of the table lives here.
namespace pilehub::api {

struct DeviceModelRow {
    std::int64_t id = 0;
    std::string kind; ///< ebike_pile, ev_charger, camera
    std::string name; ///< unique per kind
    int ports = 0;    ///< sockets, guns or spaces
    std::optional<std::int64_t> rated_power_w, rated_voltage_v, rated_current_a;
    std::optional<std::int64_t> socket_overload_w; ///< e-bike piles: each socket's overload threshold, W
    std::optional<std::int64_t> device_overload_w; ///< e-bike piles: the whole pile's, W
    std::optional<std::int64_t> gun_power_w;       ///< EV chargers: each gun's rated power, W
    std::optional<std::string> connector_type;     ///< EV chargers: each gun's connector
    std::optional<std::int64_t> max_current_a;     ///< per socket or gun
    std::string note;
    EpochMs created_at = 0;
};

class DeviceModelStore {
public:
    explicit DeviceModelStore(db::Database& d) : db_(d) {}

    /// Every model, optionally of one kind, by kind and name.
    std::vector<DeviceModelRow> models(const std::string& kind);
    std::optional<DeviceModelRow> model(std::int64_t id);
    /// Inserts a model; throws db::Error (is_constraint) for a name its kind has already.
    std::int64_t add(const DeviceModelRow& m, EpochMs now);
    /// Saves every column but kind and created_at; throws db::Error (is_constraint) for a taken name.
    void update(const DeviceModelRow& m);
    /// How many devices (any lifecycle) are registered with the model.
    std::int64_t devices_using(std::int64_t id);
    /// Removes a model no device uses; false if there was none.
    bool remove(std::int64_t id);

private:
    db::Database& db_;
};

} // namespace pilehub::api
