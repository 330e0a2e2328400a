// libFuzzer entry point: rules::validate_fields, parse_utc, normalize_phone and
// check_email on fuzzed field values.
// The body is tfadesk::fuzz::fields_one in targets.hpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        tfadesk::fuzz::fields_one(data, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fields_fuzz: unexpected exception: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "fields_fuzz: unexpected non-standard exception\n");
        std::abort();
    }
    return 0;
}
