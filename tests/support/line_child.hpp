#pragma once
// A child process spoken to in lines over two FIFOs (the OCPP peer, the provider stubs).
#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pilehub::test {

/// A child process spoken to in lines: its stdin and stdout are two FIFOs of a private temporary
/// directory (Process gives a child /dev/null as stdin, so a shell `exec` puts the FIFOs in
/// place), its stderr goes to `log_file`. Reads never block past the caller's deadline.
class LineChild {
public:
    LineChild(const std::vector<std::string>& argv, const std::string& log_file,
              std::chrono::milliseconds start_timeout = std::chrono::seconds(10))
        : log_file_(log_file) {
        // A write to a child that died must fail with EPIPE, not kill the test.
        ::signal(SIGPIPE, SIG_IGN);
        char tmpl[] = "/tmp/pilehub-line-XXXXXX";
        if (!::mkdtemp(tmpl))
            throw std::runtime_error(std::string("LineChild: mkdtemp: ") + std::strerror(errno));
        dir_ = tmpl;
        const auto in_path = dir_ + "/in", out_path = dir_ + "/out";
        if (::mkfifo(in_path.c_str(), 0600) != 0 || ::mkfifo(out_path.c_str(), 0600) != 0)
            fail_setup(std::string("mkfifo: ") + std::strerror(errno));
        // Reader first: the child's `>out` then opens at once, and until the child has opened it
        // poll() reports nothing (Linux reports POLLHUP only after a writer has come and gone).
        out_fd_ = ::open(out_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (out_fd_ < 0)
            fail_setup("open " + out_path + ": " + std::strerror(errno));
        std::vector<std::string> shell{"/bin/sh", "-c", "exec \"$@\" <\"$LINE_CHILD_IN\" >\"$LINE_CHILD_OUT\"", "sh"};
        shell.insert(shell.end(), argv.begin(), argv.end());
        SpawnOptions so;
        so.env = {"LINE_CHILD_IN=" + in_path, "LINE_CHILD_OUT=" + out_path};
        so.output = log_file;
        try {
            proc_ = Process::spawn(shell, so);
        } catch (const std::exception& e) {
            fail_setup(e.what());
        }
        // The writer can open only once the child has opened its end for reading (ENXIO before).
        const auto deadline = std::chrono::steady_clock::now() + start_timeout;
        while ((in_fd_ = ::open(in_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
            if (errno != ENXIO || !proc_.running() || std::chrono::steady_clock::now() >= deadline)
                fail_setup("the child did not open its stdin (" + argv.front() + ")");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ::fcntl(in_fd_, F_SETFL, ::fcntl(in_fd_, F_GETFL) & ~O_NONBLOCK);
    }
    LineChild(const LineChild&) = delete;
    LineChild& operator=(const LineChild&) = delete;
    ~LineChild() {
        if (in_fd_ >= 0)
            ::close(in_fd_); // EOF on its stdin: charge_point.mjs and mini_csms.mjs exit
        if (proc_.running() && !proc_.wait(std::chrono::seconds(3)))
            proc_.stop();
        if (out_fd_ >= 0)
            ::close(out_fd_);
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    /// Writes `line` and a newline to the child's stdin; throws if the child is gone.
    void send(std::string_view line) {
        std::string data(line);
        data += '\n';
        std::size_t off = 0;
        while (off < data.size()) {
            const auto n = ::write(in_fd_, data.data() + off, data.size() - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                throw std::runtime_error("cannot write to the child: " + std::string(std::strerror(errno)) + why());
            off += static_cast<std::size_t>(n);
        }
    }

    /// The next line the child writes (without its newline), waiting until `deadline`; nullopt at
    /// the deadline or once the child has closed its stdout (then eof() is true).
    std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
                auto line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            if (eof_)
                return std::nullopt;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{out_fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return std::nullopt;
            char chunk[8192];
            const auto n = ::read(out_fd_, chunk, sizeof chunk);
            if (n > 0)
                buf_.append(chunk, static_cast<std::size_t>(n));
            else if (n == 0)
                eof_ = true;
            else if (errno != EAGAIN && errno != EINTR)
                throw std::runtime_error("cannot read from the child: " + std::string(std::strerror(errno)));
        }
    }

    bool eof() const { return eof_; }
    Process& process() { return proc_; }
    const std::string& log_file() const { return log_file_; }

    /// " (log <file>: <its last lines>)": for error messages.
    std::string why() const {
        std::ifstream in(log_file_);
        std::stringstream ss;
        ss << in.rdbuf();
        auto text = ss.str();
        if (text.size() > 2000)
            text = "..." + text.substr(text.size() - 2000);
        return " (log " + log_file_ + ": " + text + ")";
    }

private:
    [[noreturn]] void fail_setup(const std::string& what) {
        const auto reason = what + why();
        if (in_fd_ >= 0)
            ::close(in_fd_);
        if (out_fd_ >= 0)
            ::close(out_fd_);
        in_fd_ = out_fd_ = -1;
        proc_ = Process();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw std::runtime_error("LineChild: " + reason);
    }

    std::string log_file_;
    std::string dir_;
    int in_fd_ = -1;
    int out_fd_ = -1;
    std::string buf_;
    bool eof_ = false;
    Process proc_;
};

} // namespace pilehub::test
