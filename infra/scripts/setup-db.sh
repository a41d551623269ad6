#!/usr/bin/env bash
# setup-db.sh ADMIN_URL [DATABASE]
#
# Creates aiflow's database, its roles and its schemas on a PostgreSQL server,
# with least-privilege grants. Safe to run again: it only adds what is missing
# and resets the grants.
#
#   aiflow_owner     owns the database and the schemas; runs `aiflow migrate`.
#   aiflow_api       uses only schema api.
#   aiflow_engine    uses only schema engine.
#   aiflow_registry  uses only schema registry.
#   aiflow_support   uses only schema support.
#   aiflow_worker    the step workers: the event store only (detail events).
#
# ADMIN_URL is a postgres:// URL of a role that may create roles and databases
# (a superuser, or the master user on RDS/Aurora). DATABASE defaults to aiflow.
# Passwords are read from the environment, never from the command line:
# AIFLOW_OWNER_PASSWORD, AIFLOW_API_PASSWORD, AIFLOW_ENGINE_PASSWORD,
# AIFLOW_REGISTRY_PASSWORD, AIFLOW_SUPPORT_PASSWORD, AIFLOW_WORKER_PASSWORD. A role whose variable is
# unset keeps its password (a new one gets none, so it can log in only where
# pg_hba.conf trusts it or through IAM authentication).
set -euo pipefail

usage() {
	echo "usage: $0 ADMIN_URL [DATABASE]" >&2
	echo "  example: $0 postgres://postgres:secret@localhost:5432/postgres aiflow" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
admin_url=$1
database=${2:-aiflow}
case "$admin_url" in
postgres://* | postgresql://*) ;;
*)
	echo "setup-db.sh: ADMIN_URL must be a postgres:// URL, got something else" >&2
	usage
	;;
esac
if ! [[ "$database" =~ ^[a-z_][a-z0-9_]*$ ]]; then
	echo "setup-db.sh: DATABASE must be lowercase letters, digits and underscores, got '$database'" >&2
	exit 2
fi

psql_bin=${PSQL:-}
if [ -z "$psql_bin" ]; then
	if command -v psql >/dev/null 2>&1; then
		psql_bin=$(command -v psql)
	else
		for candidate in /usr/lib/postgresql/*/bin/psql /usr/pgsql-*/bin/psql /opt/homebrew/opt/postgresql@*/bin/psql /usr/local/opt/postgresql@*/bin/psql; do
			[ -x "$candidate" ] && psql_bin=$candidate
		done
	fi
fi
if [ -z "$psql_bin" ]; then
	echo "setup-db.sh: psql not found. Install it (Debian/Ubuntu: sudo apt-get install postgresql-client; macOS: brew install libpq) or set PSQL=/path/to/psql" >&2
	exit 1
fi

services=(api engine registry support)

# db_url URL DATABASE prints URL with its database replaced.
db_url() {
	local u=$1 db=$2 query="" scheme rest
	case "$u" in *\?*)
		query="?${u#*\?}"
		u=${u%%\?*}
		;;
	esac
	scheme=${u%%://*}
	rest=${u#*://}
	printf '%s://%s/%s%s' "$scheme" "${rest%%/*}" "$db" "$query"
}

# sql_literal quotes a value for SQL: 'it''s'.
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

role_sql() {
	local role=$1 password=$2
	cat <<SQL
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', '$role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') \gexec
SQL
	if [ -n "$password" ]; then
		echo "ALTER ROLE $role PASSWORD $(sql_literal "$password");"
	fi
}

# The first pass, on the admin URL's own database: roles and the database.
# The SQL goes through stdin so that passwords never show in a process list.
{
	echo '\set ON_ERROR_STOP on'
	role_sql aiflow_owner "${AIFLOW_OWNER_PASSWORD:-}"
	for svc in "${services[@]}"; do
		var="AIFLOW_${svc^^}_PASSWORD"
		role_sql "aiflow_$svc" "${!var:-}"
	done
	role_sql aiflow_worker "${AIFLOW_WORKER_PASSWORD:-}"
	# The admin must be a member of the owner to create a database owned by it
	# (RDS and Aurora masters are not superusers).
	echo "GRANT aiflow_owner TO CURRENT_USER;"
	cat <<SQL
SELECT format('CREATE DATABASE %I OWNER aiflow_owner ENCODING ''UTF8''', '$database')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$database') \gexec
ALTER DATABASE $database OWNER TO aiflow_owner;
REVOKE ALL ON DATABASE $database FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $database TO aiflow_owner;
SQL
	for svc in "${services[@]}"; do
		echo "GRANT CONNECT ON DATABASE $database TO aiflow_$svc;"
		echo "ALTER ROLE aiflow_$svc IN DATABASE $database SET search_path = $svc;"
	done
	echo "GRANT CONNECT ON DATABASE $database TO aiflow_worker;"
} | "$psql_bin" "$admin_url" --quiet --no-psqlrc --set=ON_ERROR_STOP=1 >/dev/null

# The second pass, inside the new database: schemas owned by aiflow_owner,
# each usable by its own service role only, including the tables later
# migrations create (default privileges of aiflow_owner).
{
	echo '\set ON_ERROR_STOP on'
	echo "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
	echo "ALTER SCHEMA public OWNER TO aiflow_owner;"
	for svc in "${services[@]}"; do
		role=aiflow_$svc
		cat <<SQL
CREATE SCHEMA IF NOT EXISTS $svc AUTHORIZATION aiflow_owner;
ALTER SCHEMA $svc OWNER TO aiflow_owner;
REVOKE ALL ON SCHEMA $svc FROM PUBLIC;
GRANT USAGE ON SCHEMA $svc TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA $svc TO $role;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA $svc TO $role;
ALTER DEFAULT PRIVILEGES FOR ROLE aiflow_owner IN SCHEMA $svc GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $role;
ALTER DEFAULT PRIVILEGES FOR ROLE aiflow_owner IN SCHEMA $svc GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO $role;
ALTER DEFAULT PRIVILEGES FOR ROLE aiflow_owner IN SCHEMA $svc GRANT EXECUTE ON FUNCTIONS TO $role;
SQL
	done
	# The event store is shared by every service; its migration defines
	# the grants, so roles made after it ran get them here.
	echo "SELECT 'SELECT eventstore.grant_to_services()' WHERE to_regprocedure('eventstore.grant_to_services()') IS NOT NULL \\gexec"
} | "$psql_bin" "$(db_url "$admin_url" "$database")" --quiet --no-psqlrc --set=ON_ERROR_STOP=1 >/dev/null

echo "setup-db.sh: database $database is ready with roles aiflow_owner and aiflow_{api,engine,registry,support,worker}."
echo "  next: DATABASE_URL=postgres://aiflow_owner:...@HOST:PORT/$database aiflow migrate up"
