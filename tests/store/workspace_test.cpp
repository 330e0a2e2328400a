// SPEC §14 in the stores: a desk made by the previous schema (SQLite 4, PostgreSQL 2) reads as
// having no claims, and its first write migrates it: the new columns filled from the rows,
// per-state counts, and every search on the old rows.
#include "tfadesk/desk/workspace.hpp"

#include <string>
#include <vector>

#include "helpers.hpp"
#include "schema_undo.hpp"

namespace store_test {
namespace {

std::vector<std::string> refs(const std::vector<engine::Ticket>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) out.push_back(t.fields.ref);
    return out;
}

using V = std::vector<std::string>;

TEST_CASE("workspace: a desk from the previous schema is migrated by its first write") {
    Desk desk;
    auto& b = backend();
    {
        auto s = open_rw(desk.location());
        auto f1 = fields("HD-1", Role::unknown, Access::unknown);
        f1.phone = "+4915100000001";
        f1.requester_email = "Ops@Acme.Example";
        open(*s, f1, 1);
        event(*s, "HD-1", cmd(EventKind::triage, 2));  // awaiting_requester
        auto f2 = fields("HD-2");
        f2.phone = "+14155550123";
        f2.waba_id = "777";
        open(*s, f2, 3);
        event(*s, "HD-2", cmd(EventKind::triage, 4));  // identity_check
        auto f3 = fields("HD-3");
        f3.phone = "+4915100000003";
        open(*s, f3, 5);
        auto c = cmd(EventKind::cancel, 6);
        c.note = "withdrawn";
        event(*s, "HD-3", c);
    }
    REQUIRE_FALSE(b.raw_exec(desk.location(), b.is_postgres() ? schema_undo::kPostgresWorkspace
                                                              : schema_undo::kSqliteWorkspace));
    const std::string version_sql =
        b.is_postgres() ? "SELECT schema_version FROM tfadesk_meta" : "PRAGMA user_version";
    {
        auto r = open_ro(desk.location());
        const auto t = r->ticket("HD-1");
        REQUIRE(t);
        CHECK_FALSE(t->assignee);
        CHECK(t->active_at == t->updated_at);
        CHECK(engine::due_at(*t));
        CHECK(error_of([&] { r->find_tickets({}); }).kind() == ErrorKind::unexpected);
    }
    CHECK(b.raw_value(desk.location(), version_sql) ==
          (b.is_postgres() ? "2" : "4"));  // reading changed nothing

    auto s = open_rw(desk.location());
    event(*s, "HD-2", cmd(EventKind::claim, 7, "alice"));
    // Migrated to the current schema (the connector's tables came after the workspace's).
    CHECK(b.raw_value(desk.location(), version_sql) == (b.is_postgres() ? "6" : "7"));
    CHECK(b.raw_value(desk.location(), "SELECT due_at FROM tickets WHERE ref = 'HD-1'") ==
          *engine::due_at(*s->ticket("HD-1")));
    CHECK(*engine::due_at(*s->ticket("HD-1")) ==
          rules::format_utc_ms(*rules::parse_utc(at(2)) + 168LL * 3600000));
    CHECK(s->ticket("HD-2")->assignee == std::optional<std::string>("alice"));

    engine::TicketQuery q;
    q.phone_suffix = "0001";
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1"});
    q = {};
    q.phone = "+14155550123";
    CHECK(refs(s->find_tickets(q).first) == V{"HD-2"});
    q = {};
    q.email = "ops@acme.example";
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1"});
    q = {};
    q.id = "777";
    CHECK(refs(s->find_tickets(q).first) == V{"HD-2"});
    q = {};
    q.open_only = true;
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1", "HD-2"});
    CHECK(s->count_tickets(q) == 2);
    q.assignee = "";
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1"});
    q = {};
    q.overdue_at = at(2 + 168 * 3600 + 1);
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1"});
    q.overdue_at = at(2 + 168 * 3600);
    CHECK(s->find_tickets(q).first.empty());  // due, not yet past
    // Under another SLA (serve --sla-hours 1) the same stored column answers: due one hour after
    // its last activity, and overdue just past it.
    CHECK(*engine::due_at(*s->ticket("HD-1"), 3600000) ==
          rules::format_utc_ms(*rules::parse_utc(at(2)) + 3600000));
    q.overdue_at = desk::overdue_bound(at(2 + 3600 + 1), 3600000);
    CHECK(refs(s->find_tickets(q).first) == V{"HD-1"});
    q.overdue_at = desk::overdue_bound(at(2 + 3600), 3600000);
    CHECK(s->find_tickets(q).first.empty());

    const auto counts = s->workspace_counts("alice", at(10));
    auto state_count = [&](const std::string& st) {
        for (const auto& [name, n] : counts.states)
            if (name == st) return n;
        return std::int64_t{-1};
    };
    CHECK(state_count("awaiting_requester") == 1);
    CHECK(state_count("identity_check") == 1);
    CHECK(state_count("cancelled") == 1);
    CHECK(state_count("completed") == 0);
    CHECK(counts.open == 2);
    CHECK(counts.unassigned == 1);
    CHECK(counts.mine == 1);
    CHECK(counts.overdue == 0);
    // Kept counts follow later writes (one transaction with the row).
    event(*s, "HD-2", cmd(EventKind::release, 8, "alice"));
    auto c = cmd(EventKind::cancel, 9);
    c.note = "withdrawn";
    event(*s, "HD-1", c);
    const auto after = s->workspace_counts("alice", at(10));
    CHECK(after.open == 1);
    CHECK(after.unassigned == 1);
    CHECK(after.mine == 0);
}

TEST_CASE("workspace: keyset pages in every order, both directions") {
    Desk desk;
    auto s = open_rw(desk.location());
    for (int i = 0; i < 9; ++i)
        open(*s, fields("K-" + std::to_string(i), Role::unknown, Access::unknown), 20 - i);
    for (int i = 0; i < 9; i += 2)
        event(*s, "K-" + std::to_string(i), cmd(EventKind::triage, 30 + i));
    for (const std::string sort : {"ref", "updated_at", "submitted_at", "due_at"})
        for (bool desc : {false, true}) {
            CAPTURE(sort);
            CAPTURE(desc);
            engine::TicketQuery q;
            q.sort = sort;
            q.descending = desc;
            q.limit = 100;
            const auto all = refs(s->find_tickets(q).first);
            REQUIRE(all.size() == 9);
            q.limit = 2;
            V paged;
            for (int page = 0; page < 10; ++page) {
                auto [ts, more] = s->find_tickets(q);
                for (const auto& t : ts) paged.push_back(t.fields.ref);
                if (!more) break;
                q.after = std::pair(engine::sort_value(ts.back(), sort), ts.back().fields.ref);
            }
            CHECK(paged == all);
        }
}

}  // namespace
}  // namespace store_test
