#pragma once
#include "common/device_lifecycle.hpp"
#include "common/error_codes.hpp"
#include "common/money.hpp"
#include "web-api/catalog_store.hpp"
#include "web-api/http.hpp"
#include "web-api/session_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Where a device stands and who may see it (CONTRACT G "Lifecycle"): the install, relocation and retirement
/// rules of lifecycle::handle() applied to stored devices, shared by PUT /admin/devices/{id},
/// POST /admin/devices/assign and POST /admin/devices/{id}/retire.
namespace pilehub::api {

/// Whether the operator sees the device: a device at a station (installed, or retired there) when the
/// operator sees the station; a device without a station (in stock) only when the operator is unscoped.
bool sees_device(const Principal& who, const DeviceRow& d);

/// The stage stored in `devices.lifecycle` (a word the schema's CHECK allows).
lifecycle::Stage stage_of(const DeviceRow& d);

/// A station and, optionally, an area of it.
struct Placement {
    std::int64_t station_id = 0;
    std::optional<std::int64_t> area_id;
};

/// Why a request was refused: the code and its message.
struct Refusal {
    ErrorCode code = ErrorCode::Conflict;
    std::string why;
};

/// Why `d` cannot be placed at `to` by `who` (a station or area it does not see or that does not exist:
/// not_found; the lifecycle's refusals: conflict), or nullopt. Placing an installed device at its own station
/// only changes its area and is no relocation.
std::optional<Refusal> placement_refusal(CatalogStore& cat, SessionStore& sessions, const Principal& who,
                                         const DeviceRow& d, const Placement& to);
/// Installs or relocates `d` at `to` (check placement_refusal first): the station, the area, `installed`,
/// installed_at = now. Sessions keep the station they recorded at their start.
void apply_placement(DeviceRow& d, const Placement& to, EpochMs now);

/// Why `d` cannot be retired (a live session, retired already), or nullopt.
std::optional<Refusal> retire_refusal(SessionStore& sessions, const DeviceRow& d);

// The operations, each one transaction (the live-session check and the change together, so that no
// session starts between them). `d` is the device as read; on success it holds what was saved.

/// Installs or relocates `d` at `to` (placement_refusal, apply_placement); its other edited columns are saved too.
std::optional<Refusal> place_device(db::Database& db, const Principal& who, DeviceRow& d, const Placement& to,
                                    EpochMs now);
/// Retires `d` (retire_refusal): lifecycle retired, retired_at = now.
std::optional<Refusal> retire_device(db::Database& db, DeviceRow& d, EpochMs now);
/// Installs or relocates every device of `ids` at `to`, or none: the refusal of each device that cannot be
/// (unknown_device for one the operator does not see). On success `placed` holds the devices as saved.
std::vector<std::pair<std::string, Refusal>> assign_devices(db::Database& db, const Principal& who,
                                                            const std::vector<std::string>& ids, const Placement& to,
                                                            EpochMs now, std::vector<DeviceRow>& placed);

} // namespace pilehub::api
