// The schema: its DDL, one migration a version, the checks on open, the prepared statements.
#include "impl.hpp"

namespace tfadesk::storage {

namespace {

// Each step brings the schema from version (index) to version (index + 1).
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE tfadesk_meta (
        one_row        BOOLEAN PRIMARY KEY DEFAULT true CHECK (one_row),
        application_id BIGINT  NOT NULL,
        schema_version INTEGER NOT NULL
    );
    CREATE FUNCTION tfadesk_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
    CREATE TABLE events (
        seq            BIGINT  PRIMARY KEY,
        ref            TEXT    COLLATE "C" NOT NULL,
        tseq           BIGINT  NOT NULL,
        event          TEXT    COLLATE "C" NOT NULL,
        details        TEXT    COLLATE "C" NOT NULL,
        agent          TEXT    COLLATE "C" NOT NULL,
        at             TEXT    COLLATE "C" NOT NULL,
        state          TEXT    COLLATE "C" NOT NULL,
        policy_version INTEGER NOT NULL,
        prev_hash      TEXT    COLLATE "C" NOT NULL,
        hash           TEXT    COLLATE "C" NOT NULL,
        UNIQUE (ref, tseq)
    );
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('R8: the event log is append-only; entries cannot be changed');
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('R8: the event log is append-only; entries cannot be deleted');
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('R8: the event log is append-only; entries cannot be deleted');
    CREATE TABLE head (
        one_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (one_row),
        seq     BIGINT NOT NULL,
        hash    TEXT   COLLATE "C" NOT NULL
    );
    INSERT INTO head (seq, hash) VALUES (0, repeat('0', 64));
    CREATE TRIGGER head_no_delete BEFORE DELETE OR TRUNCATE ON head FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('the head row of the log cannot be deleted');
    CREATE TABLE tickets (
        ref              TEXT COLLATE "C" PRIMARY KEY,
        phone            TEXT COLLATE "C" NOT NULL,
        client_id        TEXT COLLATE "C" NOT NULL,
        requester_email  TEXT COLLATE "C" NOT NULL,
        requester_role   TEXT COLLATE "C" NOT NULL,
        portfolio_access TEXT COLLATE "C" NOT NULL,
        reason           TEXT COLLATE "C" NOT NULL,
        waba_id          TEXT COLLATE "C",
        portfolio_id     TEXT COLLATE "C",
        submitted_at     TEXT COLLATE "C" NOT NULL,
        note             TEXT COLLATE "C",
        state            TEXT COLLATE "C" NOT NULL,
        version          BIGINT NOT NULL,
        checks           TEXT COLLATE "C" NOT NULL,
        check_agents     TEXT COLLATE "C" NOT NULL,
        updated_at       TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX tickets_by_state ON tickets (state, updated_at);
    CREATE TABLE accounts (
        name       TEXT    COLLATE "C" PRIMARY KEY,
        roles      TEXT    COLLATE "C" NOT NULL,
        enabled    BOOLEAN NOT NULL,
        created_at TEXT    COLLATE "C" NOT NULL,
        updated_at TEXT    COLLATE "C" NOT NULL,
        version    BIGINT  NOT NULL,
        token_hash TEXT    COLLATE "C" UNIQUE
    );
    CREATE TABLE seals (
        seq  BIGINT PRIMARY KEY,
        hash TEXT   COLLATE "C" NOT NULL,
        note TEXT   COLLATE "C" NOT NULL
    );
    CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('R8: seals are append-only; they cannot be changed');
    CREATE TRIGGER seals_no_delete BEFORE DELETE OR TRUNCATE ON seals FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('R8: seals are append-only; they cannot be deleted');
    )sql",
    // Schema 2, as SQLite's schema 4 (SPEC §12): R9's related tickets by phone and by email,
    // case-insensitively (ASCII, as SQLite's NOCASE: the columns are COLLATE "C"); the access log.
    R"sql(
    CREATE INDEX tickets_by_phone ON tickets (phone);
    CREATE INDEX tickets_by_email ON tickets (lower(requester_email));
    CREATE TABLE access_log (
        id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at        TEXT   COLLATE "C" NOT NULL,
        account   TEXT   COLLATE "C" NOT NULL,
        route     TEXT   COLLATE "C" NOT NULL,
        refs      TEXT   COLLATE "C" NOT NULL,
        ref_count BIGINT NOT NULL,
        client    TEXT   COLLATE "C" NOT NULL
    );
    CREATE INDEX access_log_by_at ON access_log (at, id);
    CREATE INDEX access_log_by_account ON access_log (account, at, id);
    CREATE TABLE access_log_refs (
        ref TEXT   COLLATE "C" NOT NULL,
        id  BIGINT NOT NULL,
        PRIMARY KEY (ref, id)
    );
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('the access log is append-only; records cannot be changed');
    CREATE TRIGGER access_log_no_delete BEFORE DELETE OR TRUNCATE ON access_log FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('the access log is append-only; records cannot be deleted');
    CREATE TRIGGER access_log_refs_no_update BEFORE UPDATE ON access_log_refs FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('the access log is append-only; records cannot be changed');
    CREATE TRIGGER access_log_refs_no_delete BEFORE DELETE OR TRUNCATE ON access_log_refs FOR EACH STATEMENT
        EXECUTE FUNCTION tfadesk_refuse('the access log is append-only; records cannot be deleted');
    )sql",
    // ---- Schema 3, as SQLite's schema 5 (SPEC §14, the workspace): assignee and active_at
    // (replayed), the derived columns for search and order, their indexes, and per-state counts
    // kept by statement triggers in the same transaction as the rows.
    R"sql(
    ALTER TABLE tickets
        ADD COLUMN assignee  TEXT COLLATE "C",
        ADD COLUMN active_at TEXT COLLATE "C" NOT NULL DEFAULT '',
        ADD COLUMN due_at    TEXT COLLATE "C" NOT NULL DEFAULT '~',
        ADD COLUMN phone_rev TEXT COLLATE "C" NOT NULL DEFAULT '',
        ADD COLUMN is_open   SMALLINT NOT NULL DEFAULT 0;
    UPDATE tickets SET active_at = updated_at, phone_rev = reverse(substr(phone, 2)),
        is_open = CASE WHEN state IN ('received', 'awaiting_requester', 'identity_check', 'approved',
                                      'disable_submitted') THEN 1 ELSE 0 END,
        due_at = CASE WHEN state = 'awaiting_requester'
                      THEN to_char((updated_at::timestamptz + interval '168 hours') AT TIME ZONE 'UTC',
                                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                      ELSE '~' END;
    CREATE INDEX tickets_by_phone_rev ON tickets (phone_rev);
    CREATE INDEX tickets_by_client ON tickets (client_id);
    CREATE INDEX tickets_by_waba ON tickets (waba_id);
    CREATE INDEX tickets_by_portfolio ON tickets (portfolio_id);
    CREATE INDEX tickets_by_assignee ON tickets (assignee, is_open);
    CREATE INDEX tickets_open_by_ref ON tickets (is_open, ref);
    CREATE INDEX tickets_open_by_updated ON tickets (is_open, updated_at, ref);
    CREATE INDEX tickets_open_by_submitted ON tickets (is_open, submitted_at, ref);
    CREATE INDEX tickets_open_by_due ON tickets (is_open, due_at, ref);
    CREATE TABLE ticket_counts (
        state    TEXT COLLATE "C" NOT NULL,
        assigned SMALLINT NOT NULL,
        n        BIGINT NOT NULL,
        PRIMARY KEY (state, assigned)
    );
    INSERT INTO ticket_counts (state, assigned, n)
        SELECT state, CASE WHEN assignee IS NULL THEN 0 ELSE 1 END, count(*) FROM tickets GROUP BY 1, 2;
    CREATE FUNCTION tfadesk_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ticket_counts (state, assigned, n)
            SELECT state, CASE WHEN assignee IS NULL THEN 0 ELSE 1 END, count(*) FROM added GROUP BY 1, 2
            ON CONFLICT (state, assigned) DO UPDATE SET n = ticket_counts.n + excluded.n;
        RETURN NULL;
    END $$;
    CREATE FUNCTION tfadesk_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE ticket_counts c SET n = c.n - r.n
            FROM (SELECT state, CASE WHEN assignee IS NULL THEN 0 ELSE 1 END AS assigned, count(*) AS n
                  FROM removed GROUP BY 1, 2) r
            WHERE c.state = r.state AND c.assigned = r.assigned;
        RETURN NULL;
    END $$;
    CREATE FUNCTION tfadesk_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE ticket_counts c SET n = c.n - r.n
            FROM (SELECT state, CASE WHEN assignee IS NULL THEN 0 ELSE 1 END AS assigned, count(*) AS n
                  FROM removed GROUP BY 1, 2) r
            WHERE c.state = r.state AND c.assigned = r.assigned;
        INSERT INTO ticket_counts (state, assigned, n)
            SELECT state, CASE WHEN assignee IS NULL THEN 0 ELSE 1 END, count(*) FROM added GROUP BY 1, 2
            ON CONFLICT (state, assigned) DO UPDATE SET n = ticket_counts.n + excluded.n;
        RETURN NULL;
    END $$;
    CREATE TRIGGER tickets_count_insert AFTER INSERT ON tickets REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION tfadesk_count_added();
    CREATE TRIGGER tickets_count_delete AFTER DELETE ON tickets REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION tfadesk_count_removed();
    CREATE TRIGGER tickets_count_update AFTER UPDATE ON tickets REFERENCING OLD TABLE AS removed NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION tfadesk_count_changed();
    )sql",
    // ---- end of schema 3
    // Schema 4, as SQLite's schema 6 (SPEC §17): the helpdesk connector's delivery ids, the
    // tickets each connector with an outbox opened, and the outbox.
    R"sql(
    CREATE TABLE IF NOT EXISTS intake_deliveries (
        source      TEXT COLLATE "C" NOT NULL,
        delivery_id TEXT COLLATE "C" NOT NULL,
        at          TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (source, delivery_id)
    );
    CREATE TABLE IF NOT EXISTS outbox_links (
        ref    TEXT COLLATE "C" PRIMARY KEY,
        source TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE IF NOT EXISTS outbox (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        seq         BIGINT NOT NULL UNIQUE,
        ref         TEXT COLLATE "C" NOT NULL,
        source      TEXT COLLATE "C" NOT NULL,
        hash        TEXT COLLATE "C" NOT NULL,
        status      TEXT COLLATE "C" NOT NULL,
        attempts    BIGINT NOT NULL DEFAULT 0,
        created_at  TEXT COLLATE "C" NOT NULL,
        next_at     TEXT COLLATE "C" NOT NULL,
        lease_until TEXT COLLATE "C",
        last_error  TEXT COLLATE "C" NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (status, ref, id);
    )sql",
    // Schema 5, as SQLite's schema 7 (SPEC §14): the tickets ready for approval.
    R"sql(
    CREATE INDEX IF NOT EXISTS tickets_ready_for_approval ON tickets (ref) WHERE state = 'identity_check'
        AND strpos(checks, '"client_of_record":') > 0 AND strpos(checks, '"number_ownership":') > 0
        AND strpos(checks, '"lost_access":') > 0;
    )sql",
    // Schema 6, as SQLite's schema 3: the state index without updated_at, the one index SQLite
    // changed that PostgreSQL had kept (storage/src/schema.hpp lists what both must hold).
    R"sql(
    DROP INDEX IF EXISTS tickets_by_state;
    CREATE INDEX tickets_by_state ON tickets (state);
    )sql",
};
static_assert(std::size(kMigrations) == kPgSchemaVersion);

