#!/bin/sh
# Stands for the AWS CLI (`aws`, at /usr/local/bin as its installer puts it)
# of images that add it to a known one (ghcr.io/example/postgres-awscli, for
# WAL archiving) in kgen's runtime tests. Written for these tests; it covers
# `aws s3 cp SRC s3://BUCKET/KEY` only, against the scenario's object store:
# a directory bound at /run/kgen-runtime-s3 (`images::ObjectStore`), where
# a bucket is a directory the test creates or removes.
#
#   - SRC is copied to BUCKET/KEY through a temporary name (an object
#     appears whole or not at all), `upload: SRC to s3://BUCKET/KEY`, exit 0;
#   - a missing bucket: the CLI's NoSuchBucket message, exit 1 (a failed
#     transfer);
#   - a number in the store's `.exit-status` (the test's fault injection):
#     the CLI failing before any transfer (credentials it cannot load, an
#     endpoint it cannot reach), with that status (the CLI's is 255);
#   - anything else: a usage error, exit 252 (as the CLI's for bad syntax).
#
# Every call is recorded in the store's `.calls` as "STATUS ARGUMENTS", as
# the service's access log would record requests.
#
# Credentials are not looked at: the identity webhook that would inject them
# (`eks.amazonaws.com/role-arn`) is not emulated.
set -u

store=/run/kgen-runtime-s3
call="$*"

# usage: answer STATUS: record the call, exit with STATUS
answer() {
	printf '%s %s\n' "$1" "$call" >> "$store/.calls"
	exit "$1"
}

if [ -s "$store/.exit-status" ]; then
	echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2
	answer "$(cat "$store/.exit-status")"
fi

if [ "$#" -ne 4 ] || [ "$1" != s3 ] || [ "$2" != cp ]; then
	echo "aws: error: only \`aws s3 cp SRC s3://BUCKET/KEY\` is emulated (got: $*)" >&2
	answer 252
fi
src="$3"
dest="$4"
case "$dest" in
	s3://*/?*) ;;
	*)
		echo "aws: error: $dest is not s3://BUCKET/KEY" >&2
		answer 252
		;;
esac
path="${dest#s3://}"
bucket="${path%%/*}"
key="${path#*/}"

if [ ! -d "$store/$bucket" ]; then
	echo "upload failed: $src to $dest An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist" >&2
	answer 1
fi
if [ ! -f "$src" ]; then
	echo "The user-provided path $src does not exist." >&2
	answer 255
fi
object="$store/$bucket/$key"
mkdir -p "$(dirname "$object")" || answer 1
temporary="$(dirname "$object")/.upload.$$"
if ! cp "$src" "$temporary" || ! mv "$temporary" "$object"; then
	rm -f "$temporary"
	echo "upload failed: $src to $dest" >&2
	answer 1
fi
echo "upload: $src to $dest"
answer 0
