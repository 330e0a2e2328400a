// The store itself: connecting (failures on one line, password masked), its snapshots, and the
// backend's registration with storage/open.hpp.
#include <libpq-fe.h>

#include "impl.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::storage {

void PgStore::Impl::fail(const std::exception& e) const {
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
        const std::string& code = sql->sqlstate();
        std::string what = shown + ": " + server_message(sql->what());
        if (code == "42501")
            what +=
                " (SQLSTATE 42501: this role may not do that; see docs/postgresql.md for the "
                "roles)";
        else if (code != "P0001")
            what += " (SQLSTATE " + code + ")";
        throw Error(ErrorKind::unexpected, scrub(what));
    }
    if (dynamic_cast<const pqxx::broken_connection*>(&e))
        throw Error(
            ErrorKind::unexpected,
            scrub(shown + ": the connection to the server was lost: " + one_line(e.what())));
    throw Error(ErrorKind::unexpected, scrub(shown + ": " + one_line(e.what())));
}

namespace {

// Connects; a failure is one line naming the masked URI, with whatever libpq said scrubbed of the
// password (libpq can echo parts of the connection string, e.g. a malformed percent-escape).
std::unique_ptr<PgStore::Impl> connect(const std::string& uri, engine::Store::Mode mode) {
    std::string shown = mask_uri(uri);
    std::vector<std::string> secrets = uri_secrets(uri);
    try {
        return std::make_unique<PgStore::Impl>(uri, mode, shown, secrets);
    } catch (const std::exception& e) {
        throw Error(ErrorKind::unexpected,
                    scrub("cannot connect to " + shown + ": " + one_line(e.what()), secrets));
    }
}

}  // namespace

bool pg_desk_exists(const std::string& uri) {
    auto impl = connect(uri, engine::Store::Mode::read_only);
    return impl->guard([&] {
        bool has_meta = false, has_tables = false;
        impl->inspect_schema(has_meta, has_tables);
        return has_meta;
    });
}

PgStore::PgStore(const std::string& uri, Mode mode) : impl_(connect(uri, mode)) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (mode == Mode::read_only) {
            // One snapshot for the store's life: verify compares several queries.
            impl.q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            impl.tx = Impl::Tx::snapshot;
            impl.check_schema(false);
        } else {
            impl.check_schema(true);  // refuses a foreign or newer schema now; creates nothing yet
        }
        impl.prepare_statements();
    });
}

PgStore::~PgStore() {
    if (impl_->tx == Impl::Tx::none) return;
    try {
        impl_->end_transaction("ROLLBACK");
    } catch (...) {  // never throw from a destructor; the server rolls back with the connection
    }
}

std::string PgStore::location() const { return impl_->shown; }

bool PgStore::end_snapshot() {
    auto& impl = *impl_;
    if (impl.mode != Mode::read_only || impl.tx != Impl::Tx::snapshot) return false;
    impl.guard([&] { impl.end_transaction("COMMIT"); });
    return true;
}

bool PgStore::start_snapshot() {
    auto& impl = *impl_;
    if (impl.mode != Mode::read_only || impl.tx != Impl::Tx::none) return false;
    return impl.guard([&] {
        const int before = impl.schema;
        impl.q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        impl.tx = Impl::Tx::snapshot;
        impl.check_schema(false);
        return impl.schema == before;
    });
}

void PgStore::set_sealer(Sealer sealer) { impl_->sealer = std::move(sealer); }

std::unique_ptr<engine::Store> open_pg_store(const std::string& uri, engine::Store::Mode mode) {
    return std::make_unique<PgStore>(uri, mode);
}

// --- the registration ---------------------------------------------------------------------------

namespace {

std::string libpq_version() {
    const int v = PQlibVersion();
    return "libpq " + std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

// This is an OBJECT library's code, so it is linked whenever the library is: linking
// tfadesk_storage_pg is what gives a program the PostgreSQL store.
const BackendRegistrar registrar{
    Backend{{"postgresql", "postgres"}, open_pg_store, pg_desk_exists, mask_uri, libpq_version}};

}  // namespace

}  // namespace tfadesk::storage
