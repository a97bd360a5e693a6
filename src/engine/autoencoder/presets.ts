/**
 * AE-CFE autoencoder presets. `paper` is the published network (docs/aecfe-method.md
 * §3, checked against the reference implementation); `cpu` is a lighter network for 2-core CPUs
 * with the same input (256x14x14), the same 50-d tanh latent and the same loss. See README.md.
 */

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'linear';

export interface LayerSpec {
  /** conv = Conv2d; convT = ConvTranspose2d (PyTorch semantics, padding 0 for 'valid'). */
  kind: 'conv' | 'convT';
  /** Output channels. */
  cout: number;
  /** Square kernel size. */
  k: number;
  stride?: number;
  /** 'valid' = PyTorch padding 0: conv out = floor((in-k)/s)+1, convT out = (in-1)*s+k. 'same': conv
   *  out = ceil(in/s), convT out = in*s. */
  pad?: 'valid' | 'same';
  act: Activation;
  /** GroupNorm groups, applied after the activation (conv -> act -> GroupNorm, as in the reference code).
   *  The group count must divide C*H*W; when it does not divide C the groups are taken over the
   *  channel-major (NCHW) flattening, exactly like the reference's `x.view(N, G, -1)`. */
  groupNorm?: number;
}

export interface AutoencoderPreset {
  name: string;
  description: string;
  /** Input feature map: [inputSize, inputSize, inputChannels] NHWC (the ROIAlign output). */
  inputSize: number;
  inputChannels: number;
  latentDim: number;
  /** Side of the reconstructed (and target) cell image, 3 channels, values in [0, 1]. */
  imageSize: number;
  encoder: LayerSpec[];
  featureDecoder: LayerSpec[];
  imageDecoder: LayerSpec[];
  groupNorm: { eps: number; /** variance with Bessel's correction, as torch.var's default */ unbiased: boolean };
  ssim: {
    /** Gaussian window taps: g[i] = exp(-(i - floor(window/2))^2 / (2 sigma^2)), i = 0..window-1, normalised. */
    window: number;
    sigma: number;
    /** Zero padding on each side (reference: floor(window/2)); output side = size + 2*padding - window + 1. */
    padding: number;
    c1: number;
    c2: number;
  };
  /** Weight of the alignment term (paper: 5); 0 turns it off. */
  alignWeight: number;
  learningRate: number;
  adam: { beta1: number; beta2: number; eps: number };
  /** The batch size the preset was designed/benchmarked for (the paper used 500 on a GPU). */
  batchSize: number;
}

const PAPER: AutoencoderPreset = {
  name: 'paper',
  description:
    'AE-CFE as published (Salehi et al., MICCAI 2022) and in its reference code: GroupNorm after every encoder conv, ' +
    'tanh 50-d latent, feature decoder to 14x14x256 + tanh, image decoder from the reconstructed features to 128x128x3 + sigmoid.',
  inputSize: 14,
  inputChannels: 256,
  latentDim: 50,
  imageSize: 128,
  encoder: [
    // 14 -> 12. 32 groups over 200 channels: the reference's GroupNorm default, groups of 6.25 channels
    // in the NCHW flattening (28800 / 32 = 900 values each).
    { kind: 'conv', cout: 200, k: 3, act: 'relu', groupNorm: 32 },
    { kind: 'conv', cout: 150, k: 3, stride: 2, act: 'relu', groupNorm: 30 }, // 12 -> 5
    { kind: 'conv', cout: 100, k: 3, act: 'relu', groupNorm: 10 }, // 5 -> 3
    { kind: 'conv', cout: 70, k: 2, act: 'relu', groupNorm: 10 }, // 3 -> 2
    { kind: 'conv', cout: 60, k: 2, act: 'relu', groupNorm: 20 }, // 2 -> 1
    { kind: 'conv', cout: 50, k: 1, act: 'tanh' }, // latent z
  ],
  featureDecoder: [
    { kind: 'convT', cout: 150, k: 5, act: 'relu' }, // 1 -> 5
    { kind: 'convT', cout: 200, k: 4, stride: 2, act: 'relu' }, // 5 -> 12
    { kind: 'convT', cout: 256, k: 3, act: 'tanh' }, // 12 -> 14
  ],
  imageDecoder: [
    // Transposed convs with padding 0: out = (in - 1) * stride + k.
    { kind: 'convT', cout: 200, k: 5, stride: 2, act: 'relu' }, // 14 -> 31
    { kind: 'convT', cout: 180, k: 3, stride: 2, act: 'relu' }, // 31 -> 63
    { kind: 'convT', cout: 150, k: 3, stride: 2, act: 'relu' }, // 63 -> 127
    { kind: 'convT', cout: 128, k: 2, act: 'relu' }, // 127 -> 128
    { kind: 'convT', cout: 3, k: 1, act: 'sigmoid' }, // 128 -> 128
  ],
  groupNorm: { eps: 1e-5, unbiased: true },
  ssim: { window: 10, sigma: 1.5, padding: 5, c1: 0.01 ** 2, c2: 0.03 ** 2 },
  alignWeight: 5,
  learningRate: 1e-3,
  adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  batchSize: 500,
};

