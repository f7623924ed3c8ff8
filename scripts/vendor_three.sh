#!/usr/bin/env bash
# Re-vendor three.js for the viewer (stygaze/serve/static/vendor/three) from its npm package.
# Usage: scripts/vendor_three.sh [VERSION]   (needs npm; run from the repository root)
set -euo pipefail
VERSION="${1:-0.187.0}"
DEST="stygaze/serve/static/vendor/three"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "three@${VERSION}" >/dev/null && tar xzf "three-${VERSION}.tgz")
P="$TMP/package"
rm -rf "$DEST"
mkdir -p "$DEST/build" "$DEST/examples/jsm/loaders" "$DEST/examples/jsm/utils" "$DEST/examples/jsm/controls"
cp "$P/LICENSE" "$DEST/LICENSE"
cp "$P/build/three.module.js" "$P/build/three.core.js" "$DEST/build/"
cp "$P/examples/jsm/loaders/GLTFLoader.js" "$DEST/examples/jsm/loaders/"
cp "$P/examples/jsm/utils/BufferGeometryUtils.js" "$P/examples/jsm/utils/SkeletonUtils.js" "$DEST/examples/jsm/utils/"
cp "$P/examples/jsm/controls/OrbitControls.js" "$DEST/examples/jsm/controls/"
echo "three@${VERSION} (npm), files copied unmodified by scripts/vendor_three.sh" > "$DEST/VERSION"
echo "vendored three@${VERSION} into $DEST"
