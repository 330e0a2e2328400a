// Files with personal data are private (SPEC §12), through the real binary run under a chosen
// umask: a new database and its -wal and -shm, an export and a rejects file are mode 0600
// whatever the umask (000 included), and an existing output is never made wider: a re-export
// onto a 0600 file keeps 0600, onto 0644 makes it 0600, onto 0400 replaces it and keeps 0400.
// (The key file of `key generate` is checked in key_test.cpp.)
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "process.hpp"

using namespace clitest;

namespace {

const std::string kHeader =
    "ref,phone,client_id,requester_email,requester_role,portfolio_access,note\n";
const std::string kBadRow = "PF-2,0151 2345,c2,b@x.example,client,no,\n";  // bad phone

RunOptions under(mode_t mask) {
    RunOptions opt;
    opt.umask = mask;
    return opt;
}

// The permission bits of `p` (not following a symbolic link), or -1 when it does not exist.
int mode_of(const std::string& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return -1;
    return static_cast<int>(st.st_mode & 07777);
}

// Waits up to 30 s for `pred`; false when it never held.
template <class Pred>
bool wait_for(Pred pred) {
    for (int i = 0; i < 3000; ++i) {
        if (pred()) return true;
        sleep_ms(10);
    }
    return false;
}

// The write end of a FIFO, opened once a reader has it open (so a reader that never comes is a
// failed wait, not a hung test) and never blocking, with SIGPIPE ignored meanwhile (a reader that
// goes away is a failed write, not the end of the test program). The destructor closes it: the
// reader then sees the end of the input.
class FifoWriter {
public:
    explicit FifoWriter(const std::string& path) {
        wait_for([&] {
            fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            return fd_ >= 0;
        });
        // Only now: the reader has been started, so it does not inherit the ignored signal.
        old_sigpipe_ = std::signal(SIGPIPE, SIG_IGN);
    }
    ~FifoWriter() {
        if (fd_ >= 0) ::close(fd_);
        std::signal(SIGPIPE, old_sigpipe_);
    }
    FifoWriter(const FifoWriter&) = delete;
    FifoWriter& operator=(const FifoWriter&) = delete;
    bool is_open() const { return fd_ >= 0; }
    // Writes all of `text` (at most PIPE_BUF bytes, so all or nothing), waiting while the pipe is
    // full; false when the reader has gone or has not read for 30 s.
    bool write(const std::string& text) const {
        bool done = false;
        wait_for([&] {
            if (::write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()))
                return done = true;
            return errno != EAGAIN && errno != EINTR;  // the reader has gone: give up
        });
        return done;
    }

private:
    int fd_ = -1;
    void (*old_sigpipe_)(int) = SIG_DFL;
};

// The CSV row of ticket PF-n.
std::string row(int n) {
    return "PF-" + std::to_string(n) + ",+49 151 2345 6789,c1,a@x.example,client,no,\n";
}

}  // namespace

TEST_CASE("a new database and its -wal and -shm are 0600 whatever the umask") {
    for (const mode_t mask : {mode_t{000}, mode_t{022}}) {
        CAPTURE(mask);
        Desk d;
        // The import reads its rows from a FIFO, so it holds the new database open, -wal and -shm
        // included, for as long as the test keeps the FIFO's write end open.
        const std::string fifo = d.dir / "in.csv";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        Result r;
        std::thread importer([&] { r = d({"import", fifo, "--agent", "ops"}, under(mask)); });
        int db_mode = -1, wal_mode = -1, shm_mode = -1, rows = 0;
        {
            // The importer reads in large blocks and opens the database once it has the header:
            // rows are fed, a pipe's worth at a time, until it holds the -wal and -shm open.
            FifoWriter writer(fifo);
            bool fed = writer.is_open() && writer.write(kHeader);
            const auto held = [&] {
                return mode_of(d.db + "-wal") >= 0 && mode_of(d.db + "-shm") >= 0;
            };
            while (fed && !held() && rows < 200000) {
                std::string chunk;
                while (chunk.size() < 4000) chunk += row(++rows);
                fed = writer.write(chunk);
            }
            if (held()) {
                db_mode = mode_of(d.db);
                wal_mode = mode_of(d.db + "-wal");
                shm_mode = mode_of(d.db + "-shm");
            }
        }
        importer.join();
        CHECK_MESSAGE(r.code == 0, r.describe());
        CHECK(r.out == "imported " + std::to_string(rows) + ", duplicates 0, rejected 0\n");
        CHECK(db_mode == 0600);
        CHECK(wal_mode == 0600);
        CHECK(shm_mode == 0600);
        CHECK(mode_of(d.db) == 0600);
        CHECK(sqlite(d.db, "SELECT count(*) FROM tickets").out == std::to_string(rows) + "\n");
    }
}

