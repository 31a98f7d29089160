#pragma once
#include "common/db.hpp"
#include "tests/support/registry_seed.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace pilehub::test {

/// A migrated core database file `<temp>/pilehub-<name>-<pid>.db` with the pile `pile-1` registered
/// at one station; removed (with its WAL files) at the end.
struct CoreFile {
    explicit CoreFile(const std::string& name)
        : path((std::filesystem::temp_directory_path() / ("pilehub-" + name + "-" + std::to_string(::getpid()) + ".db"))
                   .string()) {
        clean();
        db::Database core(path);
        db::migrate(core, db::core_migrations());
        station = register_piles(core, {"pile-1"});
    }
    ~CoreFile() { clean(); }
    CoreFile(const CoreFile&) = delete;
    CoreFile& operator=(const CoreFile&) = delete;
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
    std::string path;
    std::int64_t station = 0;
};

} // namespace pilehub::test
