#!/usr/bin/env bash
# The whole test suite: what the README calls `make test` and CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

echo "== go vet"
go vet ./...
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go test -race"
go test -race -count=1 ./...

echo "== aws CLI and boto3 against a running server; the aws CLI, knsupdate and Knot for the verifier"
go build -o sesame ./cmd/sesame
SESAME=$PWD/sesame bash test/cli/aws-cli.sh
SESAME=$PWD/sesame bash test/cli/boto3.sh
SESAME=$PWD/sesame bash test/cli/email.sh
SESAME=$PWD/sesame bash test/cli/send.sh
SESAME=$PWD/sesame bash test/cli/knot.sh
SESAME=$PWD/sesame bash test/cli/terraform.sh
