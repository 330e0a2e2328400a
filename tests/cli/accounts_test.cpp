// Accounts and roles (SPEC §7) through the real `tfadesk` program: a desk without accounts works
// as version 1; the first account must hold admin; every write command needs an enabled account
// with the role of §7's table (exit 7, nothing written); R6 sees through name spellings; the exit
// codes of the `agent` commands; tokens shown once and never stored or printed elsewhere; the
// --json documents; and verify (exit 6) against account changes and account rows tampered with
// through the sqlite3 shell. Every expected value is typed in from the SPEC, not read from the
// program's output.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "expect.hpp"
#include "log_forge.hpp"
#include "spec_words.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

const std::vector<std::string> kRoles = {"agent", "approver", "operator", "auditor", "admin"};

// The invalid spellings of an agent name (SPEC §2): inner space, an invisible zero-width space, a
// byte that is not UTF-8, 65 characters, empty, only white space, a letter outside a-z.
const std::vector<std::string> kBadNames = {"al ice",
                                            "al\xE2\x80\x8B"
                                            "ice",
                                            "\xFF",
                                            std::string(65, 'a'),
                                            "",
                                            "   ",
                                            "\xC3\xA5lice",
                                            "al:ice"};

Result expect_ok(const Result& r) {
    INFO(r.describe());
    CHECK(r.code == 0);
    return r;
}

std::string head_of(const std::string& db) { return verified_head(db); }

std::int64_t count_rows(const std::string& db, const std::string& sql) {
    const Result r = sqlite(db, sql);
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return std::stoll(r.out);
}

json json_of(const Result& r) {
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return json::parse(r.out);
}

// Exit 7: one error line naming the account (and the missing role when given); nothing on stdout.
void expect_forbidden(const Result& r, const std::string& account, const std::string& role = "") {
    INFO("expected exit 7 for account '", account, "' lacking '", role, "'\n", r.describe());
    CHECK(r.code == 7);
    CHECK(r.out.empty());
    CHECK(r.err_lines().size() == 1);
    CHECK(has_word(r.err, account));
    if (!role.empty())
        CHECK((contains(r.err, "'" + role + "'") || contains(r.err, "role " + role) ||
               contains(r.err, "\"" + role + "\"")));
}

// A fresh folder holding a copy of a desk.
struct Copy {
    TempDir dir;
    std::string db = dir / "copy.db";
    explicit Copy(const std::string& from) { copy_db(from, db); }
    Result operator()(const std::vector<std::string>& args, const RunOptions& opt = {}) const {
        return tfadesk(db, args, opt);
    }
};

// `open` arguments for a valid client/no ticket.
std::vector<std::string> open_args(const std::string& ref, const std::string& agent) {
    return {"open",
            "--ref",
            ref,
            "--phone",
            "+4915123456789",
            "--client-id",
            "acme",
            "--requester-email",
            "ops@acme.example",
            "--role",
            "client",
            "--access",
            "no",
            "--agent",
            agent};
}

// ---- the desk the role table runs on -------------------------------------------------------
//   root     admin (added by `setup`, the person setting the desk up)
//   checker  agent: opened both tickets and recorded T-APP's three checks
//   target   agent,auditor - the account the agent commands change
//   off      agent, disabled
//   u-ROLE   exactly ROLE, one account per role of §7
//   T-NEW    received;  T-APP  identity_check with all three checks passed (by checker)
struct RoleDesk {
    Desk desk;
    RoleDesk() {
        auto ok = [](const Result& r) {
            if (r.code != 0)
                throw std::runtime_error("building the role desk failed: " + r.describe());
        };
        const Desk& d = desk;
        ok(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}));
        ok(d({"agent", "add", "checker", "--role", "agent", "--agent", "root"}));
        ok(d({"agent", "add", "target", "--role", "agent,auditor", "--agent", "root"}));
        ok(d({"agent", "add", "off", "--role", "agent", "--agent", "root"}));
        ok(d({"agent", "disable", "off", "--agent", "root"}));
        for (const auto& role : kRoles)
            ok(d({"agent", "add", "u-" + role, "--role", role, "--agent", "root"}));
        ok(d(open_args("T-NEW", "checker")));
        ok(d(open_args("T-APP", "checker")));
        ok(d.event("T-APP", "triage", "checker"));
        for (const auto& c : kChecks)
            ok(d.event("T-APP", "check-passed", "checker", {"--check", c}));
    }
};

const RoleDesk& role_desk() {
    static const std::unique_ptr<RoleDesk> d = std::make_unique<RoleDesk>();
    return *d;
}

// One write command of §7's table, the role it needs (typed in from the table) and how to run it
// as `agent` on a copy of the role desk.
struct WriteCase {
    std::string what, needs;
    std::function<std::vector<std::string>(const Copy&, const std::string& agent)> args;
};

