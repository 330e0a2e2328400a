// The PostgreSQL store (SPEC §10), through libpqxx: connection and messages (passwords masked),
// the schema and its creation, the write transaction (the head lock, batched inserts, the seal),
// the read snapshot and cursors, then the log, the caches and the seals. See postgres.hpp for the
// tables and the invariants.
#include "postgres.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <deque>
#include <map>
#include <pqxx/pqxx>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "rows.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/time.hpp"
#include "tfadesk/storage/database.hpp"
#include "tfadesk/storage/open.hpp"
#include "workspace.hpp"

namespace tfadesk::storage {

using engine::Error;
using engine::ErrorKind;
using engine::Head;
using engine::LogEntry;
using engine::Ticket;

namespace {

constexpr std::int64_t kPgApplicationId = 0x54464144;  // "TFAD", as SQLite's application_id
constexpr int kPgSchemaVersion = 5;
constexpr int kPgWorkspaceSchema = 3;  // the first schema with claims and search (SPEC §14)
constexpr int kPgOutboxSchema = 4;     // the first schema with the connector's tables
constexpr int kPgAccessSchema = 2;     // the first schema with the access log
constexpr std::int64_t kCreateLock =
    0x5446414453434d41;                  // advisory lock key while creating the schema
constexpr std::size_t kBatchRows = 500;  // rows per multi-row INSERT
constexpr int kFetchRows = 1000;         // rows per cursor FETCH

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
};
static_assert(std::size(kMigrations) == kPgSchemaVersion);

// What the current schema holds: the tfadesk table, and how many tables in all.
constexpr const char* kInspect =
    "SELECT count(*) FILTER (WHERE c.relname = 'tfadesk_meta'), count(*) FROM pg_catalog.pg_class "
    "c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

constexpr const char* kEntryColumns =
    "seq, ref, tseq, event, details, agent, at, state, policy_version, prev_hash, hash";
constexpr std::size_t kEntryCount = 11;
constexpr const char* kTicketColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at";
// A desk read before schema 3 (read-only: not migrated) has no claims.
constexpr const char* kTicketColumnsV2 =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, NULL, "
    "updated_at";
// Written: the read columns and schema 3's derived ones (storage/src/workspace.hpp).
constexpr const char* kTicketWriteColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at, "
    "due_at, phone_rev, is_open";
constexpr std::size_t kTicketCount = 21;
constexpr const char* kAccountColumns = "name, roles, enabled, created_at, updated_at, version";

// --- URIs and messages -------------------------------------------------------------------------

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
            hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The parts of a URI that hold a password: [begin, end) ranges of the password in the user info
// and of every password= value in the query.
std::vector<std::pair<std::size_t, std::size_t>> password_ranges(const std::string& uri) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    const auto scheme = uri.find("://");
    if (scheme == std::string::npos) return out;
    const std::size_t start = scheme + 3;
    const std::size_t authority_end = std::min(uri.find_first_of("/?", start), uri.size());
    const auto at = uri.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at != std::string::npos && at >= start) {
        const auto colon = uri.find(':', start);
        if (colon != std::string::npos && colon < at) out.emplace_back(colon + 1, at);
    }
    const auto query = uri.find('?', start);
    if (query == std::string::npos) return out;
    for (std::size_t p = query + 1; p < uri.size();) {
        std::size_t end = uri.find('&', p);
        if (end == std::string::npos) end = uri.size();
        const auto eq = uri.find('=', p);
        if (eq != std::string::npos && eq < end &&
            percent_decode(uri.substr(p, eq - p)) == "password")
            out.emplace_back(eq + 1, end);
        p = end + 1;
    }
    return out;
}

// A message as one line: runs of white space (libpq's messages span lines) become one space.
std::string one_line(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (space) {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// The server's message without its severity prefix and the LINE/caret context lines.
std::string server_message(const std::string& what) {
    std::string first = what.substr(0, what.find('\n'));
    for (const char* prefix : {"ERROR:  ", "FATAL:  "})
        if (first.rfind(prefix, 0) == 0)
            first = first.substr(std::char_traits<char>::length(prefix));
    return one_line(first);
}

// The string libpq is given: the URI, with a connect timeout unless it names one (a server that
// does not answer must not hang a command for ever).
std::string connect_string(const std::string& uri) {
    if (uri.find("connect_timeout=") != std::string::npos) return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
}

// `s` with every secret replaced by ***.
std::string scrub(std::string s, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        for (auto p = s.find(secret); p != std::string::npos; p = s.find(secret, p + 3))
            s.replace(p, secret.size(), "***");
    }
    return s;
}

class QuietNotices final : public pqxx::errorhandler {
public:
    using pqxx::errorhandler::errorhandler;
    // NOTICEs and WARNINGs are not the command's output; results go to stdout, errors are thrown.
    bool operator()(const char[]) noexcept override { return false; }
};

// Statement parameters for a dynamic number of values. Strings are referenced, not copied, so
// they must outlive the statement; numbers are kept here.
class Params {
public:
    void add(const std::string& s) {
        if (s.find('\0') != std::string::npos)
            throw Error(ErrorKind::unexpected,
                        "a value holds a NUL byte, which PostgreSQL text cannot store");
        values_.push_back(s.c_str());
    }
    void add(const std::optional<std::string>& s) {
        if (s)
            add(*s);
        else
            values_.push_back(nullptr);
    }
    void add(std::int64_t n) {
        values_.push_back(numbers_.emplace_back(std::to_string(n)).c_str());
    }
    void add(bool b) { values_.push_back(b ? "true" : "false"); }
    auto dynamic() const { return pqxx::prepare::make_dynamic_params(values_); }

private:
    std::vector<const char*> values_;
    std::deque<std::string> numbers_;  // stable addresses
};

// "($1,$2,$3),($4,$5,$6)" for `rows` rows of `cols` values.
std::string placeholders(std::size_t rows, std::size_t cols) {
    std::string out;
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        out += r ? ",(" : "(";
        for (std::size_t c = 0; c < cols; ++c) out += (c ? ",$" : "$") + std::to_string(++n);
        out += ')';
    }
    return out;
}

std::string text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }
std::optional<std::string> opt_text(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return text(f);
}
std::int64_t number(const pqxx::field& f) { return f.as<std::int64_t>(); }

LogEntry entry_from(const pqxx::row& r) {
    LogEntry e;
    e.seq = number(r[0]);
    e.ref = text(r[1]);
    e.tseq = number(r[2]);
    e.event = text(r[3]);
    e.details = text(r[4]);
    e.agent = text(r[5]);
    e.at = text(r[6]);
    e.state = text(r[7]);
    e.policy_version = r[8].as<int>();
    e.prev_hash = text(r[9]);
    e.hash = text(r[10]);
    return e;
}

