// libFuzzer entry point: engine::command_from_entry on fuzzed log-entry details,
// then the machine in five states on the command it gives.
// The body is tfadesk::fuzz::command_one in targets.hpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        tfadesk::fuzz::command_one(data, size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "command_fuzz: unexpected exception: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "command_fuzz: unexpected non-standard exception\n");
        std::abort();
    }
    return 0;
}
