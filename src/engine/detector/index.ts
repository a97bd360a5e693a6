// The detector's public surface: the pipeline, cell images and the mask encoding.
export {
  createDetector,
  defaultDetectorModelPath,
  readDetectorModelInfo,
  prepareImage,
  type Detector,
  type DetectorOptions,
  type DetectorModelInfo,
  type DetectedCell,
  type Detection,
  type RawDetections,
  type PreparedImage,
} from './detector.js';
export { chooseDetectorVariant, resolveDetectorPrecision, int8PathFor, type DetectorPrecision, type DetectorVariant } from './variants.js';
export { overlayPng, type RgbImage, type OverlayOptions } from '../../imaging/cell-crop.js';
export { rleEncode, rleDecode, rleArea, type Rle, type BinaryMask } from '../../imaging/rle.js';
export { pasteMask, type Box } from './mask-paste.js';
