# Herald: the two commands of the README, and their parts.
#   make run    installs what is missing, builds, serves with embedded defaults
#   make test   installs what is missing, builds, runs every test suite
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build run test test-fast test-asan test-tsan bench fuzz lint clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# Quiet: the compiler's lines go to $(BUILD)/build.log (shown on failure), so
# what make run prints is the server's address, token and first steps.
run: deps
	@mkdir -p $(BUILD)
	@test -f $(BUILD)/Makefile || { echo "make run: configuring ($(BUILD)/configure.log)"; \
	  cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > $(BUILD)/configure.log 2>&1 || { cat $(BUILD)/configure.log; exit 1; }; }
	@echo "make run: building (log in $(BUILD)/build.log)"
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || { tail -40 $(BUILD)/build.log; exit 1; }
	@scripts/dev-run

# Every suite: the JS client (vitest), the release build's unit and
# integration tests (again on PostgreSQL + Redis) and the browser tests in
# Chromium, then the C++ tests under ASan+UBSan and under TSan.
test: deps
	@scripts/run-tests

# clang-format check and clang-tidy (bugprone-*, performance-*, concurrency-*;
# .clang-tidy) over the sources; make test runs it too.
lint: deps $(BUILD)/Makefile
	@scripts/lint $(BUILD)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	bench/run-scenarios.sh

# Each libFuzzer target for FUZZ_SECONDS (60) beyond its corpus; findings
# land in build-fuzz/fuzz-findings/<target>/ (see tests/fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
