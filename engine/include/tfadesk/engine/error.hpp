// The one error type of tfadesk. Its kind maps one-to-one onto the exit codes of SPEC §4, so
// `main` can print one line and return the code. A refused event is NOT an error: it is an
// Outcome value (see machine.hpp); the CLI turns it into exit 3.
//
// An error is data: its kind, the input field it is about, the rule and state of a refusal, the
// ticket it concerns, and words. The words are the core's own; where they name an input field
// they hold the field's neutral name (`agent`, `note`, `expect_version`, ...) apart from the
// text, and each front end spells it its own way: the CLI as a flag (`--expect-version`), the
// API as a JSON key or query parameter (`expect_version`). Nothing in engine/ or desk/ names a
// command-line flag.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfadesk::engine {

enum class ErrorKind {
    unexpected = 1,     // I/O, corrupt file, anything unforeseen
    invalid_input = 2,  // bad flag, bad field value, rejected import rows
    refused = 3,        // the workflow refused (used only where a refusal must unwind)
    not_found = 4,      // no such ticket
    conflict = 5,       // duplicate ref, or an expected version that does not match
    integrity = 6,      // verify found a difference, or the log cannot be replayed
    forbidden = 7,      // the desk has accounts and the agent may not do this (SPEC §7)
};

// The words of a message: text, with the input fields and the actions it names kept apart so
// that a front end can spell each one. Built with `+` from text, `field(name)` and
// `action(name, plain)`.
class Words {
public:
    Words() = default;
    explicit Words(std::string text) : text_(std::move(text)) {}
    enum class Kind { field, action };
    // The input field `name`, written as its name unless a front end spells it.
    static Words field(std::string_view name) { return mention(Kind::field, name, name); }
    // Something to do, named `name` (`adopt`, `sign_with_key`, ...), written as `plain` (which
    // may be empty) unless a front end spells it with its own command or words.
    static Words action(std::string_view name, std::string_view plain) {
        return mention(Kind::action, name, plain);
    }

    Words& operator+=(std::string_view text) {
        text_ += text;
        return *this;
    }
    Words& operator+=(const Words& more) {
        for (const auto& m : more.mentions_)
            mentions_.push_back({m.at + text_.size(), m.size, m.kind, m.name});
        text_ += more.text_;
        return *this;
    }

    // The text with each field named as it is (`expect_version`) and each action in its plain
    // words.
    const std::string& plain() const noexcept { return text_; }
    // What a front end calls a field or action (nothing: its plain words).
    using Speller = std::function<std::optional<std::string>(Kind, std::string_view name)>;
    // The text with each field and action spelled by `spell`.
    std::string spelled(const Speller& spell) const {
        std::string out;
        std::size_t from = 0;
        for (const auto& m : mentions_) {
            out.append(text_, from, m.at + m.size - from);
            if (auto word = spell(m.kind, m.name)) out.replace(out.size() - m.size, m.size, *word);
            from = m.at + m.size;
        }
        out.append(text_, from, std::string::npos);
        return out;
    }

private:
    static Words mention(Kind kind, std::string_view name, std::string_view plain) {
        Words w{std::string(plain)};
        w.mentions_.push_back({0, plain.size(), kind, std::string(name)});
        return w;
    }
    struct Mention {
        std::size_t at, size;  // where in text_ its plain words stand
        Kind kind;
        std::string name;
    };
    std::string text_;
    std::vector<Mention> mentions_;
};

inline Words field(std::string_view name) { return Words::field(name); }
inline Words action(std::string_view name, std::string_view plain) {
    return Words::action(name, plain);
}
inline Words operator+(Words a, std::string_view b) { return std::move(a += b); }
inline Words operator+(Words a, const Words& b) { return std::move(a += b); }
inline Words operator+(std::string_view a, const Words& b) {
    Words w{std::string(a)};
    return std::move(w += b);
}

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : Error(kind, Words{what}) {}
    explicit Error(ErrorKind kind, Words words)
        : std::runtime_error(words.plain()), kind_(kind), words_(std::move(words)) {}
    // A refusal by the workflow or an account rule: the rule and the state it was judged in.
    Error(ErrorKind kind, const std::string& what, std::string rule, std::string state)
        : Error(kind, Words{what}, std::move(rule), std::move(state)) {}
    Error(ErrorKind kind, Words words, std::string rule, std::string state)
        : Error(kind, std::move(words)) {
        rule_ = std::move(rule);
        state_ = std::move(state);
    }
    // An error about the input field `name`, worded "FIELD: words" (the field spelled by the
    // front end).
    static Error about(ErrorKind kind, std::string_view name, const Words& words) {
        return Error(kind, Words::field(name) + ": " + words).on(name);
    }
    static Error about(ErrorKind kind, std::string_view name, std::string_view text) {
        return about(kind, name, Words{std::string(text)});
    }

    // The input field this error is about (a neutral name), set by `about` or `on`.
    Error& on(std::string_view name) {
        field_ = name;
        return *this;
    }
    // The ticket this error is about, where known.
    Error& of(std::string ref) {
        ref_ = std::move(ref);
        return *this;
    }

    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const noexcept { return static_cast<int>(kind_); }
    const std::string& field() const noexcept { return field_; }
    const std::string& rule() const noexcept { return rule_; }
    const std::string& state() const noexcept { return state_; }
    const std::string& ref() const noexcept { return ref_; }
    // The message with the fields it names spelled by `spell`; what() names them plainly.
    const Words& words() const noexcept { return words_; }
    std::string spelled(const Words::Speller& spell) const { return words_.spelled(spell); }

private:
    ErrorKind kind_;
    Words words_;
    std::string field_, rule_, state_, ref_;
};

}  // namespace tfadesk::engine
