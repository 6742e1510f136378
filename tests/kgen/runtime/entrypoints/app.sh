#!/bin/sh
# Stands for the user's application image (clockwork, traversion, platform,
# …) in kgen's runtime tests. It does with its environment what such an app
# does with it, and says so on stdout, one `kgen-stand-in:` line per check:
#
#   - every variable whose value starts with postgres:// or postgresql://:
#     `psql "$VALUE" -c 'select current_user'` with the container's whole
#     environment (libpq's PGPASSFILE, PGPASSWORD, PGSSLMODE … apply);
#   - every set of connection parts X_HOST, X_PORT, X_USER and X_NAME (or
#     X_DATABASE, X_DB), with X_PASSWORD when set: psql with PGHOST, PGPORT,
#     PGUSER, PGDATABASE (and PGPASSWORD) from them, `select current_user`;
#   - every variable whose value starts with redis:// or rediss://:
#     `redis-cli -u "$VALUE" ping`, expecting PONG; a URL without a password
#     gets REDISCLI_AUTH from the variable named like the URL's with
#     _PASSWORD for _URL (REDIS_URL → REDIS_PASSWORD), when that is set;
#   - DB_PATH (SQLite): opens or creates the database (WAL when
#     DB_WAL_MODE=true) and writes a row;
#   - migrations: with an argument `migrate` (a migration Job or init
#     container), with DB_AUTO_MIGRATE=true, or when the image is told to
#     (ALWAYS_MIGRATE_ON_START=yes in its stand-in.conf: an app that
#     migrates by itself), it creates the table kgen_stand_in_migrations in
#     every PostgreSQL database it reaches and records itself there;
#   - then, unless migrating by argument, it serves HTTP on the ports in
#     stand-in.conf (the container's ports) with busybox httpd, answering 200
#     on the container's probe paths.
#
# A failed check ends the program with status 1 before it serves anything.
set -u

# stand-in.conf (written by images.rs): ALWAYS_MIGRATE_ON_START, PORTS, PSQL
# (Debian's psql by its path: /usr/bin/psql is a wrapper that wants a user).
SHARE=/usr/local/share/kgen-app-stand-in
ALWAYS_MIGRATE_ON_START=no
PORTS=
PSQL=psql
# shellcheck disable=SC1091
[ -r "$SHARE/stand-in.conf" ] && . "$SHARE/stand-in.conf"

say() { printf 'kgen-stand-in: %s\n' "$*"; }
indent() { sed 's/^/    /'; }

mode=serve
for arg in "$@"; do
	case "$arg" in
		migrate | migrate:* | db:migrate) mode=migrate ;;
	esac
done
migrate=no
if [ "$mode" = migrate ] || [ "${DB_AUTO_MIGRATE:-}" = true ] || [ "$ALWAYS_MIGRATE_ON_START" = yes ]; then
	migrate=yes
fi
say "started as uid $(id -u) gid $(id -g) groups $(id -G), mode $mode, migrations $migrate"

failures=0
fail() {
	say "FAIL $1"
	failures=$((failures + 1))
}

check_postgres() {
	name="$1" url="$2"
	if out="$(timeout 20 "$PSQL" "$url" -X -A -t -v ON_ERROR_STOP=1 -c 'select current_user' 2>&1)"; then
		say "ok postgres $name user=$out"
	else
		fail "postgres $name: cannot connect"
		printf '%s\n' "$out" | indent
		return
	fi
	[ "$migrate" = yes ] || return 0
	sql="create table if not exists kgen_stand_in_migrations (
	         id serial primary key, source text not null, applied_at timestamptz not null default now());
	     insert into kgen_stand_in_migrations (source) values ('$name ($mode)');"
	if out="$(timeout 20 "$PSQL" "$url" -X -q -v ON_ERROR_STOP=1 -c "$sql" 2>&1)"; then
		say "ok migrated postgres $name"
	else
		fail "postgres $name: migration failed"
		printf '%s\n' "$out" | indent
	fi
}