const std::vector<WriteCase>& write_cases() {
    static const std::vector<WriteCase> cases = {
        {"open", "agent", [](const Copy&, const std::string& a) { return open_args("T-X", a); }},
        {"event triage", "agent",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"event", "T-NEW", "triage", "--agent", a};
         }},
        {"event cancel", "agent",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"event",     "T-APP",   "cancel", "--note",
                                             "withdrawn", "--agent", a};
         }},
        {"event approve", "approver",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"event", "T-APP", "approve", "--agent", a};
         }},
        {"import", "operator",
         [](const Copy& c, const std::string& a) {
             const std::string file = c.dir / "in.csv";
             spit(file,
                  "ref,phone,client_id,requester_email,requester_role\n"
                  "T-IMP,+4915123456789,acme,ops@acme.example,client\n");
             return std::vector<std::string>{"import", file, "--agent", a};
         }},
        {"sweep", "operator",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"sweep", "--agent", a};
         }},
        {"agent add", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "add",     "newbie", "--role",
                                             "agent", "--agent", a};
         }},
        {"agent grant", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "grant", "target", "approver", "--agent", a};
         }},
        {"agent revoke", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "revoke", "target", "auditor", "--agent", a};
         }},
        {"agent disable", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "disable", "target", "--agent", a};
         }},
        {"agent enable", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "enable", "off", "--agent", a};
         }},
        {"agent token", "admin",
         [](const Copy&, const std::string& a) {
             return std::vector<std::string>{"agent", "token", "target", "--agent", a};
         }},
    };
    return cases;
}

}  // namespace

TEST_CASE("accounts: a desk with no accounts works as version 1 - any valid agent name writes") {
    Desk d;
    expect_ok(d(open_args("HD-1", "whoever")));
    expect_ok(d.event("HD-1", "triage", "Someone.Else@desk"));
    expect_ok(d.event("HD-1", "check-passed", "a", {"--check", "lost_access"}));
    const std::string file = d.dir / "in.csv";
    spit(file,
         "ref,phone,client_id,requester_email,requester_role\nHD-2,+4915123456789,acme,"
         "ops@acme.example,client\n");
    expect_ok(d({"import", file, "--agent", "op"}));
    expect_ok(d({"sweep", "--agent", "nightly"}));
    const json list = json_of(d({"agent", "list", "--json"}));
    CHECK(list == json::array());
    const json hist = json_of(d({"agent", "history", "--json"}));
    CHECK(hist == json::array());
    // The agent is stored canonical (SPEC §2).
    const json h = json_of(d({"history", "HD-1", "--json"}));
    REQUIRE(h.size() == 3);
    CHECK(h[1].at("agent") == "someone.else@desk");
}

TEST_CASE("accounts: the first account must hold admin; `setup` is recorded as who added it") {
    Desk d;
    REQUIRE(d(open_args("HD-1", "whoever")).code == 0);
    const DbBytes before(d.db);

    for (const std::string roles : {"agent", "agent,operator,auditor,approver"}) {
        CAPTURE(roles);
        const Result r = d({"agent", "add", "x", "--role", roles, "--agent", "setup"});
        INFO(r.describe());
        CHECK(r.code == 3);
        CHECK(r.out.empty());  // no token was issued
        CHECK(contains(r.err, "admin"));
        CHECK(DbBytes(d.db) == before);
    }
    CHECK(json_of(d({"agent", "list", "--json"})) == json::array());
    // Still version 1: anyone writes.
    expect_ok(d.event("HD-1", "triage", "whoever"));

    const Result r = d({"agent", "add", "root", "--role", "admin", "--agent", "setup"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    const json hist = json_of(d({"agent", "history", "--json"}));
    REQUIRE(hist.size() == 1);
    CHECK(hist[0].at("by") == "setup");
    CHECK(hist[0].at("change") == "add");
    CHECK(hist[0].at("name") == "root");
    CHECK(hist[0].at("roles") == json({"admin"}));
    CHECK(hist[0].at("seq") == 3);  // open, triage, then the account: one global sequence

    // From now on `setup` is nobody: it has no account.
    expect_forbidden(d({"agent", "add", "root2", "--role", "admin", "--agent", "setup"}), "setup");
    expect_forbidden(d.event("HD-1", "cancel", "whoever", {"--note", "x"}), "whoever");
    // root may add accounts without admin now: only the first must hold it.
    expect_ok(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}));
}

TEST_CASE("accounts: every write command needs its role of §7 (else exit 7, nothing written)") {
    const RoleDesk& base = role_desk();
    for (const auto& wc : write_cases()) {
        for (const auto& role : kRoles) {
            const std::string account = "u-" + role;
            CAPTURE(wc.what);
            CAPTURE(role);
            Copy c(base.desk.db);
            const std::string head = head_of(c.db);
            const DbBytes before(c.db);
            const Result r = c(wc.args(c, account));
            if (role == wc.needs) {
                INFO("allowed\n", r.describe());
                CHECK(r.code == 0);
                if (wc.what != "sweep") CHECK(head_of(c.db) != head);  // something was written
            } else {
                expect_forbidden(r, account, wc.needs);
                CHECK(DbBytes(c.db) == before);
                CHECK(head_of(c.db) == head);
            }
        }
    }
}

