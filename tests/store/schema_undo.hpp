// The previous schema of a desk, made from a current one: the SQL that takes SQLite's schema 5
// and PostgreSQL's schema 3 (SPEC §14, the workspace) back a step, so tests can open a desk "made
// by the previous schema" and see its first write migrate it.
#pragma once

namespace schema_undo {

inline constexpr const char* kSqliteWorkspace =
    "DROP TRIGGER tickets_count_insert; DROP TRIGGER tickets_count_update; DROP TRIGGER "
    "tickets_count_delete; "
    "DROP TABLE ticket_counts; DROP INDEX tickets_by_phone_rev; DROP INDEX tickets_by_client; "
    "DROP INDEX tickets_by_waba; DROP INDEX tickets_by_portfolio; DROP INDEX tickets_by_assignee; "
    "DROP INDEX tickets_open_by_ref; DROP INDEX tickets_open_by_updated; DROP INDEX "
    "tickets_open_by_submitted; "
    "DROP INDEX tickets_open_by_due; ALTER TABLE tickets DROP COLUMN assignee; "
    "ALTER TABLE tickets DROP COLUMN active_at; ALTER TABLE tickets DROP COLUMN due_at; "
    "ALTER TABLE tickets DROP COLUMN phone_rev; ALTER TABLE tickets DROP COLUMN is_open; PRAGMA "
    "user_version = 4; ";

inline constexpr const char* kPostgresWorkspace =
    "DROP TRIGGER tickets_count_insert ON tickets; DROP TRIGGER tickets_count_update ON tickets; "
    "DROP TRIGGER tickets_count_delete ON tickets; DROP FUNCTION tfadesk_count_added(); "
    "DROP FUNCTION tfadesk_count_removed(); DROP FUNCTION tfadesk_count_changed(); DROP TABLE "
    "ticket_counts; "
    "ALTER TABLE tickets DROP COLUMN assignee, DROP COLUMN active_at, DROP COLUMN due_at, DROP "
    "COLUMN phone_rev, "
    "DROP COLUMN is_open; DROP INDEX tickets_by_client; DROP INDEX tickets_by_waba; DROP INDEX "
    "tickets_by_portfolio; "
    "UPDATE tfadesk_meta SET schema_version = 2; ";

}  // namespace schema_undo
