#!/bin/bash
# Stands for `docker-entrypoint.sh` of the official postgres image (and of
# the images built on it, such as timescale/timescaledb) in kgen's runtime
# tests. Written for these tests from the image's documented behaviour; it
# covers what a pod with `runAsUser` (a UID without a passwd entry) sees:
#
#   - `VAR_FILE` variables (POSTGRES_PASSWORD_FILE, …) are read into VAR,
#     trailing newlines dropped; both set is an error;
#   - a first argument starting with `-` means `postgres <args>`;
#   - PGDATA is created with mode 0700, /var/run/postgresql with 3775
#     (failures to chmod are ignored, as the image does);
#   - without PGDATA/PG_VERSION: a password is required (unless
#     POSTGRES_HOST_AUTH_METHOD=trust); initdb runs as the current UID, under
#     nss_wrapper when that UID has no passwd entry, with
#     `--username=$POSTGRES_USER` and the password from a pwfile, plus
#     POSTGRES_INITDB_ARGS; pg_hba.conf gets `host all all all <method>`
#     (scram-sha-256 unless POSTGRES_HOST_AUTH_METHOD says otherwise);
#     postgresql.conf listens on '*' (the image's sample file does);
#     a temporary server on the unix socket only creates POSTGRES_DB and runs
#     /docker-entrypoint-initdb.d/* (*.sql with psql ON_ERROR_STOP, *.sh
#     executed when executable, else sourced, *.sql.gz decompressed);
#   - then `exec "$@"`.
#
# Not covered: running as root (the image would switch to its `postgres`
# user with gosu; kgen's pods never run as root), POSTGRES_INITDB_WALDIR,
# *.sql.xz and *.sql.zst init files.
set -Eeo pipefail

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# usage: file_env VAR [DEFAULT]
file_env() {
	local var="$1" def="${2:-}"
	local file_var="${var}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set (but are exclusive)"
	fi
	local val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!file_var:-}" ]; then
		val="$(< "${!file_var}")"
	fi
	export "$var"="$val"
	unset "$file_var"
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	DATABASE_ALREADY_EXISTS=
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS=yes
	fi
}

create_directories() {
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
}

verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		die "Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser (or POSTGRES_HOST_AUTH_METHOD=trust)."
	fi
	if [ "${#POSTGRES_PASSWORD}" -ge 100 ]; then
		log "WARNING: the password is 100 characters or more; PostgreSQL may truncate it"
	fi
}

# initdb looks up the current user's name; a UID without a passwd entry gets
# one from nss_wrapper for the time of initdb.
init_database_dir() {
	local wrapper=
	if ! getent passwd "$(id -u)" > /dev/null 2>&1; then
		for wrapper in /usr/lib/libnss_wrapper.so /usr/lib/*/libnss_wrapper.so; do
			[ -e "$wrapper" ] && break
		done
		if [ -e "$wrapper" ]; then
			NSS_WRAPPER_PASSWD="$(mktemp)"
			NSS_WRAPPER_GROUP="$(mktemp)"
			export LD_PRELOAD="$wrapper" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
			printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$(id -u)" "$(id -g)" "$PGDATA" > "$NSS_WRAPPER_PASSWD"
			printf 'postgres:x:%s:\n' "$(id -g)" > "$NSS_WRAPPER_GROUP"
		fi
	fi
	# The password reaches initdb through a pipe, never a file on disk.
	printf '%s\n' "$POSTGRES_PASSWORD" \
		| eval 'initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin '"$POSTGRES_INITDB_ARGS"' "$@"'
	if [ -n "${LD_PRELOAD:-}" ]; then
		rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
		unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
	fi
}

setup_hba_conf() {
	if [ "$1" = postgres ]; then
		shift
	fi
	if [ -z "$POSTGRES_HOST_AUTH_METHOD" ]; then
		POSTGRES_HOST_AUTH_METHOD="$(postgres -C password_encryption "$@")"
	fi
	{
		echo
		if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
			echo '# warning trust is enabled for all connections'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"
	# The image's postgresql.conf.sample listens everywhere.
	printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
}

# usage: process_sql DATABASE [psql arguments]
process_sql() {
	local database="$1"
	shift
	PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
		--dbname "$database" "$@"
}

temp_server_start() {
	if [ "$1" = postgres ]; then
		shift
	fi
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

setup_db() {
	local exists
	exists="$(process_sql postgres --set db="$POSTGRES_DB" --tuples-only \
		<<< "SELECT 1 FROM pg_database WHERE datname = :'db' ;")"
	if [ -z "${exists// }" ]; then
		process_sql postgres --set db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db" ;'
		log
	fi
}

process_init_files() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					log "$0: running $f"
					"$f"
				else
					log "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) log "$0: running $f"; process_sql "$POSTGRES_DB" -f "$f"; log ;;
			*.sql.gz) log "$0: running $f"; gunzip -c "$f" | process_sql "$POSTGRES_DB"; log ;;
			*) log "$0: ignoring $f" ;;
		esac
	done
}

main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" = postgres ]; then
		setup_env
		create_directories
		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			verify_minimum_env
			# Fails early (as the image does) if the directory is unreadable.
			ls /docker-entrypoint-initdb.d/ > /dev/null
			init_database_dir
			setup_hba_conf "$@"
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			temp_server_start "$@"
			setup_db
			process_init_files
			temp_server_stop
			unset PGPASSWORD
			log
			log 'PostgreSQL init process complete; ready for start up.'
			log
		else
			log
			log 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
			log
		fi
	fi
	exec "$@"
}

main "$@"
