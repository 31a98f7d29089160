#include "tests/fuzz/entries.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace pilehub::fuzz {
namespace {

std::mutex g_m;
std::vector<std::string> g_scratch;
std::vector<std::string> g_scratch_dirs;

void remove_scratch() {
    std::lock_guard l(g_m);
    std::error_code ec;
    for (const auto& p : g_scratch)
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(p + suffix, ec);
    for (const auto& p : g_scratch_dirs)
        std::filesystem::remove_all(p, ec);
}

/// Where scratch files go: /dev/shm when there is one.
std::filesystem::path scratch_root() {
    std::error_code ec;
    return std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
}

/// Registers removal at exit (once).
void remove_at_exit() {
    static const bool registered = (std::atexit(remove_scratch), true);
    (void)registered;
}

} // namespace

std::string scratch_db(std::string_view name) {
    std::error_code ec;
    const auto p =
        (scratch_root() / ("pilehub-fuzz-" + std::string(name) + "-" + std::to_string(::getpid()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(p + suffix, ec);
    std::lock_guard l(g_m);
    remove_at_exit();
    g_scratch.push_back(p);
    return p;
}

std::string scratch_dir(std::string_view name) {
    std::error_code ec;
    const auto p = (scratch_root() / ("pilehub-fuzz-" + std::string(name) + "-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(p, ec);
    std::filesystem::create_directories(p);
    std::lock_guard l(g_m);
    remove_at_exit();
    g_scratch_dirs.push_back(p);
    return p;
}

} // namespace pilehub::fuzz
