#include "tfadesk/storage/backup.hpp"

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <thread>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::storage {

namespace {

using engine::Error;
using engine::ErrorKind;

struct Closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, Closer>;

Connection open_connection(const std::string& path, int flags, const char* role) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Connection db(raw);
    if (rc != SQLITE_OK)
        throw Error(ErrorKind::unexpected, std::string("backup: cannot open the ") + role + " " +
                                               path + ": " +
                                               (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(raw, 10000);
    return db;
}

}  // namespace

void backup_sqlite(const std::string& db, const std::string& dest) {
    auto src = open_connection(db, SQLITE_OPEN_READONLY, "database");
    auto out = open_connection(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "copy");
    sqlite3_backup* b = sqlite3_backup_init(out.get(), "main", src.get(), "main");
    if (!b) throw Error(ErrorKind::unexpected, "backup: " + std::string(sqlite3_errmsg(out.get())));
    // All pages in one step: one read transaction on the source, so the copy is one snapshot even
    // while writers commit (a copy in several steps restarts whenever another connection writes).
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 200; ++attempt) {
        rc = sqlite3_backup_step(b, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        throw Error(ErrorKind::unexpected,
                    "backup: copying " + db + " failed: " + sqlite3_errstr(rc));
    char* err = nullptr;
    if (sqlite3_exec(out.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err) !=
        SQLITE_OK) {
        const std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(ErrorKind::unexpected, "backup: " + dest + ": " + why);
    }
    if (sqlite3_close(out.release()) != SQLITE_OK)
        throw Error(ErrorKind::unexpected, "backup: cannot close the copy " + dest);
}

}  // namespace tfadesk::storage
