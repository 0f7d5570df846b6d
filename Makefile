# Constellation — build, run and test.
#
#   make run    start a local network from the embedded default manifest
#   make test   everything CI checks (this is what .ci/run calls)
#   make bench  the performance table (written to docs/benchmarks.md)

GO        ?= go
BIN       := bin/constellation
PKGS      := ./...
FUZZTIME  ?= 3s
export CGO_ENABLED ?= 1

.PHONY: all build run test deps vet unit examples fuzz-short bench proto clean

all: build

# SUDO is empty for root, else sudo (for apt-get).
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

## deps: fetch Go modules (the module proxy), and Debian's chromium when it is
##   missing (the dashboard's browser test, cmd/constellation/dashboard_test.go,
##   drives it headless), and openjdk-17-jdk-headless and Debian's gRPC Java
##   packages when missing (Java contracts: builtin/contracts/jvm, plugins/java);
##   other Debian packages a target needs are named by that target
deps:
	$(GO) mod download
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium with apt-get (the dashboard's browser test drives it)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
	  { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; }
	@command -v javac >/dev/null 2>&1 || { \
	  echo "installing openjdk-17-jdk-headless with apt-get (Java contracts are compiled and run on it; builtin/contracts/jvm)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jdk-headless || \
	  { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jdk-headless; }; }
	@missing=""; \
	  for x in libgrpc-java:/usr/share/java/grpc-netty.jar libprotobuf-java:/usr/share/java/protobuf.jar \
	    protobuf-compiler:/usr/bin/protoc protobuf-compiler-grpc-java-plugin:/usr/bin/grpc_java_plugin \
	    libnetty-java:/usr/share/java/netty-codec-http2.jar libperfmark-java:/usr/share/java/perfmark-api.jar \
	    libgeronimo-annotation-1.3-spec-java:/usr/share/java/geronimo-annotation-1.3-spec.jar; do \
	    [ -e "$${x#*:}" ] || missing="$$missing $${x%%:*}"; done; \
	  [ -z "$$missing" ] || { \
	  echo "installing$$missing with apt-get (the Java contract SDK, plugins/java, serves contracts over gRPC with them)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing || \
	  { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; }; }

build: deps
	$(GO) build -o $(BIN) ./cmd/constellation

## run: a local network producing blocks from the embedded default manifest (Ctrl-C stops it)
run: build
	./$(BIN) testnet

## test: vet, unit/property/conformance/end-to-end tests, then a short run of every fuzz target
test: deps vet unit examples fuzz-short
	@echo "make test: all checks passed"

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 -timeout 25m $(PKGS)

## examples: the third-party plugin examples, each its own Go module
examples:
	cd plugins/examples/acme-reputation && $(GO) test -count=1 ./...
	cd plugins/examples/broken-reputation && $(GO) test -count=1 ./...
	cd plugins/examples/vending-machine && $(GO) test -count=1 ./...

## fuzz-short: run each fuzz target for FUZZTIME. Go's fuzzer can end a
##   short run with "context deadline exceeded" while it minimizes a new
##   (non-failing) input; such a run is repeated once. A real failure writes
##   its input under testdata/fuzz and fails at once.
fuzz-short:
	@set -e; log=$$(mktemp -t constellation-fuzz.XXXXXX); trap 'rm -f "$$log"' EXIT; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '/examples/' | sort); do \
	  dir=$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz $$dir $$t ($(FUZZTIME))"; \
	    if ! $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$dir >"$$log" 2>&1; then \
	      if grep -q 'Failing input written' "$$log"; then cat "$$log"; exit 1; fi; \
	      echo "  (the fuzzer stopped while minimizing a new input, with no failure found; running again)"; \
	      $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$dir >"$$log" 2>&1 || { cat "$$log"; exit 1; }; \
	    fi; \
	  done; \
	done

## bench: the benchmark definitions; results and commands go to docs/benchmarks.md
##   (the consensus definition takes about 45 minutes on 2 cores; BENCH_QUICK=1 for a quick run)
bench: build
ifeq ($(BENCH_QUICK),1)
	./$(BIN) bench consensus --quick --signatures
	./$(BIN) bench network --duration 15s --warmup 4s
	./$(BIN) bench rotation --duration 60s --warmup 8s
else
	./$(BIN) bench consensus --out docs/benchmarks.md --out-of-process --signatures
	./$(BIN) bench network --out docs/benchmarks.md
	./$(BIN) bench rotation --out docs/benchmarks.md
endif

## proto: regenerate the plugin RPC code (needs Debian's protobuf-compiler)
proto:
	bash plugins/proto/generate.sh

clean:
	rm -rf bin
