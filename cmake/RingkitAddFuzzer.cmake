# SPDX-License-Identifier: MIT
# ringkit_add_fuzzer(<name> SOURCES <file>... CORPUS <dir>
#                    [INCLUDE_DIRECTORIES <dir>...] [LINK_LIBRARIES <lib>...] [SANITIZERS <name>...])
#
# One libFuzzer target and its ctest entry (label `fuzz`), for every fuzzer in the tree (tests/fuzz,
# apps/rewardpool/fuzz, telemetry/fuzz), entered when RINGKIT_BUILD_FUZZERS is ON (the clang preset).
# The decoder's sources go in SOURCES (compiled into the fuzzer, not linked from its library) so that
# libFuzzer's coverage instrumentation reaches them. SANITIZERS adds to -fsanitize=fuzzer (the clang
# preset already adds address,undefined to every target). The test runs the fuzzer for
# ${FUZZ_SECONDS:-10} s over a scratch copy of CORPUS: `make test` briefly, `make fuzz FUZZ_SECONDS=N` long.
function(ringkit_add_fuzzer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "CORPUS" "SOURCES;INCLUDE_DIRECTORIES;LINK_LIBRARIES;SANITIZERS")
  if(NOT arg_SOURCES OR NOT arg_CORPUS)
    message(FATAL_ERROR "ringkit_add_fuzzer(${name}): SOURCES and CORPUS are required")
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_include_directories(${name} PRIVATE ${arg_INCLUDE_DIRECTORIES})
  target_link_libraries(${name} PRIVATE ${arg_LINK_LIBRARIES})
  list(PREPEND arg_SANITIZERS fuzzer)
  list(JOIN arg_SANITIZERS "," sanitizers)
  target_compile_options(${name} PRIVATE -fsanitize=${sanitizers})
  target_link_options(${name} PRIVATE -fsanitize=${sanitizers})
  set(scratch ${CMAKE_CURRENT_BINARY_DIR}/scratch/${name})
  file(MAKE_DIRECTORY ${scratch})
  add_test(NAME ${name}
           COMMAND sh -c "exec $<TARGET_FILE:${name}> -max_total_time=\${FUZZ_SECONDS:-10} ${scratch} ${arg_CORPUS}")
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()
