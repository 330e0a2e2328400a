// libFuzzer entry point: rules::validate_fields, parse_utc, normalize_phone and
// check_email on fuzzed field values.
// The body is tfadesk::fuzz::fields_one in targets.cpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tfadesk::fuzz::run_target("fields_fuzz", &tfadesk::fuzz::fields_one, data, size);
}