Ticket ticket_from(const pqxx::row& r) {
    Ticket t;
    auto& f = t.fields;
    f.ref = text(r[0]);
    f.phone = text(r[1]);
    f.client_id = text(r[2]);
    f.requester_email = text(r[3]);
    rows::read_role_access(t, text(r[4]), text(r[5]));
    f.reason = text(r[6]);
    f.waba_id = opt_text(r[7]);
    f.portfolio_id = opt_text(r[8]);
    f.submitted_at = text(r[9]);
    f.note = opt_text(r[10]);
    t.state = text(r[11]);
    t.version = number(r[12]);
    rows::read_checks(t, text(r[13]), text(r[14]));
    t.updated_at = text(r[15]);
    t.assignee = opt_text(r[16]);
    t.active_at = text(r[17]);
    return t;
}

engine::Account account_from(const pqxx::row& r) {
    engine::Account a;
    a.name = text(r[0]);
    a.roles = rows::roles_from(text(r[1]));
    a.enabled = r[2].as<bool>();
    a.created_at = text(r[3]);
    a.updated_at = text(r[4]);
    a.version = number(r[5]);
    return a;
}

void add_entry(Params& p, const LogEntry& e) {
    p.add(e.seq);
    p.add(e.ref);
    p.add(e.tseq);
    p.add(e.event);
    p.add(e.details);
    p.add(e.agent);
    p.add(e.at);
    p.add(e.state);
    p.add(static_cast<std::int64_t>(e.policy_version));
    p.add(e.prev_hash);
    p.add(e.hash);
}

// A ticket row's values, kept alive for the statement that sends them.
struct TicketRow {
    explicit TicketRow(const Ticket& ticket)
        : t(ticket),
          role(rules::to_string(t.fields.requester_role)),
          access(rules::to_string(t.fields.portfolio_access)),
          checks(rows::checks_text(t)),
          agents(rows::check_agents_text(t)) {}
    void add_to(Params& p) const {
        const auto& f = t.fields;
        p.add(f.ref);
        p.add(f.phone);
        p.add(f.client_id);
        p.add(f.requester_email);
        p.add(role);
        p.add(access);
        p.add(f.reason);
        p.add(f.waba_id);
        p.add(f.portfolio_id);
        p.add(f.submitted_at);
        p.add(f.note);
        p.add(t.state);
        p.add(t.version);
        p.add(checks);
        p.add(agents);
        p.add(t.updated_at);
        p.add(t.assignee);
        p.add(t.active_at);
        p.add(due);
        p.add(phone_rev);
        p.add(static_cast<std::int64_t>(workspace::is_open(t.state)));
    }
    Ticket t;
    std::string role, access, checks, agents;
    std::string due = workspace::stored_due_at(t),
                phone_rev = workspace::phone_reversed(t.fields.phone);
};

}  // namespace

std::string mask_uri(const std::string& uri) {
    std::string out = uri;
    const auto ranges = password_ranges(uri);
    for (auto it = ranges.rbegin(); it != ranges.rend(); ++it)
        out.replace(it->first, it->second - it->first, "***");
    return out;
}

std::vector<std::string> uri_secrets(const std::string& uri) {
    std::vector<std::string> out;
    for (const auto& [begin, end] : password_ranges(uri)) {
        if (end <= begin) continue;
        out.push_back(uri.substr(begin, end - begin));
        out.push_back(percent_decode(out.back()));
    }
    return out;
}

std::unique_ptr<engine::Store> open_pg_store(const std::string& uri, engine::Store::Mode mode) {
    return std::make_unique<PgStore>(uri, mode);
}

// --- the store's state -------------------------------------------------------------------------

struct PgStore::Impl {
    Impl(const std::string& uri, Mode m, std::string masked, std::vector<std::string> hidden)
        : shown(std::move(masked)),
          secrets(std::move(hidden)),
          mode(m),
          conn(connect_string(uri)),
          quiet(conn),
          q(conn) {}

    std::string shown;                 // the URI, passwords masked: every message names this
    std::vector<std::string> secrets;  // never in a message
    Mode mode;
    pqxx::connection conn;
    QuietNotices quiet;
    pqxx::nontransaction q;  // the one statement channel; transactions are BEGIN/COMMIT on it

    enum class Tx { none, snapshot, read, write };
    Tx tx = Tx::none;
    std::uint64_t generation = 0;  // counts ended transactions (a cursor must not outlive its own)
    int readers = 0;               // open scans that share the current read transaction
    std::uint64_t cursors = 0;
    int schema = 0;

    // Inside a write transaction.
    Head head;    // including the pending entries
    Head locked;  // as the head row stood when locked
    bool appended = false;
    Sealer sealer;
    std::vector<LogEntry> pending;                   // entries not sent yet, in seq order
    std::unordered_set<std::string> pending_opened;  // refs whose first entry is pending
    std::vector<TicketRow> pending_rows;             // ticket rows not sent yet, one per ref
    std::unordered_map<std::string, std::size_t> pending_row_of;
    bool prepared_batch = false, prepared_rows = false;  // the full-batch statements

    std::string scrub(std::string s) const { return storage::scrub(std::move(s), secrets); }

