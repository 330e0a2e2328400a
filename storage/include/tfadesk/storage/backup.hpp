// A consistent copy of a live SQLite desk (SPEC §16), by SQLite's online backup API: the only
// code that copies a database file page by page.
#pragma once

#include <string>

namespace tfadesk::storage {

// Copies the SQLite database `db` into `dest` (an empty or new file, which it overwrites) while
// other connections go on writing: the source is read in one read transaction (WAL: writers are
// not blocked and the copy is the snapshot it began with). The copy is left in rollback-journal
// mode, so it is one file with nothing beside it. Throws engine::Error(unexpected) naming the
// file and SQLite's message when either cannot be opened or the copy fails.
void backup_sqlite(const std::string& db, const std::string& dest);

}  // namespace tfadesk::storage
