#!/usr/bin/env bash
# The GPU benchmark of issue 7 on a lent NVIDIA machine (no Node.js, no network there; see
# ../shared/docs/gpu.md). Steps:
#
#   1. here, from the project root, after `npm ci` and `npm run build`:
#        bash bench/gpu/run-gpu.sh prepare
#      packs Node.js, the engine's packages (onnxruntime-node, webgpu, TensorFlow.js with its webgpu/wasm
#      backends, sharp; pruned to what Node loads on linux-x64) and dist/ into .gpu/ (about 47 MB) and
#      the Vulkan loaders into .gl/. Keep /.gpu/ and /.gl/ out of git.
#   2. the carry limit is 64 MiB with the working tree, and the tree holds the 29 MB model: run in two
#      calls on one warm machine (it is given back after 30 s idle, so send the second at once).
#      Call 1, with the model out of the tree (`git rm --cached models/detector.onnx` and the path in
#      .git/info/exclude), carrying .gpu and .gl:
#        bash bench/gpu/run-gpu.sh run --parts ae
#      Call 2, carrying models/detector.onnx (still excluded, so it travels as a carried path):
#        bash bench/gpu/run-gpu.sh run --parts detector
#      Then `git reset models/detector.onnx` and drop the exclude line.
#      `run` unpacks into /tmp/gpu (once per machine) and runs dist/bench/gpu/gpu-bench.js against
#      models/detector.onnx and the test fixtures' images: the detector on webgpu vs cpu (outputs
#      compared, ms per image), an autoencoder epoch (cpu preset) and paper-preset steps on tfjs webgpu
#      vs wasm (losses compared, samples/s). With $OUT set, it writes gpu-<parts>.json there. Record
#      the figures in bench/gpu/results-<card>.json: bench/RESULTS.md's GPU section is made from them.
set -euo pipefail
here=$(pwd)
case "${1:-}" in
  prepare)
    [ -f dist/bench/gpu/gpu-bench.js ] || { echo "build first: npm run build" >&2; exit 1; }
    PKGS=$(node -e '
      const fs = require("fs");
      const roots = ["webgpu", "onnxruntime-node", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-backend-webgpu",
        "sharp", "@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64"];
      const seen = new Set();
      const walk = (p) => {
        if (seen.has(p) || p.startsWith("@types/") || !fs.existsSync(`node_modules/${p}/package.json`)) return;
        seen.add(p);
        const j = JSON.parse(fs.readFileSync(`node_modules/${p}/package.json`, "utf8"));
        for (const d of Object.keys({ ...j.dependencies, ...j.optionalDependencies })) walk(d);
      };
      roots.forEach(walk);
      console.log([...seen].join(" "));')
    # Our own staging (the shared gpu-bundle.sh keeps whole packages): the carry limit is 64 MiB with
    # the working tree, and Node alone is 23 MB compressed. Keep what Node loads: package.json, each
    # @tensorflow package's CommonJS "main" bundle and its .wasm files, native libraries for linux-x64;
    # drop source maps, typings, browser bundles and other platforms' binaries.
    stage=$(mktemp -d)
    mkdir -p "$stage/node_modules" .gpu .gl
    cp "$(readlink -f "$(command -v node)")" "$stage/node"
    for p in $PKGS; do mkdir -p "$stage/node_modules/$(dirname "$p")"; cp -r "node_modules/$p" "$stage/node_modules/$p"; done
    cp -r dist "$stage/dist"
    ( cd "$stage/node_modules"
      rm -rf webgpu/dist/{darwin-universal,linux-arm64,win32-arm64,win32-x64} onnxruntime-node/bin/napi-v*/{darwin,win32,linux/arm64}
      find . \( -name '*.map' -o -name '*.d.ts' -o -name '*.min.js' -o -name '*.html' -o -name '*.md' -o -name '*.tsbuildinfo' \) -delete
      for d in @tensorflow/*; do
        main=$(node -p "require('./$d/package.json').main")
        find "$d/dist" -type f \( -name '*.js' -o -name '*.mjs' \) ! -path "$d/$main" ! -name '*.worker.js' -delete
        find "$d" -type d -empty -delete
        rm -rf "$d/src" "$d/scripts"
      done )
    find "$stage/dist" -name '*.map' -delete
    tar -C "$stage" -cf - . | xz -T0 -9 > .gpu/bundle.tar.xz
    echo "staged $(du -sh "$stage" | cut -f1), compressed $(du -sh .gpu/bundle.tar.xz | cut -f1)"
    rm -rf "$stage"
    cat > .gpu/gpu-unpack.sh <<'UNPACK'
#!/usr/bin/env bash
# On the GPU machine: install the carried Vulkan/GL loaders and unpack Node + packages into /tmp/gpu
# (once: a warm machine keeps /tmp/gpu between calls).
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ ! -x /tmp/gpu/node ]; then mkdir -p /tmp/gpu && tar -xJf .gpu/bundle.tar.xz -C /tmp/gpu; fi
echo "unpacked: $(/tmp/gpu/node --version), $(du -sh /tmp/gpu | cut -f1)"
UNPACK
    if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
      o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
      mkdir -p /tmp/amd64/partial; apt-get $o update >/dev/null
      ( cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null )
    fi
    echo "carry: .gpu .gl ($(du -shc .gpu .gl | tail -1 | cut -f1)); the working tree adds $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes"
    ;;
  run)
    shift
    if [ -f .gpu/gpu-unpack.sh ]; then
      # shellcheck disable=SC1091
      source .gpu/gpu-unpack.sh
    elif [ -x /tmp/gpu/node ]; then  # a warm machine unpacked by an earlier call
      export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    else
      echo ".gpu/ missing: run 'bash bench/gpu/run-gpu.sh prepare' here first and carry .gpu and .gl" >&2; exit 1
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    cd /tmp/gpu
    ./node dist/bench/gpu/gpu-bench.js --model "$here/models/detector.onnx" --images "$here/test/fixtures" "$@"
    ;;
  *)
    sed -n '2,20p' "$0"
    exit 2
    ;;
esac
