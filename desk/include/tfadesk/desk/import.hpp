// Batch import of pending requests (SPEC §5), for the command line and the server alike.
//
// How nothing is lost or doubled: the whole file is imported in ONE write transaction. A run that
// is killed part way commits nothing, so running the same import again imports every valid row
// exactly once; duplicates (refs already in the log, or earlier in the same file, which the open
// transaction already holds) are counted and skipped. Rows are streamed: memory does not grow
// with the file (a dry run keeps only the set of refs it has seen).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "tfadesk/engine/store.hpp"
#include "tfadesk/ingest/records.hpp"

namespace tfadesk::desk {

struct ImportOptions {
    std::string agent;
    std::string token_id;  // the id of the token that authenticated the agent (SPEC §12), if any
    bool triage = false, strict = false, dry_run = false;
};

struct ImportCounts {
    std::size_t imported = 0, duplicates = 0, rejected = 0;
    bool kept = true;  // false when --strict threw the whole file away
};

struct ImportHooks {
    // Each rejected record, with its (printable, masked) reason.
    std::function<void(const ingest::Record&, const std::string& reason)> on_reject;
    // Called after every record with the counts so far (progress).
    std::function<void(const ImportCounts&)> on_progress;
};

// The §2 names every import file may use.
std::vector<std::string> import_columns();

// Imports the records of `reader` into `store` (nothing is written on a dry run, and `store` may
// then be null: no database yet). Error(forbidden) unless the agent is an operator;
// ingest::FileError for a problem with the file as a whole (nothing imported).
ImportCounts import_records(engine::Store* store, ingest::RecordReader& reader,
                            const ImportOptions& options, const ImportHooks& hooks = {});

}  // namespace tfadesk::desk
