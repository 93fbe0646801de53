# Sesame: make run, make test, make bench.
GO ?= go

.PHONY: build run test bench bench-api bench-attack bench-pg bench-verify bench-doctor bench-dkimdns bench-smtp bench-send fuzz clean

build:
	$(GO) build -o sesame ./cmd/sesame

# Runs Sesame with embedded SQLite in ./sesame-data; prints credentials on the first start.
run: build
	./sesame serve

# The whole test suite; installs what it needs (Knot DNS, aws CLI, boto3) first.
test:
	bash scripts/test.sh

# Benchmarks; figures go to docs/benchmarks.md (commands and dates there).
bench: bench-api bench-attack bench-pg bench-verify bench-doctor bench-dkimdns bench-smtp bench-send

bench-api: build
	$(GO) run ./bench/apiload -sesame ./sesame
	$(GO) test -run XXX -bench . -benchtime 2s ./internal/server ./internal/auth/sigv4

# Signed calls alone and beside 200 unsigned connections that announce 32 MiB
# and stall (issue 14): peak RSS and rate, three alternating pairs; then with
# requests in another tenant's key ID and header stalls beside them.
bench-attack: build
	$(GO) run ./bench/apiload -sesame ./sesame -attack 200 -runs 3 -duration 5s
	$(GO) run ./bench/apiload -sesame ./sesame -attack 200 -keyed 600 -header-stall 200 -runs 3 -duration 5s

# Issue 18: 1 replica on SQLite, 1 and 3 on PostgreSQL (started by internal/pgtest), in one sitting:
# a mix with 10% writes, then reads only, then writes only; CPU per request includes the database's.
# Then the verifier on SQLite, PostgreSQL and three verifiers on one PostgreSQL, alternating.
bench-pg: build
	$(GO) run ./bench/apiload -sesame ./sesame -setups sqlite:1,postgres:1,postgres:3 -writes 0.1 -runs 3 -duration 10s
	$(GO) run ./bench/apiload -sesame ./sesame -setups sqlite:1,postgres:1,postgres:3 -runs 3 -duration 10s
	$(GO) run ./bench/apiload -sesame ./sesame -setups sqlite:1,postgres:1,postgres:3 -writes 1 -runs 3 -duration 5s
	$(GO) build -o /tmp/verifyload ./bench/verifyload
	for i in 1 2 3; do /tmp/verifyload -n 20000 -store sqlite && /tmp/verifyload -n 20000 -store postgres && /tmp/verifyload -n 20000 -store postgres -replicas 3 || exit 1; done

# Needs dnsperf (apt-get install -y dnsperf) for the comparison. Twice: the
# verifier and the DNS server sharing both CPUs, then each on one (-pin).
bench-verify:
	command -v dnsperf >/dev/null || apt-get install -y -qq dnsperf
	$(GO) build -o /tmp/verifyload ./bench/verifyload
	/tmp/verifyload -n 100000 -dnsperf -l 10
	/tmp/verifyload -n 100000 -dnsperf -l 10 -pin

# Sesame's DNS listener for the DKIM zone against Knot on the same records
# (dnsperf on each, alternating). Needs dnsperf and knot.
bench-dkimdns:
	command -v dnsperf >/dev/null || apt-get install -y -qq dnsperf
	command -v knotd >/dev/null || test -x /usr/sbin/knotd || apt-get install -y -qq knot
	$(GO) run ./bench/dkimdns -n 10000 -l 10 -runs 3

# Needs Postfix's smtp-source and smtp-sink (apt-get install -y postfix; the
# service need not run). The SMTP interface with DKIM signing against
# smtp-sink, three alternating runs (issue 17).
bench-smtp:
	test -x /usr/sbin/smtp-sink || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix
	$(GO) build -o /tmp/smtpload ./bench/smtpload
	/tmp/smtpload -runs 3

# Signed SendRawEmail relayed to smtp-sink against Go's RSA-2048 signing rate
# and smtp-source -> smtp-sink, in one run (issue 16); then the queue alone.
# Needs Postfix's binaries (the service need not run).
bench-send:
	command -v smtp-sink >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix
	$(GO) build -o /tmp/sendload ./bench/sendload
	/tmp/sendload -runs 3 -duration 5s
	/tmp/sendload -runs 3 -duration 5s -relay-concurrency 64
	$(GO) test ./internal/mail -run '^$$' -bench BenchmarkQueue -benchtime 2000x

bench-doctor:
	$(GO) test ./internal/doctor -run '^$$' -bench DoctorDomain -benchtime 50x
	$(GO) test ./internal/doctor -run '^$$' -bench DoctorBatch -benchtime 1x

# A short run of every fuzz target.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run XXX -fuzz "^$$f$$" -fuzztime 20s || exit 1; \
	  done; \
	done

clean:
	rm -rf sesame sesame-data
