#!/bin/sh
# Container entry point. `serve` listens on all interfaces inside the container (the compose
# file publishes the ports on the host's loopback only); other subcommands pass through.
set -eu
export MAILVAULT_DATA_DIR=${MAILVAULT_DATA_DIR:-/var/lib/mailvault}
if [ "${1:-serve}" = "serve" ]; then
  [ $# -gt 0 ] && shift
  exec /usr/local/bin/mailvault serve --data-dir "$MAILVAULT_DATA_DIR" \
    --grpc-listen "${MAILVAULT_GRPC_LISTEN:-0.0.0.0:50051}" \
    --imap-listen "${MAILVAULT_IMAP_LISTEN:-0.0.0.0:1143}" \
    --imaps-listen "${MAILVAULT_IMAPS_LISTEN:-0.0.0.0:1993}" "$@"
fi
exec /usr/local/bin/mailvault "$@"
