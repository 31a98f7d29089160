#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// The command log as operators read it (seed 004 指令列表): every command sessiond sent to a device
/// (`device_commands`, schema/core/017_device_commands.sql) and parkingd's lock commands
/// (`lock_commands`), one list through a UNION, newest first.
namespace pilehub::api {

/// One logged command.
struct CommandRow {
    std::string source; ///< sessiond | parkingd
    std::string device_id;
    std::optional<std::int64_t> station_id;
    std::string name; ///< the cmd/{name} leaf (`lock` for a space lock)
    std::optional<std::int64_t> n;
    std::string rid;
    std::string payload; ///< JSON
    std::string requested_by;
    std::optional<std::string> sid;
    EpochMs sent_at = 0;
    std::optional<std::string> reply_status;
    std::optional<std::string> reply; ///< JSON (sessiond's rows)
    std::optional<std::string> reply_code, reply_msg;
    std::optional<EpochMs> replied_at;
    std::optional<std::int64_t> latency_ms;
    std::string outcome; ///< ok, rejected, failed, timeout, expired, ..., superseded, pending
};

struct CommandFilter {
    std::string device_id;                       ///< empty: any
    std::string name;                            ///< empty: any
    std::string outcome;                         ///< empty: any
    std::optional<EpochMs> from, to;             ///< sent_at in [from, to)
    std::optional<std::set<std::int64_t>> scope; ///< stations in scope (nullopt: every station)
    std::int64_t limit = 50, offset = 0;
};

class CommandStore {
public:
    explicit CommandStore(db::Database& db) : db_(db) {}
    /// One page of the log, newest first.
    std::vector<CommandRow> commands(const CommandFilter& f);

private:
    db::Database& db_;
};

} // namespace pilehub::api
