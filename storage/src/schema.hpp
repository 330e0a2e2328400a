// The schema both stores hold, written down once: every table with its columns (in order) and
// every index with its columns, that the SQLite (sqlite/open.cpp) and PostgreSQL
// (postgres/schema.cpp) migrations must arrive at. tests/store/schema_test.cpp reads each store's
// own catalog and compares it with this list, so the two cannot drift apart unnoticed.
//
// What may differ, being dialect only: column types (INTEGER/BIGINT/BOOLEAN, TEXT/TEXT COLLATE
// "C"); how a case-insensitive index is spelled (SQLite COLLATE NOCASE, PostgreSQL lower());
// the words of a partial index's WHERE (SQLite instr, PostgreSQL strpos: both must say what
// workspace::ready_for_approval() says); the indexes behind PRIMARY KEY and UNIQUE; triggers; and
// the tables only one dialect needs (kPgOnlyTables: SQLite keeps the application id and the
// schema version in its header, and takes its write lock without a head row).
#pragma once

#include <string_view>
#include <vector>

namespace tfadesk::storage::schema {

struct Table {
    std::string_view name;
    std::vector<std::string_view> columns;
};

struct Index {
    std::string_view name, table;
    std::vector<std::string_view> columns;
    bool partial = false;  // has a WHERE
};

inline const std::vector<Table>& tables() {
    static const std::vector<Table> all = {
        {"events",
         {"seq", "ref", "tseq", "event", "details", "agent", "at", "state", "policy_version",
          "prev_hash", "hash"}},
        {"tickets", {"ref",
                     "phone",
                     "client_id",
                     "requester_email",
                     "requester_role",
                     "portfolio_access",
                     "reason",
                     "waba_id",
                     "portfolio_id",
                     "submitted_at",
                     "note",
                     "state",
                     "version",
                     "checks",
                     "check_agents",
                     "updated_at",
                     "assignee",
                     "active_at",
                     "due_at",
                     "phone_rev",
                     "is_open"}},
        {"accounts",
         {"name", "roles", "enabled", "created_at", "updated_at", "version", "token_hash"}},
        {"seals", {"seq", "hash", "note"}},
        {"access_log", {"id", "at", "account", "route", "refs", "ref_count", "client"}},
        {"access_log_refs", {"ref", "id"}},
        {"ticket_counts", {"state", "assigned", "n"}},
        {"intake_deliveries", {"source", "delivery_id", "at"}},
        {"outbox_links", {"ref", "source"}},
        {"outbox",
         {"id", "seq", "ref", "source", "hash", "status", "attempts", "created_at", "next_at",
          "lease_until", "last_error"}},
    };
    return all;
}

// PostgreSQL only: tfadesk_meta (application id, schema version) and head (the row every writer
// locks first).
inline const std::vector<Table>& pg_only_tables() {
    static const std::vector<Table> all = {
        {"tfadesk_meta", {"one_row", "application_id", "schema_version"}},
        {"head", {"one_row", "seq", "hash"}},
    };
    return all;
}

// The indexes made by CREATE INDEX (not those behind PRIMARY KEY or UNIQUE).
inline const std::vector<Index>& indexes() {
    static const std::vector<Index> all = {
        {"tickets_by_state", "tickets", {"state"}},
        {"tickets_by_phone", "tickets", {"phone"}},
        {"tickets_by_email", "tickets", {"requester_email"}},  // ASCII case-insensitive
        {"tickets_by_phone_rev", "tickets", {"phone_rev"}},
        {"tickets_by_client", "tickets", {"client_id"}},
        {"tickets_by_waba", "tickets", {"waba_id"}},
        {"tickets_by_portfolio", "tickets", {"portfolio_id"}},
        {"tickets_by_assignee", "tickets", {"assignee", "is_open"}},
        {"tickets_open_by_ref", "tickets", {"is_open", "ref"}},
        {"tickets_open_by_updated", "tickets", {"is_open", "updated_at", "ref"}},
        {"tickets_open_by_submitted", "tickets", {"is_open", "submitted_at", "ref"}},
        {"tickets_open_by_due", "tickets", {"is_open", "due_at", "ref"}},
        // WHERE state = 'identity_check' and all three checks passed (ready_for_approval()).
        {"tickets_ready_for_approval", "tickets", {"ref"}, true},
        {"access_log_by_at", "access_log", {"at", "id"}},
        {"access_log_by_account", "access_log", {"account", "at", "id"}},
        {"outbox_by_status", "outbox", {"status", "ref", "id"}},
    };
    return all;
}

}  // namespace tfadesk::storage::schema
