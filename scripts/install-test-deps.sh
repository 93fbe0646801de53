#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (run as root):
# Knot DNS for the end-to-end DNS tests, the aws CLI and boto3 for the client
# scripts, curl, and ss (iproute2) for the benchmarks. Anything already there
# is left alone, so a second run costs nothing.
set -euo pipefail

need=()
command -v knotd >/dev/null || need+=(knot)
command -v knsupdate >/dev/null || need+=(knot-dnsutils)
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
command -v python3 >/dev/null || need+=(python3)
command -v aws >/dev/null || need+=(awscli)
python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)

if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# knotd is started by the tests themselves, on loopback; keep the packaged
# service from holding port 53.
systemctl disable --now knot >/dev/null 2>&1 || true