    [[noreturn]] void fail(const std::exception& e) const {
        if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
            const std::string& code = sql->sqlstate();
            std::string what = shown + ": " + server_message(sql->what());
            if (code == "42501")
                what +=
                    " (SQLSTATE 42501: this role may not do that; see docs/postgresql.md for the "
                    "roles)";
            else if (code != "P0001")
                what += " (SQLSTATE " + code + ")";
            throw Error(ErrorKind::unexpected, scrub(what));
        }
        if (dynamic_cast<const pqxx::broken_connection*>(&e))
            throw Error(
                ErrorKind::unexpected,
                scrub(shown + ": the connection to the server was lost: " + one_line(e.what())));
        throw Error(ErrorKind::unexpected, scrub(shown + ": " + one_line(e.what())));
    }

    // Runs `fn`, turning any libpqxx failure into an engine::Error naming the masked URI.
    template <class Fn>
    auto guard(Fn&& fn) -> decltype(fn()) {
        try {
            return fn();
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            fail(e);
        }
    }

    void end_transaction(const char* sql) {
        tx = Tx::none;
        ++generation;
        q.exec(sql);
    }

    // Scans outside a write transaction of a read-write store share one short read transaction.
    void acquire_read() {
        if (tx == Tx::none) {
            q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            tx = Tx::read;
        }
        ++readers;
    }
    void release_read() noexcept {
        if (--readers > 0 || tx != Tx::read) return;
        try {
            end_transaction("COMMIT");
        } catch (...) {  // nothing was written; the server ends it with the connection anyway
        }
    }

    void require_write(const char* what) const {
        if (tx != Tx::write)
            throw Error(ErrorKind::unexpected,
                        shown + ": " + what + " outside a write transaction" +
                            (mode == Mode::read_only ? " (the store is open read-only)" : ""));
    }

    void inspect_schema(bool& has_meta, bool& has_tables) {
        const auto r = q.exec(kInspect);
        has_meta = number(r[0][0]) > 0;
        has_tables = number(r[0][1]) > 0;
    }
    void check_schema(bool writing);
    // The columns a ticket is read with: a desk before schema 3 (read, not migrated) has no claims.
    const char* ticket_columns() const {
        return schema >= kPgWorkspaceSchema ? kTicketColumns : kTicketColumnsV2;
    }
    void create_schema();
    void prepare_statements();
    // Whether the schema is there to read. A read-write store opened on an empty database creates
    // it with its first write; until then it reads as an empty desk (asking again each time, as
    // another process may have created it meanwhile).
    bool ready() {
        if (schema == 0 && mode == Mode::read_write && tx != Tx::write) check_schema(true);
        return schema > 0;
    }

    void queue_ticket(const Ticket& t) {
        const auto [it, fresh] = pending_row_of.try_emplace(t.fields.ref, pending_rows.size());
        if (fresh)
            pending_rows.emplace_back(t);
        else
            pending_rows[it->second] = TicketRow(t);
    }
    void queue_entry(const LogEntry& e) {
        pending.push_back(e);
        if (e.tseq == 1) pending_opened.insert(e.ref);
        head = Head{e.seq, e.hash};
        if (pending.size() >= kBatchRows) flush();
    }
    void flush();
    void flush_entries();
    void flush_rows();
    void write_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
        Params p;
        const std::string roles = rows::roles_text(a);
        p.add(a.name);
        p.add(roles);
        p.add(a.enabled);
        p.add(a.created_at);
        p.add(a.updated_at);
        p.add(a.version);
        p.add(token_hash);
        q.exec_prepared("upsert_account", p.dynamic());
    }

    // SPEC §17: queues the outbox delivery `e` causes when its ticket is linked to a connector's
    // outbox and `e` changes the ticket's state (called before the ticket's new row is queued).
    std::optional<bool> any_outbox_links;  // asked once per write transaction
    void queue_outbox(const LogEntry& e);
    // Runs `fn` in a short READ COMMITTED write transaction of its own, without the head lock.
    template <class Fn>
    auto short_write(const char* what, Fn&& fn) -> decltype(fn());

    // Sends access records, inside the open transaction.
    void insert_access(const std::vector<engine::AccessRecord>& records);

    // Streams the rows of `select` through a server-side cursor, kFetchRows at a time.
    void scan(const std::string& select, const std::function<void(const pqxx::row&)>& fn);
};

// A server-side cursor over one SELECT, inside the store's transaction (a read-write store
// outside a write transaction opens a read transaction for as long as a cursor is open).
class PgCursor {
public:
    PgCursor(PgStore::Impl& impl, const std::string& select) : impl_(impl) {
        impl_.acquire_read();
        try {
            name_ = "tfadesk_cursor_" + std::to_string(++impl_.cursors);
            impl_.q.exec("DECLARE " + name_ + " NO SCROLL CURSOR FOR " + select);
            generation_ = impl_.generation;
        } catch (...) {
            impl_.release_read();
            throw;
        }
    }
    ~PgCursor() {
        if (impl_.generation == generation_ && impl_.tx != PgStore::Impl::Tx::none) {
            try {
                impl_.q.exec("CLOSE " + name_);
            } catch (...) {  // the transaction failed already; it ends the cursor
            }
        }
        impl_.release_read();
    }
    PgCursor(const PgCursor&) = delete;
    PgCursor& operator=(const PgCursor&) = delete;

    pqxx::result fetch() {
        if (impl_.generation != generation_)
            throw Error(ErrorKind::unexpected,
                        impl_.shown + ": a cursor was read after its transaction ended");
        return impl_.q.exec("FETCH " + std::to_string(kFetchRows) + " FROM " + name_);
    }

private:
    PgStore::Impl& impl_;
    std::string name_;
    std::uint64_t generation_ = 0;
};

void PgStore::Impl::scan(const std::string& select,
                         const std::function<void(const pqxx::row&)>& fn) {
    PgCursor cursor(*this, select);
    for (;;) {
        const pqxx::result batch = cursor.fetch();
        for (const auto& row : batch) fn(row);
        if (batch.size() < static_cast<pqxx::result::size_type>(kFetchRows)) return;
    }
}

// --- opening: the schema -----------------------------------------------------------------------

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

namespace {

// Connects; a failure is one line naming the masked URI, with whatever libpq said scrubbed of the
// password (libpq can echo parts of the connection string, e.g. a malformed percent-escape).
std::unique_ptr<PgStore::Impl> connect(const std::string& uri, engine::Store::Mode mode) {
    std::string shown = mask_uri(uri);
    std::vector<std::string> secrets = uri_secrets(uri);
    try {
        return std::make_unique<PgStore::Impl>(uri, mode, shown, secrets);
    } catch (const std::exception& e) {
        throw Error(ErrorKind::unexpected,
                    scrub("cannot connect to " + shown + ": " + one_line(e.what()), secrets));
    }
}

}  // namespace

bool pg_desk_exists(const std::string& uri) {
    auto impl = connect(uri, engine::Store::Mode::read_only);
    return impl->guard([&] {
        bool has_meta = false, has_tables = false;
        impl->inspect_schema(has_meta, has_tables);
        return has_meta;
    });
}

PgStore::PgStore(const std::string& uri, Mode mode) : impl_(connect(uri, mode)) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (mode == Mode::read_only) {
            // One snapshot for the store's life: verify compares several queries.
            impl.q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            impl.tx = Impl::Tx::snapshot;
            impl.check_schema(false);
        } else {
            impl.check_schema(true);  // refuses a foreign or newer schema now; creates nothing yet
        }
        impl.prepare_statements();
    });
}

PgStore::~PgStore() {
    if (impl_->tx == Impl::Tx::none) return;
    try {
        impl_->end_transaction("ROLLBACK");
    } catch (...) {  // never throw from a destructor; the server rolls back with the connection
    }
}

std::string PgStore::location() const { return impl_->shown; }

bool PgStore::end_snapshot() {
    auto& impl = *impl_;
    if (impl.mode != Mode::read_only || impl.tx != Impl::Tx::snapshot) return false;
    impl.guard([&] { impl.end_transaction("COMMIT"); });
    return true;
}

