// Output files that cannot destroy what they should not (SPEC §4 "Files"): `export --out`,
// `import --rejects` and every other path a command writes to.
//
// Invariants:
// - A refused path is refused before anything is written: the constructor throws PathError and
//   leaves the file system as it found it.
// - Nothing is written to the target itself. Output goes to a temporary file created beside it
//   (same folder, so the rename is atomic), exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never through
//   a link planted under its name), and is renamed over the target only by commit(), after an
//   fsync; the folder is fsynced after the rename. Readers of the target see the old file or the
//   whole new one, never a part.
// - Without a successful commit() (an error, an exception, a return before it) the destructor
//   removes the temporary file: nothing is left behind.
// - Outputs hold personal data (SPEC §12): the file is mode 0600 from its creation, whatever the
//   umask (000 included), and a file it replaces never makes it wider: the new file gets the old
//   one's mode narrowed to 0600 (0644 and 0660 become 0600, 0400 stays 0400).
// POSIX only (openat/renameat); no dependency on any other tfadesk target.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tfadesk::ingest {

// A path refused as an output (invalid input: exit 2 of SPEC §4). what() is one line,
// "refusing to write 'PATH': REASON", control characters in PATH escaped.
class PathError : public std::invalid_argument {
public:
    PathError(const std::string& path, const std::string& reason);
    const std::string& path() const noexcept { return path_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string path_;
    std::string reason_;
};

// Writing an output file failed on the way (an I/O error: exit 1 of SPEC §4): the folder cannot
// be read, the disk is full, fsync or rename failed. what() is one line naming the path and the
// system's reason.
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The files of the SQLite database `db` that an output must never replace: `db` itself and its
// "-wal", "-shm" and "-journal" files, whether they exist yet or not; when `db` is a symbolic
// link, the same four beside the file it points to as well (where SQLite keeps them).
std::vector<std::string> database_files(const std::string& db);

// One output file, written through stream() and put in place by commit().
class OutputFile {
public:
    // Prepares to write `target`. `protected_paths` are the files the command reads or writes
    // (database_files() of the database in use, the input being read); empty strings are
    // ignored. Throws PathError, before creating anything, when:
    // - `target` is empty or names a folder ("", "dir/", ".", "..");
    // - its folder does not exist or is not a folder;
    // - it is one of `protected_paths`: the same file (st_dev and st_ino, following symbolic
    //   links, so a hard link or a symlink to the database is caught) or the same canonical path
    //   (the folder resolved as the kernel would: symbolic links, "." and ".."), so that a -wal
    //   file that does not exist yet is caught too;
    // - it exists and is a symbolic link (never followed, whatever it points to);
    // - it exists and is not a regular file (a directory, a FIFO, a device, a socket).
    // Then creates the temporary file "<target>.<random hex>.partial" (".tfadesk-<hex>.partial"
    // when that name would be too long), mode exactly 0600 (fchmod, so the umask plays no part),
    // retrying with a new suffix while the name exists. Throws OutputError when the folder cannot
    // be opened or the file cannot be created or given its mode. `temp_suffix` makes the suffixes
    // (default: 16 random hex digits); it is there for tests that plant files under the names it
    // will try.
    OutputFile(std::string target, std::vector<std::string> protected_paths,
               std::function<std::string()> temp_suffix = {});
    // Removes the temporary file unless commit() succeeded. Never throws.
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    OutputFile(OutputFile&&) = delete;
    OutputFile& operator=(OutputFile&&) = delete;

    // The stream to write the content to. A write error sets its badbit; commit() reports it.
    std::ostream& stream();
    // Shorthand for stream().write(bytes).
    void write(std::string_view bytes);

    // Flushes the temporary file, checks the target again (the same refusals as the constructor,
    // as PathError: it may have been swapped meanwhile), sets the temporary file's mode to the
    // existing target's mode & 0600 (0600 when there is none: an output is never wider than 0600
    // nor wider than the file it replaces; a read-only 0400 target is replaced and stays 0400),
    // fsyncs it, renames it over the target and fsyncs the folder. Throws OutputError when a
    // write, chmod, fsync, close or rename failed (the target is then untouched, and the destructor
    // removes the temporary file, except when only the folder's fsync failed: the new file is then
    // in place). Throws std::logic_error when called again after it succeeded or failed.
    void commit();

    const std::string& target() const noexcept;
    // The temporary file's path (beside the target); gone once committed or destroyed.
    const std::string& temp_path() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::ingest
