// The bodies of the fuzz targets, shared by the libFuzzer entry points (fuzz/*_fuzz.cpp, built
// with clang by fuzz/run) and by the corpus regression test (tests/fuzz_corpus, built with any
// compiler in CI), so the corpus is replayed through exactly the code the fuzzer ran.
//
// Contract of every body: it returns normally for any input. The exceptions the API documents
// for bad input (ingest::FileError from RecordReader, engine::Error from command_from_entry)
// are caught inside. Anything else escapes: another exception type, or a PropertyViolation
// thrown when a documented property of the code under test does not hold. The libFuzzer entry
// points turn an escaping exception into an abort (a crash libFuzzer saves); the corpus test
// reports it as a failed assertion. Sanitizer errors abort on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace tfadesk::fuzz {

// A documented property of the code under test that an input broke.
struct PropertyViolation : std::logic_error {
    using std::logic_error::logic_error;
};

// The targets: the text rules, the §2 fields, import (both formats) and a command from a log
// entry run through the machine.
void text_one(const std::uint8_t* data, std::size_t size);
void fields_one(const std::uint8_t* data, std::size_t size);
void import_one(const std::uint8_t* data, std::size_t size);
void command_one(const std::uint8_t* data, std::size_t size);

// A libFuzzer entry point's body: runs `target` and aborts (a crash libFuzzer keeps) on any
// exception escaping it, naming `name`.
int run_target(const char* name, void (*target)(const std::uint8_t*, std::size_t),
               const std::uint8_t* data, std::size_t size);

}  // namespace tfadesk::fuzz