bool PgStore::start_snapshot() {
    auto& impl = *impl_;
    if (impl.mode != Mode::read_only || impl.tx != Impl::Tx::none) return false;
    return impl.guard([&] {
        const int before = impl.schema;
        impl.q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        impl.tx = Impl::Tx::snapshot;
        impl.check_schema(false);
        return impl.schema == before;
    });
}

void PgStore::set_sealer(Sealer sealer) { impl_->sealer = std::move(sealer); }

// --- the write transaction ---------------------------------------------------------------------

namespace {

// The head lock: the first statement of every write transaction. The head is then read again in
// a statement of its own, whose fresh snapshot (READ COMMITTED) sees what the writer before us
// committed; durability is forced on for this transaction if the server was told to skip it.
constexpr const char* kBegin = "BEGIN ISOLATION LEVEL READ COMMITTED; ";
constexpr const char* kLockHead =
    "SELECT 1 FROM head FOR UPDATE; "
    "SELECT h.seq, h.hash, l.seq, l.hash, CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN set_config('synchronous_commit', 'on', true) END "
    "FROM head h LEFT JOIN LATERAL (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) l ON "
    "true";

class PgWriteTransaction final : public engine::Store::Transaction {
public:
    explicit PgWriteTransaction(PgStore::Impl& impl) : impl_(impl) {
        using Tx = PgStore::Impl::Tx;
        if (impl_.mode == engine::Store::Mode::read_only)
            throw Error(ErrorKind::unexpected,
                        "cannot write " + impl_.shown + ": it is open read-only");
        if (impl_.tx != Tx::none)
            throw Error(
                ErrorKind::unexpected,
                impl_.shown + ": a write transaction cannot begin inside another transaction");
        impl_.guard([&] {
            const bool create = impl_.schema < kPgSchemaVersion;
            if (create) impl_.q.exec(kBegin);
            impl_.tx = Tx::write;
            try {
                if (create) {
                    creating_ = true;
                    impl_.create_schema();
                }
                lock_head(!create);
            } catch (...) {
                rollback();
                throw;
            }
        });
    }
    ~PgWriteTransaction() override {
        if (!done_) rollback();
    }
    PgWriteTransaction(const PgWriteTransaction&) = delete;
    PgWriteTransaction& operator=(const PgWriteTransaction&) = delete;

    void commit() override {
        auto& impl = impl_;
        impl.guard([&] {
            impl.flush();
            if (impl.appended && impl.sealer) {
                if (const auto note = impl.sealer(impl.locked, impl.head)) {
                    Params p;
                    p.add(impl.head.seq);
                    p.add(impl.head.hash);
                    p.add(*note);
                    impl.q.exec_prepared("insert_seal", p.dynamic());
                }
            }
            if (impl.head.seq != impl.locked.seq)
                impl.q.exec_prepared("set_head", impl.head.seq, impl.head.hash);
            done_ = true;
            reset();
            impl.end_transaction("COMMIT");
        });
    }

private:
    // The first statements of the transaction: `begin` sends BEGIN with them (one round trip).
    void lock_head(bool begin) {
        const auto r =
            impl_.q.exec(begin ? std::string(kBegin) + kLockHead : std::string(kLockHead));
        if (r.empty())
            throw Error(ErrorKind::unexpected,
                        impl_.shown + " has lost the head row of its log (table head)");
        impl_.locked = Head{number(r[0][0]), text(r[0][1])};
        const Head last = r[0][2].is_null() ? Head{} : Head{number(r[0][2]), text(r[0][3])};
        if (last.seq != impl_.locked.seq || last.hash != impl_.locked.hash)
            throw Error(ErrorKind::unexpected, impl_.shown + ": the head row (seq " +
                                                   std::to_string(impl_.locked.seq) +
                                                   ") disagrees with the log's last entry (seq " +
                                                   std::to_string(last.seq) +
                                                   "); nothing was written - run tfadesk verify");
        impl_.head = impl_.locked;
        impl_.appended = false;
        impl_.any_outbox_links.reset();
    }
    void reset() {
        impl_.pending.clear();
        impl_.pending_opened.clear();
        impl_.pending_rows.clear();
        impl_.pending_row_of.clear();
        impl_.appended = false;
    }
    void rollback() noexcept {
        reset();
        if (creating_) impl_.schema = 0;  // the schema it created is rolled back with it
        try {
            impl_.end_transaction("ROLLBACK");
        } catch (...) {  // never throw from a destructor; the server rolls back on disconnect
        }
    }

    PgStore::Impl& impl_;
    bool done_ = false;
    bool creating_ = false;  // this transaction creates the schema
};

}  // namespace

std::unique_ptr<engine::Store::Transaction> PgStore::begin_write() {
    return std::make_unique<PgWriteTransaction>(*impl_);
}

void PgStore::Impl::flush() {
    flush_entries();
    flush_rows();
}

void PgStore::Impl::flush_entries() {
    for (std::size_t start = 0; start < pending.size(); start += kBatchRows) {
        const std::size_t n = std::min(kBatchRows, pending.size() - start);
        Params p;
        for (std::size_t i = start; i < start + n; ++i) add_entry(p, pending[i]);
        const std::string sql = std::string("INSERT INTO events (") + kEntryColumns + ") VALUES ";
        if (n == kBatchRows) {
            if (!prepared_batch)
                conn.prepare("insert_entries", sql + placeholders(kBatchRows, kEntryCount));
            prepared_batch = true;
            q.exec_prepared("insert_entries", p.dynamic());
        } else {
            q.exec_params(sql + placeholders(n, kEntryCount), p.dynamic());
        }
    }
    pending.clear();
    pending_opened.clear();
}

void PgStore::Impl::flush_rows() {
    static const std::string upsert = [] {
        std::string set;
        const std::string cols = kTicketWriteColumns;
        for (std::size_t p = cols.find(',') + 2; p < cols.size();) {
            auto end = cols.find(',', p);
            if (end == std::string::npos) end = cols.size();
            const std::string c = cols.substr(p, end - p);
            set += (set.empty() ? "" : ", ") + c + " = excluded." + c;
            p = end + 2;
        }
        return " ON CONFLICT (ref) DO UPDATE SET " + set;
    }();
    const std::string sql =
        std::string("INSERT INTO tickets (") + kTicketWriteColumns + ") VALUES ";
    for (std::size_t start = 0; start < pending_rows.size(); start += kBatchRows) {
        const std::size_t n = std::min(kBatchRows, pending_rows.size() - start);
        Params p;
        for (std::size_t i = start; i < start + n; ++i) pending_rows[i].add_to(p);
        if (n == kBatchRows) {
            if (!prepared_rows)
                conn.prepare("upsert_tickets",
                             sql + placeholders(kBatchRows, kTicketCount) + upsert);
            prepared_rows = true;
            q.exec_prepared("upsert_tickets", p.dynamic());
        } else {
            q.exec_params(sql + placeholders(n, kTicketCount) + upsert, p.dynamic());
        }
    }
    pending_rows.clear();
    pending_row_of.clear();
}

