/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.22 has no such kernel, so the
 * gradient of conv2d and of conv2dTranspose w.r.t. their filters cannot run there).
 *
 * The filter gradient of y = conv2d(x, W, stride s, padding (pt, pl)) is
 *
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*s + kh - pt, ow*s + kw - pl, ci] * dy[n, oh, ow, co]
 *
 * which is itself a stride-1 convolution with dilation s, computed by the backend's own fast Conv2D:
 *
 *   X' = transpose(x,  [3, 1, 2, 0])   -> [Cin, H, W, N]     ("batch" = Cin, "channels" = N)
 *   F' = transpose(dy, [1, 2, 0, 3])   -> [HO, WO, N, Cout]  (a HO x WO filter, dilated by s)
 *   O  = conv2d(X', F', strides 1, dilations s, explicit padding [[pt, pb'], [pl, pr']])
 *        -> [Cin, KH, KW, Cout],  O[ci, r, q, co] = sum x[r + oh*s - pt, q + ow*s - pl] dy[oh, ow]
 *   dW = transpose(O, [1, 2, 0, 3])    -> [KH, KW, Cin, Cout]
 *
 * The output height of that convolution is H + pt + pb' - (HO - 1)*s, so pb' = KH - H - pt + (HO - 1)*s
 * makes it exactly KH. When pb' < 0 (a 'valid' stride-s convolution that never reads the last rows of x)
 * those rows are sliced off first. Same for the width. Works for 'valid', 'same', numeric and explicit
 * padding, any stride; forward dilation must be 1 (tfjs's conv2d gradient requires that anyway).
 *
 * A 1x1 stride-1 convolution takes a shortcut: dW = x^T dy as one matrix product.
 *
 * Only the backend's registered kernels are called (Transpose, Slice, Conv2D, ...), on TensorInfos, and the
 * intermediates are released with `backend.disposeData`, like the backends' own composite kernels.
 */
import type { KernelConfig, KernelFunc, Tf, TensorInfo } from './types.js';

import type { BackendLike, ConvGradAttrs, Shape4 } from './conv-common.js';

interface BackpropFilterAttrs extends ConvGradAttrs {
  filterShape: Shape4;
}

export const CONV2D_BACKPROP_FILTER = 'Conv2DBackpropFilter';

/** A KernelConfig computing Conv2DBackpropFilter on `backendName` with that backend's Conv2D kernel. */
export function conv2dBackpropFilterViaConv2D(tf: Tf, backendName: string): KernelConfig {
  const kernel = (name: string): KernelFunc => {
    const k = tf.getKernel(name, backendName);
    if (!k) throw new Error(`${CONV2D_BACKPROP_FILTER} on ${backendName} needs the ${name} kernel`);
    return k.kernelFunc;
  };
  const one = (r: TensorInfo | TensorInfo[]): TensorInfo => (Array.isArray(r) ? r[0]! : r);

  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const a = attrs as unknown as BackpropFilterAttrs;
    const be = backend as BackendLike;
    if (a.dataFormat === 'NCHW') {
      throw new Error(`${CONV2D_BACKPROP_FILTER} (${backendName}): only dataFormat NHWC is supported`);
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4,
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      'channelsLast',
    );
    const [n, h, w, cin] = x.shape as Shape4;
    const [dn, ho, wo, cout] = dy.shape as Shape4;
    if (dn !== n || ho !== info.outHeight || wo !== info.outWidth || cout !== info.outChannels) {
      throw new Error(
        `${CONV2D_BACKPROP_FILTER}: dy shape [${dy.shape}] does not match x [${x.shape}] and filter [${a.filterShape}]`,
      );
    }
    const sh = info.strideHeight;
    const sw = info.strideWidth;
    const kh = info.filterHeight;
    const kw = info.filterWidth;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    let pb = kh - h - pt + (ho - 1) * sh;
    let pr = kw - w - pl + (wo - 1) * sw;

    const temps: TensorInfo[] = [];
    try {
      if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && ho === h && wo === w) {
        // 1x1 stride-1 convolution: dW = x^T dy over all n*h*w positions, one matrix product.
        const m = n * h * w;
        const x3 = one(kernel('Reshape')({ inputs: { x }, backend, attrs: { shape: [1, m, cin] } }));
        temps.push(x3);
        const d3 = one(kernel('Reshape')({ inputs: { x: dy }, backend, attrs: { shape: [1, m, cout] } }));
        temps.push(d3);
        const g = one(kernel('BatchMatMul')({ inputs: { a: x3, b: d3 }, backend, attrs: { transposeA: true, transposeB: false } }));
        temps.push(g);
        return one(kernel('Reshape')({ inputs: { x: g }, backend, attrs: { shape: [1, 1, cin, cout] } }));
      }
      let xs = x;
      if (pb < 0 || pr < 0) {
        xs = one(
          kernel('Slice')({
            inputs: { x },
            backend,
            attrs: { begin: [0, 0, 0, 0], size: [n, h + Math.min(pb, 0), w + Math.min(pr, 0), cin] },
          }),
        );
        temps.push(xs);
        pb = Math.max(pb, 0);
        pr = Math.max(pr, 0);
      }
      const xt = one(kernel('Transpose')({ inputs: { x: xs }, backend, attrs: { perm: [3, 1, 2, 0] } }));
      temps.push(xt);
      const dyt = one(kernel('Transpose')({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }));
      temps.push(dyt);
      const o = one(
        kernel('Conv2D')({
          inputs: { x: xt, filter: dyt },
          backend,
          attrs: {
            strides: [1, 1],
            pad: [
              [0, 0],
              [pt, pb],
              [pl, pr],
              [0, 0],
            ],
            dataFormat: 'NHWC',
            dilations: [sh, sw],
          },
        }),
      );
      temps.push(o);
      if (o.shape[1] !== kh || o.shape[2] !== kw) {
        throw new Error(`${CONV2D_BACKPROP_FILTER}: internal shape error [${o.shape}] for filter [${a.filterShape}]`);
      }
      return one(kernel('Transpose')({ inputs: { x: o }, backend, attrs: { perm: [1, 2, 0, 3] } }));
    } finally {
      for (const t of temps) if (t !== x) be.disposeData(t.dataId);
    }
  };

  return { kernelName: CONV2D_BACKPROP_FILTER, backendName, kernelFunc };
}
