// The write transaction: the head lock first, then the appends, the seal and the new head.
#include "impl.hpp"

namespace tfadesk::storage {

namespace {

// The head lock: the first statement of every write transaction. The head is then read again in
// a statement of its own, whose fresh snapshot (READ COMMITTED) sees what the writer before us
// committed; durability is forced on for this transaction if the server was told to skip it.
constexpr const char* kBegin = "BEGIN ISOLATION LEVEL READ COMMITTED; ";
constexpr const char* kLockHead =
    "SELECT 1 FROM head FOR UPDATE; "
    "SELECT h.seq, h.hash, l.seq, l.hash, CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN set_config('synchronous_commit', 'on', true) END "
    "FROM head h LEFT JOIN LATERAL (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) l ON "
    "true";

class PgWriteTransaction final : public engine::Store::Transaction {
public:
    explicit PgWriteTransaction(PgStore::Impl& impl) : impl_(impl) {
        using Tx = PgStore::Impl::Tx;
        if (impl_.mode == engine::Store::Mode::read_only)
            throw Error(ErrorKind::unexpected,
                        "cannot write " + impl_.shown + ": it is open read-only");
        if (impl_.tx != Tx::none)
            throw Error(
                ErrorKind::unexpected,
                impl_.shown + ": a write transaction cannot begin inside another transaction");
        impl_.guard([&] {
            const bool create = impl_.schema < kPgSchemaVersion;
            if (create) impl_.q.exec(kBegin);
            impl_.tx = Tx::write;
            try {
                if (create) {
                    creating_ = true;
                    impl_.create_schema();
                }
                lock_head(!create);
            } catch (...) {
                rollback();
                throw;
            }
        });
    }
    ~PgWriteTransaction() override {
        if (!done_) rollback();
    }
    PgWriteTransaction(const PgWriteTransaction&) = delete;
    PgWriteTransaction& operator=(const PgWriteTransaction&) = delete;

    void commit() override {
        auto& impl = impl_;
        impl.guard([&] {
            impl.flush();
            if (impl.appended && impl.sealer) {
                if (const auto note = impl.sealer(impl.locked, impl.head)) {
                    Params p;
                    p.add(impl.head.seq);
                    p.add(impl.head.hash);
                    p.add(*note);
                    impl.q.exec_prepared("insert_seal", p.dynamic());
                }
            }
            if (impl.head.seq != impl.locked.seq)
                impl.q.exec_prepared("set_head", impl.head.seq, impl.head.hash);
            done_ = true;
            reset();
            impl.end_transaction("COMMIT");
        });
    }

private:
    // The first statements of the transaction: `begin` sends BEGIN with them (one round trip).
    void lock_head(bool begin) {
        const auto r =
            impl_.q.exec(begin ? std::string(kBegin) + kLockHead : std::string(kLockHead));
        if (r.empty())
            throw Error(ErrorKind::unexpected,
                        impl_.shown + " has lost the head row of its log (table head)");
        impl_.locked = Head{number(r[0][0]), text(r[0][1])};
        const Head last = r[0][2].is_null() ? Head{} : Head{number(r[0][2]), text(r[0][3])};
        if (last.seq != impl_.locked.seq || last.hash != impl_.locked.hash)
            throw Error(ErrorKind::unexpected, impl_.shown + ": the head row (seq " +
                                                   std::to_string(impl_.locked.seq) +
                                                   ") disagrees with the log's last entry (seq " +
                                                   std::to_string(last.seq) +
                                                   "); nothing was written - run tfadesk verify");
        impl_.head = impl_.locked;
        impl_.appended = false;
        impl_.any_outbox_links.reset();
        impl_.lookups = 0;
        impl_.tickets_total.reset();
        impl_.opened_refs.reset();
    }
    void reset() {
        impl_.pending.clear();
        impl_.pending_opened.clear();
        impl_.opened_refs.reset();
        impl_.pending_rows.clear();
        impl_.pending_row_of.clear();
        impl_.appended = false;
    }
    void rollback() noexcept {
        reset();
        if (creating_) impl_.schema = 0;  // the schema it created is rolled back with it
        try {
            impl_.end_transaction("ROLLBACK");
        } catch (...) {  // never throw from a destructor; the server rolls back on disconnect
        }
    }

    PgStore::Impl& impl_;
    bool done_ = false;
    bool creating_ = false;  // this transaction creates the schema
};

}  // namespace

std::unique_ptr<engine::Store::Transaction> PgStore::begin_write() {
    return std::make_unique<PgWriteTransaction>(*impl_);
}

}  // namespace tfadesk::storage