// --- the log -----------------------------------------------------------------------------------

std::vector<LogEntry> PgStore::entries(std::string_view ref) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<LogEntry> out;
        if (!impl.ready()) return out;
        for (const auto& row : impl.q.exec_prepared("entries", std::string(ref)))
            out.push_back(entry_from(row));
        for (const auto& e : impl.pending)
            if (e.ref == ref) out.push_back(e);
        return out;
    });
}

bool PgStore::exists(std::string_view ref) {
    auto& impl = *impl_;
    const std::string key(ref);
    if (impl.pending_opened.count(key)) return true;
    return impl.guard([&] { return impl.ready() && !impl.q.exec_prepared("exists", key).empty(); });
}

void PgStore::append(LogEntry& e, const Ticket& t) {
    auto& impl = *impl_;
    impl.require_write("append");
    impl.guard([&] {
        e.seq = impl.head.seq + 1;
        e.prev_hash = impl.head.hash;
        e.hash = engine::entry_hash(e);
        impl.queue_outbox(e);
        impl.queue_ticket(t);
        impl.queue_entry(e);
        impl.appended = true;
    });
}

void PgStore::append_account(LogEntry& e, const engine::Account& a,
                             const std::optional<std::string>& token_hash) {
    append_desk_entry(e);  // the entry itself, as any entry without a ticket row
    impl_->guard([&] { impl_->write_account(a, token_hash); });
}

void PgStore::append_desk_entry(LogEntry& e) {
    auto& impl = *impl_;
    impl.require_write("append");
    impl.guard([&] {
        e.seq = impl.head.seq + 1;
        e.prev_hash = impl.head.hash;
        e.hash = engine::entry_hash(e);
        impl.queue_entry(e);
        impl.appended = true;
    });
}

void PgStore::append_verbatim(const LogEntry& e) {
    auto& impl = *impl_;
    impl.require_write("append");
    engine::check_follows(impl.head.seq, impl.head.hash, e);
    impl.guard([&] { impl.queue_entry(e); });
}

void PgStore::for_each_entry(const std::function<void(const LogEntry&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        impl.scan(std::string("SELECT ") + kEntryColumns + " FROM events ORDER BY seq",
                  [&](const pqxx::row& r) { fn(entry_from(r)); });
    });
}

void PgStore::for_each_entry_by_ticket(
    const std::function<void(LogEntry&&, const std::optional<engine::PrevEntry>&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        std::optional<engine::PrevEntry> prev;
        impl.scan(
            "SELECT e.seq, e.ref, e.tseq, e.event, e.details, e.agent, e.at, e.state, "
            "e.policy_version, "
            "e.prev_hash, e.hash, p.hash, p.at FROM events e LEFT JOIN events p ON p.seq = e.seq - "
            "1 "
            "ORDER BY e.ref, e.tseq",
            [&](const pqxx::row& r) {
                if (r[11].is_null())
                    prev.reset();
                else
                    prev = engine::PrevEntry{text(r[11]), text(r[12])};
                fn(entry_from(r), prev);
            });
    });
}

std::optional<LogEntry> PgStore::entry_at(std::int64_t seq) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<LogEntry> {
        if (!impl.ready()) return std::nullopt;
        impl.flush();
        const auto r = impl.q.exec_prepared("entry_at", seq);
        if (r.empty()) return std::nullopt;
        return entry_from(r[0]);
    });
}

std::vector<LogEntry> PgStore::account_entries() {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<LogEntry> out;
        if (!impl.ready()) return out;
        impl.flush();
        for (const auto& row : impl.q.exec_prepared("account_entries"))
            out.push_back(entry_from(row));
        return out;
    });
}

Head PgStore::head() {
    auto& impl = *impl_;
    if (impl.tx == Impl::Tx::write) return impl.head;
    return impl.guard([&] {
        if (!impl.ready()) return Head{};
        const auto r = impl.q.exec_prepared("head");
        if (r.empty()) return Head{};
        return Head{number(r[0][0]), text(r[0][1])};
    });
}

// --- the ticket cache --------------------------------------------------------------------------

void PgStore::put_ticket(const Ticket& t) {
    auto& impl = *impl_;
    impl.require_write("put_ticket");
    impl.guard([&] {
        impl.queue_ticket(t);
        if (impl.pending_rows.size() >= kBatchRows) impl.flush();
    });
}

std::optional<Ticket> PgStore::ticket(std::string_view ref) {
    auto& impl = *impl_;
    const auto queued = impl.pending_row_of.find(std::string(ref));
    if (queued != impl.pending_row_of.end()) return impl.pending_rows[queued->second].t;
    return impl.guard([&]() -> std::optional<Ticket> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared(
            impl.schema >= kPgWorkspaceSchema ? "ticket" : "ticket_v2", std::string(ref));
        if (r.empty()) return std::nullopt;
        return ticket_from(r[0]);
    });
}

void PgStore::for_each_ticket(const std::optional<std::string>& state,
                              const std::function<void(const Ticket&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        std::string sql = std::string("SELECT ") + impl.ticket_columns() + " FROM tickets";
        if (state) sql += " WHERE state = " + impl.q.quote(*state);
        impl.scan(sql + " ORDER BY ref", [&](const pqxx::row& r) { fn(ticket_from(r)); });
    });
}

std::function<std::optional<Ticket>()> PgStore::ticket_cursor() {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::function<std::optional<Ticket>()> {
        if (!impl.ready()) return [] { return std::optional<Ticket>(); };
        impl.flush();
        struct State {
            explicit State(Impl& i)
                : impl(i),
                  cursor(i, std::string("SELECT ") + i.ticket_columns() +
                                " FROM tickets ORDER BY ref") {}
            Impl& impl;
            PgCursor cursor;
            pqxx::result batch;
            pqxx::result::size_type next = 0;
            bool done = false;
        };
        auto state = std::make_shared<State>(impl);
        return [state]() -> std::optional<Ticket> {
            auto& s = *state;
            return s.impl.guard([&]() -> std::optional<Ticket> {
                if (s.next == s.batch.size()) {
                    if (s.done) return std::nullopt;
                    s.batch = s.cursor.fetch();
                    s.next = 0;
                    s.done = s.batch.size() < static_cast<pqxx::result::size_type>(kFetchRows);
                    if (s.batch.empty()) return std::nullopt;
                }
                return ticket_from(s.batch[s.next++]);
            });
        };
    });
}

