#!/bin/sh
# Start the Temporal server with its database password read from the compose secret, so the password
# is in no environment file, image or `docker inspect` output.
set -eu

POSTGRES_PWD="$(cat /run/secrets/postgres_password)"
export POSTGRES_PWD
exec /etc/temporal/entrypoint.sh "$@"
