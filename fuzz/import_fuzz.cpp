// libFuzzer entry point: ingest::RecordReader (CSV and JSON Lines), then
// rules::validate_fields on every record and RejectWriter on every rejected one.
// The body is tfadesk::fuzz::import_one in targets.hpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        tfadesk::fuzz::import_one(data, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "import_fuzz: unexpected exception: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "import_fuzz: unexpected non-standard exception\n");
        std::abort();
    }
    return 0;
}
