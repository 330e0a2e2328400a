// The log as an attacker with the database file sees it, for the CLI tests that tamper with it
// (verify_test, accounts_test, seals_test): entries read and written through the sqlite3 shell,
// and the hash chain recomputed here independently of the product - SHA-256 (libsodium) over
// prev_hash_hex || canonical, the canonical form documented in storage/database.hpp:
//   [seq,"ref",tseq,"event","agent","at","state",policy_version,DETAILS]  (strings JSON-encoded)
// Unlike process.hpp, these helpers make doctest assertions (REQUIRE) when the shell fails.
#pragma once

#include <doctest/doctest.h>
#include <sodium.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace clitest {

inline const std::string kGenesis(64, '0');

inline std::string to_hex(const unsigned char* data, std::size_t size) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += hex[data[i] >> 4];
        out += hex[data[i] & 0xF];
    }
    return out;
}

inline std::string sha256_hex(const std::string& data) {
    REQUIRE(sodium_init() >= 0);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return to_hex(digest, sizeof digest);
}

// One log entry as stored (events table) or exported.
struct Entry {
    std::int64_t seq = 0, tseq = 0;
    int policy_version = 0;
    std::string ref, event, details, agent, at, state, prev_hash, hash;
};

inline Entry entry_from_json(const nlohmann::json& j) {
    Entry e;
    e.seq = j.at("seq").get<std::int64_t>();
    e.tseq = j.at("tseq").get<std::int64_t>();
    e.policy_version = j.at("policy_version").get<int>();
    e.ref = j.at("ref").get<std::string>();
    e.event = j.at("event").get<std::string>();
    const nlohmann::json& d = j.at("details");
    e.details = d.is_string() ? d.get<std::string>() : d.dump();
    e.agent = j.at("agent").get<std::string>();
    e.at = j.at("at").get<std::string>();
    e.state = j.at("state").get<std::string>();
    e.prev_hash = j.at("prev_hash").get<std::string>();
    e.hash = j.at("hash").get<std::string>();
    return e;
}

inline std::string canonical(const Entry& e) {
    auto str = [](const std::string& s) { return nlohmann::json(s).dump(); };
    return "[" + std::to_string(e.seq) + "," + str(e.ref) + "," + std::to_string(e.tseq) + "," +
           str(e.event) + "," + str(e.agent) + "," + str(e.at) + "," + str(e.state) + "," +
           std::to_string(e.policy_version) + "," + e.details + "]";
}

inline std::string entry_hash(const Entry& e) { return sha256_hex(e.prev_hash + canonical(e)); }

// The events table, in seq order, read with the sqlite3 shell.
inline std::vector<Entry> read_log(const std::string& db) {
    const Result r = sqlite_json(db, "SELECT * FROM events ORDER BY seq");
    INFO(r.describe());
    REQUIRE(r.code == 0);
    std::vector<Entry> out;
    if (r.out.empty()) return out;
    for (const auto& row : nlohmann::json::parse(r.out)) out.push_back(entry_from_json(row));
    return out;
}

// Runs SQL on `db` after dropping the append-only triggers of the log and of the seals, as an
// attacker with the file would.
inline void tamper_db(const std::string& db, const std::string& sql) {
    const Result r = sqlite(db,
                            "DROP TRIGGER IF EXISTS events_no_update; "
                            "DROP TRIGGER IF EXISTS events_no_delete; "
                            "DROP TRIGGER IF EXISTS seals_no_update; "
                            "DROP TRIGGER IF EXISTS seals_no_delete; " +
                                sql);
    INFO(sql, "\n", r.describe());
    REQUIRE(r.code == 0);
}

// The INSERT that stores `e` as a row of the events table.
inline std::string insert_sql(const Entry& e) {
    return "INSERT INTO events VALUES (" + std::to_string(e.seq) + "," + sql_quote(e.ref) + "," +
           std::to_string(e.tseq) + "," + sql_quote(e.event) + "," + sql_quote(e.details) + "," +
           sql_quote(e.agent) + "," + sql_quote(e.at) + "," + sql_quote(e.state) + "," +
           std::to_string(e.policy_version) + "," + sql_quote(e.prev_hash) + "," +
           sql_quote(e.hash) + ");";
}

// The UPDATEs that rewrite `entries` from index `from` to the end, every prev_hash and hash
// recomputed, so that the chain is consistent again (agent and details as the caller changed
// them).
inline std::string forge_chain_sql(std::vector<Entry> entries, std::size_t from) {
    std::string sql;
    for (std::size_t i = from; i < entries.size(); ++i) {
        Entry& e = entries[i];
        e.prev_hash = i == 0 ? kGenesis : entries[i - 1].hash;
        e.hash = entry_hash(e);
        sql += "UPDATE events SET agent = " + sql_quote(e.agent) +
               ", details = " + sql_quote(e.details) + ", prev_hash = " + sql_quote(e.prev_hash) +
               ", hash = " + sql_quote(e.hash) + " WHERE seq = " + std::to_string(e.seq) + ";\n";
    }
    return sql;
}

// `w` occurs in `text` as a whole word: "seq 1" is not found in "seq 17", nor "V-DONE" in
// "V-DONE2".
inline bool has_word(const std::string& text, const std::string& w) {
    auto is_word = [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
    };
    for (auto at = text.find(w); at != std::string::npos; at = text.find(w, at + 1))
        if ((at == 0 || !is_word(text[at - 1])) &&
            (at + w.size() == text.size() || !is_word(text[at + w.size()])))
            return true;
    return false;
}

}  // namespace clitest

namespace clitest {

// Copies a desk's database (and its -wal, if any) to `to`.
inline void copy_db(const std::string& from, const std::string& to) {
    fs::copy_file(from, to);
    if (keychain().count(from))
        keychain()[to] = keychain()[from];  // the same people hold the copy's tokens
    if (fs::exists(from + "-wal")) fs::copy_file(from + "-wal", to + "-wal");
}

// The bytes of a database and of its -wal, to show that a refused command wrote nothing.
struct DbBytes {
    std::string db, wal;
    bool wal_exists = false;
    explicit DbBytes(const std::string& path)
        : db(slurp(path)), wal(slurp(path + "-wal")), wal_exists(fs::exists(path + "-wal")) {}
    bool operator==(const DbBytes& o) const {
        return db == o.db && wal == o.wal && wal_exists == o.wal_exists;
    }
};

}  // namespace clitest
