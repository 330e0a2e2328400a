// The canonical form and entry hash of SPEC §6 against answers computed outside tfadesk
// (Python's hashlib over the text written out by hand from docs/formats.md):
//   python3 -c 'import hashlib; c="[1,\"HD-1\",...]"; print(hashlib.sha256(("0"*64+c).encode()).hexdigest())'
#include <doctest/doctest.h>

#include "tfadesk/engine/chain.hpp"
#include "tfadesk/engine/journal.hpp"

using tfadesk::engine::LogEntry;

namespace {

LogEntry first() {
    LogEntry e;
    e.seq = 1;
    e.ref = "HD-1";
    e.tseq = 1;
    e.event = "open";
    e.agent = "alice";
    e.at = "2026-11-20T09:15:00.000Z";
    e.state = "received";
    e.policy_version = 2;
    e.details = R"({"note":"x"})";
    e.prev_hash = std::string(64, '0');
    return e;
}

}  // namespace

TEST_CASE("canonical: [seq,ref,tseq,event,agent,at,state,policy_version,details] as SPEC §6 orders them") {
    CHECK(tfadesk::engine::canonical(first()) ==
          R"([1,"HD-1",1,"open","alice","2026-11-20T09:15:00.000Z","received",2,{"note":"x"}])");
}

TEST_CASE("entry_hash: SHA-256 of prev_hash || canonical, chained, as computed outside tfadesk") {
    const LogEntry a = first();
    CHECK(tfadesk::engine::entry_hash(a) ==
          "ee34d2184d57832197f216082671ace888d131902b1212b7cafa2b691a3c934f");
    LogEntry b;
    b.seq = 2;
    b.ref = "HD-1";
    b.tseq = 2;
    b.event = "triage";
    b.agent = "bob";
    b.at = "2026-11-20T09:16:00.000Z";
    b.state = "identity_check";
    b.policy_version = 2;
    b.details = "{}";
    b.prev_hash = tfadesk::engine::entry_hash(a);
    CHECK(tfadesk::engine::entry_hash(b) ==
          "3b90284f709de30a70d4cd24e053d1d282bc74da599b26ab41642aa8be63a4e8");
}
