// The load tools' command lines (serve_load, intake_load, signed_load): "--name value" pairs into
// the variables each flag names; an unknown flag, or one without its value, exits 2.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <variant>

namespace bench {

struct Flag {
    const char* name;
    std::variant<int*, double*, std::string*> into;
};

inline void parse_flags(const char* program, int argc, char** argv,
                        std::initializer_list<Flag> flags) {
    for (int i = 1; i < argc; i += 2) {
        const Flag* flag = nullptr;
        for (const auto& f : flags)
            if (std::strcmp(argv[i], f.name) == 0) flag = &f;
        if (!flag || i + 1 >= argc) {
            std::fprintf(stderr, "%s: %s flag %s\n", program,
                         flag ? "no value after the" : "unknown", argv[i]);
            std::exit(2);
        }
        const char* v = argv[i + 1];
        if (auto p = std::get_if<int*>(&flag->into))
            **p = std::atoi(v);
        else if (auto d = std::get_if<double*>(&flag->into))
            **d = std::atof(v);
        else
            *std::get<std::string*>(flag->into) = v;
    }
}

}  // namespace bench
