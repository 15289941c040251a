#!/usr/bin/env bash
# Re-record samples/mariadb-basic.pcap: real tcpdump on loopback around a real MariaDB workload
# (test/live/workload.ts). Needs root (or cap_net_raw) for tcpdump, and MariaDB on 127.0.0.1:3306
# with the test account that .ci/run creates (PERISCOPE_MYSQL_* variables override it).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
node build/test/live/record-sample.js samples/mariadb-basic.pcap
node bin/periscope.js info samples/mariadb-basic.pcap
