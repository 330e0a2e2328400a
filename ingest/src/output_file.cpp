// Output files written beside their target and renamed into place; see output_file.hpp.
#include "tfadesk/ingest/output_file.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <streambuf>

#include "text.hpp"

namespace tfadesk::ingest {

namespace {

namespace fs = std::filesystem;

// Outputs hold personal data (SPEC §12): owner read and write, nothing for group or others.
constexpr mode_t kPrivateMode = 0600;

std::string shown(const std::string& path) { return "'" + detail::printable(path, 4096) + "'"; }

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
    throw OutputError("cannot " + what + " " + shown(path) + ": " + std::strerror(err));
}

// A std::streambuf over a file descriptor it does not own, buffered; the first write error is
// kept (errno) and every later write fails too.
class FdBuf : public std::streambuf {
public:
    explicit FdBuf(int fd) : fd_(fd) { setp(buf_.data(), buf_.data() + buf_.size()); }
    int error() const { return error_; }

protected:
    int_type overflow(int_type ch) override {
        if (!drain()) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override { return drain() ? 0 : -1; }

private:
    bool drain() {
        const char* p = pbase();
        std::size_t left = static_cast<std::size_t>(pptr() - pbase());
        while (left > 0 && error_ == 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error_ = n < 0 ? errno : EIO;
                break;
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        setp(buf_.data(), buf_.data() + buf_.size());
        return error_ == 0;
    }

    int fd_;
    int error_ = 0;
    std::array<char, 64 * 1024> buf_{};
};

std::string random_suffix() {
    std::random_device rd;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 4; ++i) {
        const unsigned v = rd();
        for (int k = 0; k < 4; ++k) s += kHex[(v >> (4 * k)) & 0xF];
    }
    return s;
}

// `p` with its folder's symbolic links, "." and ".." resolved and its last component as given:
// realpath(dirname) + "/" + basename, or the lexically normal absolute path when the folder
// cannot be resolved (it does not exist).
std::string canonical_name(const std::string& p) {
    std::error_code ec;
    const fs::path path =
        fs::absolute(fs::path(p), ec);  // not normalised: "link/.." is the kernel's
    if (ec) return p;
    const fs::path real_parent = fs::canonical(path.parent_path(), ec);
    if (ec) return path.lexically_normal().string();
    return (real_parent / path.filename()).string();
}

// What identifies a protected path: its canonical name, and its file when it exists.
struct Identity {
    std::string path;
    std::string name;
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
};

Identity identity_of(const std::string& p) {
    Identity id;
    id.path = p;
    id.name = canonical_name(p);
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
        id.exists = true;
        id.dev = st.st_dev;
        id.ino = st.st_ino;
    }
    return id;
}

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

}  // namespace

PathError::PathError(const std::string& path, const std::string& reason)
    : std::invalid_argument("refusing to write " + shown(path) + ": " + reason),
      path_(path),
      reason_(reason) {}

std::vector<std::string> database_files(const std::string& db) {
    std::vector<std::string> files;
    auto add = [&files](const std::string& base) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) files.push_back(base + suffix);
    };
    add(db);
    // SQLite resolves a symbolic link to the database and keeps its -wal and -shm beside the file
    // it points to.
    std::error_code ec;
    const fs::path real = db.empty() ? fs::path() : fs::canonical(db, ec);
    if (!ec && !real.empty() && canonical_name(db) != real.string()) add(real.string());
    return files;
}

struct OutputFile::Impl {
    std::string target;
    std::string folder;     // as given ("." when the target has no '/')
    std::string prefix;     // the target up to and including its last '/' ("" when none)
    std::string name;       // the target's last component
    std::string canonical;  // canonical_name(target)
    std::vector<Identity> protected_ids;
    int dir_fd = -1;
    int fd = -1;
    std::string temp_name;
    std::string temp_path;
    bool committed = false;
    std::unique_ptr<FdBuf> buf;
    std::unique_ptr<std::ostream> out;

    // Throws PathError when the target, as it is now, must not be replaced. Otherwise returns the
    // mode the new file gets (SPEC §12, personal data is private): kPrivateMode, or the existing
    // target's mode narrowed to it, so that a replaced file is never made wider (0644 or 0660
    // become 0600, 0400 stays 0400).
    mode_t check_target() const {
        struct stat lst {};
        bool exists = true;
        if (::fstatat(dir_fd, name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) fail("examine", target, errno);
            exists = false;
        }
        struct stat st {};
        const bool reachable = exists && ::fstatat(dir_fd, name.c_str(), &st, 0) == 0;
        for (const Identity& p : protected_ids) {
            const bool same_file =
                reachable && p.exists && st.st_dev == p.dev && st.st_ino == p.ino;
            if (same_file || canonical == p.name)
                throw PathError(target,
                                "it is " + shown(p.path) + ", which this command reads or writes");
        }
        if (!exists) return kPrivateMode;
        if (S_ISLNK(lst.st_mode))
            throw PathError(target, "it is a symbolic link, which an output never follows");
        if (!S_ISREG(lst.st_mode))
            throw PathError(target,
                            std::string("it is ") + kind_of(lst.st_mode) + ", not a regular file");
        return lst.st_mode & kPrivateMode;
    }

