// SPDX-License-Identifier: MIT
// Must compile: the control for the compile-fail tests (same command line).
#include "ringkit/telemetry/logger.hpp"
void f(ringkit::telemetry::Logger& log) { RK_LOG_INFO(log, "{} {:d}", 1, 2); }
