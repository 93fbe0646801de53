#!/usr/bin/env bash
# Runs boto3_test.py against a fresh server.
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
. ./lib.sh
start_sesame
read -r AK SK _ < <(new_account boto)
SESAME_URL=$URL ACCESS_KEY=$AK SECRET_KEY=$SK python3 boto3_test.py
