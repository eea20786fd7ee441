# SPDX-License-Identifier: MIT
# The two commands a new user runs (see README):
#   make bench   install what is missing, build Release, run the main benchmark job
#   make test    install, then build and run every test: normal (Release), ASan+UBSan, TSan, then the
#                unit tests and a fuzz smoke built with clang++-14 (preset clang: ASan+UBSan, libFuzzer)
#   make soak    long stress runs (ctest label `soak`, never part of make test), Release then TSan,
#                SOAK_MINUTES each (default 10)
#   make fuzz    every fuzz_* libFuzzer target (ctest label `fuzz`, preset clang), FUZZ_SECONDS each (default 60),
#                one after another; executions per target at the end (log: build-clang/fuzz-log.txt)
# BENCH_ARGS is passed to the benchmark; JOBS caps build parallelism.

JOBS ?= $(shell nproc)
BENCH_ARGS ?=
CTEST_ARGS ?=

SOAK_MINUTES ?= 10
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

# The clang step builds only what it runs: the library's unit tests (tests/*_test.cpp), ringbench's core
# tests and the fuzz_* targets; never the apps' own binaries (and so never gRPC).
empty :=
space := $(empty) $(empty)
CLANG_UNIT_TESTS := $(sort $(basename $(notdir $(wildcard tests/*_test.cpp)))) ringbench_test
FUZZ_TARGETS = $$(cmake --build build-clang --target help | sed -n 's/^\.\.\. \(fuzz_[A-Za-z0-9_]*\).*/\1/p')

.PHONY: all deps build bench test test-release test-asan test-tsan test-clang soak fuzz clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

bench: build
	./scripts/run-bench.sh $(BENCH_ARGS)

test: deps test-release test-asan test-tsan test-clang
	@echo "make test: all four builds passed"

test-release:
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	ctest --preset release -j $(JOBS) $(CTEST_ARGS)

test-asan:
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS) $(CTEST_ARGS)

test-tsan:
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS) $(CTEST_ARGS)

# clang++-14 with ASan+UBSan: the unit tests, then each fuzzer for FUZZ_SMOKE_SECONDS over its corpus.
test-clang:
	cmake --preset clang
	cmake --build --preset clang -j $(JOBS) --target $(CLANG_UNIT_TESTS) $(FUZZ_TARGETS)
	ctest --preset clang -j $(JOBS) -R '^($(subst $(space),|,$(CLANG_UNIT_TESTS)))$$' $(CTEST_ARGS)
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) ctest --preset clang -L fuzz $(CTEST_ARGS)

# Every fuzzer, FUZZ_SECONDS each, one at a time; the summary lists libFuzzer's "Done N runs in S s" per target.
fuzz: deps
	cmake --preset clang
	cmake --build --preset clang -j $(JOBS) --target $(FUZZ_TARGETS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --preset clang -L fuzz -V --timeout $$(( $(FUZZ_SECONDS) * 2 + 300 )) \
	  $(CTEST_ARGS) > build-clang/fuzz-log.txt 2>&1; rc=$$?; \
	  grep -E "Test +#[0-9]+: fuzz_|Done [0-9]+ runs|ERROR|SUMMARY|tests passed" build-clang/fuzz-log.txt; exit $$rc

# Tests labelled `soak` run only here; each reads SOAK_MINUTES from the environment. -V: the soaks print
# what they did (tests/soak: hand-offs and any loss, duplicate or reordering per cell, then a total).
soak: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	SOAK_MINUTES=$(SOAK_MINUTES) ctest --test-dir build -L soak -V
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS) --target all ringkit_soak
	SOAK_MINUTES=$(SOAK_MINUTES) RINGKIT_SANITIZER=tsan TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -L soak -V

clean:
	rm -rf build build-debug build-asan build-tsan build-clang
