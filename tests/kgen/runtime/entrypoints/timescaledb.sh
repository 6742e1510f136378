#!/bin/sh
# Stands for the timescale/timescaledb image's entrypoint in kgen's runtime
# tests. TimescaleDB is not packaged for Debian, so this image runs plain
# PostgreSQL: `timescaledb` is taken out of any `shared_preload_libraries`
# argument (the library does not exist here), and the image's extension
# directory carries a stub `timescaledb` extension, so that
# `CREATE EXTENSION timescaledb` succeeds without hypertables. Everything
# else is the postgres image's entrypoint (postgres-docker-entrypoint.sh).
set -eu

for arg in "$@"; do
	shift
	case "$arg" in
		shared_preload_libraries=*)
			libraries="$(printf '%s' "${arg#*=}" | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' | grep -vx "timescaledb" | paste -sd, -)" || :
			arg="shared_preload_libraries=$libraries"
			;;
	esac
	set -- "$@" "$arg"
done

exec postgres-docker-entrypoint.sh "$@"