TEST_CASE("accounts: an unknown or a disabled account may write nothing (exit 7)") {
    const RoleDesk& base = role_desk();
    for (const auto& wc : write_cases()) {
        for (const std::string account : {"nobody", "off", "Nobody@Elsewhere"}) {
            CAPTURE(wc.what);
            CAPTURE(account);
            Copy c(base.desk.db);
            const std::string head = head_of(c.db);
            const DbBytes before(c.db);
            const Result r = c(wc.args(c, account));
            INFO(r.describe());
            CHECK(r.code == 7);
            CHECK(r.out.empty());
            std::string lower = account;
            for (char& ch : lower)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            CHECK(has_word(r.err, lower));
            CHECK(DbBytes(c.db) == before);
            CHECK(head_of(c.db) == head);
        }
    }
    // Enabled again, `off` writes; disabled, `checker` stops.
    Copy c(base.desk.db);
    expect_ok(c({"agent", "enable", "off", "--agent", "root"}));
    expect_ok(c({"event", "T-NEW", "triage", "--agent", "off"}));
    expect_ok(c({"agent", "disable", "checker", "--agent", "root"}));
    expect_forbidden(c({"event", "T-APP", "cancel", "--note", "x", "--agent", "checker"}),
                     "checker");
}

TEST_CASE("accounts: read commands need no account, and no --agent at all") {
    Desk d;
    const std::string key = d.dir / "desk.key";
    REQUIRE(d({"key", "generate", "--name", "desk", "--out", key}).code == 0);
    REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
    REQUIRE(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}).code == 0);
    REQUIRE(
        d({"--key", key, "open", "--ref", "HD-1", "--phone", "+4915123456789", "--client-id",
           "acme", "--requester-email", "ops@acme.example", "--role", "client", "--agent", "alice"})
            .code == 0);
    const DbBytes before(d.db);
    const std::vector<std::vector<std::string>> reads = {{"show", "HD-1"},
                                                         {"show", "HD-1", "--json"},
                                                         {"list"},
                                                         {"list", "--json"},
                                                         {"history", "HD-1"},
                                                         {"replay", "HD-1"},
                                                         {"stats"},
                                                         {"stats", "--json"},
                                                         {"verify"},
                                                         {"checkpoint"},
                                                         {"diagram"},
                                                         {"agent", "list"},
                                                         {"agent", "history"},
                                                         {"export"}};
    for (const auto& args : reads) {
        CAPTURE(args[0]);
        CAPTURE(args.size() > 1 ? args[1] : "");
        const Result r = d(args);
        INFO(r.describe());
        CHECK(r.code == 0);
        CHECK_FALSE(r.out.empty());
    }
    CHECK(DbBytes(d.db) == before);
}

TEST_CASE("accounts: R6 holds for an account with both agent and approver, whatever the spelling") {
    Desk d;
    REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
    REQUIRE(d({"agent", "add", "alice", "--role", "agent,approver", "--agent", "root"}).code == 0);
    REQUIRE(d({"agent", "add", "bob", "--role", "approver", "--agent", "root"}).code == 0);
    REQUIRE(d(open_args("HD-1", "Alice")).code == 0);
    REQUIRE(d.event("HD-1", "triage", " alice").code == 0);
    // The three checks under three spellings of the same account.
    REQUIRE(d.event("HD-1", "check-passed", "ALICE", {"--check", "client_of_record"}).code == 0);
    REQUIRE(d.event("HD-1", "check-passed", "Alice", {"--check", "number_ownership"}).code == 0);
    REQUIRE(d.event("HD-1", "check-passed", " alice ", {"--check", "lost_access"}).code == 0);
    const std::string head = head_of(d.db);
    for (const std::string spelling : {"alice", "Alice", " alice", "ALICE", "alice\t"}) {
        CAPTURE(spelling);
        const Result r = d.event("HD-1", "approve", spelling);
        INFO(r.describe());
        CHECK(r.code == 3);
        CHECK(has_word(r.err, "R6"));
        CHECK(head_of(d.db) == head);
    }
    const json t = json_of(d({"show", "HD-1", "--json"}));
    CHECK(t.at("checks") == json({{"client_of_record", "alice"},
                                  {"number_ownership", "alice"},
                                  {"lost_access", "alice"}}));
    // The other approver may.
    const Result r = d.event("HD-1", "approve", "BOB");
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK(r.out == "approved\n");
}

