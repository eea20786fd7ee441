// SPDX-License-Identifier: MIT
// Must NOT compile: two placeholders, one argument (fmt::format_string checks at compile time).
#include "ringkit/telemetry/logger.hpp"
void f(ringkit::telemetry::Logger& log) { RK_LOG_INFO(log, "{} {}", 1); }
