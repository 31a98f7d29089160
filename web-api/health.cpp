#include "web-api/health.hpp"

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "web-api/context.hpp"
#include "web-api/monitor_store.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

namespace pilehub::api::health {

Verdict decide(const Probe& p) {
    Verdict v;
    v.checks.push_back({"database_write", p.db_write_ok,
                        p.db_write_ok ? "" : "the core database could not be written: " + p.db_error});
    if (!p.free_mb)
        v.checks.push_back({"disk", false, "the free space of the data directory could not be read"});
    else if (*p.free_mb < p.min_free_mb)
        v.checks.push_back(
            {"disk", false, fmt::format("{} MiB free in the data directory, below {} MiB", *p.free_mb, p.min_free_mb)});
    else
        v.checks.push_back({"disk", true, ""});
    if (p.broker_connected && !*p.broker_connected)
        v.checks.push_back({"broker", false, "the API is not connected to the broker"});
    else
        v.checks.push_back({"broker", true, ""});
    v.ok = true;
    for (const auto& c : v.checks)
        v.ok = v.ok && c.ok;
    return v;
}

std::optional<std::int64_t> free_mb(const std::string& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0)
        return std::nullopt;
    return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize) / (1024 * 1024);
}

Probe measure(Services& s) {
    Probe p;
    p.min_free_mb = s.settings.health_min_free_mb;
    const auto t0 = monotonic_ms();
    try {
        // A connection of its own: the pool's wait 5 s for a lock, and a pooled one could hide a
        // write failure behind a cached state.
        db::Database d(s.core->path(), {db::Sync::Full, s.settings.health_write_timeout_ms, false});
        MonitorStore(d).probe_write(s.now());
        p.db_write_ok = true;
    } catch (const std::exception& e) {
        p.db_error = e.what();
        log::warn("health: the database write probe failed: {}", e.what());
    }
    p.db_write_ms = monotonic_ms() - t0;
    p.free_mb = free_mb(s.settings.data_dir);
    if (s.broker_connected)
        p.broker_connected = s.broker_connected();
    return p;
}

std::string body(Services& s, const Probe& p, const Verdict& v) {
    json::Writer w;
    w.begin_object()
        .field("status", v.ok ? "ok" : "failing")
        .field("ok", v.ok)
        .field("version", s.version)
        .field("dev_mode", s.settings.dev_mode);
    w.field("time", when(s, s.now()));
    w.key("checks").begin_object();
    for (const auto& c : v.checks) {
        w.key(c.name).begin_object().field("ok", c.ok);
        if (c.name == "database_write")
            w.field("ms", p.db_write_ms);
        else if (c.name == "disk") {
            if (p.free_mb)
                w.field("free_mb", *p.free_mb);
            w.field("min_free_mb", p.min_free_mb);
        } else if (c.name == "broker" && p.broker_connected)
            w.field("connected", *p.broker_connected);
        if (!c.ok)
            w.field("error", c.detail);
        w.end_object();
    }
    w.end_object().end_object();
    return w.str();
}

const char* const kBodySchema = R"({
  "type": "object",
  "required": ["status", "ok", "version", "dev_mode", "time", "checks"],
  "properties": {
    "status": {"type": "string", "enum": ["ok", "failing"]},
    "ok": {"type": "boolean"},
    "version": {"type": "string"},
    "dev_mode": {"type": "boolean"},
    "time": {"type": "string"},
    "checks": {
      "type": "object",
      "required": ["database_write", "disk", "broker"],
      "properties": {
        "database_write": {"type": "object", "required": ["ok", "ms"],
          "properties": {"ok": {"type": "boolean"}, "ms": {"type": "integer"}, "error": {"type": "string"}}},
        "disk": {"type": "object", "required": ["ok", "min_free_mb"],
          "properties": {"ok": {"type": "boolean"}, "free_mb": {"type": "integer"}, "min_free_mb": {"type": "integer"},
                         "error": {"type": "string"}}},
        "broker": {"type": "object", "required": ["ok"],
          "properties": {"ok": {"type": "boolean"}, "connected": {"type": "boolean"}, "error": {"type": "string"}}}
      }
    }
  }
})";

} // namespace pilehub::api::health