// What the current schema holds: the tfadesk table, and how many tables in all.
constexpr const char* kInspect =
    "SELECT count(*) FILTER (WHERE c.relname = 'tfadesk_meta'), count(*) FROM pg_catalog.pg_class "
    "c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

}  // namespace

void PgStore::Impl::inspect_schema(bool& has_meta, bool& has_tables) {
    const auto r = q.exec(kInspect);
    has_meta = number(r[0][0]) > 0;
    has_tables = number(r[0][1]) > 0;
}

void PgStore::Impl::check_schema(bool writing) {
    bool has_meta = false, has_tables = false;
    inspect_schema(has_meta, has_tables);
    if (!has_meta) {
        if (has_tables)
            throw Error(ErrorKind::unexpected,
                        shown + " is not a tfadesk desk (its schema holds other tables)");
        if (!writing)
            throw Error(ErrorKind::unexpected,
                        shown + " holds no tfadesk desk (read-only commands never create one)");
        schema = 0;
        return;
    }
    const auto r = q.exec("SELECT application_id, schema_version FROM tfadesk_meta");
    if (r.empty() || number(r[0][0]) != kPgApplicationId)
        throw Error(ErrorKind::unexpected,
                    shown + " is not a tfadesk desk (tfadesk_meta names another application)");
    schema = r[0][1].as<int>();
    if (schema > kPgSchemaVersion)
        throw Error(ErrorKind::unexpected, shown + " was written by a newer tfadesk (schema " +
                                               std::to_string(schema) + ")");
}

