#include "tfadesk/desk/import.hpp"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

std::vector<std::string> import_columns() {
    std::vector<std::string> known;
    for (auto f : rules::field_names()) known.emplace_back(f);
    return known;
}

ImportCounts import_records(engine::Store* store, ingest::RecordReader& reader,
                            const ImportOptions& options, const ImportHooks& hooks) {
    const std::string agent = canonical_agent(options.agent);
    std::unique_ptr<engine::Store::Transaction> tx;
    if (store) {
        authorize(*store, Actor{agent, options.token_id}, "operator", "import");
        if (!options.dry_run) tx = store->begin_write();
    }
    ImportCounts n;
    std::unordered_set<std::string> seen;  // dry run only: refs "imported" so far
    ingest::Record rec;
    // The record's own cells, looked up in place (a record has at most one cell per field).
    const rules::FieldLookup cell =
        [&rec](std::string_view key) -> std::optional<std::string_view> {
        for (const auto& [name, value] : rec.fields)
            if (name == key) return value;
        return std::nullopt;
    };
    while (reader.next(rec)) {
        std::string error = rec.error;
        const std::string now = now_utc();
        std::optional<rules::Fields> fields;
        if (error.empty()) {
            auto result = rules::validate_fields(cell, now);
            if (auto* bad = std::get_if<rules::FieldError>(&result))
                error = bad->message();
            else
                fields = std::move(std::get<rules::Fields>(result));
        }
        if (!error.empty()) {
            ++n.rejected;
            if (hooks.on_reject)
                hooks.on_reject(rec, rules::escape_control(rules::mask_pii(error)));
        } else {
            const bool fresh =
                options.dry_run
                    ? !(store && store->exists(fields->ref)) && seen.insert(fields->ref).second
                    : engine::open_if_new(*store, std::move(*fields), agent, now, options.triage,
                                          options.token_id);
            ++(fresh ? n.imported : n.duplicates);
        }
        if (hooks.on_progress) hooks.on_progress(n);
    }
    n.kept = !(options.strict && n.rejected > 0);
    if (tx && n.kept) tx->commit();
    if (!n.kept) n.imported = 0;
    spdlog::info("import by {}: imported {}, duplicates {}, rejected {}{}", agent, n.imported,
                 n.duplicates, n.rejected, options.dry_run ? " (dry run)" : "");
    return n;
}

}  // namespace tfadesk::desk
