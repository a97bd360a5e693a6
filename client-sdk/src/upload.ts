// What uploadImage sends: the bytes of a file path or a buffer, and a file name the server accepts.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

/** A file path, or the image's bytes (a Buffer is a Uint8Array). */
export type ImageSource = string | Uint8Array;

/** The image as POST /upload returns it (the Image type's fields, without the class-map labels). */
export interface UploadedImage {
  id: string;
  datasetId: string;
  sourcePath: string;
  sha256: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  rawLabel: string | null;
  subtype: string | null;
  cellType: string | null;
  split: string | null;
  url: string;
  createdAt: string;
}

export interface UploadResult {
  image: UploadedImage;
  /** False when the same image (by content) was in the dataset already. */
  created: boolean;
}

/** Image formats by their first bytes, for naming a buffer that came without a name. */
const MAGIC: [number[], string][] = [
  [[0xff, 0xd8, 0xff], '.jpg'],
  [[0x89, 0x50, 0x4e, 0x47], '.png'],
  [[0x49, 0x49, 0x2a, 0x00], '.tif'],
  [[0x4d, 0x4d, 0x00, 0x2a], '.tif'],
  [[0x42, 0x4d], '.bmp'],
];

function extensionOf(data: Uint8Array): string {
  return MAGIC.find(([m]) => m.every((b, i) => data[i] === b))?.[1] ?? '';
}

/** The server takes names of letters, digits and ` ._-()+` (up to 200): anything else becomes "_". */
export function safeFilename(name: string): string {
  const ext = extname(name).replace(/[^\w.]/g, '').slice(0, 10);
  const stem = basename(name, extname(name)).replace(/[^\w.\- ()+]/g, '_').replace(/^\.+/, '_').slice(0, 200 - ext.length);
  return `${stem || 'image'}${ext}`;
}

export async function readImageSource(file: ImageSource, filename?: string): Promise<{ data: Uint8Array; filename: string }> {
  if (typeof file === 'string') return { data: await readFile(file), filename: safeFilename(filename ?? basename(file)) };
  return { data: file, filename: safeFilename(filename ?? `image${extensionOf(file)}`) };
}
