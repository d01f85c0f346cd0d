#!/bin/sh
# Compiles abi_check.c against the installed Wireshark headers (libwireshark-dev) and prints the
# ABI numbers the plugin mirrors. Usage: plugin-c-abi/abi-check/run.sh [> ws40.txt]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
"$cc" -Wall -Werror -o "$tmp/abi_check" "$here/abi_check.c" $(pkg-config --cflags wireshark)
"$tmp/abi_check"
