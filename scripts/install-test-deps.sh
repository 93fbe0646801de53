#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (run as root):
# Knot DNS for the end-to-end DNS tests, the aws CLI and boto3 for the client
# scripts, curl, and ss (iproute2) for the benchmarks, swaks for the SMTP interface's tests, Chromium, Node and
# playwright-core for the console's browser test, PostgreSQL (internal/pgtest
# starts clusters of its own). Anything already there is
# left alone, so a second run costs nothing.
set -euo pipefail

need=()
command -v knotd >/dev/null || need+=(knot)
command -v knsupdate >/dev/null || need+=(knot-dnsutils)
command -v curl >/dev/null || need+=(curl)
command -v swaks >/dev/null || need+=(swaks)
# swaks's STARTTLS needs these Perl modules, which it only recommends.
perl -MNet::SSLeay -MIO::Socket::SSL -e1 2>/dev/null || need+=(libnet-ssleay-perl libio-socket-ssl-perl)
command -v ss >/dev/null || need+=(iproute2)
command -v python3 >/dev/null || need+=(python3)
command -v aws >/dev/null || need+=(awscli)
python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)

if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# playwright-core drives Debian's chromium: never download a browser.
browser="$(dirname "$0")/../test/browser"
if [ ! -f "$browser/node_modules/playwright-core/package.json" ]; then
	(cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error)
fi
# knotd is started by the tests themselves, on loopback; keep the packaged
# service from holding port 53.
systemctl disable --now knot >/dev/null 2>&1 || true
systemctl disable --now postgresql >/dev/null 2>&1 || true
