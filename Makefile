# The two commands a new user runs (see README):
#   make bench   install what is missing, build Release, run the main benchmark job
#   make test    install, then build and run every test: normal (Release), ASan+UBSan, TSan
#   make soak    long stress runs (ctest label `soak`, never part of make test), Release then TSan,
#                SOAK_MINUTES each (default 10)
# BENCH_ARGS is passed to the benchmark; JOBS caps build parallelism.

JOBS ?= $(shell nproc)
BENCH_ARGS ?=
CTEST_ARGS ?=

SOAK_MINUTES ?= 10

.PHONY: all deps build bench test test-release test-asan test-tsan soak clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

bench: build
	./scripts/run-bench.sh $(BENCH_ARGS)

test: deps test-release test-asan test-tsan
	@echo "make test: all three builds passed"

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

# Tests labelled `soak` run only here; each reads SOAK_MINUTES from the environment.
soak: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	SOAK_MINUTES=$(SOAK_MINUTES) ctest --test-dir build -L soak --output-on-failure
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	SOAK_MINUTES=$(SOAK_MINUTES) RINGKIT_SANITIZER=tsan ctest --test-dir build-tsan -L soak --output-on-failure

clean:
	rm -rf build build-debug build-asan build-tsan
