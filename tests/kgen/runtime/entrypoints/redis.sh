#!/bin/sh
# Stands for the redis image's `docker-entrypoint.sh` in kgen's runtime
# tests, as a non-root user sees it: a first argument that is an option or a
# `.conf` file means `redis-server <args>`; the umask becomes 0077 if it is
# the default 0022; then the arguments are executed. (As root the image would
# change the ownership of its working directory and switch to its `redis`
# user; kgen's pods never run as root.)
set -e

case "$1" in
	-* | *.conf) set -- redis-server "$@" ;;
esac

if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

exec "$@"
