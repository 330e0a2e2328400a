# Warnings and sanitizers as INTERFACE targets, linked PRIVATE by every target of ours.
add_library(tfadesk_warnings INTERFACE)
add_library(tfadesk::warnings ALIAS tfadesk_warnings)
target_compile_options(tfadesk_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)

add_library(tfadesk_sanitizers INTERFACE)
add_library(tfadesk::sanitizers ALIAS tfadesk_sanitizers)
if(TFADESK_SANITIZE)
    target_compile_options(tfadesk_sanitizers INTERFACE -fsanitize=address,undefined
                                                        -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(tfadesk_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(tfadesk_options INTERFACE)
add_library(tfadesk::options ALIAS tfadesk_options)
target_link_libraries(tfadesk_options INTERFACE tfadesk::warnings tfadesk::sanitizers)
