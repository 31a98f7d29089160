#pragma once
// Two counters in a small file mapped by two processes: a child counts, its parent reads, with
// no system call per update. Used by the ingest benchmark's bare subscribers, which run as
// processes of their own (as the platform's consumers do): Paho serves every client of one
// process from one receive thread, so K subscribers in one process are not K consumers.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pilehub::bench {

class SharedCounter {
public:
    /// Maps `path`, creating it (zeroed, 0600) if `create`. Throws std::runtime_error on failure.
    SharedCounter(const std::string& path, bool create) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600);
        if (fd < 0 || (create && ::ftruncate(fd, kSize) != 0))
            throw std::runtime_error("shared counter " + path + ": " + std::strerror(errno));
        void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED)
            throw std::runtime_error("shared counter " + path + ": mmap: " + std::strerror(errno));
        words_ = static_cast<std::int64_t*>(p);
    }
    ~SharedCounter() {
        if (words_)
            ::munmap(words_, kSize);
    }
    SharedCounter(const SharedCounter&) = delete;
    SharedCounter& operator=(const SharedCounter&) = delete;

    /// What the child counts (messages received).
    std::atomic_ref<std::int64_t> count() const { return std::atomic_ref<std::int64_t>(words_[0]); }
    /// 1 once the child is ready (connected and subscribed); -1 if it gave up.
    std::atomic_ref<std::int64_t> state() const { return std::atomic_ref<std::int64_t>(words_[1]); }

private:
    static constexpr std::size_t kSize = 4096;
    std::int64_t* words_ = nullptr;
};

} // namespace pilehub::bench