TEST_CASE("accounts: invalid agent names are exit 2, for --agent and for account NAMEs") {
    SUBCASE("on a desk without accounts: --agent of a write, nothing stored") {
        for (const auto& bad : kBadNames) {
            CAPTURE(bad);
            Desk d;
            const Result r = d(open_args("HD-1", bad));
            INFO(r.describe());
            CHECK(r.code == 2);
            const Result a = d({"agent", "add", "root", "--role", "admin", "--agent", bad});
            INFO(a.describe());
            CHECK(a.code == 2);
            CHECK(a.out.empty());
            // (The program may have created the empty database; SPEC §4 does not say.)
            if (fs::exists(d.db)) {
                CHECK(json_of(d({"list", "--json"})) == json::array());
                CHECK(json_of(d({"agent", "list", "--json"})) == json::array());
            }
        }
    }
    SUBCASE("on a desk with accounts") {
        Desk d;
        REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
        REQUIRE(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}).code == 0);
        REQUIRE(d(open_args("HD-1", "alice")).code == 0);
        const DbBytes before(d.db);
        for (const auto& bad : kBadNames) {
            CAPTURE(bad);
            const std::vector<std::vector<std::string>> cases = {
                open_args("HD-2", bad),
                {"event", "HD-1", "triage", "--agent", bad},
                {"agent", "add", bad, "--role", "agent", "--agent", "root"},
                {"agent", "add", "carol", "--role", "agent", "--agent", bad},
                {"agent", "grant", bad, "approver", "--agent", "root"},
                {"agent", "revoke", bad, "agent", "--agent", "root"},
                {"agent", "disable", bad, "--agent", "root"},
                {"agent", "enable", bad, "--agent", "root"},
                {"agent", "token", bad, "--agent", "root"},
                {"agent", "history", bad},
            };
            for (const auto& args : cases) {
                CAPTURE(args[0] + " " + args[1]);
                const Result r = d(args);
                INFO(r.describe());
                CHECK(r.code == 2);
                CHECK(r.out.empty());
            }
            CHECK(DbBytes(d.db) == before);
        }
    }
    SUBCASE("the edges that are valid: 64 characters, and every allowed character") {
        Desk d;
        const std::string longest(64, 'z');
        REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
        expect_ok(d({"agent", "add", longest, "--role", "agent", "--agent", "root"}));
        expect_ok(
            d({"agent", "add", " Zoe.O-Brien_2@Desk ", "--role", "agent", "--agent", "ROOT"}));
        std::set<std::string> names;
        for (const auto& a : json_of(d({"agent", "list", "--json"})))
            names.insert(a.at("name").get<std::string>());
        CHECK(names == std::set<std::string>{"root", longest, "zoe.o-brien_2@desk"});
        expect_ok(d(open_args("HD-1", longest)));
    }
}

TEST_CASE("accounts: the exit codes of the agent commands") {
    Desk d;
    REQUIRE(d({"agent", "add", "root", "--role", "admin,agent", "--agent", "setup"}).code == 0);
    REQUIRE(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}).code == 0);
    auto unchanged = [&](const Result& r, int code) {
        INFO("expected exit ", code, "\n", r.describe());
        CHECK(r.code == code);
        CHECK(r.out.empty());
        CHECK(r.err_lines().size() == 1);
    };

    SUBCASE("a duplicate name is 5, whatever its spelling") {
        for (const std::string name : {"alice", "Alice", " ALICE ", "root"}) {
            CAPTURE(name);
            const DbBytes before(d.db);
            unchanged(d({"agent", "add", name, "--role", "approver", "--agent", "root"}), 5);
            CHECK(DbBytes(d.db) == before);
        }
    }
    SUBCASE("an unknown account is 4") {
        const DbBytes before(d.db);
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"agent", "grant", "nobody", "approver", "--agent", "root"},
                 {"agent", "revoke", "nobody", "agent", "--agent", "root"},
                 {"agent", "disable", "nobody", "--agent", "root"},
                 {"agent", "enable", "nobody", "--agent", "root"},
                 {"agent", "token", "nobody", "--agent", "root"},
                 {"agent", "history", "nobody"},
                 {"agent", "history", "nobody", "--json"}}) {
            CAPTURE(args[1]);
            const Result r = d(args);
            unchanged(r, 4);
            CHECK(has_word(r.err, "nobody"));
        }
        CHECK(DbBytes(d.db) == before);
    }
    SUBCASE("an unknown role is 2") {
        const DbBytes before(d.db);
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"agent", "add", "bob", "--role", "superuser", "--agent", "root"},
                 {"agent", "add", "bob", "--role", "agent,superuser", "--agent", "root"},
                 {"agent", "add", "bob", "--role", "Agent", "--agent", "root"},
                 {"agent", "add", "bob", "--role", "", "--agent", "root"},
                 {"agent", "grant", "alice", "superuser", "--agent", "root"},
                 {"agent", "revoke", "alice", "superuser", "--agent", "root"}}) {
            CAPTURE(args[1] + " " + args[4]);
            unchanged(d(args), 2);
        }
        CHECK(DbBytes(d.db) == before);
        CHECK(json_of(d({"agent", "list", "--json"})).size() == 2);
    }
    SUBCASE("the last enabled admin can neither be disabled nor lose admin (3), until a second") {
        const DbBytes before(d.db);
        unchanged(d({"agent", "disable", "root", "--agent", "root"}), 3);
        unchanged(d({"agent", "revoke", "root", "admin", "--agent", "root"}), 3);
        CHECK(DbBytes(d.db) == before);
        // A disabled second admin does not count.
        REQUIRE(d({"agent", "add", "root2", "--role", "admin", "--agent", "root"}).code == 0);
        REQUIRE(d({"agent", "disable", "root2", "--agent", "root"}).code == 0);
        unchanged(d({"agent", "disable", "root", "--agent", "root"}), 3);
        unchanged(d({"agent", "revoke", "root", "admin", "--agent", "root"}), 3);
        // An enabled one does.
        REQUIRE(d({"agent", "enable", "root2", "--agent", "root"}).code == 0);
        expect_ok(d({"agent", "revoke", "root", "admin", "--agent", "root"}));
        // root no longer manages; root2 is now the last admin.
        expect_forbidden(d({"agent", "grant", "alice", "approver", "--agent", "root"}), "root",
                         "admin");
        unchanged(d({"agent", "disable", "root2", "--agent", "root2"}), 3);
        expect_ok(d({"agent", "grant", "root", "admin", "--agent", "root2"}));
        expect_ok(d({"agent", "disable", "root2", "--agent", "root"}));
        const json list = json_of(d({"agent", "list", "--json"}));
        std::map<std::string, json> by_name;
        for (const auto& a : list) by_name[a.at("name").get<std::string>()] = a;
        CHECK(by_name.at("root").at("roles") == json({"admin", "agent"}));
        CHECK(by_name.at("root").at("enabled") == true);
        CHECK(by_name.at("root2").at("enabled") == false);
    }
}

