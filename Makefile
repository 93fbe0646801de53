# Sesame: make run, make test, make bench.
GO ?= go

.PHONY: build run test bench fuzz clean

build:
	$(GO) build -o sesame ./cmd/sesame

# Runs Sesame with embedded SQLite in ./sesame-data; prints credentials on the first start.
run: build
	./sesame serve

# The whole test suite; installs what it needs (Knot DNS, aws CLI, boto3) first.
test:
	bash scripts/test.sh

# Benchmarks; figures go to docs/benchmarks.md.
bench: build
	$(GO) run ./bench/apiload -sesame ./sesame
	$(GO) test -run XXX -bench . -benchtime 2s ./internal/server ./internal/auth/sigv4

# A short run of every fuzz target.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run XXX -fuzz "^$$f$$" -fuzztime 20s || exit 1; \
	  done; \
	done

clean:
	rm -rf sesame sesame-data
