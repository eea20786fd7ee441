// SPDX-License-Identifier: MIT
// ringkit's version. CMake's project(VERSION) must agree: the root CMakeLists.txt refuses to configure
// when it does not.
#pragma once

#define RINGKIT_VERSION_MAJOR 0
#define RINGKIT_VERSION_MINOR 2
#define RINGKIT_VERSION_PATCH 0
// One comparable number: major * 10000 + minor * 100 + patch (0.2.0 -> 200).
#define RINGKIT_VERSION (RINGKIT_VERSION_MAJOR * 10000 + RINGKIT_VERSION_MINOR * 100 + RINGKIT_VERSION_PATCH)
#define RINGKIT_VERSION_STRING "0.2.0"