// Creates or migrates the schema, inside the open write transaction (DDL is transactional: a first
// write that fails leaves the database as it was). Processes racing to do so queue on an advisory
// lock and each judges the schema again once it holds it, so exactly one creates it.
void PgStore::Impl::create_schema() {
    q.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCreateLock) + ")");
    check_schema(true);
    for (int v = schema; v < kPgSchemaVersion; ++v) q.exec(kMigrations[v]);
    if (schema < kPgSchemaVersion)
        q.exec("INSERT INTO tfadesk_meta (application_id, schema_version) VALUES (" +
               std::to_string(kPgApplicationId) + ", " + std::to_string(kPgSchemaVersion) +
               ") ON CONFLICT (one_row) DO UPDATE SET schema_version = " +
               std::to_string(kPgSchemaVersion));
    schema = kPgSchemaVersion;
}

void PgStore::Impl::prepare_statements() {
    const std::string entries = std::string("SELECT ") + kEntryColumns + " FROM events";
    conn.prepare("entries", entries + " WHERE ref = $1 ORDER BY tseq");
    conn.prepare("exists", "SELECT 1 FROM events WHERE ref = $1 AND tseq = 1");
    conn.prepare("entry_at", entries + " WHERE seq = $1");
    conn.prepare("head", "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
    conn.prepare("set_head", "UPDATE head SET seq = $1, hash = $2");
    conn.prepare("insert_seal", "INSERT INTO seals (seq, hash, note) VALUES ($1, $2, $3)");
    conn.prepare("last_seal", "SELECT seq, hash, note FROM seals ORDER BY seq DESC LIMIT 1");
    conn.prepare("ticket",
                 std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE ref = $1");
    conn.prepare("ticket_v2",
                 std::string("SELECT ") + kTicketColumnsV2 + " FROM tickets WHERE ref = $1");
    conn.prepare("refs_in_state", "SELECT ref FROM tickets WHERE state = $1 ORDER BY ref");
    conn.prepare("has_accounts",
                 "SELECT 1 FROM events WHERE ref >= 'account:' AND ref < 'account;' LIMIT 1");
    conn.prepare("account_entries",
                 entries + " WHERE ref >= 'account:' AND ref < 'account;' ORDER BY seq");
    {
        const std::string where =
            " FROM tickets WHERE (phone = $2 OR lower(requester_email) = lower($3)) AND ref <> $1";
        conn.prepare(
            "related",
            "SELECT ref, state, CASE WHEN phone = $2 THEN 'phone' ELSE 'email' END" + where +
                " ORDER BY state = 'partner_rejected' DESC, updated_at DESC, ref LIMIT $4");
        conn.prepare("related_count", "SELECT count(*)" + where);
    }
    conn.prepare("account",
                 std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE name = $1");
    conn.prepare("account_by_token",
                 std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE token_hash = $1");
    conn.prepare("account_token_hash", "SELECT token_hash FROM accounts WHERE name = $1");
    conn.prepare(
        "upsert_account",
        "INSERT INTO accounts (name, roles, enabled, created_at, updated_at, version, token_hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET roles = "
        "excluded.roles, "
        "enabled = excluded.enabled, created_at = excluded.created_at, updated_at = "
        "excluded.updated_at, "
        "version = excluded.version, token_hash = coalesce(excluded.token_hash, "
        "accounts.token_hash)");
}

}  // namespace tfadesk::storage