const CPU: AutoencoderPreset = {
  name: 'cpu',
  description:
    'Lighter AE-CFE for 2-core CPUs: same 256x14x14 input, GroupNorm encoder, 50-d tanh latent, feature decoder to ' +
    '14x14x256 + tanh and the same loss, but 64-wide layers, 1x1 convs into and out of the 256 channels and a 64x64 image decoder.',
  inputSize: 14,
  inputChannels: 256,
  latentDim: 50,
  imageSize: 64,
  encoder: [
    { kind: 'conv', cout: 32, k: 1, act: 'relu', groupNorm: 8 }, // 14 -> 14 (channel reduction 256 -> 32)
    { kind: 'conv', cout: 64, k: 3, stride: 2, act: 'relu', groupNorm: 8 }, // 14 -> 6
    { kind: 'conv', cout: 64, k: 3, act: 'relu', groupNorm: 8 }, // 6 -> 4
    { kind: 'conv', cout: 64, k: 3, act: 'relu', groupNorm: 8 }, // 4 -> 2
    { kind: 'conv', cout: 64, k: 2, act: 'relu', groupNorm: 8 }, // 2 -> 1
    { kind: 'conv', cout: 50, k: 1, act: 'tanh' }, // latent z
  ],
  featureDecoder: [
    { kind: 'convT', cout: 64, k: 7, act: 'relu' }, // 1 -> 7
    { kind: 'convT', cout: 64, k: 2, stride: 2, act: 'relu' }, // 7 -> 14
    { kind: 'conv', cout: 256, k: 1, act: 'tanh' }, // 14 -> 14 (channel expansion)
  ],
  imageDecoder: [
    { kind: 'conv', cout: 32, k: 1, act: 'relu' }, // 14 -> 14 (channel reduction)
    { kind: 'convT', cout: 32, k: 4, stride: 2, act: 'relu' }, // 14 -> 30
    { kind: 'convT', cout: 16, k: 4, stride: 2, act: 'relu' }, // 30 -> 62
    { kind: 'convT', cout: 3, k: 3, act: 'sigmoid' }, // 62 -> 64
  ],
  groupNorm: { eps: 1e-5, unbiased: true },
  // Same SSIM as the paper (10-tap window, sigma 1.5, zero padding 5) on the 64x64 image.
  ssim: { window: 10, sigma: 1.5, padding: 5, c1: 0.01 ** 2, c2: 0.03 ** 2 },
  alignWeight: 5,
  learningRate: 1e-3,
  adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  batchSize: 64,
};

export const PRESETS: Readonly<Record<'paper' | 'cpu', AutoencoderPreset>> = { paper: PAPER, cpu: CPU };
export type PresetName = keyof typeof PRESETS;

