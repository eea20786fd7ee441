# SPDX-License-Identifier: MIT
# cmake -P script (ctest tsan_consumer_test): compiles tsan_consumer.cpp as a user's ThreadSanitizer build
# would, `-fsanitize=thread -Werror`, with no -Wno-tsan. GCC warns (-Wtsan) on every std::atomic_thread_fence
# under TSan; include/ringkit/detail/fence.hpp therefore uses a seq_cst RMW there, and this pins that.
#   -DCXX=<compiler> -DSOURCE_DIR=<ringkit source>
execute_process(
  COMMAND ${CXX} -std=c++20 -fsanitize=thread -Werror -Wall -Wextra -I${SOURCE_DIR}/include
          -c ${SOURCE_DIR}/tests/install_consumer/tsan_consumer.cpp -o tsan_consumer.o
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a user's -fsanitize=thread -Werror build failed:\n${out}")
endif()
message(STATUS "a user's -fsanitize=thread -Werror build of every queue and wait strategy compiles cleanly")
