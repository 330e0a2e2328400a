// libFuzzer entry point: engine::command_from_entry on fuzzed log-entry details,
// then the machine in five states on the command it gives.
// The body is tfadesk::fuzz::command_one in targets.cpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tfadesk::fuzz::run_target("command_fuzz", &tfadesk::fuzz::command_one, data, size);
}
