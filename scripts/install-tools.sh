#!/usr/bin/env bash
# Installs the Debian packages that bake, import, the sample image and boot-test need (README's first
# command). Works as root (no sudo needed) and for a user who has sudo; installs only what is missing.
# Arguments name more packages to install with them (.ci/run adds what the tests need).
set -euo pipefail

packages=(
  partclone mtools e2fsprogs dosfstools fdisk parted pigz zstd xz-utils
  mmdebstrap uidmap qemu-system-x86
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "Tools: all ${#packages[@]} packages are installed."
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "Missing packages: ${missing[*]}" >&2
  echo "Installing them needs root: run this as root, or install sudo and give this user the right to use it." >&2
  exit 1
fi

echo "Installing: ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
