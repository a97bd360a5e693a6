// What the two convolution-gradient kernels share: tfjs's attribute shapes for Conv2D gradients and the
// slice of a backend they use to free intermediates.

export type Shape4 = [number, number, number, number];
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

export interface BackendLike {
  disposeData(dataId: object, force?: boolean): unknown;
}

/** The attributes tfjs passes to Conv2DBackpropFilter and Conv2DBackpropInput (each adds its shape). */
export interface ConvGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}
