#pragma once
#include <functional>
#include <string>
#include <string_view>

/// Files that hold secrets (password files, keys, generated passwords): the one implementation
/// of writing them, so that no secret is ever readable by another user, not even for an instant.
namespace pilehub::files {

/// Replaces `path` with `bytes` atomically, readable by the owner only. A temporary file with a
/// name no other writer uses (several threads of one process may write the same path at once) is
/// created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 before any byte is written (a symlink
/// planted there is never followed), filled, fsynced and renamed over `path`; then the directory
/// is fsynced. Readers see the old or the new content, never a mix. Creates missing parent
/// directories. Throws std::runtime_error (the temporary file removed) on any failure.
void write_private_file_atomically(const std::string& path, std::string_view bytes);

/// The step write_private_file_atomically() takes with a temporary name it chose itself, exposed
/// for tests that plant something at `temp_path`: fails if anything exists there.
void write_private_file_via(const std::string& temp_path, const std::string& path, std::string_view bytes);

/// Creates `dir` (and its parents) if missing and restricts it to its owner (0700).
void ensure_private_directory(const std::string& dir);

/// The content of the secret file `path` (surrounding white space trimmed), creating it first
/// with `make()` if it does not exist. The file appears complete or not at all (written privately,
/// then linked into place), and two processes starting at once agree on one secret: the later one
/// reads the first one's. Throws std::runtime_error if it can be neither read nor created.
std::string load_or_create_secret(const std::string& path, const std::function<std::string()>& make);

} // namespace pilehub::files