    void create_temp(const std::function<std::string()>& suffix) {
        for (int attempt = 0; attempt < 100; ++attempt) {
            const std::string s = suffix ? suffix() : random_suffix();
            temp_name = name + "." + s + ".partial";
            if (temp_name.size() > NAME_MAX) temp_name = ".tfadesk-" + s + ".partial";
            temp_path = prefix + temp_name;
            fd = ::openat(dir_fd, temp_name.c_str(),
                          O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, kPrivateMode);
            if (fd >= 0) {
                // open() applied the umask, which is not ours to rely on (0277 would leave the
                // owner unable to write): the mode is set exactly.
                if (::fchmod(fd, kPrivateMode) != 0) fail("set the mode of", temp_path, errno);
                return;
            }
            if (errno != EEXIST && errno != EINTR) fail("create", temp_path, errno);
        }
        fail("create", temp_path, EEXIST);
    }
};

OutputFile::OutputFile(std::string target, std::vector<std::string> protected_paths,
                       std::function<std::string()> temp_suffix)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.target = std::move(target);
    if (m.target.empty()) throw PathError(m.target, "the path is empty");
    const auto slash = m.target.rfind('/');
    m.name = slash == std::string::npos ? m.target : m.target.substr(slash + 1);
    m.folder = slash == std::string::npos ? "." : slash == 0 ? "/" : m.target.substr(0, slash);
    m.prefix = slash == std::string::npos ? "" : m.target.substr(0, slash + 1);
    if (m.name.empty() || m.name == "." || m.name == "..")
        throw PathError(m.target, "it names a folder, not a file");

    m.dir_fd = ::open(m.folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m.dir_fd < 0) {
        if (errno == ENOENT) throw PathError(m.target, "its folder does not exist");
        if (errno == ENOTDIR) throw PathError(m.target, "its folder is not a folder");
        fail("open the folder of", m.target, errno);
    }
    try {
        m.canonical = canonical_name(m.target);
        for (const std::string& p : protected_paths)
            if (!p.empty()) m.protected_ids.push_back(identity_of(p));
        m.check_target();
        m.create_temp(temp_suffix);
        m.buf = std::make_unique<FdBuf>(m.fd);
        m.out = std::make_unique<std::ostream>(m.buf.get());
    } catch (...) {
        if (m.fd >= 0) {
            ::close(m.fd);
            ::unlinkat(m.dir_fd, m.temp_name.c_str(), 0);
        }
        ::close(m.dir_fd);
        throw;
    }
}

OutputFile::~OutputFile() {
    Impl& m = *impl_;
    m.out.reset();
    m.buf.reset();
    if (m.fd >= 0) ::close(m.fd);
    if (!m.committed) ::unlinkat(m.dir_fd, m.temp_name.c_str(), 0);
    ::close(m.dir_fd);
}

std::ostream& OutputFile::stream() { return *impl_->out; }

void OutputFile::write(std::string_view bytes) {
    impl_->out->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void OutputFile::commit() {
    Impl& m = *impl_;
    if (m.committed || m.fd < 0)
        throw std::logic_error("OutputFile::commit called again after it succeeded or failed");
    m.out->flush();
    if (m.buf->error() != 0) fail("write", m.temp_path, m.buf->error());
    if (!*m.out) fail("write", m.temp_path, EIO);
    if (::fchmod(m.fd, m.check_target()) != 0) fail("set the mode of", m.temp_path, errno);
    if (::fsync(m.fd) != 0) fail("fsync", m.temp_path, errno);
    const int fd = m.fd;
    m.fd = -1;
    if (::close(fd) != 0) fail("close", m.temp_path, errno);
    m.check_target();
    if (::renameat(m.dir_fd, m.temp_name.c_str(), m.dir_fd, m.name.c_str()) != 0)
        fail("rename " + shown(m.temp_path) + " to", m.target, errno);
    m.committed = true;
    if (::fsync(m.dir_fd) != 0) fail("fsync the folder of", m.target, errno);
}

const std::string& OutputFile::target() const noexcept { return impl_->target; }
const std::string& OutputFile::temp_path() const noexcept { return impl_->temp_path; }

}  // namespace tfadesk::ingest
