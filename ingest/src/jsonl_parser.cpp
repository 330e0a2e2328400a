// One JSON Lines line to fields via nlohmann's SAX interface; see jsonl_parser.hpp.
#include "jsonl_parser.hpp"

#include <cstddef>
#include <nlohmann/json.hpp>

#include "text.hpp"

namespace tfadesk::ingest::detail {
namespace {

using Json = nlohmann::json;
constexpr std::size_t no_key = static_cast<std::size_t>(-1);

// Collects the top-level members of one object. Returning false from an event stops the
// parse; that happens only when the line turns out not to be an object at all.
class FlatObjectSax final : public nlohmann::json_sax<Json> {
public:
    FlatObjectSax(const std::vector<std::string>& known, std::vector<char>& seen, Record& out)
        : known_(known), seen_(seen), out_(out) {}

    bool null() override { return on_value(nullptr, nullptr); }
    bool boolean(bool /*value*/) override { return on_value("a boolean", nullptr); }
    bool number_integer(number_integer_t value) override {
        number_ = std::to_string(value);
        return on_value(nullptr, &number_);
    }
    bool number_unsigned(number_unsigned_t value) override {
        number_ = std::to_string(value);
        return on_value(nullptr, &number_);
    }
    bool number_float(number_float_t /*value*/, const string_t& text) override {
        // nlohmann reads integers beyond 64 bits as floating point too.
        const bool integral = text.find_first_of(".eE") == string_t::npos;
        return on_value(integral ? "an integer over 64 bits (write it as a string)"
                                 : "a number with a fraction or an exponent",
                        nullptr);
    }
    bool string(string_t& value) override { return on_value(nullptr, &value); }
    bool binary(binary_t& /*value*/) override { return on_value("binary data", nullptr); }
    bool start_object(std::size_t /*elements*/) override { return on_open("an object", true); }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool start_array(std::size_t /*elements*/) override { return on_open("an array", false); }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t& name) override;
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& ex) override {
        syntax_error_ = ex.what();
        return false;
    }

    std::size_t field_count() const noexcept { return fields_; }
    bool not_object() const noexcept { return not_object_; }
    const std::string& syntax_error() const noexcept { return syntax_error_; }
    const std::optional<std::string>& unknown_key() const noexcept { return unknown_key_; }
    // Where the parse stopped, for a message: "column 'x'" while reading the value of a
    // top-level key, "a key name" while reading one, else nothing.
    std::optional<std::string> stop_place() const {
        if (depth_ != 1) return std::nullopt;
        return awaiting_value_ ? column() : std::string("a key name");
    }

private:
    bool on_value(const char* wrong_type, std::string* text);
    bool on_open(const char* what, bool is_object);
    void set_error(std::string message) {
        if (out_.error.empty()) out_.error = std::move(message);
    }
    std::string column() const { return "column '" + printable(last_key_) + "'"; }

    const std::vector<std::string>& known_;
    std::vector<char>& seen_;
    Record& out_;
    std::size_t depth_ = 0;
    std::size_t current_ = no_key;  // index in known_ of the key whose value comes next
    bool awaiting_value_ = false;
    bool not_object_ = false;
    std::size_t fields_ = 0;
    std::string last_key_;
    std::string number_;
    std::string syntax_error_;
    std::optional<std::string> unknown_key_;
};

bool FlatObjectSax::key(string_t& name) {
    if (depth_ != 1) return true;
    last_key_ = name;
    awaiting_value_ = true;
    current_ = no_key;
    for (std::size_t i = 0; i < known_.size(); ++i) {
        if (known_[i] != name) continue;
        if (seen_[i] != 0) {
            set_error("duplicate key '" + printable(name) + "'");
        } else {
            seen_[i] = 1;
            current_ = i;
        }
        return true;
    }
    if (!unknown_key_) unknown_key_ = name;
    return true;
}

bool FlatObjectSax::on_open(const char* what, bool is_object) {
    if (depth_ == 0) {
        if (!is_object) {
            not_object_ = true;
            return false;
        }
        depth_ = 1;
        return true;
    }
    if (depth_ == 1) {
        awaiting_value_ = false;
        if (current_ != no_key) {
            set_error(column() + " must be a string, an integer or null, not " + what);
        }
    }
    ++depth_;
    return true;
}

bool FlatObjectSax::on_value(const char* wrong_type, std::string* text) {
    if (depth_ == 0) {
        not_object_ = true;
        return false;
    }
    if (depth_ > 1) return true;
    awaiting_value_ = false;
    if (current_ == no_key) return true;  // unknown or duplicate key: reported elsewhere
    if (wrong_type != nullptr) {
        set_error(column() + " must be a string, an integer or null, not " + wrong_type);
        return true;
    }
    if (text == nullptr || text->empty()) return true;  // null or "": missing
    if (text->find('\0') != std::string::npos) {
        set_error("control character NUL in " + column());
        return true;
    }
    if (fields_ == out_.fields.size()) out_.fields.emplace_back();
    out_.fields[fields_].first.assign(known_[current_]);
    out_.fields[fields_].second.swap(*text);
    ++fields_;
    return true;
}

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 7: ..." as
// "invalid JSON at column 7: ..." (the line number is the file's, reported by the caller).
std::string describe_syntax_error(const std::string& what) {
    std::string_view rest(what);
    if (const auto close = rest.find("] "); close != std::string_view::npos) {
        rest.remove_prefix(close + 2);
    }
    constexpr std::string_view lead = "parse error at line ";
    if (rest.substr(0, lead.size()) == lead) {
        if (const auto col = rest.find("column "); col != std::string_view::npos) {
            rest.remove_prefix(col);
            return "invalid JSON at " + printable(rest, 200);
        }
    }
    return "invalid JSON: " + printable(rest, 200);
}

}  // namespace

std::optional<std::string> JsonlParser::parse(std::string_view line, Record& out) {
    out.error.clear();
    if (line.find('\0') != std::string_view::npos) {
        // nlohmann reads a NUL as the end of input and would ignore the rest of the line.
        out.fields.clear();
        out.error = "control character NUL in the line";
        return std::nullopt;
    }
    seen_.assign(known_.size(), 0);
    FlatObjectSax sax(known_, seen_, out);
    const bool ok = Json::sax_parse(line.begin(), line.end(), &sax);
    out.fields.resize(sax.field_count());
    if (sax.not_object()) {
        out.error = "not a JSON object (each line must hold one object)";
    } else if (!ok) {
        const std::string& what = sax.syntax_error();
        const bool bad_utf8 =
            what.find("UTF-8") != std::string::npos || scan_text(line) == TextFault::invalid_utf8;
        if (bad_utf8) {
            const auto place = what.find("ill-formed UTF-8") != std::string::npos ? sax.stop_place()
                                                                                  : std::nullopt;
            out.error = place ? "invalid UTF-8 in " + *place : std::string("invalid UTF-8");
        } else {
            out.error = describe_syntax_error(what);
        }
    } else if (sax.unknown_key()) {
        return sax.unknown_key();
    }
    return std::nullopt;
}

}  // namespace tfadesk::ingest::detail
