#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages ringkit's build, tests, benchmarks and apps need.
# Idempotent: asks dpkg first and touches apt only when something is missing.
set -euo pipefail

packages=(
  # build and test tools
  cmake make g++ pkg-config clang libfuzzer-14-dev libclang-rt-14-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev spin gnuplot-nox
  # libraries the systems use
  libcli11-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev libncurses-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libnats-dev nats-server
  # the peers the benchmarks compare against
  libboost-dev libboost-log-dev libconcurrentqueue-dev libreaderwriterqueue-dev libatomic-queue-dev
  libxenium-dev libtbb-dev libspdlog-dev
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: this machine has no apt (Debian/Ubuntu); install these packages' equivalents yourself:" >&2
  printf '  %s\n' "${packages[@]}" >&2
  echo "install-deps: the library alone needs only a C++20 compiler and CMake 3.25+ (see README: Using ringkit)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