# Connection parts: PREFIX_HOST, _PORT, _USER, _NAME|_DATABASE|_DB, [_PASSWORD].
check_postgres_parts() {
	prefix="$1"
	host='' port='' user='' password='' database=''
	eval "host=\${${prefix}_HOST:-} port=\${${prefix}_PORT:-} user=\${${prefix}_USER:-}"
	eval "password=\${${prefix}_PASSWORD-unset}"
	for suffix in NAME DATABASE DB; do
		eval "database=\${${prefix}_${suffix}:-}"
		[ -n "$database" ] && break
	done
	if [ "$password" = unset ]; then
		# libpq finds the password itself (PGPASSFILE, …).
		set -- env
	else
		set -- env PGPASSWORD="$password"
	fi
	if out="$("$@" PGHOST="$host" PGPORT="$port" PGUSER="$user" PGDATABASE="$database" \
		timeout 20 "$PSQL" -X -A -t -v ON_ERROR_STOP=1 -c 'select current_user' 2>&1)"; then
		say "ok postgres-parts ${prefix}_* user=$out"
	else
		fail "postgres-parts ${prefix}_*: cannot connect"
		printf '%s\n' "$out" | indent
	fi
}

check_redis() {
	name="$1" url="$2"
	rest="${url#*://}"
	auth='' password_var=''
	case "$rest" in
		*@*) ;;
		*)
			password_var="${name%_URL}_PASSWORD"
			eval "auth=\${$password_var:-}"
			;;
	esac
	if [ -n "$auth" ]; then
		out="$(REDISCLI_AUTH="$auth" timeout 20 redis-cli -u "$url" ping 2>&1)"
		how="REDISCLI_AUTH from $password_var"
	else
		out="$(timeout 20 redis-cli -u "$url" ping 2>&1)"
		how="the URL"
	fi
	if printf '%s\n' "$out" | grep -qx PONG; then
		say "ok redis $name (password from $how)"
	else
		fail "redis $name: no PONG (password from $how)"
		printf '%s\n' "$out" | indent
	fi
}

check_sqlite() {
	path="$1"
	pragma=
	[ "${DB_WAL_MODE:-}" = true ] && pragma="PRAGMA journal_mode=WAL;"
	sql="$pragma create table if not exists kgen_stand_in_writes (id integer primary key, at text not null);
	     insert into kgen_stand_in_writes (at) values (datetime('now'));"
	if out="$(timeout 20 sqlite3 "$path" "$sql" 2>&1)"; then
		say "ok sqlite DB_PATH $path"
	else
		fail "sqlite DB_PATH $path: cannot write"
		printf '%s\n' "$out" | indent
	fi
}

for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort -u); do
	value=''
	eval "value=\${$name:-}"
	case "$value" in
		postgres://* | postgresql://*) check_postgres "$name" "$value" ;;
		redis://* | rediss://*) check_redis "$name" "$value" ;;
	esac
done
for host_var in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_HOST=.*/\1/p' | sort -u); do
	has_parts='' has_database=''
	eval "has_parts=\${${host_var}_PORT:+yes}\${${host_var}_USER:+yes}"
	eval "has_database=\${${host_var}_NAME:-}\${${host_var}_DATABASE:-}\${${host_var}_DB:-}"
	if [ "$has_parts" = yesyes ] && [ -n "$has_database" ]; then
		check_postgres_parts "$host_var"
	fi
done
if [ -n "${DB_PATH:-}" ]; then
	check_sqlite "$DB_PATH"
fi

if [ "$failures" -gt 0 ]; then
	say "$failures check(s) failed"
	exit 1
fi
if [ "$mode" = migrate ]; then
	say "migrations done"
	exit 0
fi

for port in $PORTS; do
	busybox httpd -f -p "$port" -h "$SHARE/www" &
done
say "serving HTTP on ports: $PORTS"
wait
say "HTTP server exited"
exit 1