std::vector<std::string> PgStore::refs_in_state(std::string_view state) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<std::string> out;
        if (!impl.ready()) return out;
        impl.flush();
        for (const auto& row : impl.q.exec_prepared("refs_in_state", std::string(state)))
            out.push_back(text(row[0]));
        return out;
    });
}

std::pair<std::vector<engine::Store::Related>, std::int64_t> PgStore::related(
    std::string_view ref, std::string_view phone, std::string_view email, std::size_t limit) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::pair<std::vector<Related>, std::int64_t> out{{}, 0};
        if (!impl.ready()) return out;
        impl.flush();
        const std::string r(ref), p(phone), e(email);
        for (const auto& row :
             impl.q.exec_prepared("related", r, p, e, static_cast<std::int64_t>(limit)))
            out.first.push_back({text(row[0]), text(row[1]), text(row[2])});
        out.second = number(impl.q.exec_prepared("related_count", r, p, e)[0][0]);
        return out;
    });
}

// --- the workspace (SPEC §14) ----------------------------------------------------------------

namespace {

pqxx::result exec_sql(pqxx::nontransaction& q, const workspace::Sql& sql) {
    Params p;
    for (const auto& v : sql.params) p.add(v);
    return q.exec_params(sql.text, p.dynamic());
}

}  // namespace

std::pair<std::vector<Ticket>, bool> PgStore::find_tickets(const engine::TicketQuery& query) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::pair<std::vector<Ticket>, bool> out{{}, false};
        if (!impl.ready()) return out;
        if (impl.schema < kPgWorkspaceSchema)
            throw Error(ErrorKind::unexpected, impl.shown + " predates search and claims (schema " +
                                                   std::to_string(impl.schema) +
                                                   "): any write command brings it up to date");
        impl.flush();
        const auto r =
            exec_sql(impl.q, workspace::page(query, kTicketColumns, workspace::Dialect::postgres));
        for (const auto& row : r) {
            if (out.first.size() == query.limit) {
                out.second = true;
                break;
            }
            out.first.push_back(ticket_from(row));
        }
        return out;
    });
}

std::int64_t PgStore::count_tickets(const engine::TicketQuery& query) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::int64_t {
        if (!impl.ready() || impl.schema < kPgWorkspaceSchema) return 0;
        impl.flush();
        if (workspace::counted_by_state(query)) {
            std::vector<std::string> states = query.states;
            if (query.open_only) {
                if (states.empty())
                    states = workspace::open_states();
                else
                    states.erase(
                        std::remove_if(states.begin(), states.end(),
                                       [](const std::string& s) { return !workspace::is_open(s); }),
                        states.end());
                if (states.empty()) return 0;
            }
            workspace::Sql sql{"SELECT coalesce(sum(n), 0) FROM ticket_counts", states};
            for (std::size_t i = 0; i < states.size(); ++i)
                sql.text += (i ? ", $" : " WHERE state IN ($") + std::to_string(i + 1);
            if (!states.empty()) sql.text += ")";
            return number(exec_sql(impl.q, sql)[0][0]);
        }
        return number(
            exec_sql(impl.q, workspace::count(query, workspace::Dialect::postgres))[0][0]);
    });
}

engine::WorkspaceCounts PgStore::workspace_counts(std::string_view me, std::string_view now) {
    auto& impl = *impl_;
    return impl.guard([&] {
        engine::WorkspaceCounts out;
        std::map<std::string, std::int64_t> per_state;
        for (const auto& [name, terminal] : engine::Machine::states()) per_state[name] = 0;
        if (impl.ready() && impl.schema >= kPgWorkspaceSchema) {
            impl.flush();
            for (const auto& row : impl.q.exec("SELECT state, assigned, n FROM ticket_counts")) {
                const std::string state = text(row[0]);
                const std::int64_t n = number(row[2]);
                per_state[state] += n;
                if (workspace::is_open(state)) {
                    out.open += n;
                    if (number(row[1]) == 0) out.unassigned += n;
                }
            }
            auto one = [&](const engine::TicketQuery& q) {
                return number(
                    exec_sql(impl.q, workspace::count(q, workspace::Dialect::postgres))[0][0]);
            };
            engine::TicketQuery mine;
            mine.open_only = true;
            mine.assignee = std::string(me);
            out.mine = me.empty() ? 0 : one(mine);
            engine::TicketQuery overdue;
            overdue.overdue_at = std::string(now);
            out.overdue = one(overdue);
            engine::TicketQuery ready;
            ready.ready_for = std::string(me);
            out.ready_for_me = me.empty() ? 0 : one(ready);
        }
        out.states.assign(per_state.begin(), per_state.end());
        return out;
    });
}

engine::DeskStats PgStore::stats(const std::optional<std::string>& since) {
    auto& impl = *impl_;
    return impl.guard([&] {
        engine::DeskStats out;
        if (!impl.ready()) return out;
        impl.flush();
        const std::string opened = "(SELECT at FROM events o WHERE o.ref = t.ref AND o.tseq = 1)";
        const std::string where = since ? " WHERE " + opened + " >= $1" : std::string();
        auto run = [&](const std::string& sql) {
            return since ? impl.q.exec_params(sql, *since) : impl.q.exec(sql);
        };
        for (const auto& r : run("SELECT state, count(*) FROM tickets t" + where +
                                 " GROUP BY state ORDER BY state"))
            out.per_state.emplace_back(text(r[0]), number(r[1]));
        for (const auto& r :
             run("SELECT " + opened + ", updated_at FROM tickets t WHERE state = 'completed'" +
                 (since ? " AND " + opened + " >= $1" : std::string()))) {
            const auto a = r[0].is_null() ? std::nullopt : rules::parse_utc(text(r[0]));
            const auto b = rules::parse_utc(text(r[1]));
            if (a && b) out.open_to_completed_ms.push_back(*b - *a);
        }
        // SQLite's min() names the first row holding the minimum: ties go to the smallest ref.
        for (const auto& r :
             run("SELECT DISTINCT ON (state) state, ref, updated_at FROM tickets t" + where +
                 " ORDER BY state, updated_at, ref"))
            out.oldest.push_back({text(r[0]), {text(r[1]), text(r[2])}});
        return out;
    });
}

// --- the account cache -------------------------------------------------------------------------

bool PgStore::has_accounts() {
    auto& impl = *impl_;
    return impl.guard([&] {
        if (!impl.ready()) return false;
        impl.flush();
        return !impl.q.exec_prepared("has_accounts").empty();
    });
}

std::optional<engine::Account> PgStore::account(std::string_view name) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Account> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account", std::string(name));
        if (r.empty()) return std::nullopt;
        return account_from(r[0]);
    });
}

std::optional<engine::Account> PgStore::account_by_token(std::string_view token_hash) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Account> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account_by_token", std::string(token_hash));
        if (r.empty()) return std::nullopt;
        return account_from(r[0]);
    });
}

