// Output files (SPEC §4 "Files"): --out, --rejects and every other output path never replace the
// database in use, the input being read, or anything that is not a regular file, never follow
// a symbolic link, are refused before anything is written, and leave nothing behind on failure;
// they are mode 0600 whatever the umask, never wider than a file they replace (SPEC §12).
// Real files in a temporary folder; every expectation typed in from the spec.
#include "tfadesk/ingest/output_file.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"
#include "../support/text.hpp"

using tfadesk::ingest::database_files;
using tfadesk::ingest::OutputError;
using tfadesk::ingest::OutputFile;
using tfadesk::ingest::PathError;
using tfadesk_test::slurp;
using tfadesk_test::TempDir;

namespace {

namespace fs = std::filesystem;

void spit(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    REQUIRE(out.good());
}

// Every entry under `dir`, recursively, as "relative/path" (symlinks not followed).
std::set<std::string> listing(const fs::path& dir) {
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it)
        out.insert(it->path().lexically_relative(dir).string());
    return out;
}

bool is_symlink(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

mode_t mode_of(const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

ino_t inode(const std::string& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_ino;
}

// A desk in a temporary folder: a database with its WAL and SHM, an input file, a victim.
struct Desk {
    TempDir tmp;
    std::string db = tmp / "desk.db";
    std::string input = tmp / "requests.csv";
    std::string victim = tmp / "victim.txt";
    Desk() {
        spit(db, "SQLite format 3");
        spit(db + "-shm", "shm");
        spit(input, "ref,phone\n");
        spit(victim, "precious");
    }
    std::vector<std::string> protected_paths() const {
        std::vector<std::string> p = database_files(db);
        p.push_back(input);
        return p;
    }
    // The target must be refused before anything is written: PathError naming it, the folder and
    // every file in it as they were.
    PathError refuse(const std::string& target) {
        const std::set<std::string> before = listing(tmp.path());
        const std::string db_bytes = slurp(db), input_bytes = slurp(input),
                          victim_bytes = slurp(victim);
        try {
            OutputFile out(target, protected_paths());
            out.write("clobbered");
            out.commit();
        } catch (const PathError& e) {
            CHECK(e.path() == target);
            CHECK(std::string(e.what()).find("refusing to write '") == 0);
            CHECK(std::string(e.what()).find('\n') == std::string::npos);
            CHECK(listing(tmp.path()) == before);
            CHECK(slurp(db) == db_bytes);
            CHECK(slurp(input) == input_bytes);
            CHECK(slurp(victim) == victim_bytes);
            return e;
        }
        FAIL("expected a PathError for " << target);
        return PathError(target, "");
    }
};

}  // namespace

TEST_CASE("an output appears only when committed, and whole") {
    TempDir tmp;
    const std::string target = tmp / "export.jsonl";
    {
        OutputFile out(target, {});
        out.stream() << "{\"seq\":1}\n";
        out.write("{\"seq\":2}\n");
        CHECK_FALSE(fs::exists(target));
        CHECK(fs::path(out.temp_path()).parent_path() == tmp.path());
        CHECK(fs::path(out.temp_path()).filename().string().rfind("export.jsonl.", 0) == 0);
        CHECK(out.temp_path().size() > std::string(".partial").size());
        CHECK(out.temp_path().substr(out.temp_path().size() - 8) == ".partial");
        CHECK(fs::is_regular_file(out.temp_path()));
        out.commit();
        CHECK_FALSE(fs::exists(out.temp_path()));
        CHECK_THROWS_AS(out.commit(), std::logic_error);
    }
    CHECK(slurp(target) == "{\"seq\":1}\n{\"seq\":2}\n");
    CHECK(listing(tmp.path()) == std::set<std::string>{"export.jsonl"});
}

// SPEC §12: files with personal data are private.
TEST_CASE("an output is mode 0600 whatever the umask, and never wider than the file it replaces") {
    TempDir tmp;
    const std::string target = tmp / "export.csv";
    // Writes "new" to the target under `mask`, restoring ours after; checks the temporary file's
    // mode while it is being written, and returns the committed file's.
    auto write_under = [&](mode_t mask) {
        const mode_t ours = ::umask(mask);
        {
            OutputFile out(target, {});
            out.write("new");
            CHECK(mode_of(out.temp_path()) == 0600);  // private from the start, not just at the end
            out.commit();
        }
        ::umask(ours);
        CHECK(slurp(target) == "new");
        return mode_of(target);
    };
    SUBCASE("a new file under umask 000") { CHECK(write_under(000) == 0600); }
    SUBCASE("a new file under umask 022") { CHECK(write_under(022) == 0600); }
    SUBCASE("a new file under umask 0277, which alone would leave 0400") {
        CHECK(write_under(0277) == 0600);
    }
    SUBCASE("a wider existing file is narrowed to 0600") {
        for (const mode_t wide : {mode_t{0644}, mode_t{0660}, mode_t{0666}, mode_t{0755}}) {
            CAPTURE(wide);
            spit(target, "old");
            REQUIRE(::chmod(target.c_str(), wide) == 0);
            CHECK(write_under(000) == 0600);
        }
    }
    SUBCASE("a 0600 file stays 0600 (a re-export does not widen it)") {
        spit(target, "old");
        REQUIRE(::chmod(target.c_str(), 0600) == 0);
        CHECK(write_under(000) == 0600);
        CHECK(write_under(022) == 0600);
    }
    SUBCASE("a narrower existing file keeps its mode: 0400 stays 0400, and is replaced") {
        spit(target, "old");
        REQUIRE(::chmod(target.c_str(), 0400) == 0);
        CHECK(write_under(000) == 0400);
    }
    SUBCASE("a mode neither wider nor narrower loses the extra bits, gains none") {
        spit(target, "old");
        REQUIRE(::chmod(target.c_str(), 0440) == 0);
        CHECK(write_under(000) == 0400);
    }
}

TEST_CASE("a relative target is written beside it, in the current folder's terms") {
    TempDir tmp;
    const fs::path old_cwd = fs::current_path();
    fs::current_path(tmp.path());
    {
        OutputFile out("rejects.csv", {});
        CHECK(out.temp_path().find('/') == std::string::npos);
        out.write("x");
        out.commit();
    }
    fs::current_path(old_cwd);
    CHECK(slurp(tmp / "rejects.csv") == "x");
}

TEST_CASE("commit replaces an existing regular file atomically") {
    TempDir tmp;
    const std::string target = tmp / "export.csv";
    spit(target, "old content");
    const ino_t old_inode = inode(target);
    std::ifstream reader(target, std::ios::binary);  // a reader holding the old file open
    REQUIRE(reader.good());

    OutputFile out(target, {});
    out.write("new content");
    out.stream().flush();
    CHECK(slurp(target) == "old content");  // untouched until commit
    out.commit();

    CHECK(slurp(target) == "new content");
    CHECK(inode(target) != old_inode);  // renamed over, not rewritten in place
    std::string seen;
    std::getline(reader, seen);
    CHECK(seen == "old content");  // the reader still has the whole old file
    CHECK(listing(tmp.path()) == std::set<std::string>{"export.csv"});
}

TEST_CASE("on failure nothing is left behind") {
    TempDir tmp;
    const std::string target = tmp / "out.csv";
    SUBCASE("destroyed without commit") {
        {
            OutputFile out(target, {});
            out.write("half a file");
        }
        CHECK(listing(tmp.path()).empty());
    }
    SUBCASE("an exception while writing") {
        spit(target, "previous export");
        try {
            OutputFile out(target, {});
            out.write("partial");
            throw std::runtime_error("the database went away");
        } catch (const std::runtime_error&) {
        }
        CHECK(listing(tmp.path()) == std::set<std::string>{"out.csv"});
        CHECK(slurp(target) == "previous export");
    }
    SUBCASE("commit finds the target swapped for a directory") {
        {
            OutputFile out(target, {});
            out.write("x");
            fs::create_directory(target);
            CHECK_THROWS_AS(out.commit(), PathError);
        }
        CHECK(fs::is_directory(target));
        CHECK(fs::is_empty(target));
        CHECK(listing(tmp.path()) == std::set<std::string>{"out.csv"});
    }
    SUBCASE("commit finds the target swapped for a symbolic link") {
        spit(tmp / "victim", "precious");
        {
            OutputFile out(target, {});
            out.write("x");
            fs::create_symlink(tmp / "victim", target);
            CHECK_THROWS_AS(out.commit(), PathError);
        }
        CHECK(is_symlink(target));
        CHECK(slurp(tmp / "victim") == "precious");
        CHECK(listing(tmp.path()) == std::set<std::string>{"out.csv", "victim"});
    }
}

TEST_CASE("never the database in use, its -wal or -shm, or the input being read") {
    Desk d;
    SUBCASE("the database, by its own path") {
        const PathError e = d.refuse(d.db);
        CHECK(e.reason() == "it is '" + d.db + "', which this command reads or writes");
    }
    SUBCASE("the database, spelt differently") {
        fs::create_directory(d.tmp / "sub");
        d.refuse((d.tmp.path() / "." / "desk.db").string());
        d.refuse((d.tmp.path() / "sub" / ".." / "desk.db").string());
        d.refuse((d.tmp.path() / "sub" / ".." / "sub" / ".." / "desk.db").string());
    }
    SUBCASE("the database, relative to the current folder") {
        const fs::path old_cwd = fs::current_path();
        fs::current_path(d.tmp.path());
        const std::set<std::string> before = listing(d.tmp.path());
        CHECK_THROWS_AS(OutputFile("desk.db", d.protected_paths()), PathError);
        CHECK_THROWS_AS(OutputFile("./desk.db-wal", d.protected_paths()), PathError);
        fs::current_path(old_cwd);
        CHECK(listing(d.tmp.path()) == before);
    }
    SUBCASE("a hard link to the database") {
        fs::create_hard_link(d.db, d.tmp / "alias.db");
        d.refuse(d.tmp / "alias.db");
    }
    SUBCASE("a symbolic link to the database") {
        fs::create_symlink(d.db, d.tmp / "link.db");
        d.refuse(d.tmp / "link.db");
    }
    SUBCASE("the database through a symlinked folder") {
        fs::create_directory_symlink(d.tmp.path(), d.tmp / "again");
        const PathError e = d.refuse(d.tmp / "again/desk.db");
        CHECK(e.reason().find("reads or writes") != std::string::npos);
    }
    SUBCASE("the database given through a symbolic link, written by its real name") {
        fs::create_symlink(d.db, d.tmp / "current.db");
        const std::set<std::string> before = listing(d.tmp.path());
        CHECK_THROWS_AS(OutputFile(d.db, database_files(d.tmp / "current.db")), PathError);
        CHECK(listing(d.tmp.path()) == before);
    }
    SUBCASE("its -wal through a symlinked folder and '..', as the kernel resolves it") {
        fs::create_directories(d.tmp / "deep/inner");
        const std::string deep_db = d.tmp / "deep/desk.db";
        spit(deep_db, "SQLite format 3");
        fs::create_directory_symlink(d.tmp / "deep/inner", d.tmp / "jump");
        // jump/.. is deep/, not the temporary folder itself.
        const std::string target = d.tmp / "jump/../desk.db-wal";
        CHECK_THROWS_AS(OutputFile(target, database_files(deep_db)), PathError);
        CHECK_FALSE(fs::exists(d.tmp / "deep/desk.db-wal"));
        OutputFile elsewhere(d.tmp / "desk.db-wal", database_files(deep_db));  // another database's
    }
    SUBCASE("a database opened through a symlink: its real -wal is protected too") {
        fs::create_symlink(d.db, d.tmp / "current.db");
        const std::vector<std::string> files = database_files(d.tmp / "current.db");
        const std::string real_wal = fs::canonical(d.db).string() + "-wal";
        CHECK(std::find(files.begin(), files.end(), real_wal) != files.end());
        const std::set<std::string> before = listing(d.tmp.path());
        CHECK_THROWS_AS(OutputFile(d.db + "-wal", files), PathError);
        CHECK(listing(d.tmp.path()) == before);
    }
    SUBCASE("its -shm, and its -wal before SQLite has created it") {
        d.refuse(d.db + "-shm");
        d.refuse(d.db + "-wal");
        d.refuse(d.db + "-journal");
        CHECK_FALSE(fs::exists(d.db + "-wal"));
    }
    SUBCASE("the input being read, and a hard link to it") {
        d.refuse(d.input);
        fs::create_hard_link(d.input, d.tmp / "copy.csv");
        d.refuse(d.tmp / "copy.csv");
    }
}

TEST_CASE("never anything that is not a regular file") {
    Desk d;
    SUBCASE("/dev/null") {
        const PathError e = d.refuse("/dev/null");
        CHECK(e.reason() == "it is a character device, not a regular file");
    }
    SUBCASE("a FIFO") {
        REQUIRE(::mkfifo((d.tmp / "pipe").c_str(), 0600) == 0);
        const PathError e = d.refuse(d.tmp / "pipe");
        CHECK(e.reason() == "it is a FIFO, not a regular file");
    }
    SUBCASE("a directory") {
        fs::create_directory(d.tmp / "reports");
        const PathError e = d.refuse(d.tmp / "reports");
        CHECK(e.reason() == "it is a directory, not a regular file");
        CHECK(fs::is_empty(d.tmp / "reports"));
    }
    SUBCASE("a folder's name ending in '/', '.' or '..'") {
        d.refuse(d.tmp / "");
        d.refuse(d.tmp / ".");
        d.refuse(d.tmp / "..");
        d.refuse(".");
    }
    SUBCASE("an empty path") { CHECK(d.refuse("").reason() == "the path is empty"); }
    SUBCASE("a folder that does not exist") {
        const PathError e = d.refuse(d.tmp / "no/such/out.csv");
        CHECK(e.reason() == "its folder does not exist");
        CHECK_FALSE(fs::exists(d.tmp / "no"));
    }
    SUBCASE("a folder that is a file") {
        CHECK(d.refuse(d.victim + "/out.csv").reason() == "its folder is not a folder");
    }
}

TEST_CASE("never follows a symbolic link") {
    Desk d;
    SUBCASE("a planted symlink as the target") {
        fs::create_symlink(d.victim, d.tmp / "out.csv");
        const PathError e = d.refuse(d.tmp / "out.csv");
        CHECK(e.reason() == "it is a symbolic link, which an output never follows");
        CHECK(is_symlink(d.tmp / "out.csv"));
    }
    SUBCASE("a dangling symlink: what it points to is not created") {
        fs::create_symlink(d.tmp / "created-by-link", d.tmp / "out.csv");
        d.refuse(d.tmp / "out.csv");
        CHECK_FALSE(fs::exists(d.tmp / "created-by-link"));
    }
    SUBCASE("a symlink to /dev/null") {
        fs::create_symlink("/dev/null", d.tmp / "out.csv");
        d.refuse(d.tmp / "out.csv");
    }
}

TEST_CASE("the temporary file is created exclusively, never through a planted link") {
    Desk d;
    const std::string target = d.tmp / "out.csv";
    const std::string planted = d.tmp / "out.csv.AAAA.partial";
    fs::create_symlink(d.victim, planted);
    SUBCASE("the name is taken: another suffix is tried") {
        std::vector<std::string> suffixes = {"AAAA", "BBBB"};
        std::size_t next = 0;
        {
            OutputFile out(target, d.protected_paths(), [&] { return suffixes.at(next++); });
            CHECK(out.temp_path() == d.tmp / "out.csv.BBBB.partial");
            out.write("fresh");
            out.commit();
        }
        CHECK(slurp(target) == "fresh");
        CHECK(slurp(d.victim) == "precious");
        CHECK(is_symlink(planted));
        CHECK(fs::read_symlink(planted) == fs::path(d.victim));
    }
    SUBCASE("every name tried is taken: an error, and nothing written") {
        const std::set<std::string> before = listing(d.tmp.path());
        CHECK_THROWS_AS(OutputFile(target, d.protected_paths(), [] { return std::string("AAAA"); }),
                        OutputError);
        CHECK(listing(d.tmp.path()) == before);
        CHECK(slurp(d.victim) == "precious");
    }
    SUBCASE("a regular file under the name is left alone too") {
        fs::remove(planted);
        spit(planted, "someone else's");
        std::vector<std::string> suffixes = {"AAAA", "CCCC"};
        std::size_t next = 0;
        {
            OutputFile out(target, {}, [&] { return suffixes.at(next++); });
            out.write("mine");
        }
        CHECK(slurp(planted) == "someone else's");
        CHECK_FALSE(fs::exists(d.tmp / "out.csv.CCCC.partial"));
    }
    SUBCASE("the default suffixes are random") {
        OutputFile a(target, {});
        OutputFile b(target, {});
        CHECK(a.temp_path() != b.temp_path());
    }
}

TEST_CASE("database_files: the database and the files SQLite keeps beside it") {
    CHECK(database_files("/no/such/desk.db") ==
          std::vector<std::string>{"/no/such/desk.db", "/no/such/desk.db-wal",
                                   "/no/such/desk.db-shm", "/no/such/desk.db-journal"});
    TempDir tmp;
    spit(tmp / "real.db", "");
    CHECK(database_files(tmp / "real.db").size() == 4);
    fs::create_symlink(tmp / "real.db", tmp / "link.db");
    const std::string real = fs::canonical(tmp / "real.db").string();
    CHECK(database_files(tmp / "link.db") ==
          std::vector<std::string>{tmp / "link.db", tmp / "link.db-wal", tmp / "link.db-shm",
                                   tmp / "link.db-journal", real, real + "-wal", real + "-shm",
                                   real + "-journal"});
}

TEST_CASE("a refusal is one line, whatever the path holds") {
    TempDir tmp;
    const std::string target = tmp / "evil\n\x1b[2Jname/out.csv";
    try {
        OutputFile out(target, {});
        FAIL("expected a refusal");
    } catch (const PathError& e) {
        const std::string what = e.what();
        CHECK(what.find('\n') == std::string::npos);
        CHECK(what.find('\x1b') == std::string::npos);
        CHECK(what.find("evil\\n\\x1B[2Jname") != std::string::npos);
        CHECK(e.path() == target);
    }
}
