// SPDX-License-Identifier: MIT
// Must NOT compile: {:d} applied to a string.
#include "ringkit/telemetry/logger.hpp"
void f(ringkit::telemetry::Logger& log) { RK_LOG_INFO(log, "{:d}", "text"); }
