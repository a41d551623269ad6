#!/usr/bin/env bash
# check-prereqs.sh
#
# Checks that this machine can build, test and run aiflow, before Go is
# installed: the same checks as `aiflow doctor`, in plain bash. It prints one
# row per check (pass, FAIL or skip) and exits 1 when any check fails.
#
# It reads the variables aiflow reads: DATABASE_URL, AIFLOW_PG_BINDIR,
# AIFLOW_MODE, AIFLOW_AI_PROVIDER, AWS_REGION, AWS_DEFAULT_REGION, the AWS
# credential variables, OPENAI_API_KEY and ANTHROPIC_API_KEY. It makes no
# network call except pg_isready to DATABASE_URL, and never prints a password
# or an API key.
#
# Portable: bash 3.2 (macOS) and newer, no associative arrays.
set -u

min_go_major=1
min_go_minor=26
min_pg_major=14

case "${1:-}" in
"") ;;
-h | --help | help)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0" >&2
	exit 2
	;;
esac

# Rows, kept in three parallel arrays and printed at the end.
row_names=()
row_statuses=()
row_details=()
rows=0
failed=0

add() { # add NAME STATUS DETAIL
	row_names[rows]=$1
	row_statuses[rows]=$2
	row_details[rows]=$3
	rows=$((rows + 1))
	if [ "$2" = FAIL ]; then
		failed=$((failed + 1))
	fi
}

