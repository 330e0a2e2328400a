// The access log (SPEC §12) in the store conformance suite, run once per backend: records come
// back in time order and filtered by ref, account and since; they are kept beside the chain, never
// in it (no entry, no seal, the head stays); the database itself refuses to change or delete them;
// and a desk from before the access log reads as having none until its first write migrates it.
#include <vector>

#include "helpers.hpp"
#include "schema_undo.hpp"

namespace store_test {
namespace {

using engine::AccessQuery;
using engine::AccessRecord;

AccessRecord record(int second, const std::string& account, const std::vector<std::string>& refs,
                    std::int64_t count = -1) {
    AccessRecord r;
    r.at = at(second);
    r.account = account;
    r.route = "GET /api/v1/tickets" + (refs.size() == 1 ? "/" + refs[0] : std::string());
    r.refs = refs;
    r.ref_count = count < 0 ? static_cast<std::int64_t>(refs.size()) : count;
    r.client = "127.0.0." + std::to_string(second);
    return r;
}

std::vector<AccessRecord> records(Store& s, const AccessQuery& q = {}) {
    std::vector<AccessRecord> out;
    s.for_each_access(q, [&](const AccessRecord& r) { out.push_back(r); });
    return out;
}

// "account@second" for each record, in the order given.
std::vector<std::string> names(const std::vector<AccessRecord>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.account + "@" + r.at.substr(17, 2));
    return out;
}

AccessQuery query(std::optional<std::string> ref, std::optional<std::string> account,
                  std::optional<std::string> since) {
    return AccessQuery{std::move(ref), std::move(account), std::move(since)};
}

using Names = std::vector<std::string>;

TEST_CASE("access log: every record back in time order, filtered by ref, account and since") {
    Desk desk;
    auto s = open_rw(desk.location());
    // Appended out of time order, in two transactions; two records share a time (append order).
    s->append_access({record(5, "alice", {"HD-1"}), record(2, "bob", {"HD-2", "HD-1"}, 250)});
    s->append_access({record(9, "alice", {"HD-3"}), record(2, "carol", {})});

    const auto all = records(*s);
    CHECK(names(all) == Names{"bob@02", "carol@02", "alice@05", "alice@09"});
    REQUIRE(all.size() == 4);
    CHECK(all[0].at == at(2));
    CHECK(all[0].route == "GET /api/v1/tickets");
    CHECK(all[0].refs == std::vector<std::string>{"HD-2", "HD-1"});  // the answer's order
    CHECK(all[0].ref_count == 250);
    CHECK(all[0].client == "127.0.0.2");
    CHECK(all[1].refs.empty());
    CHECK(all[2].route == "GET /api/v1/tickets/HD-1");

    CHECK(names(records(*s, query("HD-1", {}, {}))) == Names{"bob@02", "alice@05"});
    CHECK(names(records(*s, query("HD-3", {}, {}))) == Names{"alice@09"});
    CHECK(records(*s, query("HD-9", {}, {})).empty());
    CHECK(records(*s, query("hd-1", {}, {})).empty());  // refs compare exactly
    CHECK(names(records(*s, query({}, "alice", {}))) == Names{"alice@05", "alice@09"});
    CHECK(records(*s, query({}, "mallory", {})).empty());
    CHECK(names(records(*s, query({}, {}, at(5)))) ==
          Names{"alice@05", "alice@09"});  // at or after
    CHECK(names(records(*s, query({}, {}, at(6)))) == Names{"alice@09"});
    CHECK(names(records(*s, query("HD-1", "alice", at(3)))) == Names{"alice@05"});
    CHECK(records(*s, query("HD-1", "bob", at(3))).empty());

    // A reader sees the same.
    auto r = open_ro(desk.location());
    CHECK(names(records(*r)) == names(all));
    CHECK(names(records(*r, query("HD-2", {}, {}))) == Names{"bob@02"});
}

TEST_CASE("access log: refs and text are kept exactly, quotes, backslashes and UTF-8 included") {
    Desk desk;
    auto s = open_rw(desk.location());
    AccessRecord odd = record(1, "alice", {"a\"b", "c\\d", "caf\xc3\xa9", "HD-1"});
    odd.route = "GET /api/v1/tickets/a\"b";
    odd.client = "::1";
    s->append_access({odd});
    const auto back = records(*open_ro(desk.location()), query("c\\d", {}, {}));
    REQUIRE(back.size() == 1);
    CHECK(back[0].refs == odd.refs);
    CHECK(back[0].route == odd.route);
    CHECK(back[0].client == "::1");
    CHECK(records(*s, query("caf\xc3\xa9", {}, {})).size() == 1);
}

TEST_CASE("access log: beside the chain - no entry, no seal, the head stays where it is") {
    Desk desk;
    auto s = open_rw(desk.location());
    int sealed = 0;
    s->set_sealer([&](const engine::Head&, const engine::Head& h) {
        ++sealed;
        return "note " + std::to_string(h.seq);
    });
    open(*s, fields("HD-1"), 1);
    REQUIRE(sealed == 1);
    const auto head = s->head();
    s->append_access({record(2, "alice", {"HD-1"})});
    s->append_access({record(3, "bob", {"HD-1"}), record(4, "carol", {"HD-1"})});
    CHECK(sealed == 1);
    CHECK(s->head().seq == head.seq);
    CHECK(s->head().hash == head.hash);
    CHECK(s->last_seal()->seq == head.seq);
    auto& b = backend();
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM events") == "1");
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM seals") == "1");
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM access_log") == "3");
    if (b.is_postgres()) CHECK(b.raw_value(desk.location(), "SELECT seq FROM head") == "1");
    // The log goes on from where it was.
    event(*s, "HD-1", cmd(EventKind::triage, 5));
    CHECK(s->head().seq == 2);
    CHECK(s->entry_at(2)->prev_hash == head.hash);
    CHECK(sealed == 2);
    CHECK(records(*s).size() == 3);
}

TEST_CASE("access log: refused on a read-only store and inside a write transaction") {
    Desk desk;
    auto w = open_rw(desk.location());
    open(*w, fields("HD-1"), 1);
    auto r = open_ro(desk.location());
    CHECK(error_of([&] { r->append_access({record(2, "alice", {"HD-1"})}); }).kind() ==
          ErrorKind::unexpected);
    {
        auto tx = w->begin_write();
        const auto e = error_of([&] { w->append_access({record(3, "alice", {"HD-1"})}); });
        CHECK(contains(e.what(), "transaction of its own"));
    }
    CHECK(records(*w).empty());
    // A reader keeps its snapshot; a new one sees what was appended since.
    w->append_access({record(4, "alice", {"HD-1"})});
    CHECK(records(*r).empty());
    CHECK(records(*open_ro(desk.location())).size() == 1);
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM access_log") == "1");
}

TEST_CASE("access log: append-only in the database itself") {
    Desk desk;
    auto s = open_rw(desk.location());
    s->append_access({record(1, "alice", {"HD-1", "HD-2"})});
    auto& b = backend();
    std::vector<std::string> refused = {"UPDATE access_log SET account = 'mallory'",
                                        "DELETE FROM access_log"};
    if (b.is_postgres()) {
        refused.push_back("TRUNCATE access_log");
        refused.push_back("TRUNCATE access_log_refs");  // no longer written (schema 7), still kept
    }
    for (const auto& sql : refused) {
        CAPTURE(sql);
        const auto err = b.raw_exec(desk.location(), sql);
        REQUIRE(err);
        CHECK(contains(*err, "append-only"));
    }
    CHECK(b.raw_value(desk.location(), "SELECT account FROM access_log") == "alice");
    // A record's refs are found in its own array (SQLite 7, PostgreSQL 5 add no access_log_refs
    // rows).
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM access_log_refs") == "0");
    // Appending stays possible; a ref is matched whole (HD-10 is not HD-1).
    s->append_access({record(2, "bob", {"HD-1"}), record(3, "carol", {"HD-10", "XHD-1"})});
    CHECK(names(records(*s, query("HD-1", {}, {}))) == Names{"alice@01", "bob@02"});
    CHECK(names(records(*s, query("HD-10", {}, {}))) == Names{"carol@03"});
}

TEST_CASE("access log: a desk from before it reads as having none; its first write migrates it") {
    Desk desk;
    auto& b = backend();
    open(*open_rw(desk.location()), fields("HD-1"), 1);
    // The desk as the previous schema left it.
    REQUIRE_FALSE(b.raw_exec(desk.location(),
                             b.is_postgres()
                                 ? std::string(schema_undo::kPostgresWorkspace) +
                                       "DROP TABLE access_log; DROP TABLE access_log_refs; "
                                       "DROP INDEX tickets_by_phone; DROP INDEX tickets_by_email; "
                                       "UPDATE tfadesk_meta SET schema_version = 1"
                                 : std::string(schema_undo::kSqliteWorkspace) +
                                       "DROP TABLE access_log; DROP TABLE access_log_refs; "
                                       "DROP INDEX tickets_by_phone; DROP INDEX tickets_by_email; "
                                       "PRAGMA user_version = 3"));
    const std::string version_sql =
        b.is_postgres() ? "SELECT schema_version FROM tfadesk_meta" : "PRAGMA user_version";
    const std::string old_version = b.is_postgres() ? "1" : "3",
                      new_version = b.is_postgres()
                                        ? "6"
                                        : "7";  // the current schema (the ready index, SPEC §14)
    const std::string has_table =
        b.is_postgres() ? "SELECT count(*) FROM pg_class WHERE relname = 'access_log'"
                        : "SELECT count(*) FROM sqlite_master WHERE name = 'access_log'";
    {
        auto r = open_ro(desk.location());
        CHECK(records(*r).empty());
        CHECK(records(*r, query("HD-1", "alice", at(0))).empty());
        CHECK(r->head().seq == 1);
    }
    CHECK(b.raw_value(desk.location(), version_sql) == old_version);  // reading changed nothing
    const auto head = open_ro(desk.location())->head();

    SUBCASE("the first write is an access record") {
        auto s = open_rw(desk.location());
        s->append_access({record(2, "alice", {"HD-1"})});
        CHECK(names(records(*s)) == Names{"alice@02"});
        CHECK(names(records(*open_ro(desk.location()))) == Names{"alice@02"});
    }
    SUBCASE("the first write is an event") {
        auto s = open_rw(desk.location());
        event(*s, "HD-1", cmd(EventKind::triage, 2));
        CHECK(records(*s).empty());
        s->append_access({record(3, "alice", {"HD-1"})});
        CHECK(names(records(*s)) == Names{"alice@03"});
        CHECK(s->entry_at(2)->prev_hash == head.hash);
    }
    CHECK(b.raw_value(desk.location(), version_sql) == new_version);
    CHECK(b.raw_value(desk.location(), has_table) == "1");
    CHECK(b.raw_value(desk.location(), "SELECT hash FROM events WHERE seq = 1") == head.hash);
}

}  // namespace
}  // namespace store_test
