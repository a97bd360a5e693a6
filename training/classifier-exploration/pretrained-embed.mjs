// Exploration only (issue 17): embed every dumped cell with an ImageNet-initialised backbone that the npm registry
// ships with its weights (nsfwjs 4.3.0, MIT: Keras InceptionV3 and MobileNetV2, fine-tuned by its authors on
// 5 photo classes). Nothing here is a product path; it asks whether a pretrained representation carries a lab's
// labels to another lab better than the 59 morphology values.
//
//   npm pack nsfwjs@4.3.0 && mkdir -p /tmp/nsfwjs && tar xzf nsfwjs-4.3.0.tgz -C /tmp/nsfwjs   (its models; no install)
//   NSFWJS=/tmp/nsfwjs/package DUMP=/tmp/dump MODEL=mobilenet_v2 SIZE=224 node training/classifier-exploration/pretrained-embed.mjs
//
// Reads $DUMP/crops.u8 (dump-cells.mjs: 128 px RGB crops) and writes $DUMP/emb-$MODEL-$SIZE.f32 (N x C float32,
// C = 1280 or 2048): the last convolution block's output averaged over space, so the input size is free.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
const root = `${process.env.NSFWJS ?? '/tmp/nsfwjs/package'}/dist/models`;
const name = process.env.MODEL ?? 'mobilenet_v2';
const size = Number(process.env.SIZE ?? 224);
const DUMP = process.env.DUMP ?? '/tmp/dump';
const lastBlock = { inception_v3: 'mixed10', mobilenet_v2: 'out_relu' }[name];

await tf.setBackend(process.env.BACKEND ?? 'wasm');
const json = require(`${root}/${name}/model.min.js`);
const specs = json.weightsManifest.flatMap((g) => g.weights);
const shards = json.weightsManifest[0].paths.map((p) => Buffer.from(require(`${root}/${name}/${p}.min.js`), 'base64'));
const data = Buffer.concat(shards);
// Cut the network after its last convolution block and free its input size (the head's fixed pooling needs 299 px).
const config = json.modelTopology.model_config.config;
const cut = config.layers.findIndex((l) => l.name === lastBlock);
config.layers = config.layers.slice(0, cut + 1);
config.layers[0].config.batch_input_shape = [null, size, size, 3];
config.output_layers = [[lastBlock, 0, 0]];
const trunk = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology, weightSpecs: specs,
  weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
}), { strict: false }); // not strict: the cut head's weights have no layer left (output checked equal to the full network's)

const crops = readFileSync(`${DUMP}/crops.u8`);
const px = 128 * 128 * 3;
const n = crops.length / px;
const batch = 16;
let out;
const t0 = Date.now();
for (let i = 0; i < n; i += batch) {
  const m = Math.min(batch, n - i);
  const emb = tf.tidy(() => {
    // nsfwjs's own preprocessing: RGB / 255, bilinear resize.
    const x = tf.tensor4d(new Uint8Array(crops.buffer, crops.byteOffset + i * px, m * px), [m, 128, 128, 3], 'int32')
      .toFloat().div(255);
    const y = trunk.predict(size === 128 ? x : tf.image.resizeBilinear(x, [size, size], true));
    return y.mean([1, 2]);
  });
  const v = await emb.data();
  emb.dispose();
  out ??= new Float32Array(n * (v.length / m));
  out.set(v, i * (v.length / m));
  if (i % 320 === 0) console.error(`${name} ${i}/${n} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
writeFileSync(`${DUMP}/emb-${name}-${size}.f32`, Buffer.from(out.buffer));
console.error(`${name}: ${n} cells x ${out.length / n} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
