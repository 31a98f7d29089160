#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::sim {

/// A request the device keeps "on flash" until the platform acknowledges it (`req/session_record`).
struct PendingRecord {
    /// The request's `id` (also its `rid`): the same on every resend.
    std::string id;
    /// Request name, the `req/{name}` leaf.
    std::string name;
    /// The request as first encoded; resends keep its `id`, `rid` and `data` with a fresh envelope.
    std::string payload;
    bool operator==(const PendingRecord&) const = default;
};

/// What a device keeps across restarts besides its boot counter.
struct DeviceSnapshot {
    /// Unacknowledged session records, oldest first.
    std::vector<PendingRecord> records;
    /// The last `cfg/desired` payload applied (empty: none yet), so a restarted device enforces
    /// the platform's thresholds before the retained document arrives again.
    std::string cfg_desired;
    /// EV chargers: the energy register of each gun, Wh (never goes back).
    std::vector<std::int64_t> meters_wh;
    /// The firmware installed by `cmd/ota` (empty: the fleet's --firmware), announced in presence and info.
    std::string firmware;
    /// A version installed just before a reboot whose `evt/ota installed` is still to be sent on connect.
    std::string ota_installed;
    bool operator==(const DeviceSnapshot&) const = default;
};

/// Where devices keep their boot counter and snapshot ("flash"). Implementations are safe to call
/// from any thread: `next_boot` runs on the MQTT connect path, the rest on the scheduler.
class DeviceStore {
public:
    virtual ~DeviceStore() = default;
    /// Increments the boot counter of `dev`, persists it, and returns the new value (first: 1).
    virtual std::int64_t next_boot(std::string_view dev) = 0;
    /// The last boot handed out (0 if never).
    virtual std::int64_t last_boot(std::string_view dev) = 0;
    /// The saved snapshot (empty if none).
    virtual DeviceSnapshot load(std::string_view dev) = 0;
    virtual void save(std::string_view dev, const DeviceSnapshot& s) = 0;
};

/// Keeps everything in memory (unit tests).
class MemoryStore final : public DeviceStore {
public:
    std::int64_t next_boot(std::string_view dev) override;
    std::int64_t last_boot(std::string_view dev) override;
    DeviceSnapshot load(std::string_view dev) override;
    void save(std::string_view dev, const DeviceSnapshot& s) override;

private:
    std::mutex m_;
    std::map<std::string, std::int64_t, std::less<>> boots_;
    std::map<std::string, DeviceSnapshot, std::less<>> snaps_;
};

/// Files under `<dir>/devices/`: `<id>.boot` (one integer) and `<id>.json` (the snapshot), each
/// replaced atomically (write to a temporary file, then rename), so a killed simulator never
/// leaves half a file and never hands out a boot twice.
class FileStore final : public DeviceStore {
public:
    /// Creates `<dir>/devices` if needed; throws std::runtime_error if it cannot.
    explicit FileStore(std::string dir);
    std::int64_t next_boot(std::string_view dev) override;
    std::int64_t last_boot(std::string_view dev) override;
    DeviceSnapshot load(std::string_view dev) override;
    void save(std::string_view dev, const DeviceSnapshot& s) override;

    /// The snapshot as written to disk, and back (exposed for tests).
    static std::string encode(const DeviceSnapshot& s);
    static std::optional<DeviceSnapshot> decode(std::string_view text);

private:
    std::string path(std::string_view dev, std::string_view ext) const;
    std::string dir_;
};

} // namespace pilehub::sim
