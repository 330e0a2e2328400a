// libFuzzer entry point: the text rules (is_blank, check_text, escape_control, canonical_agent,
// parse_count, parse_expect_head, mask_pii) on fuzzed bytes.
// The body is tfadesk::fuzz::text_one in targets.cpp (shared with tests/fuzz_corpus). Build and
// run with fuzz/run.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tfadesk::fuzz::run_target("text_fuzz", &tfadesk::fuzz::text_one, data, size);
}
