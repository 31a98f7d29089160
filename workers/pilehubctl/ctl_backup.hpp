#pragma once
// pilehubctl backup / restore (workers/pilehubctl/README.md): online copies of the core and telemetry
// databases while every daemon runs, checked and described by a manifest; restore into a fresh data
// directory after verifying that manifest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::ctl::backup {

/// The file names of a backup directory (and of a restored data directory's databases).
inline constexpr const char* kCoreFile = "pilehub.db";
inline constexpr const char* kTelemetryFile = "telemetry.db";
inline constexpr const char* kManifestFile = "manifest.json";

/// One database copied into a backup.
struct FileEntry {
    std::string role;   ///< "core" or "telemetry"
    std::string name;   ///< file name inside the backup directory
    std::string source; ///< the live database it was copied from
    std::int64_t bytes = 0;
    std::string sha256;
    int schema_version = 0;
    std::int64_t copy_ms = 0; ///< how long the online copy took
};

/// What a backup directory holds: manifest.json.
struct Manifest {
    std::int64_t created_at_ms = 0; ///< when the copy started (the copies hold what was committed then)
    std::string created_at;         ///< the same as ISO 8601 UTC
    std::vector<FileEntry> files;
};

/// The manifest as JSON text, and back (nullopt with `why` set when it is not a manifest).
std::string to_json(const Manifest& m);
std::optional<Manifest> parse_manifest(const std::string& text, std::string* why);

/// The name of a backup taken at `ms`: `YYYYMMDDTHHMMSS.mmmZ` (UTC), so names sort by time.
std::string directory_name(std::int64_t ms);
/// `ms` as ISO 8601 UTC with milliseconds (the manifest's created_at).
std::string iso_utc(std::int64_t ms);
/// Whether `name` is such a name (what --keep may prune; anything else in DIR is left alone).
bool is_backup_name(const std::string& name);
/// Of the backup names in `names`, those that --keep `keep` removes: all but the newest `keep`.
std::vector<std::string> to_prune(std::vector<std::string> names, std::size_t keep);

/// Copies the live database `source` into the new file `dest` (mode 0600) with SQLite's online
/// backup API, `pages_per_step` pages at a time under a read transaction held on the source from
/// the first step to the last (in WAL mode writers go on meanwhile, and the copy never restarts).
/// The copy is then in rollback-journal mode, so that it is one self-contained file. Throws db::Error.
void online_copy(const std::string& source, const std::string& dest, int pages_per_step, int busy_timeout_ms);
/// `PRAGMA integrity_check` of the database at `path`: "ok" or the problems it lists.
std::string integrity(const std::string& path);

} // namespace pilehub::ctl::backup
