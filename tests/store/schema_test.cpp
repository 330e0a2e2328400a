// One schema, two dialects: each store's own catalog (sqlite_master and its pragmas; pg_catalog)
// read after a first write, and compared with the one description both must hold
// (storage/src/schema.hpp). A table, column or index added to one store and not the other - as
// PostgreSQL kept tickets_by_state (state, updated_at) after SQLite's schema 3 dropped
// updated_at - turns this red.
#include "schema.hpp"

#include <algorithm>
#include <sstream>

#include "helpers.hpp"

namespace store_test {
namespace {

namespace schema = tfadesk::storage::schema;

// One line per table ("table events(seq,ref,...)") and per index ("index tickets_by_state on
// tickets(state)", " partial" when it has a WHERE), sorted.
std::vector<std::string> sorted_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
}

std::string joined(const std::vector<std::string_view>& names) {
    std::string out;
    for (const auto n : names) out += (out.empty() ? "" : ",") + std::string(n);
    return out;
}

std::vector<std::string> described(bool postgres) {
    std::vector<std::string> out;
    auto table = [&](const schema::Table& t) {
        out.push_back("table " + std::string(t.name) + "(" + joined(t.columns) + ")");
    };
    for (const auto& t : schema::tables()) table(t);
    if (postgres)
        for (const auto& t : schema::pg_only_tables()) table(t);
    for (const auto& i : schema::indexes())
        out.push_back("index " + std::string(i.name) + " on " + std::string(i.table) + "(" +
                      joined(i.columns) + ")" + (i.partial ? " partial" : ""));
    std::sort(out.begin(), out.end());
    return out;
}

// The catalog, in the same lines. Indexes made by CREATE INDEX only (SQLite: origin 'c';
// PostgreSQL: none behind a constraint); a case-insensitive PostgreSQL index on lower(column)
// is read as the column (SQLite's is the column with COLLATE NOCASE).
constexpr const char* kSqliteCatalog = R"sql(
SELECT group_concat(line, char(10)) FROM (
  SELECT 'table ' || m.name || '(' ||
         (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info(m.name) ORDER BY cid)) ||
         ')' AS line
    FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
  UNION ALL
  SELECT 'index ' || l.name || ' on ' || m.name || '(' ||
         (SELECT group_concat(coalesce(name, '?'), ',')
            FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) ||
         ')' || CASE WHEN l.partial THEN ' partial' ELSE '' END
    FROM sqlite_master m, pragma_index_list(m.name) l
   WHERE m.type = 'table' AND l.origin = 'c')
)sql";

constexpr const char* kPostgresCatalog = R"sql(
SELECT string_agg(line, E'\n') FROM (
  SELECT 'table ' || c.relname::text || '(' || string_agg(a.attname::text, ',' ORDER BY a.attnum) || ')' AS line
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   GROUP BY c.relname
  UNION ALL
  SELECT 'index ' || ci.relname::text || ' on ' || ct.relname::text || '(' ||
         (SELECT string_agg(regexp_replace(pg_get_indexdef(x.indexrelid, k, true),
                                           '^lower\((.*)\)$', '\1'), ',' ORDER BY k)
            FROM generate_series(1, x.indnkeyatts) k) ||
         ')' || CASE WHEN x.indpred IS NOT NULL THEN ' partial' ELSE '' END
    FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid
    JOIN pg_class ct ON ct.oid = x.indrelid JOIN pg_namespace n ON n.oid = ct.relnamespace
   WHERE n.nspname = current_schema()
     AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = x.indexrelid)) t
)sql";

std::string diff(const std::vector<std::string>& want, const std::vector<std::string>& got) {
    std::string out;
    for (const auto& w : want)
        if (!std::binary_search(got.begin(), got.end(), w)) out += "\n  missing: " + w;
    for (const auto& g : got)
        if (!std::binary_search(want.begin(), want.end(), g)) out += "\n  not described: " + g;
    return out;
}

TEST_CASE("the schema: the store holds the tables and indexes storage/src/schema.hpp describes") {
    auto& b = backend();
    Desk desk;
    open(*open_rw(desk.location()), fields("HD-1"), 1);
    const auto got = sorted_lines(
        b.raw_value(desk.location(), b.is_postgres() ? kPostgresCatalog : kSqliteCatalog));
    const auto want = described(b.is_postgres());
    CHECK_MESSAGE(got == want, b.name()
                                   << " differs from storage/src/schema.hpp:" << diff(want, got));
}

TEST_CASE("the schema: an index that drifts is seen") {
    // The check itself can go red: tickets_by_state as PostgreSQL kept it before schema 6.
    auto& b = backend();
    Desk desk;
    open(*open_rw(desk.location()), fields("HD-1"), 1);
    REQUIRE_FALSE(b.raw_exec(desk.location(),
                             "DROP INDEX tickets_by_state; "
                             "CREATE INDEX tickets_by_state ON tickets (state, updated_at);"));
    const auto got = sorted_lines(
        b.raw_value(desk.location(), b.is_postgres() ? kPostgresCatalog : kSqliteCatalog));
    CHECK(diff(described(b.is_postgres()), got) ==
          "\n  missing: index tickets_by_state on tickets(state)"
          "\n  not described: index tickets_by_state on tickets(state,updated_at)");
}

}  // namespace
}  // namespace store_test