std::optional<std::string> PgStore::account_token_hash(std::string_view name) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<std::string> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account_token_hash", std::string(name));
        if (r.empty()) return std::nullopt;
        return opt_text(r[0][0]);
    });
}

void PgStore::for_each_account(const std::function<void(const engine::Account&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        for (const auto& r :
             impl.q.exec(std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY name"))
            fn(account_from(r));
    });
}

void PgStore::put_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
    auto& impl = *impl_;
    impl.require_write("put_account");
    impl.guard([&] { impl.write_account(a, token_hash); });
}

// --- seals -------------------------------------------------------------------------------------

std::optional<engine::Seal> PgStore::last_seal() {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Seal> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("last_seal");
        if (r.empty()) return std::nullopt;
        return engine::Seal{number(r[0][0]), text(r[0][1]), text(r[0][2])};
    });
}

void PgStore::for_each_seal(
    const std::function<void(const engine::Seal&, const std::optional<std::string>&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        impl.scan(
            "SELECT s.seq, s.hash, s.note, e.hash FROM seals s LEFT JOIN events e ON e.seq = s.seq "
            "ORDER BY s.seq",
            [&](const pqxx::row& r) {
                fn(engine::Seal{number(r[0]), text(r[1]), text(r[2])}, opt_text(r[3]));
            });
    });
}

void PgStore::put_seal(const engine::Seal& seal) {
    auto& impl = *impl_;
    impl.require_write("put_seal");
    impl.guard([&] {
        Params p;
        p.add(seal.seq);
        p.add(seal.hash);
        p.add(seal.note);
        impl.q.exec_prepared("insert_seal", p.dynamic());
    });
}

// --- the access log ----------------------------------------------------------------------------

namespace {

constexpr const char* kInsertAccess =
    "INSERT INTO access_log (at, account, route, refs, ref_count, client) VALUES ($1, $2, $3, $4, "
    "$5, $6)";

}  // namespace

void PgStore::Impl::insert_access(const std::vector<engine::AccessRecord>& records) {
    for (const auto& r : records) {
        const std::string refs = rows::refs_text(r.refs);
        Params p;
        p.add(r.at);
        p.add(r.account);
        p.add(r.route);
        p.add(refs);
        p.add(r.ref_count);
        p.add(r.client);
        q.exec_params(kInsertAccess, p.dynamic());
    }
}

void PgStore::append_access(const std::vector<engine::AccessRecord>& records) {
    auto& impl = *impl_;
    if (impl.mode == Mode::read_only)
        throw Error(ErrorKind::unexpected, "cannot write " + impl.shown + ": it is open read-only");
    if (impl.tx != Impl::Tx::none)
        throw Error(
            ErrorKind::unexpected,
            impl.shown +
                ": the access log is written in a transaction of its own, not inside another");
    if (records.empty()) return;
    if (impl.schema < kPgSchemaVersion) {
        // A desk from before the access log (or none yet): created or migrated as every first
        // write does it, inside a write transaction that appends no entry - so it is not sealed
        // and the head stays where it is.
        auto tx = begin_write();
        impl.guard([&] { impl.insert_access(records); });
        tx->commit();
        return;
    }
    // Without the head lock: records never wait for, or hold up, the writers of the log.
    impl.guard([&] {
        // As on SQLite: committed before the answer, not waited for on disk (the next log
        // entry's commit flushes it).
        impl.q.exec("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO off");
        impl.tx = Impl::Tx::write;
        try {
            impl.insert_access(records);
        } catch (...) {
            try {
                impl.end_transaction("ROLLBACK");
            } catch (...) {  // the first failure is the one to report; the server rolls back anyway
            }
            throw;
        }
        impl.end_transaction("COMMIT");
    });
}

void PgStore::for_each_access(const engine::AccessQuery& query,
                              const std::function<void(const engine::AccessRecord&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        // Another process may have migrated the desk since this store looked.
        if (impl.schema < kPgAccessSchema && impl.mode == Mode::read_write &&
            impl.tx != Impl::Tx::write)
            impl.check_schema(true);
        if (impl.schema < kPgAccessSchema) return;  // a desk from before the access log has none
        std::string sql = "SELECT at, account, route, refs, ref_count, client FROM access_log";
        bool filtered = false;
        auto where = [&](const std::string& condition) {
            sql += (filtered ? " AND " : " WHERE ") + condition;
            filtered = true;
        };
        if (query.ref)
            where("strpos(refs, " + impl.q.quote(rows::refs_needle(*query.ref)) + ") > 0");
        if (query.account) where("account = " + impl.q.quote(*query.account));
        if (query.since) where("at >= " + impl.q.quote(*query.since));
        engine::AccessRecord r;
        impl.scan(sql + " ORDER BY at, id", [&](const pqxx::row& row) {
            r.at = text(row[0]);
            r.account = text(row[1]);
            r.route = text(row[2]);
            r.refs = rows::refs_from(text(row[3]));
            r.ref_count = number(row[4]);
            r.client = text(row[5]);
            fn(r);
        });
    });
}

// --- the helpdesk connector (SPEC §17) --------------------------------------------------------

namespace {

constexpr const char* kOutboxColumns =
    "id, seq, ref, source, hash, status, attempts, created_at, next_at, last_error";

engine::OutboxDelivery delivery_from(const pqxx::row& r) {
    engine::OutboxDelivery d;
    d.id = number(r[0]);
    d.seq = number(r[1]);
    d.ref = text(r[2]);
    d.source = text(r[3]);
    d.hash = text(r[4]);
    d.status = text(r[5]);
    d.attempts = number(r[6]);
    d.created_at = text(r[7]);
    d.next_at = text(r[8]);
    d.last_error = text(r[9]);
    return d;
}

}  // namespace

