// libFuzzer entry point: ingest::RecordReader (CSV and JSON Lines), then
// rules::validate_fields on every record and RejectWriter on every rejected one.
// The body is tfadesk::fuzz::import_one in targets.cpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tfadesk::fuzz::run_target("import_fuzz", &tfadesk::fuzz::import_one, data, size);
}
