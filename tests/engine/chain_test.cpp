// The canonical form and entry hash of SPEC §6 against answers computed outside tfadesk
// (Python's hashlib over the text written out by hand from docs/formats.md):
//   python3 -c 'import hashlib; c="[1,\"HD-1\",...]";
//   print(hashlib.sha256(("0"*64+c).encode()).hexdigest())'
#include "tfadesk/engine/chain.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "tfadesk/engine/journal.hpp"

using tfadesk::engine::LogEntry;

namespace {

LogEntry entry(std::int64_t seq, const std::string& event, const std::string& agent,
               const std::string& at, const std::string& state, const std::string& details,
               const std::string& prev_hash) {
    LogEntry e;
    e.seq = seq;
    e.ref = "HD-1";
    e.tseq = seq;
    e.event = event;
    e.agent = agent;
    e.at = at;
    e.state = state;
    e.policy_version = 2;
    e.details = details;
    e.prev_hash = prev_hash;
    return e;
}

LogEntry first() {
    return entry(1, "open", "alice", "2026-11-20T09:15:00.000Z", "received", R"({"note":"x"})",
                 std::string(64, '0'));
}

}  // namespace

TEST_CASE(
    "canonical: [seq,ref,tseq,event,agent,at,state,policy_version,details] as SPEC §6 orders "
    "them") {
    CHECK(tfadesk::engine::canonical(first()) ==
          R"([1,"HD-1",1,"open","alice","2026-11-20T09:15:00.000Z","received",2,{"note":"x"}])");
}

TEST_CASE("entry_hash: SHA-256 of prev_hash || canonical, chained, as computed outside tfadesk") {
    const LogEntry a = first();
    CHECK(tfadesk::engine::entry_hash(a) ==
          "ee34d2184d57832197f216082671ace888d131902b1212b7cafa2b691a3c934f");
    const LogEntry b = entry(2, "triage", "bob", "2026-11-20T09:16:00.000Z", "identity_check", "{}",
                             tfadesk::engine::entry_hash(a));
    CHECK(tfadesk::engine::entry_hash(b) ==
          "3b90284f709de30a70d4cd24e053d1d282bc74da599b26ab41642aa8be63a4e8");
}
