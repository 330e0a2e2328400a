#include "writer.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <optional>
#include <vector>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::serve {

struct Writer::Job {
    Work work;
    bool solo = false;
    std::optional<engine::AccessRecord> access;  // an access record instead of work
    std::promise<nlohmann::json> done;
    // Filled while the group runs; answered after the commit.
    nlohmann::json value;
    std::exception_ptr error;
};

namespace {

// Whether a job that threw `e` certainly appended nothing (see writer.hpp).
bool clean_failure(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const StaleVersion&) {
        return true;
    } catch (const engine::Error& err) {
        return err.kind() != engine::ErrorKind::unexpected;
    } catch (...) {
        return false;
    }
}

void answer(nlohmann::json value, std::exception_ptr error, std::promise<nlohmann::json>& done) {
    if (error)
        done.set_exception(error);
    else
        done.set_value(std::move(value));
}

}  // namespace

Writer::Writer(std::unique_ptr<engine::Store> store)
    : store_(std::move(store)), thread_([this] { loop(); }) {}

Writer::~Writer() { stop(); }

nlohmann::json Writer::batched(Work work) {
    auto job = std::make_shared<Job>();
    job->work = std::move(work);
    return submit(std::move(job));
}

nlohmann::json Writer::solo(Work work) {
    auto job = std::make_shared<Job>();
    job->work = std::move(work);
    job->solo = true;
    return submit(std::move(job));
}

void Writer::record_access(engine::AccessRecord record) {
    auto job = std::make_shared<Job>();
    job->access = std::move(record);
    submit(std::move(job));
}

nlohmann::json Writer::submit(std::shared_ptr<Job> job) {
    auto future = job->done.get_future();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_)
            throw engine::Error(engine::ErrorKind::unexpected, "the server is shutting down");
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return future.get();
}

void Writer::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

Writer::Counters Writer::counters() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return counters_;
}

std::size_t Writer::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void Writer::loop() {
    for (;;) {
        std::deque<std::shared_ptr<Job>> group;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to do
            if (queue_.front()->access) {
                // Every record waiting, wherever it is in the queue; the others keep their order.
                for (auto it = queue_.begin(); it != queue_.end() && group.size() < kMaxBatch;) {
                    if ((*it)->access) {
                        group.push_back(std::move(*it));
                        it = queue_.erase(it);
                    } else {
                        ++it;
                    }
                }
                counters_.access_records += group.size();
                ++counters_.access_commits;
            } else if (queue_.front()->solo) {
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
                ++counters_.solo_jobs;
            } else {
                // Up to the next solo job; access records in between wait for the next turn.
                for (auto it = queue_.begin();
                     it != queue_.end() && !(*it)->solo && group.size() < kMaxBatch;) {
                    if ((*it)->access) {
                        ++it;
                    } else {
                        group.push_back(std::move(*it));
                        it = queue_.erase(it);
                    }
                }
                ++counters_.groups;
                counters_.batched_jobs += group.size();
            }
        }
        if (group.front()->access) {
            run_access(group);
            continue;
        }
        if (group.front()->solo) {
            auto& job = *group.front();
            try {
                job.value = job.work(*store_);
            } catch (...) {
                job.error = std::current_exception();
            }
            answer(std::move(job.value), job.error, job.done);
            continue;
        }
        run_group(group);
    }
}

void Writer::run_access(std::deque<std::shared_ptr<Job>>& records) {
    std::vector<engine::AccessRecord> batch;
    batch.reserve(records.size());
    for (auto& job : records) batch.push_back(std::move(*job->access));
    std::exception_ptr error;
    try {
        store_->append_access(batch);
    } catch (...) {
        error = std::current_exception();
    }
    for (auto& job : records) answer(nullptr, error, job->done);
}

void Writer::run_group(std::deque<std::shared_ptr<Job>>& group) {
    bool retry_alone = false;
    try {
        auto tx = store_->begin_write();
        for (auto& job : group) {
            try {
                job->value = job->work(*store_);
            } catch (...) {
                job->error = std::current_exception();
                if (!clean_failure(job->error)) {
                    retry_alone = true;
                    break;
                }
            }
        }
        if (!retry_alone) tx->commit();
    } catch (...) {
        // BEGIN or COMMIT failed: nothing of the group is on disk, and nobody was answered yet.
        const auto error = std::current_exception();
        for (auto& job : group) answer({}, error, job->done);
        return;
    }
    if (!retry_alone) {
        spdlog::debug("group commit: {} write(s) in one transaction", group.size());
        for (auto& job : group) answer(std::move(job->value), job->error, job->done);
        return;
    }
    // The transaction was rolled back when `tx` went out of scope: judge each job on its own.
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++counters_.retried_groups;
    }
    spdlog::warn(
        "group commit: a write failed part way; running the {} write(s) of the group one by one",
        group.size());
    for (auto& job : group) {
        job->value = nullptr;
        job->error = nullptr;
        try {
            job->value = engine::in_transaction(*store_, [&] { return job->work(*store_); });
        } catch (...) {
            job->error = std::current_exception();
        }
        answer(std::move(job->value), job->error, job->done);
    }
}

}  // namespace tfadesk::serve
