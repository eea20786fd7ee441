# SPDX-License-Identifier: MIT
# The reward pool as a network service (issue 13): the gRPC API (proto/), `rewardpool serve`, `load`,
# `top`, the YAML config. Included from apps/rewardpool/CMakeLists.txt.
#
# gRPC and protobuf are not built with ThreadSanitizer (Debian's libraries are not instrumented, so
# TSan would report their internal synchronisation as races): under the tsan preset the service is left
# out (REWARDPOOL_SERVICE defaults OFF there) and the `rewardpool` binary has no serve/load/top.
set(_rewardpool_service_default ON)
if(CMAKE_CXX_FLAGS MATCHES "sanitize=thread")
  set(_rewardpool_service_default OFF)
endif()
option(REWARDPOOL_SERVICE "Build the reward pool's gRPC service (serve, load, top)" ${_rewardpool_service_default})
if(NOT REWARDPOOL_SERVICE)
  message(STATUS "rewardpool: gRPC service not built (REWARDPOOL_SERVICE=OFF; the default under TSan)")
  return()
endif()

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Curses REQUIRED)
# The NATS C client (Debian libnats-dev), for replication. Not through find_package(cnats): Debian's
# cnats-config.cmake names a libnats_static.a the package does not ship, and fails.
find_library(REWARDPOOL_NATS_LIBRARY nats REQUIRED)
find_path(REWARDPOOL_NATS_INCLUDE nats/nats.h REQUIRED)
find_program(REWARDPOOL_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(_proto_dir ${CMAKE_CURRENT_SOURCE_DIR}/proto)
set(_gen_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${_gen_dir})
set(_proto_sources)
foreach(name rewardpool rewardpool_admin)
  set(_out ${_gen_dir}/${name}.pb.cc ${_gen_dir}/${name}.pb.h ${_gen_dir}/${name}.grpc.pb.cc ${_gen_dir}/${name}.grpc.pb.h)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND protobuf::protoc --proto_path=${_proto_dir} --cpp_out=${_gen_dir} --grpc_out=${_gen_dir}
            --plugin=protoc-gen-grpc=${REWARDPOOL_GRPC_CPP_PLUGIN} ${_proto_dir}/${name}.proto
    DEPENDS ${_proto_dir}/${name}.proto
    COMMENT "protoc: ${name}.proto (C++ and gRPC)")
  list(APPEND _proto_sources ${_out})
endforeach()

# The generated code: no warnings flags (it is not ours).
add_library(rewardpool_proto STATIC ${_proto_sources})
target_include_directories(rewardpool_proto SYSTEM PUBLIC ${_gen_dir})  # not our code: no warnings from it
target_link_libraries(rewardpool_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)

add_library(rewardpool_service STATIC
  src/service/server.cpp
  src/service/load.cpp
  src/service/config.cpp
  src/service/top.cpp
  src/service/replication.cpp
  src/service/commands.cpp)
target_include_directories(rewardpool_service PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_include_directories(rewardpool_service PRIVATE ${CURSES_INCLUDE_DIRS} ${REWARDPOOL_NATS_INCLUDE})
target_link_libraries(rewardpool_service PUBLIC rewardpool_core rewardpool_proto yaml-cpp CLI11::CLI11
                      PRIVATE ${CURSES_LIBRARIES} ${REWARDPOOL_NATS_LIBRARY} ringkit_warnings)

target_link_libraries(rewardpool PRIVATE rewardpool_service)
target_compile_definitions(rewardpool PRIVATE REWARDPOOL_WITH_SERVICE=1)

if(RINGKIT_BUILD_TESTS)
  add_subdirectory(tests/service)
endif()
