// SPDX-License-Identifier: MIT
// RINGKIT_TELEMETRY_ACTIVE_LEVEL removes calls below it at compile time: their arguments are not even
// evaluated, whatever the run-time level says.
#define RINGKIT_TELEMETRY_ACTIVE_LEVEL 3  // warn
#include <gtest/gtest.h>

#include "ringkit/telemetry/logger.hpp"
#include "support/capture_sink.hpp"

using namespace ringkit::telemetry;

TEST(CompileTimeLevel, CallsBelowTheActiveLevelAreCompiledOut) {
  auto sink = std::make_shared<test::CaptureSink>();
  LoggerOptions o;
  o.level = Level::trace;  // the run-time filter lets everything through
  o.sinks = {sink};
  Logger log(std::move(o));
  int evaluated = 0;
  auto arg = [&] { return ++evaluated; };
  RK_LOG_TRACE(log, "t {}", arg());
  RK_LOG_DEBUG(log, "d {}", arg());
  RK_LOG_INFO(log, "i {}", arg());
  RK_LOG_WARN(log, "w {}", arg());
  RK_LOG_ERROR(log, "e {}", arg());
  log.flush();
  EXPECT_EQ(evaluated, 2);
  EXPECT_EQ(sink->messages(), (std::vector<std::string>{"w 1", "e 2"}));
  EXPECT_FALSE(detail::compiled_in(Level::info));
  EXPECT_TRUE(detail::compiled_in(Level::warn));
}