void PgStore::Impl::queue_outbox(const LogEntry& e) {
    if (e.tseq <= 1 || schema < kPgOutboxSchema) return;
    if (!any_outbox_links)
        any_outbox_links = q.exec("SELECT EXISTS (SELECT 1 FROM outbox_links)")[0][0].as<bool>();
    if (!*any_outbox_links) return;
    Params p;
    p.add(e.ref);
    const auto link = q.exec_params("SELECT source FROM outbox_links WHERE ref = $1", p.dynamic());
    if (link.empty()) return;
    const std::string source = text(link[0][0]);
    std::string before;
    if (const auto it = pending_row_of.find(e.ref); it != pending_row_of.end()) {
        before = pending_rows[it->second].t.state;
    } else {
        const auto r = q.exec_params("SELECT state FROM tickets WHERE ref = $1", p.dynamic());
        if (!r.empty()) before = text(r[0][0]);
    }
    if (before == e.state) return;  // SPEC §17: only a change of state goes out
    Params ins;
    ins.add(e.seq);
    ins.add(e.ref);
    ins.add(source);
    ins.add(e.hash);
    ins.add(e.at);
    q.exec_params(
        "INSERT INTO outbox (seq, ref, source, hash, status, created_at, next_at) "
        "VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        ins.dynamic());
}

template <class Fn>
auto PgStore::Impl::short_write(const char* what, Fn&& fn) -> decltype(fn()) {
    if (mode == Mode::read_only)
        throw Error(ErrorKind::unexpected, "cannot write " + shown + ": it is open read-only");
    if (tx != Tx::none)
        throw Error(ErrorKind::unexpected,
                    shown + ": " + what + " runs in a transaction of its own, not inside another");
    return guard([&] {
        q.exec("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO on");
        tx = Tx::write;
        try {
            if constexpr (std::is_void_v<decltype(fn())>) {
                fn();
                end_transaction("COMMIT");
            } else {
                auto out = fn();
                end_transaction("COMMIT");
                return out;
            }
        } catch (...) {
            try {
                end_transaction("ROLLBACK");
            } catch (...) {  // the first failure is the one to report
            }
            throw;
        }
    });
}

bool PgStore::intake_seen(std::string_view source, std::string_view delivery_id) {
    auto& impl = *impl_;
    return impl.guard([&] {
        if (impl.schema < kPgOutboxSchema) return false;
        const std::string s(source), id(delivery_id);
        Params p;
        p.add(s);
        p.add(id);
        return !impl.q
                    .exec_params(
                        "SELECT 1 FROM intake_deliveries WHERE source = $1 AND delivery_id = $2",
                        p.dynamic())
                    .empty();
    });
}

void PgStore::record_intake(std::string_view source, std::string_view delivery_id,
                            std::string_view at) {
    auto& impl = *impl_;
    impl.require_write("record an intake delivery");
    impl.guard([&] {
        const std::string s(source), id(delivery_id), when(at);
        Params p;
        p.add(s);
        p.add(id);
        p.add(when);
        impl.q.exec_params(
            "INSERT INTO intake_deliveries (source, delivery_id, at) VALUES ($1, $2, $3)",
            p.dynamic());
    });
}

void PgStore::link_outbox(std::string_view ref, std::string_view source) {
    auto& impl = *impl_;
    impl.require_write("link a ticket to an outbox");
    impl.guard([&] {
        const std::string r(ref), s(source);
        Params p;
        p.add(r);
        p.add(s);
        impl.q.exec_params("INSERT INTO outbox_links (ref, source) VALUES ($1, $2)", p.dynamic());
        impl.any_outbox_links = true;
    });
}

std::vector<engine::OutboxDelivery> PgStore::outbox(bool dead_only) {
    auto& impl = *impl_;
    std::vector<engine::OutboxDelivery> out;
    impl.guard([&] {
        if (impl.schema < kPgOutboxSchema && impl.mode == Mode::read_write &&
            impl.tx != Impl::Tx::write)
            impl.check_schema(true);
        if (impl.schema < kPgOutboxSchema) return;
        impl.scan(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE " +
                      (dead_only ? "status = 'dead'" : "status <> 'sent'") + " ORDER BY id",
                  [&](const pqxx::row& r) { out.push_back(delivery_from(r)); });
    });
    return out;
}

std::vector<engine::OutboxDelivery> PgStore::claim_outbox(std::string_view now,
                                                          std::string_view lease_until,
                                                          std::size_t limit) {
    auto& impl = *impl_;
    if (impl.schema < kPgOutboxSchema) impl.guard([&] { impl.check_schema(true); });
    if (impl.schema < kPgOutboxSchema) return {};
    return impl.short_write("claiming outbox deliveries", [&] {
        const std::string n(now), lease(lease_until);
        Params p;
        p.add(n);
        p.add(lease);
        p.add(static_cast<std::int64_t>(limit));
        // Each ticket's oldest pending delivery, due and held by nobody; rows another server is
        // claiming right now are skipped, not waited for.
        const auto r = impl.q.exec_params(
            std::string(
                "WITH c AS (SELECT id FROM outbox o WHERE status = 'pending' AND next_at <= $1 "
                "AND (lease_until IS NULL OR lease_until <= $1) "
                "AND id = (SELECT min(id) FROM outbox p WHERE p.ref = o.ref AND p.status = "
                "'pending') "
                "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
                "UPDATE outbox SET lease_until = $2 FROM c WHERE outbox.id = c.id RETURNING ") +
                "outbox.id, outbox.seq, outbox.ref, outbox.source, outbox.hash, outbox.status, "
                "outbox.attempts, outbox.created_at, outbox.next_at, outbox.last_error",
            p.dynamic());
        std::vector<engine::OutboxDelivery> out;
        for (const auto& row : r) out.push_back(delivery_from(row));
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        return out;
    });
}

void PgStore::settle_outbox(std::int64_t id, std::string_view status, std::string_view next_at,
                            std::string_view error) {
    auto& impl = *impl_;
    impl.short_write("settling an outbox delivery", [&] {
        const std::string s(status), n(next_at), e(error);
        Params p;
        p.add(s);
        p.add(n);
        p.add(e);
        p.add(id);
        impl.q.exec_params(
            "UPDATE outbox SET status = $1, next_at = $2, last_error = $3, attempts = attempts + "
            "1, "
            "lease_until = NULL WHERE id = $4",
            p.dynamic());
    });
}

bool PgStore::retry_outbox(std::int64_t id, std::string_view now) {
    auto& impl = *impl_;
    if (impl.schema < kPgOutboxSchema) impl.guard([&] { impl.check_schema(true); });
    if (impl.schema < kPgOutboxSchema) return false;
    return impl.short_write("retrying a dead letter", [&] {
        const std::string n(now);
        Params p;
        p.add(n);
        p.add(id);
        return impl.q
                   .exec_params(
                       "UPDATE outbox SET status = 'pending', next_at = $1, created_at = $1, "
                       "attempts = 0, lease_until = NULL WHERE id = $2 AND status = 'dead'",
                       p.dynamic())
                   .affected_rows() == 1;
    });
}

// --- the registration ---------------------------------------------------------------------------

namespace {

std::string libpq_version() {
    const int v = PQlibVersion();
    return "libpq " + std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

// This is an OBJECT library's code, so it is linked whenever the library is: linking
// tfadesk_storage_pg is what gives a program the PostgreSQL store.
const BackendRegistrar registrar{
    Backend{{"postgresql", "postgres"}, open_pg_store, pg_desk_exists, mask_uri, libpq_version}};

}  // namespace

}  // namespace tfadesk::storage
