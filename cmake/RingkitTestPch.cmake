# SPDX-License-Identifier: MIT
# One precompiled GoogleTest header per build, shared by every test executable (ringkit_test_pch(<target>)).
# Each test file otherwise parses <gtest/gtest.h> and the standard headers it pulls in again: measured
# 2026-12-02 under the asan preset's flags, a one-test file compiled in 4.9 CPU s from source and in 3.3 CPU s
# with this header precompiled; the ~50 test files of a build share the one PCH, built once (~10 CPU s).
# GCC only (the clang preset builds without it): GCC falls back to the real headers if the PCH does not fit
# a file's flags, and -Winvalid-pch says so, so a mismatch costs time, never correctness.
# Tests that check what a header includes (tests/plain_queue_headers_test.cpp) must not use it.
option(RINGKIT_TEST_PCH "Precompile <gtest/gtest.h> once for all test executables (GCC)" ON)

if(RINGKIT_BUILD_TESTS AND RINGKIT_TEST_PCH AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT TARGET ringkit_test_pch)
  find_package(GTest REQUIRED)  # as the tests do
  add_library(ringkit_test_pch STATIC ${PROJECT_SOURCE_DIR}/tests/support/test_pch.cpp)
  # The test targets' flags: -Wpedantic changes GCC's predefined macros (__cpp_runtime_arrays), and a PCH
  # built without it is rejected by every test file.
  target_link_libraries(ringkit_test_pch PUBLIC GTest::gtest PRIVATE ringkit_warnings)
  target_precompile_headers(ringkit_test_pch PRIVATE
    <gtest/gtest.h> <atomic> <chrono> <cstdint> <functional> <memory> <string> <thread> <vector>)
endif()

function(ringkit_test_pch target)
  if(TARGET ringkit_test_pch)
    target_precompile_headers(${target} REUSE_FROM ringkit_test_pch)
    target_compile_options(${target} PRIVATE -Winvalid-pch)
  endif()
endfunction()
