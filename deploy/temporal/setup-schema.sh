#!/bin/sh
# Create Temporal's two PostgreSQL databases and bring their schemas to this admin-tools version.
# Safe on every start: an existing database is kept and only missing schema versions are applied.
set -eu

SQL_PASSWORD="$(cat /run/secrets/postgres_password)"
export SQL_PASSWORD
schema=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
    tool="temporal-sql-tool --plugin postgres12 --ep ${POSTGRES_SEEDS} -p ${DB_PORT:-5432} -u ${POSTGRES_USER} --db ${db}"
    case "${db}" in
        temporal) versions="${schema}/temporal/versioned" ;;
        *) versions="${schema}/visibility/versioned" ;;
    esac
    ${tool} create || echo "database ${db} exists"
    ${tool} setup-schema -v 0.0 || echo "database ${db} already has a schema"
    ${tool} update-schema -d "${versions}"
done
echo "temporal schemas are up to date"
