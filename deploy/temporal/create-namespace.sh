#!/bin/sh
# Register the sinergi namespace once, with its retention (how long a closed case's history is kept).
set -eu

if temporal operator namespace describe --address "${TEMPORAL_ADDRESS}" -n "${NAMESPACE}" >/dev/null 2>&1; then
    echo "namespace ${NAMESPACE} exists"
else
    temporal operator namespace create --address "${TEMPORAL_ADDRESS}" -n "${NAMESPACE}" --retention "${RETENTION}"
    echo "namespace ${NAMESPACE} created (retention ${RETENTION})"
fi