TEST_CASE("a new database through a symbolic link not pointing anywhere yet is 0600 too") {
    Desk d;
    const std::string real = d.dir / "real.db";
    fs::create_symlink(real, d.db);
    const std::vector<std::string> open = {"open",
                                           "--ref",
                                           "PF-1",
                                           "--phone",
                                           "+49 151 2345 6789",
                                           "--client-id",
                                           "c1",
                                           "--requester-email",
                                           "a@x.example",
                                           "--role",
                                           "client",
                                           "--access",
                                           "no",
                                           "--agent",
                                           "alice"};
    const Result r = d(open, under(000));
    CHECK_MESSAGE(r.code == 0, r.describe());
    CHECK(fs::is_symlink(d.db));
    CHECK(mode_of(real) == 0600);
}

TEST_CASE("an existing database keeps its mode") {
    Desk d;
    REQUIRE(d.open("PF-1", "client", "no").code == 0);
    REQUIRE(::chmod(d.db.c_str(), 0640) == 0);  // the owner's choice: a group of auditors
    const Result r = d.open("PF-2", "client", "no");
    CHECK_MESSAGE(r.code == 0, r.describe());
    CHECK(mode_of(d.db) == 0640);
}

TEST_CASE("an export is 0600 whatever the umask, and a re-export never widens it") {
    Desk d;
    REQUIRE(d.open("PF-1", "client", "no").code == 0);
    const std::string out = d.dir / "log.jsonl";
    auto export_under = [&](mode_t mask) {
        const Result r = d({"export", "--out", out}, under(mask));
        CHECK_MESSAGE(r.code == 0, r.describe());
        CHECK(contains(slurp(out), "\"ref\":\"PF-1\""));
        return mode_of(out);
    };
    SUBCASE("a new file") {
        CHECK(export_under(000) == 0600);
        fs::remove(out);
        CHECK(export_under(022) == 0600);
    }
    SUBCASE("onto a 0600 file: stays 0600") {
        CHECK(export_under(000) == 0600);
        CHECK(export_under(000) == 0600);
    }
    SUBCASE("onto a wider file: 0600") {
        spit(out, "old\n");
        REQUIRE(::chmod(out.c_str(), 0644) == 0);
        CHECK(export_under(000) == 0600);
        REQUIRE(::chmod(out.c_str(), 0660) == 0);
        CHECK(export_under(022) == 0600);
    }
    SUBCASE("onto a 0400 file: replaced, and stays 0400") {
        spit(out, "old\n");
        REQUIRE(::chmod(out.c_str(), 0400) == 0);
        CHECK(export_under(000) == 0400);
    }
}

TEST_CASE("a rejects file is 0600 whatever the umask") {
    for (const mode_t mask : {mode_t{000}, mode_t{022}}) {
        CAPTURE(mask);
        Desk d;
        const std::string csv = d.dir / "in.csv", rejects = d.dir / "rejects.csv";
        spit(csv, kHeader + row(1) + kBadRow);
        const Result r = d({"import", csv, "--agent", "ops", "--rejects", rejects}, under(mask));
        CHECK_MESSAGE(r.code == 2, r.describe());
        CHECK(contains(slurp(rejects), "PF-2,0151 2345"));
        CHECK(mode_of(rejects) == 0600);
        CHECK(mode_of(d.db) == 0600);
    }
}
