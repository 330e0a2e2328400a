// The server's one writer: a thread that owns the read-write store and commits in groups.
//
// Write requests are queued; the writer takes every batchable job waiting (up to kMaxBatch), runs
// them one after another inside ONE write transaction, commits once (synchronous=FULL, so one
// fsync for the group; one seal when the store seals) and only then answers each. A job that
// fails fails alone: the desk's use cases (open_ticket_in, apply_event_in) validate, authorize,
// judge and check before they append, so a job that throws engine::Error of a kind other than
// `unexpected` (or StaleVersion) has appended nothing and the others in the group stand. Any
// other failure (SQLite I/O, out of memory) may come in the middle of an append: the whole group
// is rolled back and each job is run again alone, in its own transaction. A failed commit fails
// every job of its group, none of which was answered yet, so nothing acknowledged is lost.
//
// Solo jobs (import, sweep) open their own transaction and run alone between groups.
//
// Access records (SPEC §12) are written by the same thread, between groups, never inside one: the
// records waiting together go to the store in one short transaction of their own (append_access),
// which appends no entry, so it neither moves the head nor calls the sealer. In-process, they thus
// never wait on SQLite's lock held by this same writer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::serve {

// If-Match named another version than the ticket's (HTTP 412). Thrown before anything is appended.
class StaleVersion : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Writer {
public:
    using Work = std::function<nlohmann::json(engine::Store&)>;
    static constexpr std::size_t kMaxBatch = 256;

    explicit Writer(std::unique_ptr<engine::Store> store);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Runs `work` inside the next group's transaction and returns its value once the group has
    // committed; rethrows what `work` (or the commit) threw. Blocks the calling thread.
    nlohmann::json batched(Work work);
    // Runs `work` alone; `work` opens and commits its own transaction.
    nlohmann::json solo(Work work);
    // Appends `record` to the access log and returns once it is committed; rethrows what the
    // store threw. Blocks the calling thread.
    void record_access(engine::AccessRecord record);
    // Finishes every queued job, then stops the thread. Idempotent.
    void stop();

    struct Counters {
        std::size_t groups = 0, batched_jobs = 0, solo_jobs = 0, retried_groups = 0;
        std::size_t access_records = 0, access_commits = 0;
    };
    Counters counters() const;
    // Jobs waiting (SPEC §16's metrics).
    std::size_t queued() const;

private:
    struct Job;
    nlohmann::json submit(std::shared_ptr<Job> job);
    void loop();
    void run_group(std::deque<std::shared_ptr<Job>>& group);
    void run_access(std::deque<std::shared_ptr<Job>>& records);

    std::unique_ptr<engine::Store> store_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    Counters counters_;
    std::thread thread_;
};

}  // namespace tfadesk::serve