# env_value NAME prints the variable's value without surrounding blanks, as
# aiflow's configuration reads it (blank is the same as unset).
env_value() {
	local v
	eval "v=\${$1:-}"
	v="${v#"${v%%[![:space:]]*}"}"
	v="${v%"${v##*[![:space:]]}"}"
	printf '%s' "$v"
}

# redact_url URL prints URL with its password replaced by xxxxx, both in the
# userinfo (postgres://u:p@h/db) and in a password= query parameter.
redact_url() {
	local url=$1 scheme rest auth tail userinfo
	case "$url" in
	*://*) ;;
	*)
		echo "(not shown)"
		return
		;;
	esac
	scheme=${url%%://*}
	rest=${url#*://}
	auth=${rest%%[/?#]*}
	tail=${rest:${#auth}}
	case "$auth" in
	*@*)
		userinfo=${auth%@*}
		case "$userinfo" in
		*:*) auth="${userinfo%%:*}:xxxxx@${auth##*@}" ;;
		esac
		;;
	esac
	printf '%s://%s' "$scheme" "$auth"
	printf '%s' "$tail" | sed -E 's/(^|[?&;])([A-Za-z_]*[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]=)[^&]*/\1\2xxxxx/g'
	echo
}

# find_in NAME DIR... prints the path of the first executable NAME on PATH or
# in one of the DIRs.
find_in() {
	local name=$1 dir p
	shift
	if p=$(command -v "$name" 2>/dev/null) && [ -n "$p" ]; then
		echo "$p"
		return 0
	fi
	for dir in "$@"; do
		if [ -n "$dir" ] && [ -f "$dir/$name" ] && [ -x "$dir/$name" ]; then
			echo "$dir/$name"
			return 0
		fi
	done
	return 1
}

# has_server DIR reports whether DIR holds the programs a cluster needs.
has_server() {
	[ -f "$1/initdb" ] && [ -x "$1/initdb" ] && [ -f "$1/postgres" ] && [ -x "$1/postgres" ]
}

# search_dirs prints the usual PostgreSQL install folders, one a line, each
# pattern's matches newest version first (as internal/pgcluster does).
search_dirs() {
	local pattern prefix d v
	for pattern in \
		'/usr/lib/postgresql/*/bin' \
		'/usr/pgsql-*/bin' \
		'/opt/homebrew/opt/postgresql@*/bin' \
		'/usr/local/opt/postgresql@*/bin' \
		'/Applications/Postgres.app/Contents/Versions/*/bin'; do
		prefix=${pattern%%\**}
		for d in $pattern; do
			[ -d "$d" ] || continue
			v=${d#"$prefix"}
			v=${v%%[!0-9.]*}
			printf '%s\t%s\n' "${v:-0}" "$d"
		done | sort -t "$(printf '\t')" -k1,1nr | cut -f2-
	done
	echo /usr/local/pgsql/bin
	echo /opt/homebrew/bin
	echo /usr/local/bin
}

# ---------------------------------------------------------------- Go, make, git

go_re='go([0-9]+)\.([0-9]+)'
if go_path=$(command -v go 2>/dev/null) && [ -n "$go_path" ]; then
	# From / with GOTOOLCHAIN=local, so that no go.mod makes go download a
	# newer toolchain: this reports the one installed.
	go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION 2>/dev/null)
	if [ -z "$go_version" ]; then # go older than 1.16 has no GOVERSION
		go_version=$(cd / && go version 2>/dev/null)
		go_version=${go_version#go version }
		go_version=${go_version%% *}
	fi
	if [[ "$go_version" =~ $go_re ]]; then
		major=${BASH_REMATCH[1]}
		minor=${BASH_REMATCH[2]}
		if [ "$major" -gt "$min_go_major" ] ||
			{ [ "$major" -eq "$min_go_major" ] && [ "$minor" -ge "$min_go_minor" ]; }; then
			add "go toolchain" pass "$go_version (needs go$min_go_major.$min_go_minor or newer)"
		else
			add "go toolchain" FAIL "$go_version is too old: install Go $min_go_major.$min_go_minor or newer (https://go.dev/dl/)"
		fi
	else
		add "go toolchain" FAIL "$go_path reports an unrecognised version '$go_version': install Go $min_go_major.$min_go_minor or newer (https://go.dev/dl/)"
	fi
else
	add "go toolchain" FAIL "go not found on PATH: install Go $min_go_major.$min_go_minor or newer (https://go.dev/dl/)"
fi

if p=$(command -v make 2>/dev/null) && [ -n "$p" ]; then
	add "make" pass "$p"
else
	add "make" FAIL "make not found on PATH: needed by make dev and make test (Debian/Ubuntu: sudo apt-get install make; macOS: xcode-select --install)"
fi

if p=$(command -v git 2>/dev/null) && [ -n "$p" ]; then
	add "git" pass "$p"
else
	add "git" FAIL "git not found on PATH (Debian/Ubuntu: sudo apt-get install git; macOS: xcode-select --install)"
fi

# ------------------------------------------------------------------- PostgreSQL

# Find the server binaries first: pg_isready and psql may live beside them.
pg_bindir_var=$(env_value AIFLOW_PG_BINDIR)
pg_dir=""       # the folder holding initdb and postgres, if any
pg_error=""     # why the binaries cannot be used; empty when they can
pg_notfound=0   # 1 when the search found nothing (as opposed to a bad folder)
pg_version=""
if [ -n "$pg_bindir_var" ]; then
	if [ ! -d "$pg_bindir_var" ]; then
		pg_error="AIFLOW_PG_BINDIR=$pg_bindir_var is not a directory (example: AIFLOW_PG_BINDIR=/usr/lib/postgresql/17/bin)"
	elif ! has_server "$pg_bindir_var"; then
		pg_error="AIFLOW_PG_BINDIR=$pg_bindir_var does not hold initdb and postgres"
	else
		pg_dir=$pg_bindir_var
	fi
else
	candidates=""
	if p=$(command -v initdb 2>/dev/null) && [ -n "$p" ]; then
		candidates=$(dirname "$p")
	fi
	candidates="$candidates
$(search_dirs)"
	while IFS= read -r d; do
		if [ -n "$d" ] && has_server "$d"; then
			pg_dir=$d
			break
		fi
	done <<EOF
$candidates
EOF
	if [ -z "$pg_dir" ]; then
		pg_notfound=1
		pg_error="initdb and postgres not found: install PostgreSQL $min_pg_major or newer (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@17), set AIFLOW_PG_BINDIR to the folder holding initdb, or set DATABASE_URL"
	fi
fi
if [ -n "$pg_dir" ]; then
	pg_re='\(PostgreSQL\)[[:space:]]+(([0-9]+)(\.[0-9]+)?)'
	out=$("$pg_dir/postgres" --version 2>/dev/null)
	if [[ "$out" =~ $pg_re ]]; then
		pg_version=${BASH_REMATCH[1]}
		if [ "${BASH_REMATCH[2]}" -lt "$min_pg_major" ]; then
			pg_error="PostgreSQL $pg_version in $pg_dir is too old: aiflow needs $min_pg_major or newer"
		fi
	else
		pg_error="cannot read the version of $pg_dir/postgres (postgres --version printed '$out')"
	fi
fi

database_url=$(env_value DATABASE_URL)
url_reachable=0
if [ -z "$database_url" ]; then
	add "database" pass "DATABASE_URL not set: aiflow dev and the tests start a local cluster"
else
	shown=$(redact_url "$database_url")
	host_param_re='[?&]host=[^&]'
	rest=${database_url#*://}
	auth=${rest%%[/?#]*}
	hostport=${auth##*@}
	case "$database_url" in
	postgres://* | postgresql://*) scheme_ok=1 ;;
	*) scheme_ok=0 ;;
	esac
	if [ "$scheme_ok" = 0 ]; then
		add "database" FAIL "DATABASE_URL is not a PostgreSQL URL: it must start with postgres:// or postgresql:// (example: postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable)"
	elif { [ -z "$hostport" ] || [ "${hostport#:}" != "$hostport" ]; } &&
		! [[ "$rest" =~ $host_param_re ]]; then
		add "database" FAIL "DATABASE_URL $shown has no host (example: postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable)"
	elif pg_isready=$(find_in pg_isready "$pg_dir" "$pg_bindir_var"); then
		"$pg_isready" -q -d "$database_url" -t 3 >/dev/null 2>&1
		rc=$?
		case $rc in
		0)
			url_reachable=1
			add "database" pass "DATABASE_URL $shown is reachable"
			;;
		1) add "database" FAIL "DATABASE_URL $shown is not reachable: the server is rejecting connections (starting up?)" ;;
		2) add "database" FAIL "DATABASE_URL $shown is not reachable: no response" ;;
		3) add "database" FAIL "DATABASE_URL $shown is not reachable: pg_isready could not use it (invalid parameters?)" ;;
		*) add "database" FAIL "DATABASE_URL $shown is not reachable: pg_isready exited with $rc" ;;
		esac
	else
		add "database" skip "DATABASE_URL $shown is set; cannot check reachability without pg_isready"
	fi
fi

if [ -z "$pg_error" ]; then
	add "postgresql binaries" pass "PostgreSQL $pg_version in $pg_dir"
elif [ "$url_reachable" = 1 ] && [ -z "$pg_bindir_var" ]; then
	if [ "$pg_notfound" = 1 ]; then
		add "postgresql binaries" skip "not found, and not needed while DATABASE_URL is reachable"
	else
		add "postgresql binaries" skip "$pg_error; not needed while DATABASE_URL is reachable"
	fi
else
	add "postgresql binaries" FAIL "$pg_error"
fi

if [ -z "$pg_error" ] && [ "$url_reachable" = 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		if id postgres >/dev/null 2>&1; then
			add "cluster user" pass "running as root: clusters run as the postgres user"
		else
			add "cluster user" FAIL "running as root, and there is no postgres user to run PostgreSQL as: run as an ordinary user or create it (Debian/Ubuntu: adduser --system --group postgres; RHEL: useradd --system postgres)"
		fi
	else
		add "cluster user" pass "clusters run as the current user"
	fi
fi

if p=$(find_in psql "$pg_dir" "$pg_bindir_var"); then
	add "psql" pass "$p"
else
	add "psql" FAIL "psql not found: needed by infra/scripts/setup-db.sh (Debian/Ubuntu: sudo apt-get install postgresql-client; macOS: brew install libpq)"
fi

# -------------------------------------------------------------------------- AWS

mode=$(env_value AIFLOW_MODE)
mode=${mode:-local}
provider=$(env_value AIFLOW_AI_PROVIDER)
provider=${provider:-scripted}

case "$mode" in
local | aws) ;;
*) add "aiflow mode" FAIL "AIFLOW_MODE=$mode is not valid: use local or aws (example: AIFLOW_MODE=local)" ;;
esac

if [ "$mode" = aws ] || [ "$provider" = bedrock ]; then
	why="AIFLOW_MODE=aws"
	if [ "$mode" != aws ]; then
		why="AIFLOW_AI_PROVIDER=bedrock"
	fi

	region_var=AWS_REGION
	region=$(env_value AWS_REGION)
	if [ -z "$region" ]; then
		region_var=AWS_DEFAULT_REGION
		region=$(env_value AWS_DEFAULT_REGION)
	fi
	region_re='^[a-z]{2}(-[a-z]+)+-[0-9]+$'
	if [ -z "$region" ]; then
		add "aws region" FAIL "$why needs AWS_REGION or AWS_DEFAULT_REGION (example: AWS_REGION=us-east-1)"
	elif [[ "$region" =~ $region_re ]]; then
		add "aws region" pass "$region (from $region_var)"
	else
		add "aws region" FAIL "$region_var=$region is not an AWS region (example: AWS_REGION=us-east-1)"
	fi

	# Where the SDK would find credentials, without calling AWS.
	key_id=$(env_value AWS_ACCESS_KEY_ID)
	secret_key=$(env_value AWS_SECRET_ACCESS_KEY)
	profile=$(env_value AWS_PROFILE)
	credentials_file=$(env_value AWS_SHARED_CREDENTIALS_FILE)
	credentials_file=${credentials_file:-${HOME:-}/.aws/credentials}
	config_file=$(env_value AWS_CONFIG_FILE)
	config_file=${config_file:-${HOME:-}/.aws/config}
	source=""
	if [ -n "$key_id" ] && [ -n "$secret_key" ]; then
		source="environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	elif [ -n "$profile" ]; then
		source="AWS_PROFILE=$profile"
	elif [ -n "$(env_value AWS_WEB_IDENTITY_TOKEN_FILE)" ]; then
		source="web identity: AWS_WEB_IDENTITY_TOKEN_FILE"
	elif [ -n "$(env_value AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)" ] ||
		[ -n "$(env_value AWS_CONTAINER_CREDENTIALS_FULL_URI)" ]; then
		source="container credentials: AWS_CONTAINER_CREDENTIALS_*"
	elif [ -f "$credentials_file" ]; then
		source="shared credentials file $credentials_file"
	elif [ -f "$config_file" ]; then
		source="shared config file $config_file"
	fi
	if [ -n "$source" ]; then
		add "aws credentials" pass "found ($source)"
	else
		half=""
		if [ -n "$key_id" ]; then
			half="AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; "
		elif [ -n "$secret_key" ]; then
			half="AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; "
		fi
		add "aws credentials" FAIL "${half}$why needs AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or create $credentials_file (an instance role cannot be checked offline)"
	fi
else
	add "aws" skip "AIFLOW_MODE=$mode and no Bedrock provider: AWS is not needed"
fi

# --------------------------------------------------------------- model provider

# key_check VAR: the key's value is never printed; its length tells a
# truncated paste apart.
key_check() {
	local value
	value=$(env_value "$1")
	if [ -z "$value" ]; then
		add "model provider" FAIL "AIFLOW_AI_PROVIDER=$provider needs $1, which is not set (example: $1=sk-...)"
	else
		add "model provider" pass "$provider: $1 is set (${#value} characters)"
	fi
}

case "$provider" in
scripted) add "model provider" pass "scripted: canned replies, offline, no key needed" ;;
openai) key_check OPENAI_API_KEY ;;
anthropic) key_check ANTHROPIC_API_KEY ;;
bedrock) add "model provider" pass "bedrock: uses the AWS credentials above" ;;
*) add "model provider" FAIL "AIFLOW_AI_PROVIDER=$provider is not valid: use scripted, openai, anthropic or bedrock" ;;
esac

# ----------------------------------------------------------------------- report

# The widths fit the longest check name ("postgresql binaries") and status,
# plus two spaces, like the tabwriter of `aiflow doctor`.
row() { printf '%-21s%-8s%s\n' "$1" "$2" "$3"; }
row CHECK STATUS DETAIL
i=0
while [ "$i" -lt "$rows" ]; do
	row "${row_names[i]}" "${row_statuses[i]}" "${row_details[i]}"
	i=$((i + 1))
done
echo
if [ "$failed" -gt 0 ]; then
	echo "$failed of $rows checks failed"
	exit 1
fi
echo "all $rows checks passed"
