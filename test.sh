#!/usr/bin/env bash
# Runs every CloudPortal test against the real services: installs and starts PostgreSQL, RabbitMQ and
# libvirtd first (Debian, as root), builds with warnings as errors, runs all test projects and ends with
# one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" = 0 ]; then
  bash deploy/dev/start-services.sh || { echo "could not start the services the tests need"; echo "0 passed, 1 failed"; exit 1; }
else
  echo "[test] not root: assuming PostgreSQL, RabbitMQ and libvirtd are already running (deploy/dev/start-services.sh installs them)"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
if ! dotnet build CloudPortal.sln -c Debug 2>&1 | tee "$log" | grep -E "error|warn|Build succeeded|Time Elapsed"; then :; fi
if ! grep -q "Build succeeded" "$log" || grep -qE "[1-9][0-9]* Warning\(s\)|[1-9][0-9]* Error\(s\)" "$log"; then
  echo "build failed (or has warnings)"; echo "0 passed, 1 failed"; exit 1
fi

# Three test projects at a time: more at once overload a two-core machine (each starts clouds, guests or a browser)
# until databases and processes miss their timeouts; three keep the whole run near the time of the longest project.
# The tests and the cloud processes they start run niced: PostgreSQL, RabbitMQ, libvirtd and the QEMU guests it
# spawns were started before at normal priority, so a busy test host slows itself, not the services it waits on
# (a guest starved of CPU once stayed silent on its console for a minute).
nice -n 10 dotnet test --solution CloudPortal.sln --no-build -c Debug --max-parallel-test-modules 3 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

count() { grep -E "^\s+$1: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+" || echo 0; }
passed=$(count succeeded); failed=$(count failed); skipped=$(count skipped)
if [ "$status" -ne 0 ] && [ "$failed" = 0 ]; then failed=1; fi
if [ "$skipped" != 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
exit "$status"
