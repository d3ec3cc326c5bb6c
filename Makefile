# otelcol-runcontext: every command a developer or CI runs.
#   make run    - build the collector and run it on config/local.yaml
#   make test   - run every test of every Go module (what CI runs)
#   make image  - build the container image
#   make dist   - build the release archives

GO        ?= go
BIN       := $(CURDIR)/bin
COLLECTOR := $(BIN)/otelcol-runcontext
LAUNCHER  := $(BIN)/runcontext-launch

.PHONY: run build test python-env test-windows image dist generate check-generated compose tools bench bench-compare bench-e2e bench-delivery bench-launch bench-query compare-python delivery-faults delivery-soak bad-input

run: build
	$(COLLECTOR) --config config/local.yaml

build:
	$(GO) build -o $(COLLECTOR) ./cmd/otelcol-runcontext
	$(GO) build -o $(LAUNCHER) ./cmd/runcontext-launch
	$(GO) build -o $(BIN)/runcontext-query ./cmd/runcontext-query

test:
	./scripts/test.sh

# The Python environments the e2e tests run Python clients in, from
# internal/e2e/python's pins (part of make test).
python-env:
	./scripts/python-env.sh

# The spool's tests as windows/amd64 binaries under Wine (part of make test).
test-windows:
	./scripts/test-windows.sh

# The container image (Containerfile), FROM scratch, with podman or docker;
# installs podman from Debian's packages when neither can build.
image:
	./scripts/image.sh

# Release archives for linux/amd64, linux/arm64, darwin/arm64 and
# windows/amd64 in dist/, with SHA256SUMS.
dist:
	./scripts/dist.sh

# Regenerates all generated code: the components' mdatagen files, and the
# distribution (cmd/otelcol-runcontext and the root go.mod) from
# builder-config.yaml.
generate: tools
	./scripts/generate.sh

# Fails when the committed generated code differs from what the generators
# produce now.
check-generated: generate
	@git diff --exit-code || \
		(echo "generated code is out of date: run 'make generate' and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- go.mod go.sum cmd processor extension)" || \
		(git status --short -- go.mod go.sum cmd processor extension; echo "generate left untracked files" >&2; exit 1)

# Builds a second, minimal collector that composes the processor by path,
# as a user's own build would, and checks that it starts.
compose: tools
	./scripts/compose-test.sh

# The code generators, pinned in internal/tools/go.mod.
tools: $(BIN)/builder $(BIN)/mdatagen
$(BIN)/builder $(BIN)/mdatagen: internal/tools/go.mod
	$(GO) -C internal/tools build -o $(BIN)/builder go.opentelemetry.io/collector/cmd/builder
	$(GO) -C internal/tools build -o $(BIN)/mdatagen go.opentelemetry.io/collector/cmd/mdatagen

# Benchmarks (docs/benchmarks.md). Not part of `make test`: timings on a
# shared machine are for ratios measured in one run, not for pass/fail.
bench:
	cd processor/runcontextprocessor && go test -run '^$$' -bench . -benchtime 2000x ./
bench-compare:
	./scripts/bench-compare.sh
bench-e2e:
	./scripts/bench-e2e.sh
# 20 000 records at 0, 100 and 500 ms ingestion latency, spool against the
# exporter alone: about 2 minutes.
bench-delivery:
	./scripts/bench-delivery.sh

# What runcontext-launch adds to a step: start and stop, a step printing
# 2 000 000 lines, and a stopped collector. About a minute.
bench-launch:
	./scripts/bench-launch.sh

# The local query engine over 1 000 000 traces: the index build, the
# seed's four queries (median, peak RSS) and jq on the same count. About
# 3 minutes.
bench-query:
	./scripts/bench-query.sh

# The seed's Python step on each path to Application Insights, side by
# side with OpenCensus' AzureLogHandler, through a 5-minute ingestion
# outage too: writes docs/comparison.md. About 8 minutes (OUTAGE=300).
compare-python:
	./scripts/compare-python.sh

# Fault injection, spool vs the contrib exporter alone, with a 5-minute
# outage and 20 s of 401/403/404 answers: about 30 minutes.
delivery-faults:
	./scripts/delivery-faults.sh

# 2 000 records/s through a 10-minute outage: catch-up time, peak RSS and
# disk used. About 15 minutes.
delivery-soak:
	./scripts/delivery-soak.sh

# Bad input through the binary: every input, the collector's answer, and
# its peak memory, as a table (docs/security.md). Also part of make test.
bad-input:
	go test -count=1 -v -run '^TestBadInputCampaign$$' ./internal/e2e | grep '^ *|'
