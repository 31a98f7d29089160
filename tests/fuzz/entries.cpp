#include "tests/fuzz/entries.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace pilehub::fuzz {
namespace {

std::mutex g_m;
std::vector<std::string> g_scratch;

void remove_scratch() {
    std::lock_guard l(g_m);
    std::error_code ec;
    for (const auto& p : g_scratch)
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(p + suffix, ec);
}

} // namespace

std::string scratch_db(std::string_view name) {
    std::error_code ec;
    const std::filesystem::path dir =
        std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    const auto p = (dir / ("pilehub-fuzz-" + std::string(name) + "-" + std::to_string(::getpid()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(p + suffix, ec);
    std::lock_guard l(g_m);
    if (g_scratch.empty())
        std::atexit(remove_scratch);
    g_scratch.push_back(p);
    return p;
}

} // namespace pilehub::fuzz
