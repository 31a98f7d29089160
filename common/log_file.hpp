#pragma once
// Where a daemon's log lines go when `log.file` is set (common/log.hpp writes every line to stderr):
// the file is opened for appending and put in place of stderr, and opened again on SIGHUP so that
// logrotate's `create` + postrotate HUP (scripts/logrotate/pilehub) loses no line.
#include <string>

namespace pilehub::log {

/// Opens `path` (O_APPEND | O_CREAT, mode 0600 under the umask) and makes it the process's stderr,
/// under the lock every line is written with: a line goes wholly to the old file or wholly to the
/// new one. False with `why` when it cannot be opened (stderr is then left as it was).
bool open_file(const std::string& path, std::string* why = nullptr);

} // namespace pilehub::log
