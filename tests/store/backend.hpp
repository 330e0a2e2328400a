// The backend a run of the store suite is about (SPEC §10: one suite, every store): where a
// fresh desk lives, and the backend's OWN client (the sqlite3 C API, libpq) for what tfadesk
// must not be trusted to report about itself - raw UPDATEs the database must refuse, rows
// deleted behind its back, whether anything was created at all.
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"

namespace store_test {

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "sqlite" or "postgres"
    bool is_postgres() const { return name() == "postgres"; }
    // The location of a new, empty store (a file not yet created; a database just created).
    virtual std::string fresh() = 0;
    // Throws away what fresh() made.
    virtual void drop(const std::string& location) = 0;
    // Runs `sql` (several statements allowed) through the backend's own client: the error
    // message, or nothing when it succeeded.
    virtual std::optional<std::string> raw_exec(const std::string& location,
                                                const std::string& sql) = 0;
    // The first column of the first row of `sql` as text ("" when there is no row or it is NULL).
    virtual std::string raw_value(const std::string& location, const std::string& sql) = 0;
    // Whether anything exists at `location` yet (a file; any table in the database).
    virtual bool holds_anything(const std::string& location) = 0;
    // SQL to switch the append-only triggers off, as an attacker with the owner's rights would.
    virtual std::string disable_triggers_sql() const = 0;

    // Holds the lock every writer of `location` must take first (SQLite's write lock; the
    // PostgreSQL head row) until the handle is destroyed: writers started meanwhile queue up,
    // so a race between them really happens.
    struct Gate {
        virtual ~Gate() = default;
    };
    virtual std::unique_ptr<Gate> hold_writers(const std::string& location) = 0;
    // How many sessions wait for a lock on `location` right now, or -1 when it cannot tell.
    virtual int waiting(const std::string& location) = 0;
};

// --- SQLite --------------------------------------------------------------------------------------

class SqliteBackend final : public Backend {
public:
    std::string name() const override { return "sqlite"; }
    std::string fresh() override { return dir_ / ("desk-" + std::to_string(++n_) + ".db"); }
    void drop(const std::string& location) override {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
            std::filesystem::remove(location + suffix, ec);
    }
    std::optional<std::string> raw_exec(const std::string& location,
                                        const std::string& sql) override {
        sqlite3* db = open(location, SQLITE_OPEN_CREATE);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        std::optional<std::string> out;
        if (rc != SQLITE_OK) out = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        sqlite3_close(db);
        return out;
    }
    std::string raw_value(const std::string& location, const std::string& sql) override {
        sqlite3* db = open(location, 0);
        sqlite3_stmt* st = nullptr;
        std::string out;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            const std::string err = sqlite3_errmsg(db);
            sqlite3_close(db);
            throw std::runtime_error("sqlite3: " + err + " in " + sql);
        }
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }
    bool holds_anything(const std::string& location) override {
        std::error_code ec;
        return std::filesystem::exists(location, ec);
    }
    std::string disable_triggers_sql() const override {
        return "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;";
    }
    std::unique_ptr<Gate> hold_writers(const std::string& location) override {
        struct Lock final : Gate {
            explicit Lock(sqlite3* d) : db(d) {}
            ~Lock() override {
                sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
                sqlite3_close(db);
            }
            sqlite3* db;
        };
        auto lock = std::make_unique<Lock>(open(location, 0));
        if (sqlite3_exec(lock->db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw std::runtime_error("sqlite3: BEGIN IMMEDIATE failed");
        return lock;
    }
    int waiting(const std::string&) override { return -1; }

private:
    static sqlite3* open(const std::string& location, int extra_flags) {
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(location.c_str(), &db, SQLITE_OPEN_READWRITE | extra_flags, nullptr) !=
            SQLITE_OK) {
            const std::string err = db ? sqlite3_errmsg(db) : "out of memory";
            sqlite3_close(db);
            throw std::runtime_error("sqlite3: cannot open " + location + ": " + err);
        }
        sqlite3_busy_timeout(db, 10000);
        return db;
    }
    tfadesk_test::TempDir dir_;
    int n_ = 0;
};

// --- PostgreSQL ----------------------------------------------------------------------------------

// `uri` (postgresql://[user[:password]@][host][:port][/db][?params]) naming database `db`.
inline std::string with_database(const std::string& uri, const std::string& db) {
    const auto start = uri.find("://") + 3;
    const auto path = uri.find_first_of("/?", start);
    if (path == std::string::npos) return uri + "/" + db;
    const auto query = uri.find('?', start);
    if (uri[path] == '?') return uri.substr(0, path) + "/" + db + uri.substr(path);
    return uri.substr(0, path) + "/" + db + (query == std::string::npos ? "" : uri.substr(query));
}

// `uri` connecting as `user` (with `password` when given).
inline std::string with_user(const std::string& uri, const std::string& user,
                             const std::string& password = "") {
    const auto start = uri.find("://") + 3;
    const auto authority_end = std::min(uri.find_first_of("/?", start), uri.size());
    auto host = start;
    const auto at = uri.rfind('@', authority_end);
    if (at != std::string::npos && at >= start) host = at + 1;
    return uri.substr(0, start) + user + (password.empty() ? "" : ":" + password) + "@" +
           uri.substr(host);
}

// The database name in `uri`.
inline std::string database_of(const std::string& uri) {
    const auto start = uri.find("://") + 3;
    const auto slash = uri.find('/', start);
    const auto query = uri.find('?', start);
    if (slash == std::string::npos || (query != std::string::npos && query < slash)) return "";
    return uri.substr(slash + 1,
                      query == std::string::npos ? std::string::npos : query - slash - 1);
}

