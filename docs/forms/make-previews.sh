#!/bin/sh
# Renders every form filled with the demo answers (2026 edition) and writes a PNG of its first
# page here. Needs pdftoppm (Debian package poppler-utils). Run from anywhere:
#   sh docs/forms/make-previews.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/docs/forms"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
cargo run -q -p ryoritsu-documents --example previews -- "$tmp" >/dev/null
for pdf in "$tmp"/*.pdf; do
    name=$(basename "$pdf" .pdf)
    pdftoppm -png -gray -r 70 -f 1 -l 1 -singlefile "$pdf" "$out/$name"
    echo "$out/$name.png"
done
