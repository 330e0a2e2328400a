// How the command line words the core's errors (engine/error.hpp): each field as the flag that
// sets it, each action as the command that does it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {

// The flag of a field (`expect_version` -> `--expect-version`) or the command of an action;
// nothing for an action the command line has no words for (its plain words stand). A name the
// command line gave itself (`TFADESK_AGENT`, `--name`) stands as it is.
std::optional<std::string> cli_word(engine::Words::Kind kind, std::string_view name);

// The error's message as the command line prints it.
std::string cli_message(const engine::Error& e);

}  // namespace tfadesk::cli
