# SPDX-License-Identifier: MIT
# cmake -P script: configure, build and install ringkit into WORK_DIR/prefix, then build and run the consumer.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test step failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib-build -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -DRINGKIT_BUILD_TESTS=OFF -DRINGKIT_BUILD_BENCH=OFF
    -DRINGKIT_BUILD_APPS=OFF -DRINGKIT_BUILD_EXAMPLES=OFF)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/lib-build)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib-build)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install_consumer -B ${WORK_DIR}/consumer-build
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer)
message(STATUS "install test: consumer built against the installed tree and ran")

# pkg-config: a plain compiler command line from the installed ringkit.pc / ringkit-spill.pc.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} "${WORK_DIR}/prefix/lib/pkgconfig:${WORK_DIR}/prefix/lib/x86_64-linux-gnu/pkgconfig")
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ringkit-spill RESULT_VARIABLE rc OUTPUT_VARIABLE flags
                  ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config could not read the installed ringkit-spill.pc: ${err}")
  endif()
  separate_arguments(flag_list UNIX_COMMAND "${flags}")
  run(${CXX} ${SOURCE_DIR}/tests/install_consumer/pkg_config_main.cpp ${flag_list} -o ${WORK_DIR}/pkg_config_consumer)
  run(${WORK_DIR}/pkg_config_consumer)
  message(STATUS "install test: a consumer built with pkg-config flags (${flags}) ran")
else()
  message(STATUS "install test: pkg-config not installed; the .pc check did not run")
endif()

# As a dependency: add_subdirectory gives the library targets only.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install_consumer/as_subproject -B ${WORK_DIR}/subproject-build
    -DCMAKE_CXX_COMPILER=${CXX} -DRINGKIT_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/subproject-build)
run(${WORK_DIR}/subproject-build/consumer)
message(STATUS "install test: ringkit used through add_subdirectory built the library targets only")
