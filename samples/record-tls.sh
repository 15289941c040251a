#!/usr/bin/env bash
# Re-record the TLS samples (samples/mariadb-tls13.pcap, mariadb-tls12.pcap, their .keys and the
# pcapng with the secrets inside): real tcpdump on loopback around mysql2 clients run under
# `node --tls-keylog`, against the TLS MariaDB that .ci/run starts on 127.0.0.1:3307.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
node build/test/live/record-tls-sample.js samples
# The same TLS 1.3 capture with its secrets inside (a pcapng Decryption Secrets Block), as
# Wireshark users exchange them: Periscope reads it without --keylog.
editcap --inject-secrets tls,samples/mariadb-tls13.keys samples/mariadb-tls13.pcap samples/mariadb-tls13-dsb.pcapng
chmod 644 samples/mariadb-tls13-dsb.pcapng