class PgBackend final : public Backend {
public:
    explicit PgBackend(std::string admin) : admin_(std::move(admin)) {
        if (auto err = raw_exec(admin_, "SELECT 1"))
            throw std::runtime_error("TFADESK_TEST_PG=" + admin_ + " is not reachable: " + *err);
    }
    ~PgBackend() override {
        for (const auto& role : roles_) raw_exec(admin_, "DROP ROLE IF EXISTS " + role);
    }
    std::string name() const override { return "postgres"; }
    std::string fresh() override {
        static std::atomic<int> n{0};
        const std::string db = "tfadesk_t" + std::to_string(getpid()) + "_" + std::to_string(++n);
        if (auto err = raw_exec(admin_, "CREATE DATABASE " + db))
            throw std::runtime_error("CREATE DATABASE: " + *err);
        return with_database(admin_, db);
    }
    void drop(const std::string& location) override {
        raw_exec(admin_, "DROP DATABASE IF EXISTS " + database_of(location) + " WITH (FORCE)");
    }
    std::optional<std::string> raw_exec(const std::string& location,
                                        const std::string& sql) override {
        Conn c(location);
        PGresult* r = PQexec(c.pg, sql.c_str());
        std::optional<std::string> out;
        const auto status = PQresultStatus(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) out = PQresultErrorMessage(r);
        PQclear(r);
        return out;
    }
    std::string raw_value(const std::string& location, const std::string& sql) override {
        Conn c(location);
        PGresult* r = PQexec(c.pg, sql.c_str());
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            const std::string err = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error("libpq: " + err + " in " + sql);
        }
        std::string out = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        return out;
    }
    bool holds_anything(const std::string& location) override {
        return raw_value(
                   location,
                   "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public'") != "0";
    }
    std::string disable_triggers_sql() const override {
        return "ALTER TABLE events DISABLE TRIGGER USER;";
    }
    std::unique_ptr<Gate> hold_writers(const std::string& location) override {
        struct Lock final : Gate {
            explicit Lock(const std::string& uri) : conn(uri) {}
            ~Lock() override { PQclear(PQexec(conn.pg, "ROLLBACK")); }
            Conn conn;
        };
        auto lock = std::make_unique<Lock>(location);
        PGresult* r = PQexec(lock->conn.pg, "BEGIN; SELECT 1 FROM head FOR UPDATE");
        const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok) throw std::runtime_error("libpq: cannot lock the head row");
        return lock;
    }
    int waiting(const std::string& location) override {
        return std::stoi(
            raw_value(location,
                      "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                      "WHERE NOT l.granted AND a.datname = current_database()"));
    }

    // A role that may only read the desk at `location`, granted exactly as docs/postgresql.md
    // says; returns the URI to connect as it.
    std::string reader(const std::string& location) {
        const std::string db = database_of(location), role = "auditor_" + db;
        roles_.push_back(role);
        for (const std::string& sql :
             {"CREATE ROLE " + role + " LOGIN", "GRANT CONNECT ON DATABASE " + db + " TO " + role})
            if (auto err = raw_exec(admin_, sql)) throw std::runtime_error(sql + ": " + *err);
        const std::string grants = "GRANT USAGE ON SCHEMA public TO " + role +
                                   "; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role + ";";
        if (auto err = raw_exec(location, grants)) throw std::runtime_error(grants + ": " + *err);
        return with_user(location, role);
    }
    // A role that may write the desk at `location` (whose tables exist) but does not own them,
    // granted exactly as docs/postgresql.md says; returns the URI to connect as it.
    std::string writer(const std::string& location) {
        const std::string db = database_of(location), role = "writer_" + db;
        roles_.push_back(role);
        for (const std::string& sql :
             {"CREATE ROLE " + role + " LOGIN", "GRANT CONNECT ON DATABASE " + db + " TO " + role})
            if (auto err = raw_exec(admin_, sql)) throw std::runtime_error(sql + ": " + *err);
        const std::string grants =
            "GRANT USAGE ON SCHEMA public TO " + role + "; GRANT SELECT ON tfadesk_meta TO " +
            role + "; GRANT SELECT, INSERT ON events, seals, access_log, access_log_refs TO " +
            role + "; GRANT SELECT, INSERT, UPDATE ON head, tickets, accounts, ticket_counts TO " +
            role + "; GRANT SELECT, INSERT ON intake_deliveries, outbox_links TO " + role +
            "; GRANT SELECT, INSERT, UPDATE ON outbox TO " + role + ";";
        if (auto err = raw_exec(location, grants)) throw std::runtime_error(grants + ": " + *err);
        return with_user(location, role);
    }
    const std::string& admin() const { return admin_; }

private:
    struct Conn {
        explicit Conn(const std::string& uri) : pg(PQconnectdb(uri.c_str())) {
            if (PQstatus(pg) != CONNECTION_OK) {
                const std::string err = PQerrorMessage(pg);
                PQfinish(pg);
                throw std::runtime_error("libpq: cannot connect to " + uri + ": " + err);
            }
            PQclear(PQexec(pg, "SET client_min_messages TO warning"));
        }
        ~Conn() { PQfinish(pg); }
        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        PGconn* pg;
    };
    std::string admin_;
    std::vector<std::string> roles_;
};

// The backend of this run (set by main from --backend).
Backend& backend();

// A fresh store for one test case (or subcase), thrown away at the end of it.
class Desk {
public:
    Desk() : location_(backend().fresh()) {}
    ~Desk() { backend().drop(location_); }
    Desk(const Desk&) = delete;
    Desk& operator=(const Desk&) = delete;
    const std::string& location() const { return location_; }

private:
    std::string location_;
};

}  // namespace store_test
