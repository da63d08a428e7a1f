#!/usr/bin/env bash
# Makes sure the Fashion-MNIST IDX files are present in the given directory
# (default: where Debian's dataset-fashion-mnist package puts them). As root it
# installs the package when they are missing; otherwise it says what to do.
set -euo pipefail
dir=${1:-/usr/share/datasets/fashion-mnist}
if ls "$dir"/train-images-idx3-ubyte* >/dev/null 2>&1; then
  exit 0
fi
if [ "$dir" = /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Fashion-MNIST not found in $dir: installing Debian package dataset-fashion-mnist" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist >&2 || {
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist >&2; }
  exit 0
fi
cat >&2 <<MSG
Fashion-MNIST was not found in $dir.
Get it with one of:
  sudo apt-get install dataset-fashion-mnist        (Debian; files go to /usr/share/datasets/fashion-mnist)
  bin/repro data fetch fashion-mnist --data-dir $dir   (downloads the official files and checks them)
MSG
exit 1
