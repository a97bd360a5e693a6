// What uploadImage sends: the bytes of a file path (Node: read with node:fs, loaded only then), a buffer or a
// Blob/File (browsers), and a file name the server accepts. Nothing here needs Node unless a path is given.

/** A file path (Node), the image's bytes (a Buffer is a Uint8Array), or a Blob / File (a browser's file input). */
export type ImageSource = string | Uint8Array | Blob;

/** The last part of a path, either separator. */
function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? '';
}

/** '.png' of 'a/b.png'; '' when there is none (a leading dot is a hidden file, not an extension). */
function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i > 0 ? b.slice(i) : '';
}

/** The image as POST /upload returns it (the REST shape: the Image's own fields and its datasetId). */
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
  /** @deprecated the stored string; canonicalType is the same value */
  cellType: string | null;
  /** The canonical cell type (the stored string of a CellType value: 'neutrophil_segmented', ...). */
  canonicalType: string | null;
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
  const base = basename(name);
  const stem = base.slice(0, base.length - extname(name).length).replace(/[^\w.\- ()+]/g, '_').replace(/^\.+/, '_').slice(0, 200 - ext.length);
  return `${stem || 'image'}${ext}`;
}

export async function readImageSource(file: ImageSource, filename?: string): Promise<{ data: Blob; filename: string }> {
  if (typeof file === 'string') {
    const { readFile } = await import('node:fs/promises');
    return { data: new Blob([(await readFile(file)) as Uint8Array<ArrayBuffer>]), filename: safeFilename(filename ?? basename(file)) };
  }
  // A Blob copies the view's bytes; the cast only satisfies lib.dom's BlobPart (no SharedArrayBuffer).
  if (file instanceof Uint8Array) return { data: new Blob([file as Uint8Array<ArrayBuffer>]), filename: safeFilename(filename ?? `image${extensionOf(file)}`) };
  const named = (file as Blob & { name?: string }).name;
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  return { data: file, filename: safeFilename(filename ?? named ?? `image${extensionOf(head)}`) };
}
