// The server's group-commit writer (serve/src/writer.hpp) on a real SQLite store: writes queued
// together commit in one transaction; a refused or stale job fails alone while the rest of its
// group commits; a job that fails part way through an append sends the group back to one
// transaction per job, so only that job is lost; stop() answers everything queued.
#define DOCTEST_CONFIG_IMPLEMENT
#include "writer.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "../support/temp_dir.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/open.hpp"

using nlohmann::json;
using tfadesk::engine::Error;
using tfadesk::engine::ErrorKind;
using tfadesk::engine::Store;
using tfadesk::serve::StaleVersion;
using tfadesk::serve::Writer;

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);  // the desk logs every write at info
    return doctest::Context(argc, argv).run();
}

namespace {

tfadesk::rules::RawFields fields(const std::string& ref) {
    return {{"ref", ref},
            {"phone", "+4915123456789"},
            {"client_id", "acme"},
            {"requester_email", "ops@acme.example"},
            {"requester_role", "client"},
            {"portfolio_access", "no"}};
}

Writer::Work open_job(const std::string& ref) {
    return [ref](Store& s) {
        return tfadesk::desk::ticket_view(tfadesk::desk::open_ticket_in(s, fields(ref), "alice"));
    };
}

// Holds the writer thread inside a solo job until release(), so that the jobs submitted
// meanwhile queue up and form one group.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void release() {
        {
            std::lock_guard<std::mutex> lock(m);
            open = true;
        }
        cv.notify_all();
    }
    Writer::Work job() {
        return [this](Store&) {
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [&] { return open; });
            return json(nullptr);
        };
    }
};

