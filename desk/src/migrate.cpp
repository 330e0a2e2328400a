#include "tfadesk/desk/migrate.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;
using engine::LogEntry;

namespace {

void refuse_unless_empty(engine::Store& to) {
    const auto head = to.head();
    const bool rows = to.ticket_cursor()().has_value();
    if (head.seq == 0 && !rows && !to.has_accounts() && !to.last_seal()) return;
    throw Error(ErrorKind::conflict, "migrate: " + rules::escape_control(to.location()) +
                                         " is not empty (it holds " + std::to_string(head.seq) +
                                         " entries" + (rows ? " and ticket rows" : "") +
                                         "); migrate copies a desk into an empty one only");
}

// Rebuilds the cache row of one ticket or account from its copied entries.
void rebuild(engine::Store& from, engine::Store& to, const std::vector<LogEntry>& entries,
             MigrateCounts& n) {
    if (engine::is_desk_key(entries.front().ref))
        return;  // the desk's own entries feed no cache row
    if (engine::is_account_key(entries.front().ref)) {
        const engine::Account a = engine::replay_account(entries);
        to.put_account(a, from.account_token_hash(a.name));
        ++n.accounts;
    } else {
        to.put_ticket(engine::replay(entries).ticket());
        ++n.tickets;
    }
}

}  // namespace

MigrateCounts migrate(engine::Store& from, engine::Store& to,
                      const std::function<void(std::int64_t)>& on_entry) {
    MigrateCounts n;
    try {
        auto tx = to.begin_write();
        refuse_unless_empty(to);
        from.for_each_entry([&](const LogEntry& e) {
            to.append_verbatim(e);
            ++n.entries;
            if (on_entry) on_entry(n.entries);
        });
        // The caches, from the entries as the destination now holds them.
        std::vector<LogEntry> group;
        to.for_each_entry_by_ticket(
            [&](const LogEntry& e, const std::optional<engine::PrevEntry>&) {
                if (!group.empty() && group.front().ref != e.ref) {
                    rebuild(from, to, group, n);
                    group.clear();
                }
                group.push_back(e);
            });
        if (!group.empty()) rebuild(from, to, group, n);
        from.for_each_seal([&](const engine::Seal& seal, const std::optional<std::string>&) {
            to.put_seal(seal);
            ++n.seals;
        });
        n.head = to.head();
        tx->commit();
    } catch (const Error& e) {
        // Text from the log reaches the terminal escaped (SPEC §4).
        throw Error(e.kind(), rules::escape_control(e.what()));
    }
    spdlog::info("migrate {} -> {}: {} entries, {} tickets, {} accounts, {} seals, head {}:{}",
                 from.location(), to.location(), n.entries, n.tickets, n.accounts, n.seals,
                 n.head.seq, n.head.hash);
    return n;
}

}  // namespace tfadesk::desk
