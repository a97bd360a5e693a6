#!/usr/bin/env bash
# The GPU benchmark of issue 7 on a lent NVIDIA machine (no Node.js, no network there; see
# ../shared/docs/gpu.md). Two steps:
#
#   1. here, from the project root, after `npm ci` and `npm run build`:
#        bash bench/gpu/run-gpu.sh prepare
#      packs Node.js, the engine's packages (the dependency closure of onnxruntime-node, webgpu,
#      TensorFlow.js with its webgpu/wasm backends, sharp) and dist/ into .gpu/ and the Vulkan loaders
#      into .gl/ (../shared/tools/gpu-bundle.sh). Keep /.gpu/ and /.gl/ out of git.
#   2. on the GPU machine, from the copied project root (the `run` tool, carrying .gpu and .gl):
#        bash bench/gpu/run-gpu.sh run [gpu-bench options]
#      unpacks into /tmp/gpu and runs dist/bench/gpu/gpu-bench.js against models/detector.onnx and the
#      test fixtures' images: the detector on webgpu vs cpu (outputs compared, ms per image), an
#      autoencoder epoch (cpu preset) and paper-preset steps on tfjs webgpu vs wasm (losses compared,
#      samples/s). Ends with a table; bounded by --budget-s (default 420 s). Record the table, with the
#      card named, in bench/RESULTS.md.
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
    PKGS="$PKGS" EXTRA="dist" bash "$here/../shared/tools/gpu-bundle.sh"
    echo "carry: .gpu .gl  (models/detector.onnx and test/fixtures travel with the working tree)"
    ;;
  run)
    shift
    [ -f .gpu/gpu-unpack.sh ] || { echo ".gpu/ missing: run 'bash bench/gpu/run-gpu.sh prepare' here first and carry .gpu and .gl" >&2; exit 1; }
    # shellcheck disable=SC1091
    source .gpu/gpu-unpack.sh
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    cd /tmp/gpu
    ./node dist/bench/gpu/gpu-bench.js --model "$here/models/detector.onnx" --images "$here/test/fixtures" "$@"
    ;;
  *)
    sed -n '2,20p' "$0"
    exit 2
    ;;
esac