TEST_CASE(
    "accounts: a token is shown once and is never in the database, logs, list, history or "
    "export") {
    Desk d;
    const std::regex token_form("tfa_[0-9a-f]{64}");
    std::vector<std::string> tokens;
    std::string all_err, files;  // every stderr; the database's files after every command
    auto run = [&](const std::vector<std::string>& args) {
        std::vector<std::string> v = {"--log-level", "trace"};
        v.insert(v.end(), args.begin(), args.end());
        const Result r = d(v);
        all_err += r.err;
        files += slurp(d.db) + slurp(d.db + "-wal") + slurp(d.db + "-shm");
        return r;
    };
    auto stdout_token = [&](const Result& r) {
        INFO(r.describe());
        REQUIRE(r.code == 0);
        REQUIRE(r.out_lines().size() == 1);
        const std::string t = r.out_lines()[0];
        CHECK(std::regex_match(t, token_form));
        CHECK(r.out == t + "\n");
        return t;
    };
    auto file_token = [&](const Result& r, const std::string& path) {
        INFO(r.describe());
        REQUIRE(r.code == 0);
        struct stat st {};
        REQUIRE(lstat(path.c_str(), &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK((st.st_mode & 07777) == 0600);
        std::string t = slurp(path);
        REQUIRE_FALSE(t.empty());
        CHECK(t.back() == '\n');
        t.pop_back();
        CHECK(std::regex_match(t, token_form));
        CHECK_FALSE(contains(r.out, t));  // written to the file, not printed
        return t;
    };

    tokens.push_back(
        stdout_token(run({"agent", "add", "root", "--role", "admin", "--agent", "setup"})));
    tokens.push_back(
        stdout_token(run({"agent", "add", "alice", "--role", "agent", "--agent", "root"})));
    const std::string bob_file = d.dir / "bob.token";
    tokens.push_back(file_token(run({"agent", "add", "bob", "--role", "agent,auditor",
                                     "--token-out", bob_file, "--agent", "root"}),
                                bob_file));
    REQUIRE(run(open_args("HD-1", "alice")).code == 0);

    // A new token replaces the old one: a different token, on stdout or in a new file.
    tokens.push_back(stdout_token(run({"agent", "token", "alice", "--agent", "root"})));
    CHECK(tokens[3] != tokens[1]);
    const std::string bob_file2 = d.dir / "bob2.token";
    tokens.push_back(file_token(
        run({"agent", "token", "bob", "--token-out", bob_file2, "--agent", "root"}), bob_file2));
    CHECK(slurp(bob_file2) != slurp(bob_file));
    CHECK(std::set<std::string>(tokens.begin(), tokens.end()).size() == tokens.size());

    const json hist = json_of(run({"agent", "history", "bob", "--json"}));
    REQUIRE(hist.size() == 2);
    CHECK(hist[1].at("change") == "token");
    CHECK(hist[1].at("roles") == json({"agent", "auditor"}));

    // Everything a reader can see.
    std::string seen;
    for (const auto& args : std::vector<std::vector<std::string>>{{"export"},
                                                                  {"export", "--format", "csv"},
                                                                  {"export", "--agent", "bob"},
                                                                  {"history", "HD-1"},
                                                                  {"history", "HD-1", "--json"},
                                                                  {"show", "HD-1", "--json"},
                                                                  {"list", "--json"},
                                                                  {"agent", "list"},
                                                                  {"agent", "list", "--json"},
                                                                  {"agent", "history"},
                                                                  {"agent", "history", "--json"},
                                                                  {"agent", "history", "alice"},
                                                                  {"verify"},
                                                                  {"stats", "--json"}}) {
        const Result r = run(args);
        INFO(r.describe());
        CHECK(r.code == 0);
        seen += r.out;
    }
    const std::string out_file = d.dir / "log.jsonl";
    REQUIRE(run({"export", "--out", out_file}).code == 0);
    seen += slurp(out_file);
    seen += all_err;
    // The database file and any -wal, byte for byte, as each command left them.
    CHECK(contains(files, "SQLite format 3"));
    for (const auto& t : tokens) {
        CAPTURE(t);
        const std::string secret = t.substr(4);  // the 64 hex digits alone
        CHECK_FALSE(contains(seen, secret));
        CHECK_FALSE(contains(files, secret));
    }
    CHECK((contains(all_err, "trace") || contains(all_err, "debug") || contains(all_err, "info")));
}

TEST_CASE("accounts: --token-out never replaces a file (exit 2, nothing written)") {
    Desk d;
    REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
    REQUIRE(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}).code == 0);
    const std::string existing = d.dir / "existing.token";
    spit(existing, "keep me\n");
    fs::permissions(existing, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink(d.dir / "elsewhere.token", d.dir / "link.token");
    const std::string head = head_of(d.db);
    const DbBytes before(d.db);
    for (const std::string& path : {existing, d.dir / "link.token", d.dir.path().string()}) {
        CAPTURE(path);
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"agent", "add", "bob", "--role", "agent", "--token-out", path, "--agent", "root"},
                 {"agent", "token", "alice", "--token-out", path, "--agent", "root"}}) {
            CAPTURE(args[1]);
            const Result r = d(args);
            INFO(r.describe());
            CHECK(r.code == 2);
            CHECK(r.out.empty());
            CHECK(slurp(existing) == "keep me\n");
            CHECK_FALSE(fs::exists(d.dir / "elsewhere.token"));
            CHECK(DbBytes(d.db) == before);
            CHECK(head_of(d.db) == head);
        }
    }
    CHECK(json_of(d({"agent", "list", "--json"})).size() == 2);
    // A refused change leaves no token file behind either.
    const std::string fresh = d.dir / "fresh.token";
    CHECK(d({"agent", "add", "alice", "--role", "agent", "--token-out", fresh, "--agent", "root"})
              .code == 5);
    CHECK_FALSE(fs::exists(fresh));
    CHECK(d({"agent", "token", "nobody", "--token-out", fresh, "--agent", "root"}).code == 4);
    CHECK_FALSE(fs::exists(fresh));
}

