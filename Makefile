# hops — top-level wrapper around CMake.
#   make         release build in build/
#   make test    sanitizer build with -Werror in build-test/, then the whole suite
#   make demo    release build, then the end-to-end demo on embedded defaults
#   make bench   release build, then every benchmark in bench/
#   make fuzz    libFuzzer targets (clang) in build-fuzz/, each run briefly
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake

.PHONY: all build test unit fuzz demo bench install clean format

all: build

build:
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build build -j $(JOBS)

build-test/CMakeCache.txt:
	$(CMAKE) -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DHOPS_SANITIZE=ON -DHOPS_WERROR=ON >/dev/null

test: build-test/CMakeCache.txt
	@$(CMAKE) -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DHOPS_SANITIZE=ON -DHOPS_WERROR=ON >/dev/null
	$(CMAKE) --build build-test -j $(JOBS)
	cd build-test && ctest --output-on-failure -j $(JOBS)
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}

FUZZ_SECONDS ?= 30
fuzz:
	@CC=clang $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DHOPS_FUZZ=ON -DHOPS_TESTS=OFF >/dev/null
	$(CMAKE) --build build-fuzz -j $(JOBS) --target fuzz_targets
	@for t in build-fuzz/tests/fuzz/fuzz_*; do \
	  name=$$(basename $$t); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  mkdir -p build-fuzz/corpus/$$name; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build-fuzz/corpus/$$name $$corpus >build-fuzz/$$name.log 2>&1 \
	    || { tail -40 build-fuzz/$$name.log; exit 1; }; \
	done

demo: build
	./examples/demo.sh

bench: build
	./bench/run_all.sh

install: build
	$(CMAKE) --install build

clean:
	rm -rf build build-test build-fuzz

format:
	clang-format -i include/hops/*.h src/*/*.[ch] cli/*.[ch] tests/unit/*.c tests/fuzz/*.c examples/*.c