/** A deep copy of a named preset (or of the given preset, validated). */
export function resolvePreset(p: PresetName | AutoencoderPreset): AutoencoderPreset {
  const preset = typeof p === 'string' ? PRESETS[p] : p;
  if (!preset) throw new Error(`unknown autoencoder preset ${JSON.stringify(p)} (expected ${Object.keys(PRESETS).join(', ')})`);
  const copy = JSON.parse(JSON.stringify(preset)) as AutoencoderPreset;
  planNetwork(copy);
  return copy;
}

export interface PlannedLayer extends Required<Omit<LayerSpec, 'groupNorm'>> {
  groupNorm?: number;
  /** Stable parameter prefix, e.g. "encoder.0". */
  name: string;
  cin: number;
  inSize: number;
  outSize: number;
  /** Forward multiply-adds x2 for one sample. */
  flops: number;
}

export interface NetworkPlan {
  encoder: PlannedLayer[];
  featureDecoder: PlannedLayer[];
  imageDecoder: PlannedLayer[];
  parameterCount: number;
  /** Forward FLOPs per sample (convolutions only). */
  forwardFlops: number;
}

/** Work out every layer's input/output sizes and check the three stages land on the required shapes. */
export function planNetwork(p: AutoencoderPreset): NetworkPlan {
  let params = 0;
  let flops = 0;
  const stage = (name: string, specs: LayerSpec[], cin0: number, size0: number, wantC: number, wantS: number) => {
    let cin = cin0;
    let size = size0;
    const out: PlannedLayer[] = specs.map((s, i) => {
      const stride = s.stride ?? 1;
      const pad = s.pad ?? 'valid';
      if (!(s.k >= 1 && stride >= 1 && s.cout >= 1)) throw new Error(`${name}.${i}: bad layer ${JSON.stringify(s)}`);
      let outSize: number;
      if (s.kind === 'conv') outSize = pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - s.k) / stride) + 1;
      else outSize = pad === 'same' ? size * stride : (size - 1) * stride + s.k;
      if (outSize < 1) throw new Error(`${name}.${i}: output size ${outSize} from input ${size}`);
      if (s.groupNorm !== undefined) {
        const g = s.groupNorm;
        const m = (s.cout * outSize * outSize) / g;
        if (!Number.isInteger(m) || g < 1) throw new Error(`${name}.${i}: ${g} groups do not divide ${s.cout}x${outSize}x${outSize}`);
        if (p.groupNorm.unbiased && m < 2) throw new Error(`${name}.${i}: GroupNorm groups of ${m} value(s)`);
      }
      const layer: PlannedLayer = {
        kind: s.kind,
        cout: s.cout,
        k: s.k,
        stride,
        pad,
        act: s.act,
        groupNorm: s.groupNorm,
        name: `${name}.${i}`,
        cin,
        inSize: size,
        outSize,
        flops:
          2 * s.k * s.k * cin * s.cout * (s.kind === 'conv' ? outSize * outSize : size * size),
      };
      params += s.k * s.k * cin * s.cout + s.cout + (s.groupNorm !== undefined ? 2 * s.cout : 0);
      flops += layer.flops;
      cin = s.cout;
      size = outSize;
      return layer;
    });
    if (cin !== wantC || size !== wantS) {
      throw new Error(`${name} ends at ${size}x${size}x${cin}, expected ${wantS}x${wantS}x${wantC}`);
    }
    return out;
  };
  const encoder = stage('encoder', p.encoder, p.inputChannels, p.inputSize, p.latentDim, 1);
  if (encoder.at(-1)!.act !== 'tanh') throw new Error('encoder: the latent layer must end with tanh');
  const featureDecoder = stage('featureDecoder', p.featureDecoder, p.latentDim, 1, p.inputChannels, p.inputSize);
  const imageDecoder = stage('imageDecoder', p.imageDecoder, p.inputChannels, p.inputSize, 3, p.imageSize);
  if (p.ssim.window > p.imageSize + 2 * p.ssim.padding) throw new Error('ssim: window larger than the padded image');
  return { encoder, featureDecoder, imageDecoder, parameterCount: params, forwardFlops: flops };
}
