#include "command.hpp"

namespace tfadesk::cli {

std::unique_ptr<Command> make_open();
std::unique_ptr<Command> make_event();
std::unique_ptr<Command> make_show();
std::unique_ptr<Command> make_list();
std::unique_ptr<Command> make_import();
std::unique_ptr<Command> make_sweep();
std::unique_ptr<Command> make_stats();
std::unique_ptr<Command> make_history();
std::unique_ptr<Command> make_replay();
std::unique_ptr<Command> make_reply();
std::unique_ptr<Command> make_verify();
std::unique_ptr<Command> make_export();
std::unique_ptr<Command> make_access_log();
std::unique_ptr<Command> make_migrate();
std::unique_ptr<Command> make_diagram();
std::unique_ptr<Command> make_completion();
std::unique_ptr<Command> make_agent();
std::unique_ptr<Command> make_key();
std::unique_ptr<Command> make_checkpoint();
std::unique_ptr<Command> make_seal();
std::unique_ptr<Command> make_serve();
std::unique_ptr<Command> make_outbox();  // the helpdesk connector (SPEC §17)
std::unique_ptr<Command> make_backup();  // SPEC §16

std::vector<std::unique_ptr<Command>> make_commands() {
    std::vector<std::unique_ptr<Command>> v;
    for (auto make :
         {make_open,       make_event,   make_show,    make_list,       make_import, make_sweep,
          make_stats,      make_history, make_replay,  make_reply,      make_verify, make_export,
          make_access_log, make_migrate, make_diagram, make_completion, make_agent,  make_key,
          make_checkpoint, make_seal,    make_serve,   make_outbox})
        v.push_back(make());
    v.push_back(make_backup());  // SPEC §16
    return v;
}

}  // namespace tfadesk::cli