TEST_CASE("accounts: agent list --json and agent history --json") {
    Desk d;
    // seq 1: root added; 2: ops added; 3: a ticket; 4: alice added; 5: a ticket; 6: alice granted
    // approver; 7: carol added; 8: carol disabled; 9: alice's agent role revoked
    REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}).code == 0);
    REQUIRE(d({"agent", "add", "ops", "--role", "agent", "--agent", "root"}).code == 0);
    REQUIRE(d(open_args("HD-1", "ops")).code == 0);
    REQUIRE(d({"agent", "add", "Alice", "--role", "operator,agent", "--agent", "root"}).code == 0);
    REQUIRE(d(open_args("HD-2", "ops")).code == 0);
    sleep_ms(5);
    REQUIRE(d({"agent", "grant", "ALICE", "approver", "--agent", "Root"}).code == 0);
    REQUIRE(d({"agent", "add", "carol", "--role", "auditor,admin", "--agent", "root"}).code == 0);
    REQUIRE(d({"agent", "disable", "carol", "--agent", "root"}).code == 0);
    REQUIRE(d({"agent", "revoke", "alice", "agent", "--agent", "root"}).code == 0);

    const json list = json_of(d({"agent", "list", "--json"}));
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 4);
    std::map<std::string, json> by_name;
    for (const auto& a : list) {
        CAPTURE(a.dump());
        std::set<std::string> keys;
        for (const auto& [k, v] : a.items()) keys.insert(k);
        CHECK(keys ==
              std::set<std::string>{"name", "roles", "enabled", "created_at", "updated_at"});
        CHECK(a.at("enabled").is_boolean());
        CHECK(parse_utc_ms(a.at("created_at").get<std::string>()).has_value());
        CHECK(parse_utc_ms(a.at("updated_at").get<std::string>()).has_value());
        by_name[a.at("name").get<std::string>()] = a;
    }
    CHECK(by_name.at("root").at("roles") == json({"admin"}));
    CHECK(by_name.at("alice").at("roles") == json({"approver", "operator"}));
    CHECK(by_name.at("carol").at("roles") == json({"admin", "auditor"}));
    CHECK(by_name.at("carol").at("enabled") == false);
    CHECK(by_name.at("alice").at("enabled") == true);
    CHECK(by_name.at("root").at("created_at") == by_name.at("root").at("updated_at"));
    CHECK(*parse_utc_ms(by_name.at("alice").at("updated_at")) >
          *parse_utc_ms(by_name.at("alice").at("created_at")));

    const json hist = json_of(d({"agent", "history", "--json"}));
    REQUIRE(hist.size() == 7);
    for (const auto& h : hist) {
        CAPTURE(h.dump());
        std::set<std::string> keys;
        for (const auto& [k, v] : h.items()) keys.insert(k);
        CHECK(keys == std::set<std::string>{"seq", "at", "by", "change", "name", "roles"});
        CHECK(parse_utc_ms(h.at("at").get<std::string>()).has_value());
    }
    // seq is the global one: the tickets' entries sit between.
    const std::vector<std::int64_t> seqs = {1, 2, 4, 6, 7, 8, 9};
    const std::vector<std::string> changes = {"add", "add",     "add",   "grant",
                                              "add", "disable", "revoke"};
    const std::vector<std::string> names = {"root",  "ops",   "alice", "alice",
                                            "carol", "carol", "alice"};
    const std::vector<std::string> bys = {"setup", "root", "root", "root", "root", "root", "root"};
    for (std::size_t i = 0; i < hist.size(); ++i) {
        CAPTURE(i);
        CHECK(hist[i].at("seq") == seqs[i]);
        CHECK(hist[i].at("change") == changes[i]);
        CHECK(hist[i].at("name") == names[i]);
        CHECK(hist[i].at("by") == bys[i]);
    }
    // roles: the account's roles after the change, sorted.
    CHECK(hist[2].at("roles") == json({"agent", "operator"}));
    CHECK(hist[3].at("roles") == json({"agent", "approver", "operator"}));
    CHECK(hist[6].at("roles") == json({"approver", "operator"}));
    CHECK(hist[4].at("roles") == json({"admin", "auditor"}));
    // The log agrees: those seqs are entries of account:NAME.
    CHECK(count_rows(d.db,
                     "SELECT count(*) FROM events WHERE ref LIKE 'account:%' AND seq IN "
                     "(1,2,4,6,7,8,9)") == 7);

    const json mine = json_of(d({"agent", "history", " Alice", "--json"}));
    REQUIRE(mine.size() == 3);
    CHECK(mine[0].at("seq") == 4);
    CHECK(mine[1].at("seq") == 6);
    CHECK(mine[2].at("seq") == 9);
    CHECK(mine == json({hist[2], hist[3], hist[6]}));
}