// Submits `jobs` while the writer is held, releases it, and returns each job's value or the
// exception it ended with.
struct Outcome {
    json value;
    std::exception_ptr error;
};
std::vector<Outcome> as_one_group(Writer& w, const std::vector<Writer::Work>& jobs) {
    Gate gate;
    std::thread blocker([&] { w.solo(gate.job()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the writer is inside the gate
    std::vector<Outcome> out(jobs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < jobs.size(); ++i)
        threads.emplace_back([&, i] {
            try {
                out[i].value = w.batched(jobs[i]);
            } catch (...) {
                out[i].error = std::current_exception();
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all of them queued
    gate.release();
    for (auto& t : threads) t.join();
    blocker.join();
    return out;
}

ErrorKind kind_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const Error& err) {
        return err.kind();
    } catch (...) {
        return ErrorKind::unexpected;
    }
}

}  // namespace

TEST_CASE("writer: jobs queued together commit as one group; a refused one fails alone") {
    tfadesk_test::TempDir dir;
    const std::string db = dir / "w.db";
    Writer w(tfadesk::storage::open_store(db, Store::Mode::read_write));
    w.batched(open_job("G-0"));  // before the group: the jobs of a group run in no set order
    auto out = as_one_group(
        w, {open_job("G-1"), open_job("G-2"), open_job("G-1"), open_job("G-3"),
            [](Store& s) {
                tfadesk::desk::EventRequest r;
                r.event = "approve";  // not allowed in received: refused, writes nothing
                r.agent = "alice";
                return tfadesk::desk::ticket_view(tfadesk::desk::apply_event_in(s, "G-0", r));
            },
            [](Store&) -> json { throw StaleVersion("stale"); }});
    w.stop();
    const auto c = w.counters();
    CHECK(c.groups == 2);
    CHECK(c.batched_jobs == 7);
    CHECK(c.retried_groups == 0);
    int ok = 0, conflicts = 0, refused = 0, stale = 0;
    for (const auto& o : out) {
        if (!o.error) {
            ++ok;
            continue;
        }
        try {
            std::rethrow_exception(o.error);
        } catch (const StaleVersion&) {
            ++stale;
        } catch (const Error& e) {
            conflicts += e.kind() == ErrorKind::conflict;
            refused += e.kind() == ErrorKind::refused;
        }
    }
    CHECK(ok == 3);  // G-1 once, G-2, G-3
    CHECK(conflicts == 1);
    CHECK(refused == 1);
    CHECK(stale == 1);
    auto r = tfadesk::storage::open_store(db, Store::Mode::read_only);
    for (const char* ref : {"G-0", "G-1", "G-2", "G-3"}) CHECK(r->entries(ref).size() == 1);
    CHECK(r->head().seq == 4);
}

TEST_CASE("writer: a job that fails part way through an append costs only itself") {
    tfadesk_test::TempDir dir;
    const std::string db = dir / "w.db";
    Writer w(tfadesk::storage::open_store(db, Store::Mode::read_write));
    std::atomic<int> bad_runs{0};
    auto out = as_one_group(w, {open_job("P-1"),
                                [&](Store& s) -> json {
                                    ++bad_runs;
                                    tfadesk::desk::open_ticket_in(s, fields("P-BAD"),
                                                                  "alice");    // appended ...
                                    throw std::runtime_error("disk on fire");  // ... then fails
                                },
                                open_job("P-2")});
    w.stop();
    CHECK(w.counters().retried_groups == 1);
    CHECK(bad_runs == 2);  // in the group, then alone
    CHECK(!out[0].error);
    CHECK(!out[2].error);
    REQUIRE(out[1].error);
    CHECK(kind_of(out[1].error) == ErrorKind::unexpected);
    auto r = tfadesk::storage::open_store(db, Store::Mode::read_only);
    CHECK(r->entries("P-1").size() == 1);
    CHECK(r->entries("P-2").size() == 1);
    CHECK(r->entries("P-BAD").empty());
    CHECK(r->head().seq == 2);
}

TEST_CASE("writer: stop() answers every queued job; later jobs are refused") {
    tfadesk_test::TempDir dir;
    Writer w(tfadesk::storage::open_store(dir / "w.db", Store::Mode::read_write));
    std::atomic<int> answered{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i)
        threads.emplace_back([&, i] {
            w.batched(open_job("S-" + std::to_string(i)));
            ++answered;
        });
    for (auto& t : threads) t.join();
    w.stop();
    CHECK(answered == 20);
    CHECK(w.counters().batched_jobs == 20);
    CHECK_THROWS_AS(w.batched(open_job("S-late")), Error);
}

TEST_CASE(
    "writer: access records are appended beside the groups, those waiting together at once - no "
    "seal, the head stays") {
    tfadesk_test::TempDir dir;
    const std::string db = dir / "w.db";
    auto store = tfadesk::storage::open_store(db, Store::Mode::read_write);
    std::atomic<int> sealed{0};
    store->set_sealer([&](const tfadesk::engine::Head&, const tfadesk::engine::Head& h) {
        ++sealed;
        return "note " + std::to_string(h.seq);
    });
    Writer w(std::move(store));
    w.batched(open_job("A-0"));
    REQUIRE(sealed == 1);
    // While the writer is held, records and writes queue up, interleaved.
    Gate gate;
    std::thread blocker([&] { w.solo(gate.job()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::atomic<int> recorded{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 12; ++i)
        threads.emplace_back([&, i] {
            try {
                if (i % 4 == 3) {
                    w.batched(open_job("A-" + std::to_string(i)));
                } else {
                    w.record_access({"2026-03-01T10:00:00.000Z",
                                     "reader-" + std::to_string(i),
                                     "GET /api/v1/tickets/A-0",
                                     {"A-0"},
                                     1,
                                     "127.0.0.1"});
                    ++recorded;
                }
            } catch (...) {
                ++failed;
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    gate.release();
    for (auto& t : threads) t.join();
    blocker.join();
    w.stop();
    CHECK(failed == 0);
    CHECK(recorded == 9);
    const auto c = w.counters();
    CHECK(c.access_records == 9);
    CHECK(c.access_commits == 1);  // all nine were waiting together
    CHECK(c.groups == 2);          // A-0, then the three opens together: no record in a group
    CHECK(c.batched_jobs == 4);
    CHECK(sealed == 2);  // one seal per group; none for the records
    auto r = tfadesk::storage::open_store(db, Store::Mode::read_only);
    CHECK(r->head().seq == 4);
    int n = 0;
    r->for_each_access({"A-0", std::nullopt, std::nullopt},
                       [&](const tfadesk::engine::AccessRecord& a) {
                           CHECK(a.account.rfind("reader-", 0) == 0);
                           ++n;
                       });
    CHECK(n == 9);
    CHECK_THROWS_AS(w.record_access({}), Error);  // after stop()
}
