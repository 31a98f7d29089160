#include "common/files.hpp"

#include "common/config.hpp"
#include "common/crypto.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace pilehub::files {
namespace {

std::runtime_error failure(std::string_view what, const std::string& path, int err) {
    return std::runtime_error(std::string(what) + " " + path + ": " + std::strerror(err));
}

std::string parent_of(const std::string& path) {
    auto p = std::filesystem::path(path).parent_path();
    return p.empty() ? std::string(".") : p.string();
}

void make_parents(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(parent_of(path), ec); // a failure shows when the file is created
}

/// A name beside `path` that no other writer picks: pid and 64 random bits.
std::string temp_name(const std::string& path) {
    return path + ".tmp." + std::to_string(::getpid()) + "." + crypto::random_hex(8);
}

void write_all(int fd, std::string_view bytes, const std::string& name) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        const auto w = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw failure("cannot write", name, errno);
        off += static_cast<std::size_t>(w);
    }
}

/// Creates `temp` (never following or reusing anything there), mode 0600 whatever the umask,
/// then writes and fsyncs `bytes`. On failure nothing is left behind.
void write_temp(const std::string& temp, std::string_view bytes) {
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw failure("cannot create", temp, errno);
    try {
        // The umask can only take bits away from 0600; make the mode exact before the first byte.
        if (::fchmod(fd, 0600) != 0)
            throw failure("cannot restrict", temp, errno);
        write_all(fd, bytes, temp);
        if (::fsync(fd) != 0)
            throw failure("cannot fsync", temp, errno);
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        throw failure("cannot close", temp, err);
    }
}

void fsync_directory_of(const std::string& path) {
    const auto dir = parent_of(path);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw failure("cannot open directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        throw failure("cannot fsync directory", dir, err);
}

} // namespace

void write_private_file_via(const std::string& temp_path, const std::string& path, std::string_view bytes) {
    write_temp(temp_path, bytes);
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp_path.c_str());
        throw failure("cannot replace", path, err);
    }
    fsync_directory_of(path);
}

void write_private_file_atomically(const std::string& path, std::string_view bytes) {
    make_parents(path);
    write_private_file_via(temp_name(path), path, bytes);
}

void ensure_private_directory(const std::string& dir) {
    std::error_code ec;
    const auto parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty())
        std::filesystem::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw failure("cannot create directory", dir, errno);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::runtime_error("not a directory: " + dir);
    if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0)
        throw failure("cannot restrict directory", dir, errno);
}

std::string load_or_create_secret(const std::string& path, const std::function<std::string()>& make) {
    const auto read = [&path] {
        try {
            return read_secret_file(path);
        } catch (const ConfigError& e) {
            throw std::runtime_error(e.what());
        }
    };
    if (::access(path.c_str(), F_OK) == 0)
        return read();
    make_parents(path);
    const auto temp = temp_name(path);
    write_temp(temp, make() + "\n");
    // link() fails if `path` exists: whoever links first wins, the others read the winner's secret.
    const int rc = ::link(temp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(temp.c_str());
    if (rc != 0 && err != EEXIST)
        throw failure("cannot create", path, err);
    if (rc == 0)
        fsync_directory_of(path);
    return read();
}

} // namespace pilehub::files