// ---- verify against tampered account changes ----------------------------------------------

namespace {

// seq 1 root added (admin); 2 alice added (agent); 3 HD-1 opened by alice; 4 alice granted
// approver; 5 bob added (agent,auditor); 6 bob disabled; 7 HD-2 opened by alice
struct AccountLog {
    Desk desk;
    AccountLog() {
        auto ok = [](const Result& r) {
            if (r.code != 0)
                throw std::runtime_error("building the account log failed: " + r.describe());
        };
        const Desk& d = desk;
        ok(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}));
        ok(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}));
        ok(d(open_args("HD-1", "alice")));
        ok(d({"agent", "grant", "alice", "approver", "--agent", "root"}));
        ok(d({"agent", "add", "bob", "--role", "agent,auditor", "--agent", "root"}));
        ok(d({"agent", "disable", "bob", "--agent", "root"}));
        ok(d(open_args("HD-2", "alice")));
    }
};

const AccountLog& account_log() {
    static const std::unique_ptr<AccountLog> l = std::make_unique<AccountLog>();
    return *l;
}

// verify exits 6, names `account` as a word, and still ends with its head line.
void expect_account_caught(const Copy& c, const std::string& account) {
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(has_word(r.out, account));
    const auto lines = r.out_lines();
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().rfind("head ", 0) == 0);
}

}  // namespace

