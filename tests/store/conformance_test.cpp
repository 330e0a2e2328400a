// The store conformance suite: one body of cases that every engine::Store must pass, run once per
// backend (store_sqlite_test, store_postgres_test). Each case starts from a fresh desk. What the
// store reports about itself is cross-checked through the backend's own client where it matters:
// raw UPDATEs and DELETEs the database must refuse, cache rows deleted behind its back, tables
// that must not have been created.
#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "helpers.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/migrate.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/verify.hpp"
#include "tfadesk/engine/chain.hpp"
#include "tfadesk/storage/open.hpp"

namespace store_test {
namespace {

TEST_CASE("append assigns seq, prev_hash and hash from the head: one linear chain from genesis") {
    Desk desk;
    auto s = open_rw(desk.location());
    populate(*s);
    const auto log = all_entries(*s);
    REQUIRE(log.size() == kPopulated);
    std::string prev(64, '0');
    for (std::size_t i = 0; i < log.size(); ++i) {
        CAPTURE(i);
        CHECK(log[i].seq == static_cast<std::int64_t>(i + 1));
        CHECK(log[i].prev_hash == prev);
        CHECK(log[i].hash == engine::entry_hash(log[i]));
        CHECK(log[i].hash.size() == 64);
        prev = log[i].hash;
    }
    CHECK(log.front().prev_hash == engine::kGenesisHash);
    const auto head = s->head();
    CHECK(head.seq == kPopulated);
    CHECK(head.hash == log.back().hash);
}

TEST_CASE("entries, exists, entry_at and head answer from the log") {
    Desk desk;
    auto s = open_rw(desk.location());
    CHECK(s->head().seq == 0);
    CHECK(s->head().hash == engine::kGenesisHash);
    CHECK_FALSE(s->exists("b-1"));
    CHECK(s->entries("b-1").empty());
    populate(*s);

    const auto b = s->entries("b-1");
    REQUIRE(b.size() == 6);
    for (std::size_t i = 0; i < b.size(); ++i) CHECK(b[i].tseq == static_cast<std::int64_t>(i + 1));
    CHECK(b[0].event == "open");
    CHECK(b[5].event == "approve");
    CHECK(b[5].agent == "a2");
    CHECK(b[5].state == "approved");
    CHECK(b[0].seq == 1);
    CHECK(b[5].seq == 13);
    CHECK(s->exists("b-1"));
    CHECK(s->exists("0x"));
    CHECK_FALSE(s->exists("B-1"));
    CHECK_FALSE(s->exists("b"));

    const auto e7 = s->entry_at(7);
    REQUIRE(e7);
    CHECK(e7->ref == "account:admin");
    CHECK(e7->event == "account-add");
    CHECK(same_entry(*e7, all_entries(*s)[6]));
    CHECK_FALSE(s->entry_at(0));
    CHECK_FALSE(s->entry_at(14));

    // A reader sees the same.
    s.reset();
    auto r = open_ro(desk.location());
    CHECK(r->head().seq == kPopulated);
    CHECK(r->entries("b-1").size() == 6);
    CHECK(r->exists("_z"));
}

TEST_CASE("for_each_entry_by_ticket: byte order of ref, then tseq, each with the entry before it") {
    Desk desk;
    {
        auto s = open_rw(desk.location());
        populate(*s);
    }
    auto s = open_ro(desk.location());
    const auto log = all_entries(*s);
    std::vector<std::string> refs;
    std::vector<std::pair<std::string, std::int64_t>> order;
    std::size_t n = 0;
    s->for_each_entry_by_ticket(
        [&](const LogEntry& e, const std::optional<engine::PrevEntry>& prev) {
            ++n;
            if (refs.empty() || refs.back() != e.ref) refs.push_back(e.ref);
            order.emplace_back(e.ref, e.tseq);
            CHECK(same_entry(e, log[static_cast<std::size_t>(e.seq - 1)]));
            if (e.seq == 1) {
                CHECK_FALSE(prev);
            } else {
                REQUIRE(prev);
                CHECK(prev->hash == log[static_cast<std::size_t>(e.seq - 2)].hash);
                CHECK(prev->at == log[static_cast<std::size_t>(e.seq - 2)].at);
            }
        });
    CHECK(n == kPopulated);
    // Byte order, typed in by hand: '0' < 'B' < '_' < 'a' and "a.3" < "account:" ('.' < 'c').
    CHECK(refs == std::vector<std::string>{"0x", "B-2", "_z", "a.3", "account:admin", "b-1"});
    CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("the chain continues across reopening the store") {
    Desk desk;
    std::string hash;
    {
        auto s = open_rw(desk.location());
        open(*s, fields("HD-1"), 1);
        hash = s->head().hash;
    }
    auto s = open_rw(desk.location());
    CHECK(s->head().seq == 1);
    event(*s, "HD-1", cmd(EventKind::triage, 2));
    const auto e = s->entry_at(2);
    REQUIRE(e);
    CHECK(e->prev_hash == hash);
    CHECK(e->hash == engine::entry_hash(*e));
}

TEST_CASE("the log and the seals are append-only in the database itself") {
    Desk desk;
    {
        auto s = open_rw(desk.location());
        s->set_sealer([](const engine::Head&, const engine::Head& h) {
            return "note " + std::to_string(h.seq);
        });
        populate(*s);
    }
    auto& b = backend();
    const std::string before =
        b.raw_value(desk.location(), "SELECT hash FROM events WHERE seq = 3");
    REQUIRE(before.size() == 64);
    for (const char* sql :
         {"UPDATE events SET details = '{}' WHERE seq = 3", "UPDATE events SET hash = hash",
          "DELETE FROM events WHERE seq = 13", "DELETE FROM events",
          "UPDATE seals SET note = 'forged'", "DELETE FROM seals"}) {
        CAPTURE(sql);
        const auto err = b.raw_exec(desk.location(), sql);
        REQUIRE(err);
        CHECK(contains(*err, "append-only"));
    }
    if (b.is_postgres()) {
        for (const char* sql : {"TRUNCATE events", "TRUNCATE seals", "DELETE FROM head"}) {
            CAPTURE(sql);
            CHECK(b.raw_exec(desk.location(), sql));
        }
    }
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM events") ==
          std::to_string(kPopulated));
    CHECK(b.raw_value(desk.location(), "SELECT hash FROM events WHERE seq = 3") == before);
    CHECK(b.raw_value(desk.location(), "SELECT count(*) FROM seals") == std::to_string(kPopulated));
    // INSERT stays possible: the log grows.
    auto s = open_rw(desk.location());
    event(*s, "0x", cmd(EventKind::triage, 20));
    CHECK(s->head().seq == kPopulated + 1);
}

TEST_CASE("one transaction per command: nothing survives a transaction that is not committed") {
    Desk desk;
    auto s = open_rw(desk.location());
    open(*s, fields("HD-1"), 1);
    const auto head = s->head();

    SUBCASE("destroyed uncommitted") {
        auto tx = s->begin_write();
        engine::open_ticket(*s, fields("HD-2"), "a1", at(2), true);
        engine::apply_event(*s, "HD-1", cmd(EventKind::triage, 3));
        CHECK(s->head().seq == head.seq + 3);  // the transaction sees its own entries
        CHECK(s->exists("HD-2"));
        tx.reset();
    }
    SUBCASE("a failure part way through a command") {
        CHECK_THROWS_AS(engine::in_transaction(*s,
                                               [&] {
                                                   engine::open_ticket(*s, fields("HD-2"), "a1",
                                                                       at(2), true);
                                                   engine::open_ticket(*s, fields("HD-1"), "a1",
                                                                       at(3));  // exists: conflict
                                               }),
                        Error);
    }
    SUBCASE("a large transaction, destroyed uncommitted after the store has sent part of it") {
        auto tx = s->begin_write();
        for (int i = 0; i < 700; ++i)
            engine::open_ticket(*s, fields("BIG-" + std::to_string(i)), "a1", at(2), true);
        CHECK(s->head().seq == head.seq + 1400);
        CHECK(s->ticket("BIG-5"));
        std::int64_t n = 0;
        s->for_each_entry([&](const LogEntry&) { ++n; });  // reads what it wrote so far
        CHECK(n == head.seq + 1400);
        tx.reset();
    }
    s.reset();
    auto r = open_ro(desk.location());
    CHECK(r->head().seq == head.seq);
    CHECK(r->head().hash == head.hash);
    CHECK_FALSE(r->exists("HD-2"));
    CHECK_FALSE(r->ticket("HD-2"));
    CHECK(r->ticket("HD-1")->state == "received");
    CHECK(all_tickets(*r).size() == 1);
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM events") == "1");
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM tickets") == "1");
}

TEST_CASE("existence is a question for the log, not the ticket cache") {
    Desk desk;
    auto s = open_rw(desk.location());
    open(*s, fields("HD-1"), 1);
    REQUIRE_FALSE(backend().raw_exec(desk.location(), "DELETE FROM tickets WHERE ref = 'HD-1'"));
    CHECK_FALSE(s->ticket("HD-1"));
    CHECK(s->exists("HD-1"));
    const auto e = error_of([&] { open(*s, fields("HD-1"), 2); });
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(s->head().seq == 1);
    // A row with no entries does not make a ticket exist.
    engine::Ticket ghost;
    ghost.fields = fields("GHOST");
    ghost.version = 1;
    ghost.updated_at = at(3);
    engine::in_transaction(*s, [&] { s->put_ticket(ghost); });
    CHECK(s->ticket("GHOST"));
    CHECK_FALSE(s->exists("GHOST"));
}

TEST_CASE("read-only: a missing desk is an error and nothing is created") {
    Desk desk;
    const auto e = error_of([&] { open_ro(desk.location()); });
    CHECK(e.kind() == ErrorKind::unexpected);
    CHECK(contains(e.what(), backend().is_postgres() ? "holds no tfadesk desk" : "no database at"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
    CHECK_FALSE(backend().holds_anything(desk.location()));
    CHECK_FALSE(storage::store_exists(desk.location()));
    open(*open_rw(desk.location()), fields("HD-1"), 1);  // a writer creates it
    CHECK(storage::store_exists(desk.location()));
    CHECK(open_ro(desk.location())->head().seq == 1);
}

TEST_CASE("read-only: every write is refused and one snapshot is kept") {
    Desk desk;
    auto w = open_rw(desk.location());
    populate(*w);
    auto r = open_ro(desk.location());
    const auto head = r->head();

    CHECK_THROWS_AS(
        engine::in_transaction(*r, [&] { engine::open_ticket(*r, fields("NEW"), "a1", at(20)); }),
        Error);
    CHECK_THROWS_AS(engine::in_transaction(*r,
                                           [&] {
                                               r->put_seal({1, head.hash, "forged"});
                                           }),
                    Error);
    CHECK_THROWS_AS(r->put_seal({1, head.hash, "forged"}), Error);  // nor outside a transaction
    CHECK_FALSE(r->last_seal());

    // A writer commits meanwhile: the reader still sees its snapshot.
    event(*w, "0x", cmd(EventKind::triage, 21));
    open(*w, fields("LATER"), 22);
    CHECK(w->head().seq == kPopulated + 2);
    CHECK(r->head().seq == head.seq);
    CHECK(r->head().hash == head.hash);
    CHECK_FALSE(r->exists("LATER"));
    CHECK(r->entries("0x").size() == 1);
    CHECK(r->ticket("0x")->state == "received");
    CHECK(all_entries(*r).size() == kPopulated);
    CHECK(all_tickets(*r).size() == 5);
    CHECK_FALSE(r->entry_at(kPopulated + 1));
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM events") ==
          std::to_string(kPopulated + 2));
}

TEST_CASE("the sealer: called once per transaction that appended, its note stored as the seal") {
    Desk desk;
    auto s = open_rw(desk.location());
    int calls = 0;
    engine::Head sealed;
    s->set_sealer([&](const engine::Head&, const engine::Head& h) {
        ++calls;
        sealed = h;
        return "seal of " + std::to_string(h.seq) + ":" + h.hash;
    });
    CHECK_FALSE(s->last_seal());

    engine::in_transaction(*s, [&] {
        engine::open_ticket(*s, fields("HD-1"), "a1", at(1), true);
        engine::open_ticket(*s, fields("HD-2"), "a1", at(1), true);
    });
    CHECK(calls == 1);
    CHECK(sealed.seq == 4);
    CHECK(sealed.hash == s->entry_at(4)->hash);
    auto seal = s->last_seal();
    REQUIRE(seal);
    CHECK(seal->seq == 4);
    CHECK(seal->hash == sealed.hash);
    CHECK(seal->note == "seal of 4:" + sealed.hash);

    engine::in_transaction(*s, [&] { CHECK(s->exists("HD-1")); });  // appended nothing
    CHECK(calls == 1);
    { auto tx = s->begin_write(); }  // nothing at all
    CHECK(calls == 1);
    {
        auto tx = s->begin_write();
        engine::open_ticket(*s, fields("HD-3"), "a1", at(2));
    }  // rolled back: not sealed (the sealer runs at commit)
    CHECK(calls == 1);
    account_change(*s, engine::AccountChange::add, "admin", {"admin"},
                   3);  // an account change is an append too
    CHECK(calls == 2);
    CHECK(s->last_seal()->seq == 5);

    std::vector<std::int64_t> seqs;
    s->for_each_seal([&](const engine::Seal& x, const std::optional<std::string>& log_hash) {
        seqs.push_back(x.seq);
        REQUIRE(log_hash);
        CHECK(*log_hash == s->entry_at(x.seq)->hash);
        CHECK(x.hash == *log_hash);
    });
    CHECK(seqs == std::vector<std::int64_t>{4, 5});
}

TEST_CASE("seals are listed in seq order with the hash the log holds at their seq") {
    Desk desk;
    auto s = open_rw(desk.location());
    open(*s, fields("HD-1"), 1);
    open(*s, fields("HD-2"), 2);
    const std::string h1 = s->entry_at(1)->hash;
    engine::in_transaction(*s, [&] {
        s->put_seal({9, std::string(64, 'f'), "beyond the head"});
        s->put_seal({1, h1, "first"});
        s->put_seal({2, std::string(64, 'e'), "wrong hash"});
    });
    std::vector<std::pair<engine::Seal, std::optional<std::string>>> seen;
    auto r = open_ro(desk.location());
    r->for_each_seal([&](const engine::Seal& x, const std::optional<std::string>& h) {
        seen.emplace_back(x, h);
    });
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].first.seq == 1);
    CHECK(seen[0].first.note == "first");
    CHECK(seen[0].second == h1);
    CHECK(seen[1].first.seq == 2);
    CHECK(seen[1].first.hash == std::string(64, 'e'));
    CHECK(seen[1].second == r->entry_at(2)->hash);
    CHECK(seen[2].first.seq == 9);
    CHECK_FALSE(seen[2].second);
    CHECK(r->last_seal()->seq == 9);
}

TEST_CASE("accounts: the cache row, the token hash and account_by_token") {
    Desk desk;
    auto s = open_rw(desk.location());
    CHECK_FALSE(s->has_accounts());
    const std::string t1(64, '1'), t2(64, '2'), t3(64, '3');
    account_change(*s, engine::AccountChange::add, "admin", {"admin", "agent"}, 1, t1);
    account_change(*s, engine::AccountChange::add, "bob", {"agent"}, 2, t2);
    CHECK(s->has_accounts());
    const auto admin = s->account("admin");
    REQUIRE(admin);
    CHECK(admin->roles == std::set<std::string, std::less<>>{"admin", "agent"});
    CHECK(admin->enabled);
    CHECK(admin->created_at == at(1));
    CHECK(admin->version == 1);
    CHECK(s->account_by_token(t1)->name == "admin");
    CHECK(s->account_by_token(t2)->name == "bob");
    CHECK_FALSE(s->account_by_token(t3));
    CHECK(s->account_token_hash("bob") == t2);

    // A change without a token keeps the token; a new token replaces the old one at once.
    account_change(*s, engine::AccountChange::grant, "bob", {"approver"}, 3);
    CHECK(s->account_by_token(t2)->roles.count("approver") == 1);
    account_change(*s, engine::AccountChange::token, "bob", {}, 4, t3);
    CHECK_FALSE(s->account_by_token(t2));
    CHECK(s->account_by_token(t3)->name == "bob");
    account_change(*s, engine::AccountChange::disable, "bob", {}, 5);
    const auto bob = s->account("bob");
    CHECK_FALSE(bob->enabled);
    CHECK(bob->version == 4);
    CHECK(bob->updated_at == at(5));
    CHECK(bob->created_at == at(2));

    // The token hash is UNIQUE: a second account with the same one is refused, nothing written.
    const auto head = s->head();
    CHECK_THROWS_AS(account_change(*s, engine::AccountChange::add, "carol", {"agent"}, 6, t1),
                    Error);
    CHECK(s->head().seq == head.seq);
    CHECK_FALSE(s->account("carol"));

    std::vector<std::string> names;
    s->for_each_account([&](const engine::Account& a) { names.push_back(a.name); });
    CHECK(names == std::vector<std::string>{"admin", "bob"});
    CHECK(s->entries("account:bob").size() == 4);
    auto r = open_ro(desk.location());
    CHECK(r->account_by_token(t3)->name == "bob");
    CHECK(*r->account("admin") == *admin);
}

TEST_CASE("ticket_cursor and for_each_ticket: every row in byte order of ref") {
    Desk desk;
    auto s = open_rw(desk.location());
    populate(*s);
    engine::Ticket ghost;  // a row without entries is still a row
    ghost.fields = fields("Z-ghost");
    ghost.version = 1;
    ghost.updated_at = at(30);
    engine::in_transaction(*s, [&] { s->put_ticket(ghost); });
    const std::vector<std::string> expected = {"0x", "B-2", "Z-ghost", "_z", "a.3", "b-1"};

    std::vector<std::string> listed;
    for (const auto& t : all_tickets(*s)) listed.push_back(t.fields.ref);
    CHECK(listed == expected);

    auto r = open_ro(desk.location());
    auto next = r->ticket_cursor();
    std::vector<std::string> walked;
    while (auto t = next()) walked.push_back(t->fields.ref);
    CHECK(walked == expected);
    CHECK_FALSE(next());

    std::vector<std::string> approved;
    r->for_each_ticket(std::string("approved"),
                       [&](const engine::Ticket& t) { approved.push_back(t.fields.ref); });
    CHECK(approved == std::vector<std::string>{"b-1"});
    const auto b = r->ticket("b-1");
    REQUIRE(b);
    CHECK(b->state == "approved");
    CHECK(b->version == 6);
    CHECK(b->checks.size() == 3);
    CHECK(b->checks.at("lost_access") == "a1");
    CHECK(b->check_agents == std::set<std::string, std::less<>>{"a1"});
    CHECK(b->updated_at == at(13));
    CHECK(b->unreadable.empty());
    const auto a3 = r->ticket("a.3");
    CHECK(a3->fields.requester_role == Role::unknown);
    CHECK(a3->fields.client_id == "acct-a.3");
    CHECK_FALSE(a3->fields.waba_id);
}

TEST_CASE("a cache row holding values the rules do not know is read as a problem, not as unknown") {
    Desk desk;
    {
        auto s = open_rw(desk.location());
        open(*s, fields("HD-1"), 1);
    }
    REQUIRE_FALSE(backend().raw_exec(
        desk.location(),
        "UPDATE tickets SET requester_role = 'boss', checks = 'not json' WHERE ref = 'HD-1'"));
    auto r = open_ro(desk.location());
    const auto t = r->ticket("HD-1");
    REQUIRE(t);
    CHECK(t->unreadable == std::vector<std::string>{"requester_role 'boss'", "checks"});
}

TEST_CASE("refs_in_state and stats") {
    Desk desk;
    auto s = open_rw(desk.location());
    open(*s, fields("T1"), 1);  // opened first, completed at 10
    open(*s, fields("T3", Role::unknown, Access::unknown), 2);
    open(*s, fields("T2", Role::unknown, Access::unknown), 3);
    event(*s, "T1", cmd(EventKind::triage, 4));
    event(*s, "T1", check("client_of_record", 5));
    event(*s, "T1", check("number_ownership", 6));
    event(*s, "T1", check("lost_access", 7));
    event(*s, "T1", cmd(EventKind::approve, 8, "a2"));
    auto submit = cmd(EventKind::submit_disable, 9, "a2");
    submit.reference = "SUB-1";
    event(*s, "T1", submit);
    event(*s, "T1", cmd(EventKind::confirm_disabled, 10, "a2"));
    // T3 and T2 wait since the same moment: the oldest is named by the smaller ref.
    engine::in_transaction(*s, [&] {
        engine::apply_event(*s, "T3", cmd(EventKind::triage, 11));
        engine::apply_event(*s, "T2", cmd(EventKind::triage, 11));
    });
    CHECK(s->refs_in_state("awaiting_requester") == std::vector<std::string>{"T2", "T3"});
    CHECK(s->refs_in_state("completed") == std::vector<std::string>{"T1"});
    CHECK(s->refs_in_state("received").empty());

    auto r = open_ro(desk.location());
    const auto all = r->stats(std::nullopt);
    using Count = std::pair<std::string, std::int64_t>;
    CHECK(all.per_state == std::vector<Count>{{"awaiting_requester", 2}, {"completed", 1}});
    CHECK(all.open_to_completed_ms == std::vector<std::int64_t>{9000});
    REQUIRE(all.oldest.size() == 2);
    CHECK(all.oldest[0].first == "awaiting_requester");
    CHECK(all.oldest[0].second == std::make_pair(std::string("T2"), at(11)));
    CHECK(all.oldest[1].first == "completed");
    CHECK(all.oldest[1].second == std::make_pair(std::string("T1"), at(10)));

    const auto later = r->stats(at(2));  // T1 was opened before
    CHECK(later.per_state == std::vector<Count>{{"awaiting_requester", 2}});
    CHECK(later.open_to_completed_ms.empty());
    REQUIRE(later.oldest.size() == 1);
    CHECK(later.oldest[0].second.first == "T2");
    CHECK(r->stats(at(3)).per_state == std::vector<Count>{{"awaiting_requester", 1}});
}

TEST_CASE("append_verbatim keeps seq and hashes, and refuses what does not follow the head") {
    Desk src_desk, dst_desk;
    auto src = open_rw(src_desk.location());
    populate(*src);
    const auto log = all_entries(*src);
    auto dst = open_rw(dst_desk.location());
    int sealed = 0;
    dst->set_sealer(
        [&](const engine::Head&, const engine::Head&) { return std::to_string(++sealed); });

    auto refused = [&](LogEntry e) {
        const auto before = dst->head();
        const auto err =
            error_of([&] { engine::in_transaction(*dst, [&] { dst->append_verbatim(e); }); });
        CHECK(err.kind() == ErrorKind::integrity);
        CHECK(contains(err.what(), "seq " + std::to_string(e.seq)));
        CHECK(dst->head().seq == before.seq);
        return std::string(err.what());
    };
    CHECK(contains(refused(log[1]), "expected seq 1"));  // a gap
    LogEntry edited = log[0];
    edited.details = "{}";
    CHECK(contains(refused(edited), "hash does not match"));
    LogEntry relinked = log[0];
    relinked.prev_hash = std::string(64, '1');
    CHECK(contains(refused(relinked), "prev_hash"));

    engine::in_transaction(*dst, [&] {
        for (const auto& e : log) dst->append_verbatim(e);
    });
    CHECK(sealed == 0);  // copies are not new appends: their seals come with them
    const auto copy = all_entries(*dst);
    REQUIRE(copy.size() == log.size());
    for (std::size_t i = 0; i < log.size(); ++i) CHECK(same_entry(copy[i], log[i]));
    CHECK(dst->head().hash == src->head().hash);
    CHECK_FALSE(dst->ticket("b-1"));  // no cache rows: migrate rebuilds them
    LogEntry again = log.back();
    CHECK(contains(refused(again), "expected seq 14"));
    // And the chain goes on from the copied head.
    open(*dst, fields("AFTER"), 40);
    CHECK(dst->entry_at(kPopulated + 1)->prev_hash == log.back().hash);
}

// Every row of a desk, for comparing a copy with its original.
struct Snapshot {
    std::vector<LogEntry> log;
    std::vector<engine::Ticket> tickets;
    std::vector<std::pair<engine::Account, std::optional<std::string>>> accounts;
    std::vector<std::pair<engine::Seal, std::optional<std::string>>> seals;
    engine::Head head;
};

Snapshot snapshot(Store& s) {
    Snapshot out;
    out.log = all_entries(s);
    out.tickets = all_tickets(s);
    s.for_each_account([&](const engine::Account& a) {
        out.accounts.emplace_back(a, s.account_token_hash(a.name));
    });
    s.for_each_seal([&](const engine::Seal& x, const std::optional<std::string>& h) {
        out.seals.emplace_back(x, h);
    });
    out.head = s.head();
    return out;
}

void check_same(const Snapshot& a, const Snapshot& b) {
    REQUIRE(a.log.size() == b.log.size());
    for (std::size_t i = 0; i < a.log.size(); ++i) CHECK(same_entry(a.log[i], b.log[i]));
    REQUIRE(a.tickets.size() == b.tickets.size());
    for (std::size_t i = 0; i < a.tickets.size(); ++i) {
        CHECK(a.tickets[i].fields.ref == b.tickets[i].fields.ref);
        CHECK(engine::differences(a.tickets[i], b.tickets[i]).empty());
        CHECK(engine::to_json(a.tickets[i]) == engine::to_json(b.tickets[i]));
    }
    REQUIRE(a.accounts.size() == b.accounts.size());
    for (std::size_t i = 0; i < a.accounts.size(); ++i) {
        CHECK(a.accounts[i].first == b.accounts[i].first);
        CHECK(a.accounts[i].second == b.accounts[i].second);
    }
    REQUIRE(a.seals.size() == b.seals.size());
    for (std::size_t i = 0; i < a.seals.size(); ++i) {
        CHECK(a.seals[i].first.seq == b.seals[i].first.seq);
        CHECK(a.seals[i].first.hash == b.seals[i].first.hash);
        CHECK(a.seals[i].first.note == b.seals[i].first.note);
        CHECK(a.seals[i].second == b.seals[i].second);
    }
    CHECK(a.head.seq == b.head.seq);
    CHECK(a.head.hash == b.head.hash);
}

TEST_CASE(
    "migrate copies a desk verbatim to and from this store: caches rebuilt, tokens and seals "
    "kept") {
    SqliteBackend files;  // the other side: SQLite (for the SQLite run, SQLite -> SQLite)
    Desk desk;
    const std::string other = files.fresh(), back = files.fresh();
    {
        auto s = open_rw(desk.location());
        s->set_sealer([](const engine::Head&, const engine::Head& h) {
            return "note " + std::to_string(h.seq) + " " + h.hash;
        });
        populate(*s);
        account_change(*s, engine::AccountChange::token, "admin", {}, 20, std::string(64, 'b'));
    }
    auto src = open_ro(desk.location());
    const Snapshot original = snapshot(*src);
    REQUIRE(original.seals.size() == kPopulated + 1);

    auto out = open_rw(other);
    std::int64_t progress = 0;
    const auto n = desk::migrate(*src, *out, [&](std::int64_t k) { progress = k; });
    CHECK(n.entries == kPopulated + 1);
    CHECK(progress == kPopulated + 1);
    CHECK(n.tickets == 5);
    CHECK(n.accounts == 1);
    CHECK(n.seals == kPopulated + 1);
    CHECK(n.head.seq == original.head.seq);
    CHECK(n.head.hash == original.head.hash);
    check_same(original, snapshot(*open_ro(other)));

    // ... and back into a fresh store of this backend, and once more to SQLite.
    Desk again;
    desk::migrate(*open_ro(other), *open_rw(again.location()));
    check_same(original, snapshot(*open_ro(again.location())));
    desk::migrate(*open_ro(again.location()), *open_rw(back));
    check_same(original, snapshot(*open_ro(back)));
}

// Nothing at all, or a desk without entries, rows or seals.
bool empty_desk(const std::string& location) {
    if (!storage::store_exists(location)) return true;
    auto s = open_ro(location);
    return s->head().seq == 0 && !s->ticket_cursor()() && !s->has_accounts() && !s->last_seal();
}

TEST_CASE("migrate refuses a destination that is not empty, and a source that does not verify") {
    Desk desk;
    {
        auto s = open_rw(desk.location());
        populate(*s);
    }
    SUBCASE("a destination with entries: conflict, nothing written") {
        Desk dst;
        open(*open_rw(dst.location()), fields("THERE"), 1);
        const auto e =
            error_of([&] { desk::migrate(*open_ro(desk.location()), *open_rw(dst.location())); });
        CHECK(e.kind() == ErrorKind::conflict);
        CHECK(contains(e.what(), "not empty"));
        CHECK(open_ro(dst.location())->head().seq == 1);
    }
    SUBCASE("a destination with only a ticket row: conflict") {
        Desk dst;
        auto d = open_rw(dst.location());
        engine::Ticket ghost;
        ghost.fields = fields("GHOST");
        ghost.updated_at = at(1);
        engine::in_transaction(*d, [&] { d->put_ticket(ghost); });
        CHECK(error_of([&] { desk::migrate(*open_ro(desk.location()), *d); }).kind() ==
              ErrorKind::conflict);
    }
    SUBCASE("an entry edited in the source: integrity naming it, the destination left empty") {
        auto& b = backend();
        REQUIRE_FALSE(b.raw_exec(
            desk.location(),
            b.disable_triggers_sql() + "UPDATE events SET agent = 'mallory' WHERE seq = 8;"));
        Desk dst;
        const auto e =
            error_of([&] { desk::migrate(*open_ro(desk.location()), *open_rw(dst.location())); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(contains(e.what(), "entry seq 8"));
        CHECK(contains(e.what(), "hash does not match"));
        CHECK(empty_desk(dst.location()));
    }
    SUBCASE("an entry deleted from the source: integrity at the gap") {
        auto& b = backend();
        REQUIRE_FALSE(b.raw_exec(desk.location(),
                                 b.disable_triggers_sql() + "DELETE FROM events WHERE seq = 5;"));
        Desk dst;
        const auto e =
            error_of([&] { desk::migrate(*open_ro(desk.location()), *open_rw(dst.location())); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(contains(e.what(), "entry seq 6"));
        CHECK(empty_desk(dst.location()));
    }
}

TEST_CASE("a store that is not a tfadesk desk, or from a newer tfadesk, is refused") {
    Desk desk;
    auto& b = backend();
    SUBCASE("another application's tables") {
        REQUIRE_FALSE(b.raw_exec(desk.location(),
                                 "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER);"
                                 "INSERT INTO invoices VALUES (1, 100);"));
        for (auto mode : {Store::Mode::read_write, Store::Mode::read_only}) {
            const auto e = error_of([&] { storage::open_store(desk.location(), mode); });
            CHECK(e.kind() == ErrorKind::unexpected);
            CHECK(contains(e.what(), "not a tfadesk"));
        }
        CHECK(b.raw_value(desk.location(), "SELECT total FROM invoices") == "100");
        if (b.is_postgres()) CHECK_FALSE(storage::store_exists(desk.location()));
    }
    SUBCASE("a newer schema") {
        open(*open_rw(desk.location()), fields("HD-1"), 1);
        REQUIRE_FALSE(b.raw_exec(desk.location(),
                                 b.is_postgres() ? "UPDATE tfadesk_meta SET schema_version = 99"
                                                 : "PRAGMA user_version = 99"));
        for (auto mode : {Store::Mode::read_write, Store::Mode::read_only}) {
            const auto e = error_of([&] { storage::open_store(desk.location(), mode); });
            CHECK(contains(e.what(), "newer tfadesk"));
        }
    }
}

TEST_CASE("a large transaction: 1,200 tickets in one write, every scan streams them all") {
    Desk desk;
    auto s = open_rw(desk.location());
    engine::in_transaction(*s, [&] {
        for (int i = 0; i < 1200; ++i) {
            char ref[16];
            std::snprintf(ref, sizeof ref, "L-%04d", 1199 - i);
            CHECK_FALSE(s->exists(ref));
            engine::open_if_new(*s, fields(ref), "a1", at(1), i % 2 == 0);
            CHECK(s->exists(ref));
            CHECK_FALSE(
                engine::open_if_new(*s, fields(ref), "a1", at(1)));  // a duplicate in the same file
        }
    });
    auto r = open_ro(desk.location());
    CHECK(r->head().seq == 1800);
    std::int64_t seq = 0;
    r->for_each_entry([&](const LogEntry& e) { CHECK(e.seq == ++seq); });
    CHECK(seq == 1800);
    std::string last;
    std::size_t n = 0;
    r->for_each_entry_by_ticket([&](const LogEntry& e, const std::optional<engine::PrevEntry>&) {
        CHECK(last <= e.ref);
        last = e.ref;
        ++n;
    });
    CHECK(n == 1800);
    auto next = r->ticket_cursor();
    std::size_t rows = 0;
    while (auto t = next()) {
        CHECK(t->fields.ref ==
              "L-" + std::string(4 - std::to_string(rows).size(), '0') + std::to_string(rows));
        ++rows;
    }
    CHECK(rows == 1200);
    CHECK(r->refs_in_state("received").size() == 600);
}

// --- PostgreSQL only -------------------------------------------------------------------------

TEST_CASE("postgres: a password in the URI never appears in a message or in location()") {
    if (!backend().is_postgres()) return;
    auto& pg = static_cast<PgBackend&>(backend());
    Desk desk;
    const std::string secret = "Sup3rS3cretPw";
    SUBCASE("a server that is not there") {
        for (const std::string& uri :
             {"postgresql://alice:" + secret + "@127.0.0.1:1/desk",
              "postgres://alice:" + secret + "%zz@127.0.0.1:1/desk",
              "postgresql://127.0.0.1:1/desk?user=alice&password=" + secret,
              // the key percent-encoded: libpq decodes it, so must the mask
              "postgresql://127.0.0.1:1/desk?user=alice&pass%77ord=" + secret}) {
            CAPTURE(uri);
            for (auto mode : {Store::Mode::read_write, Store::Mode::read_only}) {
                const auto e = error_of([&] { storage::open_store(uri, mode); });
                CHECK(e.kind() == ErrorKind::unexpected);
                CHECK_FALSE(contains(e.what(), secret));
                CHECK(contains(e.what(), "***"));
                CHECK(contains(e.what(), "cannot connect"));
                CHECK(std::string(e.what()).find('\n') == std::string::npos);
            }
            CHECK_THROWS_AS(storage::store_exists(uri), Error);
        }
    }
    SUBCASE("a server that lets us in (trust), then a failure") {
        const std::string uri = with_user(desk.location(), "tfadesk", secret);
        auto s = open_rw(uri);
        CHECK_FALSE(contains(s->location(), secret));
        CHECK(contains(s->location(), "tfadesk:***@"));
        open(*s, fields("HD-1"), 1);
        REQUIRE_FALSE(pg.raw_exec(desk.location(),
                                  "CREATE UNIQUE INDEX no_second_open ON events (agent, event)"));
        const auto e = error_of([&] { open(*s, fields("HD-2"), 2); });  // the index refuses it
        CHECK_FALSE(contains(e.what(), secret));
        CHECK(contains(e.what(), "tfadesk:***@"));
        CHECK(contains(e.what(), "SQLSTATE 23505"));
    }
}

TEST_CASE("postgres: a role granted only SELECT reads everything and writes nothing") {
    if (!backend().is_postgres()) return;
    auto& pg = static_cast<PgBackend&>(backend());
    Desk desk;
    {
        auto s = open_rw(desk.location());
        s->set_sealer([](const engine::Head&, const engine::Head& h) {
            return "note " + std::to_string(h.seq);
        });
        populate(*s);
        s->append_access(
            {engine::AccessRecord{at(30), "admin", "GET /api/v1/tickets/b-1", {"b-1"}, 1, "::1"}});
    }
    const std::string auditor = pg.reader(desk.location());
    auto r = open_ro(auditor);
    CHECK(r->head().seq == kPopulated);
    CHECK(all_entries(*r).size() == kPopulated);
    std::size_t n = 0;
    r->for_each_entry_by_ticket(
        [&](const LogEntry&, const std::optional<engine::PrevEntry>&) { ++n; });
    CHECK(n == kPopulated);
    CHECK(r->entries("b-1").size() == 6);
    CHECK(r->exists("b-1"));
    CHECK(r->entry_at(3));
    CHECK(r->ticket("b-1"));
    CHECK(all_tickets(*r).size() == 5);
    auto next = r->ticket_cursor();
    CHECK(next());
    CHECK(r->refs_in_state("received").size() == 2);
    CHECK_FALSE(r->stats(std::nullopt).per_state.empty());
    CHECK(r->has_accounts());
    CHECK(r->account("admin"));
    CHECK(r->account_by_token(std::string(64, 'a')));
    CHECK(r->last_seal());
    std::size_t seals = 0;
    r->for_each_seal([&](const engine::Seal&, const std::optional<std::string>&) { ++seals; });
    CHECK(seals == kPopulated);
    std::size_t reads = 0;
    r->for_each_access({}, [&](const engine::AccessRecord&) { ++reads; });
    CHECK(reads == 1);
    CHECK(storage::store_exists(auditor));
    next = {};
    r.reset();

    const auto e = error_of([&] { open(*open_rw(auditor), fields("NEW"), 30); });
    CHECK(e.kind() == ErrorKind::unexpected);
    CHECK(contains(e.what(), "permission denied"));
    CHECK(pg.raw_value(desk.location(), "SELECT count(*) FROM events") ==
          std::to_string(kPopulated));
    // And a role that may not even read is told so, on one line.
    REQUIRE_FALSE(pg.raw_exec(desk.location(), "REVOKE SELECT ON events FROM " +
                                                   database_of(auditor).insert(0, "auditor_")));
    const auto denied = error_of([&] { all_entries(*open_ro(auditor)); });
    CHECK(contains(denied.what(), "permission denied for table events"));
}

TEST_CASE(
    "postgres: a writer role that does not own the tables writes everything but cannot switch the "
    "triggers off") {
    if (!backend().is_postgres()) return;
    auto& pg = static_cast<PgBackend&>(backend());
    Desk desk;
    open(*open_rw(desk.location()), fields("FIRST"), 0);  // the owner creates the schema
    const std::string writer = pg.writer(desk.location());
    {
        auto s = open_rw(writer);
        s->set_sealer([](const engine::Head&, const engine::Head& h) {
            return "note " + std::to_string(h.seq);
        });
        populate(*s);
        account_change(*s, engine::AccountChange::token, "admin", {}, 20, std::string(64, 'c'));
        s->append_access(
            {engine::AccessRecord{at(21), "admin", "GET /api/v1/tickets/b-1", {"b-1"}, 1, "::1"}});
    }
    auto r = open_ro(writer);
    std::size_t reads = 0;
    r->for_each_access({"b-1", "admin", std::nullopt},
                       [&](const engine::AccessRecord&) { ++reads; });
    CHECK(reads == 1);
    CHECK(r->head().seq == kPopulated + 2);
    CHECK(r->account_by_token(std::string(64, 'c')));
    CHECK(r->last_seal()->seq == kPopulated + 2);
    CHECK(r->ticket("b-1")->state == "approved");
    for (const char* sql :
         {"ALTER TABLE events DISABLE TRIGGER USER", "DROP TRIGGER events_no_update ON events",
          "UPDATE events SET agent = 'mallory'", "DELETE FROM seals", "TRUNCATE events",
          "ALTER TABLE access_log DISABLE TRIGGER USER", "DELETE FROM access_log"}) {
        CAPTURE(sql);
        CHECK(pg.raw_exec(writer, sql));
    }
    CHECK(pg.raw_value(desk.location(), "SELECT count(*) FROM events WHERE agent = 'mallory'") ==
          "0");
}

TEST_CASE(
    "postgres: every text column compares in byte order (COLLATE \"C\"), whatever the database's "
    "default") {
    if (!backend().is_postgres()) return;
    Desk desk;
    open(*open_rw(desk.location()), fields("HD-1"), 1);
    auto& b = backend();
    CHECK(
        b.raw_value(desk.location(),
                    "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'") == "0");
    CHECK(
        b.raw_value(desk.location(),
                    "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND column_name = 'ref'") ==
        "5");  // events, tickets, access_log_refs, outbox_links, outbox
}

TEST_CASE("postgres: the schema is created by the first write, inside its transaction") {
    if (!backend().is_postgres()) return;
    Desk desk;
    auto& b = backend();
    auto s = open_rw(desk.location());
    CHECK_FALSE(b.holds_anything(desk.location()));  // opening creates nothing
    CHECK(s->head().seq == 0);                       // and reads as an empty desk
    CHECK_FALSE(s->exists("HD-1"));
    CHECK_FALSE(s->ticket_cursor()());
    CHECK_THROWS_AS(engine::in_transaction(*s,
                                           [&] {
                                               engine::open_ticket(*s, fields("HD-1"), "a1", at(1));
                                               throw Error(ErrorKind::unexpected,
                                                           "the command fails");
                                           }),
                    Error);
    CHECK_FALSE(b.holds_anything(desk.location()));  // the failed first write left nothing
    CHECK_FALSE(storage::store_exists(desk.location()));
    // Another process creates it meanwhile: this store sees it without reopening.
    open(*open_rw(desk.location()), fields("HD-2"), 2);
    CHECK(s->exists("HD-2"));
    open(*s, fields("HD-1"), 3);
    CHECK(b.raw_value(desk.location(), "SELECT schema_version FROM tfadesk_meta") ==
          "6");  // the current schema (6: the state index as on SQLite)
    CHECK(s->head().seq == 2);
}

TEST_CASE("postgres: processes racing to create the schema: exactly one creates it, all succeed") {
    if (!backend().is_postgres()) return;
    Desk desk;
    std::vector<std::thread> racers;
    std::atomic<int> ok{0};
    std::vector<std::string> errors(6);
    for (int i = 0; i < 6; ++i)
        racers.emplace_back([&, i] {
            try {
                auto s = open_rw(desk.location());
                open(*s, fields("R-" + std::to_string(i)), i);
                ++ok;
            } catch (const std::exception& e) {
                errors[static_cast<std::size_t>(i)] = e.what();
            }
        });
    for (auto& t : racers) t.join();
    for (const auto& e : errors) CHECK_MESSAGE(e.empty(), e);
    CHECK(ok == 6);
    auto r = open_ro(desk.location());
    CHECK(r->head().seq == 6);
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM tfadesk_meta") == "1");
}

TEST_CASE("postgres: the head row is the lock; one that disagrees with the log stops every write") {
    if (!backend().is_postgres()) return;
    Desk desk;
    auto s = open_rw(desk.location());
    open(*s, fields("HD-1"), 1);
    CHECK(backend().raw_value(desk.location(), "SELECT seq || ':' || hash FROM head") ==
          "1:" + s->entry_at(1)->hash);
    REQUIRE_FALSE(backend().raw_exec(desk.location(), "UPDATE head SET seq = 7"));
    const auto e = error_of([&] { open(*s, fields("HD-2"), 2); });
    CHECK(contains(e.what(), "disagrees with the log"));
    CHECK(backend().raw_value(desk.location(), "SELECT count(*) FROM events") == "1");
}

// --- identity from the log, at the desk level, on every store (SPEC §12) ------------------------
// The desk layer decides who acts from the account entries of the log; the accounts table is a
// cache that someone with the database (SQLite file, PostgreSQL owner) can edit through the
// backend's own client. None of these edits may let anyone act.

// `tfa_` and 64 hex digits, as the desk issues tokens, but made up here.
std::string made_up_token(const std::string& seed) {
    return "tfa_" + engine::sha256_hex("attacker's own token: " + seed);
}

rules::RawFields raw_ticket(const std::string& ref, const std::string& phone,
                            const std::string& email, const std::string& role = "client",
                            const std::string& access = "no") {
    return {{"ref", ref},
            {"phone", phone},
            {"client_id", "acme"},
            {"requester_email", email},
            {"requester_role", role},
            {"portfolio_access", access}};
}

desk::EventRequest request(const std::string& event, const desk::Actor& by) {
    desk::EventRequest r;
    r.event = event;
    r.agent = by.name;
    r.token_id = by.token_id;
    return r;
}

// root (admin, added by `setup`), alice (agent), carol (approver), each with the token it was
// issued; T-1 opened and triaged by alice, its three checks recorded by alice, so that only carol
// may approve it.
struct IdentityDesk {
    Desk place;
    std::unique_ptr<Store> s = open_rw(place.location());
    std::string root, alice, carol;  // the tokens their holders keep
    desk::Actor by_alice, by_carol;
    IdentityDesk() {
        root = desk::add_account(*s, "root", {"admin"}, desk::Actor{"setup"}).token;
        const desk::Actor by_root{"root", desk::token_id(root)};
        alice = desk::add_account(*s, "alice", {"agent"}, by_root).token;
        carol = desk::add_account(*s, "carol", {"approver"}, by_root).token;
        by_alice = desk::Actor{"alice", desk::token_id(alice)};
        by_carol = desk::Actor{"carol", desk::token_id(carol)};
        desk::open_ticket(*s, raw_ticket("T-1", "+4915100000081", "t1@client.example"), by_alice,
                          true);
        for (const char* c : {"client_of_record", "number_ownership", "lost_access"}) {
            auto r = request("check-passed", by_alice);
            r.check = c;
            desk::apply_event(*s, "T-1", r);
        }
        REQUIRE(s->ticket("T-1")->state == "identity_check");
    }
    const std::string& location() const { return place.location(); }
    // The Error(forbidden) that approving T-1 as `by` throws; nothing may be written.
    void approve_forbidden(const desk::Actor& by) {
        const auto head = s->head();
        const auto e = error_of([&] { desk::apply_event(*s, "T-1", request("approve", by)); });
        CHECK(e.kind() == ErrorKind::forbidden);
        CHECK(s->head().seq == head.seq);
        CHECK(s->head().hash == head.hash);
        CHECK(s->ticket("T-1")->state == "identity_check");
    }
    desk::VerifyReport verify() { return desk::verify(*open_ro(location()), {}); }
};

bool a_problem_names(const desk::VerifyReport& v, const std::string& text) {
    for (const auto& p : v.problems)
        if (contains(p, text)) return true;
    return false;
}

TEST_CASE(
    "identity: a token hash swapped into carol's account row authenticates nobody and approves "
    "nothing") {
    IdentityDesk d;
    auto& b = backend();
    REQUIRE(d.verify().ok());
    const auto head = d.s->head();
    // Before: carol's token is carol.
    REQUIRE(desk::authenticate(*d.s, d.carol));
    REQUIRE(desk::authenticate(*d.s, d.carol)->name == "carol");
    REQUIRE(b.raw_value(d.location(), "SELECT token_hash FROM accounts WHERE name = 'carol'") ==
            engine::sha256_hex(d.carol));

    const std::string forged = made_up_token("carol");
    REQUIRE_FALSE(b.raw_exec(d.location(), "UPDATE accounts SET token_hash = '" +
                                               engine::sha256_hex(forged) +
                                               "' WHERE name = 'carol'"));
    CHECK_FALSE(desk::authenticate(*d.s, forged));
    CHECK_FALSE(desk::authenticate_actor(*d.s, forged));
    const desk::Actor as_carol{"carol", desk::token_id(forged)};
    const auto e =
        error_of([&] { desk::authorize(*d.s, as_carol, "approver", "approve tickets"); });
    CHECK(e.kind() == ErrorKind::forbidden);
    d.approve_forbidden(as_carol);
    // The row left in place: verify names it.
    const auto v = d.verify();
    CHECK_FALSE(v.ok());
    CHECK(a_problem_names(v, "carol"));
    CHECK(v.head.seq == head.seq);

    // Put back: carol's own token is carol again, and the log holds nothing of the attempt.
    REQUIRE_FALSE(b.raw_exec(d.location(), "UPDATE accounts SET token_hash = '" +
                                               engine::sha256_hex(d.carol) +
                                               "' WHERE name = 'carol'"));
    CHECK(d.verify().ok());
    CHECK(d.s->head().hash == head.hash);
    const auto who = desk::authenticate_actor(*d.s, d.carol);
    REQUIRE(who);
    CHECK(who->name == "carol");
    CHECK(who->token_id == d.by_carol.token_id);
    desk::apply_event(*d.s, "T-1", request("approve", *who));  // control: the real token approves
    CHECK(d.s->ticket("T-1")->state == "approved");
}

TEST_CASE(
    "identity: an account row inserted for a name that never had an account authenticates nobody") {
    IdentityDesk d;
    auto& b = backend();
    const auto head = d.s->head();
    const std::string forged = made_up_token("ghost");
    REQUIRE_FALSE(b.raw_exec(
        d.location(),
        std::string("INSERT INTO accounts (name, roles, enabled, created_at, updated_at, "
                    "version, token_hash) VALUES ('ghost', 'admin,agent,approver', ") +
            (b.is_postgres() ? "true" : "1") +
            ", '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.000Z', 1, '" +
            engine::sha256_hex(forged) + "')"));
    REQUIRE(d.s->account_by_token(
        engine::sha256_hex(forged)));  // the row is there for the store to find
    CHECK_FALSE(desk::authenticate(*d.s, forged));
    CHECK_FALSE(desk::authenticate_actor(*d.s, forged));
    const desk::Actor ghost{"ghost", desk::token_id(forged)};
    for (const char* role : {"approver", "agent", "admin"}) {
        CAPTURE(role);
        CHECK(error_of([&] { desk::authorize(*d.s, ghost, role, "act"); }).kind() ==
              ErrorKind::forbidden);
    }
    d.approve_forbidden(ghost);
    CHECK(error_of([&] { desk::add_account(*d.s, "ghost2", {"approver"}, ghost); }).kind() ==
          ErrorKind::forbidden);
    CHECK(error_of([&] { desk::grant_role(*d.s, "alice", "approver", ghost); }).kind() ==
          ErrorKind::forbidden);
    CHECK(d.s->head().seq == head.seq);
    const auto v = d.verify();
    CHECK_FALSE(v.ok());
    CHECK(a_problem_names(v, "ghost"));
}

TEST_CASE(
    "identity: with every account row deleted the desk still has accounts, and nobody acts by name "
    "alone") {
    IdentityDesk d;
    auto& b = backend();
    const auto head = d.s->head();
    REQUIRE_FALSE(b.raw_exec(d.location(), "DELETE FROM accounts"));
    REQUIRE(b.raw_value(d.location(), "SELECT count(*) FROM accounts") == "0");
    CHECK(d.s->has_accounts());
    CHECK(open_ro(d.location())->has_accounts());
    // A name without a token, as on a desk without accounts.
    CHECK(error_of([&] {
              desk::authorize(*d.s, desk::Actor{"alice"}, "agent", "open tickets");
          }).kind() == ErrorKind::forbidden);
    CHECK(error_of([&] {
              desk::open_ticket(*d.s, raw_ticket("N-1", "+4915100000082", "n1@client.example"),
                                desk::Actor{"whoever"});
          }).kind() == ErrorKind::forbidden);
    d.approve_forbidden(desk::Actor{"carol"});
    // Not a new desk whose first account anybody may add.
    CHECK(error_of([&] {
              desk::add_account(*d.s, "newroot", {"admin"}, desk::Actor{"setup"});
          }).kind() == ErrorKind::forbidden);
    CHECK(error_of([&] {
              desk::add_account(*d.s, "newroot", {"admin"}, desk::Actor{"newroot"});
          }).kind() == ErrorKind::forbidden);
    CHECK(d.s->head().seq == head.seq);
    CHECK_FALSE(d.s->account("newroot"));
    const auto v = d.verify();
    CHECK_FALSE(v.ok());
    for (const char* name : {"root", "alice", "carol"}) CHECK(a_problem_names(v, name));
}

TEST_CASE(
    "identity: R9 on every store - related by phone, by email in any case; approve names every "
    "partner") {
    IdentityDesk d;
    desk::open_ticket(*d.s,
                      raw_ticket("P-1", "+4915100000091", "OPS@Acme.Example", "partner", "unknown"),
                      d.by_alice, true);
    REQUIRE(d.s->ticket("P-1")->state == "partner_rejected");
    desk::open_ticket(
        *d.s, raw_ticket("P-2", "+4915100000092", "sales@partner.example", "partner", "unknown"),
        d.by_alice, true);
    auto ready = [&](const std::string& ref, const std::string& phone, const std::string& email) {
        desk::open_ticket(*d.s, raw_ticket(ref, phone, email), d.by_alice, true);
        for (const char* c : {"client_of_record", "number_ownership", "lost_access"}) {
            auto r = request("check-passed", d.by_alice);
            r.check = c;
            desk::apply_event(*d.s, ref, r);
        }
    };
    ready("C-PH", "+4915100000091", "c-ph@client.example");
    ready("C-EM", "+4915100000093", "ops@acme.example");
    ready("C-TWO", "+4915100000092", "Ops@ACME.Example");

    using Related = Store::Related;
    auto related = [&](const std::string& ref) {
        return desk::related_tickets(*d.s, *d.s->ticket(ref));
    };
    auto same = [](const std::vector<Related>& got,
                   const std::vector<std::array<std::string, 3>>& want) {
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i].ref == want[i][0]);
            CHECK(got[i].state == want[i][1]);
            CHECK(got[i].match == want[i][2]);
        }
    };
    const auto ph = related("C-PH");
    same(ph.first, {{"P-1", "partner_rejected", "phone"}});
    CHECK(ph.second == 1);
    const auto em = related("C-EM");
    same(em.first, {{"P-1", "partner_rejected", "email"}, {"C-TWO", "identity_check", "email"}});
    CHECK(em.second == 2);
    const auto none = related("T-1");
    CHECK(none.first.empty());
    CHECK(none.second == 0);

    auto approve = [&](const std::string& ref, std::vector<std::string> ack) {
        auto r = request("approve", d.by_carol);
        r.ack_related = std::move(ack);
        return desk::apply_event(*d.s, ref, r);
    };
    auto refused = [&](const std::string& ref, std::vector<std::string> ack,
                       const std::vector<std::string>& missing) {
        const auto head = d.s->head();
        const auto e = error_of([&] { approve(ref, ack); });
        CHECK(e.kind() == ErrorKind::refused);
        CHECK(e.rule() == "R9");
        for (const auto& m : missing) CHECK(contains(e.what(), m));
        CHECK(d.s->head().seq == head.seq);
    };
    refused("C-PH", {}, {"P-1"});
    refused("C-EM", {}, {"P-1"});
    refused("C-TWO", {"P-1"}, {"P-2"});
    refused("C-TWO", {"P-2"}, {"P-1"});
    CHECK(approve("C-PH", {"P-1"}).state == "approved");
    CHECK(approve("C-EM", {"P-1"}).state == "approved");
    CHECK(approve("C-TWO", {"P-2", "P-1"}).state == "approved");
    CHECK(approve("T-1", {}).state == "approved");
    const auto two = d.s->entries("C-TWO");
    CHECK(two.back().details ==
          R"({"ack_related":"P-1,P-2","by_token":")" + d.by_carol.token_id + R"("})");
    CHECK(d.verify().ok());
}

TEST_CASE(
    "key rotation: sealed by the key it retires; the retired key seals nothing; verify follows "
    "it") {
    IdentityDesk d;
    const desk::Actor by_root{"root", desk::token_id(d.root)};
    tfadesk_test::TempDir keys;
    const std::string old_path = keys / "old.key", new_path = keys / "new.key";
    const auto old_key = desk::generate_key("desk.example/old");
    const auto new_key = desk::generate_key("desk.example/new");
    desk::write_key_file(old_path, old_key);
    desk::write_key_file(new_path, new_key);
    desk::seal_with_key(*d.s, old_path);
    desk::apply_event(*d.s, "T-1", request("approve", d.by_carol));
    REQUIRE(d.s->last_seal());

    CHECK(error_of([&] { desk::rotate_key(*d.s, d.by_alice, old_path, new_path); }).kind() ==
          ErrorKind::forbidden);  // admins only
    const auto rotation = desk::rotate_key(*d.s, by_root, old_path, new_path);
    CHECK(rotation.ref == "desk:keys");
    CHECK(rotation.agent == "root");
    REQUIRE(d.s->last_seal());
    CHECK(d.s->last_seal()->seq == rotation.seq);
    CHECK(desk::seal_problem(old_key.verifier(), *d.s->last_seal()) == std::nullopt);

    auto cancel = request("cancel", d.by_alice);
    cancel.note = "the client withdrew";
    const auto head = d.s->head();
    desk::seal_with_key(*d.s, old_path);  // a writer still holding the retired key
    CHECK(error_of([&] { desk::apply_event(*d.s, "T-1", cancel); }).kind() == ErrorKind::forbidden);
    CHECK(d.s->head().seq == head.seq);
    desk::seal_with_key(*d.s, new_path);
    CHECK(desk::apply_event(*d.s, "T-1", cancel).state == "cancelled");
    CHECK(desk::seal_problem(new_key.verifier(), *d.s->last_seal()) == std::nullopt);

    desk::VerifyOptions from_old;
    from_old.verifier_key = old_key.verifier();
    const auto v = desk::verify(*open_ro(d.location()), from_old);
    CHECK(v.ok());
    CHECK(v.rotations.size() == 1);
    desk::VerifyOptions from_new;
    from_new.verifier_key = new_key.verifier();
    CHECK(desk::verify(*open_ro(d.location()), from_new).ok());
    desk::VerifyOptions from_other;
    from_other.verifier_key = desk::generate_key("desk.example/other").verifier();
    CHECK_FALSE(desk::verify(*open_ro(d.location()), from_other).ok());
}

}  // namespace
}  // namespace store_test