TEST_CASE("accounts: verify rebuilds the accounts from the log and catches tampering (exit 6)") {
    Copy c(account_log().desk.db);
    auto log = read_log(c.db);
    REQUIRE(log.size() == 7);
    for (const auto& e : log) CHECK(entry_hash(e) == e.hash);  // our canonical form is right
    REQUIRE(log[1].ref == "account:alice");
    REQUIRE(log[1].event == "account-add");
    // SPEC §12: the add records the id of the token it issued, and the token that authenticated
    // the admin who made it (both 16 hex digits).
    const json add = json::parse(log[1].details);
    REQUIRE(add.at("roles") == json::array({"agent"}));
    REQUIRE(std::regex_match(add.at("token_id").get<std::string>(), std::regex("[0-9a-f]{16}")));
    REQUIRE(std::regex_match(add.at("by_token").get<std::string>(), std::regex("[0-9a-f]{16}")));
    REQUIRE(add.size() == 3);
    REQUIRE(log[3].event == "account-grant");
    const json grant = json::parse(log[3].details);
    REQUIRE(grant.at("role") == "approver");
    REQUIRE(grant.at("by_token") == add.at("by_token"));  // the same admin's token
    REQUIRE(grant.size() == 2);
    REQUIRE(log[5].ref == "account:bob");
    REQUIRE(log[5].event == "account-disable");
    REQUIRE(json::parse(log[5].details) == json{{"by_token", add.at("by_token")}});
    REQUIRE(log[5].state == "disabled");
    CHECK(c({"verify"}).code == 0);

    SUBCASE("an account change's roles edited, its own hash recomputed") {
        Entry e = log[1];
        e.details = R"({"roles":["admin","agent"]})";
        e.hash = entry_hash(e);
        tamper_db(c.db, "UPDATE events SET details = " + sql_quote(e.details) +
                            ", hash = " + sql_quote(e.hash) + " WHERE seq = 2");
        expect_account_caught(c, "alice");
    }
    SUBCASE("an account change's roles edited, the whole chain after it recomputed") {
        log[1].details = R"({"roles":["admin","agent"]})";
        tamper_db(c.db, forge_chain_sql(log, 1));
        expect_account_caught(c, "alice");  // the account row no longer agrees
    }
    SUBCASE("an account change deleted") {
        tamper_db(c.db, "DELETE FROM events WHERE seq = 4");
        expect_account_caught(c, "alice");
    }
    SUBCASE("the last account change deleted, the chain still whole before it") {
        tamper_db(c.db,
                  "DELETE FROM events WHERE seq = 7; DELETE FROM tickets WHERE ref = 'HD-2';"
                  "DELETE FROM events WHERE seq = 6");
        expect_account_caught(c, "bob");
    }
    SUBCASE("a forged account-grant appended with a correct hash") {
        Entry e = log.back();
        e.seq = log.back().seq + 1;
        e.ref = "account:bob";
        e.tseq = 3;
        e.event = "account-grant";
        e.details = R"({"role":"admin"})";
        e.agent = "root";
        e.state = "disabled";
        e.prev_hash = log.back().hash;
        e.hash = entry_hash(e);
        tamper_db(c.db, insert_sql(e));
        expect_account_caught(c, "bob");
    }
    SUBCASE("a forged account-grant for an account never added, a row added to match") {
        Entry e = log.back();
        e.seq = log.back().seq + 1;
        e.ref = "account:mallory";
        e.tseq = 2;  // not the first change of the account: the log does not start with add
        e.event = "account-grant";
        e.details = R"({"role":"admin"})";
        e.agent = "root";
        e.state = "enabled";
        e.prev_hash = log.back().hash;
        e.hash = entry_hash(e);
        tamper_db(c.db, insert_sql(e) + "INSERT INTO accounts VALUES ('mallory','admin',1," +
                            sql_quote(e.at) + "," + sql_quote(e.at) + ",2,NULL);");
        expect_account_caught(c, "mallory");
    }
    SUBCASE("two changes of one account reordered") {
        // alice's add (seq 2) and her grant (seq 4) trade places; seq, time and hashes stay.
        tamper_db(c.db,
                  "CREATE TEMP TABLE s AS SELECT * FROM events WHERE seq IN (2,4);"
                  "DELETE FROM events WHERE seq IN (2,4);"
                  "INSERT INTO events SELECT x.seq, y.ref, y.tseq, y.event, y.details, y.agent, "
                  "x.at, y.state, y.policy_version, x.prev_hash, x.hash FROM s x JOIN s y ON "
                  "x.seq <> y.seq;");
        expect_account_caught(c, "alice");
    }
    SUBCASE("the account row's roles edited") {
        tamper_db(c.db, "UPDATE accounts SET roles = 'admin,agent,approver' WHERE name = 'alice'");
        expect_account_caught(c, "alice");
    }
    SUBCASE("the account row's enabled edited") {
        tamper_db(c.db, "UPDATE accounts SET enabled = 1 WHERE name = 'bob'");
        expect_account_caught(c, "bob");
    }
    SUBCASE("an account row deleted") {
        tamper_db(c.db, "DELETE FROM accounts WHERE name = 'bob'");
        expect_account_caught(c, "bob");
    }
    SUBCASE("an account row without any change") {
        tamper_db(c.db,
                  "INSERT INTO accounts SELECT 'mallory', 'admin', 1, created_at, updated_at, "
                  "version, NULL FROM accounts WHERE name = 'root'");
        expect_account_caught(c, "mallory");
    }
}
