// Images: listing, reading their bytes, and storing uploads from clients (checked, content-addressed).
import type { DataSource, Repository } from 'typeorm';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Blobs } from '../storage/blobs.js';
import { ImageEntity, DatasetEntity } from '../db/entities/index.js';
import { ImageRepository, type NewImageRow } from '../db/repositories/image.repository.js';
import type { Config } from '../config.js';
import { inspectImage, ImageRejected, type ImageInfo } from '../imaging/image-codec.js';
import { harmonise } from '../pipeline/class-maps.js';
import { BadInputError, NotFoundError } from './errors.js';
import { boundedCount, countedRows, decodeCursor, encodeCursor, equalsWhere, type KeysetPage } from './keyset.js';

export interface ImageFilter {
  datasetId?: string;
  cellType?: string;
  split?: string;
}

type ImageKey = [string, string];
const isImageKey = (k: unknown[]): k is ImageKey => k.length === 2 && typeof k[0] === 'string' && typeof k[1] === 'string' && /^[0-9a-f-]{36}$/.test(k[1]);

/** An image row to insert, its cell type harmonised from the raw label under the dataset's class overrides. */
export type NewImage = Omit<NewImageRow, 'cellType'> & { overrides: Record<string, string> };

/**
 * Inserts an image row unless one with the same (dataset, source path) exists. Idempotent, so a job
 * retried after a crash neither loses nor duplicates images. Returns the id, and whether it is new.
 */
export async function insertImage(ds: DataSource, img: NewImage): Promise<{ id: string; created: boolean }> {
  return new ImageRepository(ds).insert({ ...img, cellType: harmonise(img.rawLabel, img.subtype, img.overrides) });
}

export class ImageService {
  private repo: Repository<ImageEntity>;

  constructor(private readonly ds: DataSource, private readonly cfg: Config, private readonly blobs: Blobs) {
    this.repo = ds.getRepository(ImageEntity);
  }

  find(id: string): Promise<ImageEntity | null> {
    return this.repo.findOneBy({ id });
  }

  async get(id: string): Promise<ImageEntity> {
    const img = await this.repo.findOneBy({ id });
    if (!img) throw new NotFoundError('image', id);
    return img;
  }

  private query(f: ImageFilter) {
    const qb = this.repo.createQueryBuilder('i');
    if (f.datasetId) qb.andWhere('i.dataset_id = :datasetId', { datasetId: f.datasetId });
    if (f.cellType) qb.andWhere('i.cell_type = :cellType', { cellType: f.cellType });
    if (f.split) qb.andWhere('i.split = :split', { split: f.split });
    return qb.orderBy('i.source_path', 'ASC').addOrderBy('i.id', 'ASC');
  }

  async list(f: ImageFilter & { limit: number; offset: number }): Promise<{ items: ImageEntity[]; total: number }> {
    const qb = this.query(f);
    // Overall and per dataset the maintained counters are exact and cost one row; other filters count.
    const counted = !f.cellType && !f.split;
    const [items, total] = await Promise.all([
      qb.take(f.limit).skip(f.offset).getMany(),
      counted ? countedRows(this.ds, 'images', f.datasetId) : qb.getCount(),
    ]);
    return { items, total };
  }

  /** Images in the offset form's order (source path, then id), `first` of them after the cursor `after`. */
  async listAfter(f: ImageFilter, first: number, after: string | null): Promise<KeysetPage<ImageEntity>> {
    const qb = this.query(f).limit(first + 1);
    if (after) {
      const [path, id] = decodeCursor('images', after, isImageKey);
      qb.andWhere('(i.source_path, i.id) > (:path, CAST(:id AS uuid))', { path, id });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, first);
    return {
      items,
      cursors: items.map((i) => encodeCursor('images', [i.sourcePath, i.id])),
      hasNextPage: rows.length > first,
      total: async () => {
        if (!f.cellType && !f.split) return { count: await countedRows(this.ds, 'images', f.datasetId), exact: true };
        const { where, params } = equalsWhere([['dataset_id', f.datasetId], ['cell_type', f.cellType], ['split', f.split]]);
        return boundedCount(this.ds, 'images', where, params);
      },
    };
  }

  async bytes(id: string): Promise<{ image: ImageEntity; data: Buffer }> {
    const image = await this.get(id);
    return { image, data: await this.blobs.read(image.storagePath, 'image file') };
  }

  /** The image's bytes as a stream from the object store (or the importing machine's disk). */
  async stream(id: string): Promise<{ image: ImageEntity; body: Readable }> {
    const image = await this.get(id);
    return { image, body: await this.blobs.stream(image.storagePath, 'image file') };
  }

  /**
   * Stores an image sent by a client: checked completely first, then put into the object store by content
   * hash (atomically: no half-written object is ever visible), where every engine reads it.
   */
  async upload(datasetId: string, filename: string, data: Buffer, label: string | null): Promise<{ image: ImageEntity; created: boolean }> {
    const dataset = await this.ds.getRepository(DatasetEntity).findOneBy({ id: datasetId });
    if (!dataset) throw new NotFoundError('dataset', datasetId);
    const name = basename(filename.replace(/\\/g, '/'));
    if (!name || name.startsWith('.') || !/^[\w.\- ()+]{1,200}$/.test(name)) throw new BadInputError(`invalid file name "${filename}"`);
    let info: ImageInfo;
    try {
      info = await inspectImage(data, { maxBytes: this.cfg.maxImageBytes, maxPixels: this.cfg.maxImagePixels });
    } catch (err) {
      if (err instanceof ImageRejected) throw new BadInputError(`${name}: ${err.message}`);
      throw err;
    }
    const storagePath = await this.blobs.putImage(data, info);
    const { id, created } = await insertImage(this.ds, {
      datasetId, sourcePath: `upload/${info.sha256.slice(0, 12)}/${name}`, storagePath, info, rawLabel: label, subtype: null, split: null, jobId: null,
      overrides: dataset.classOverrides,
    });
    return { image: await this.get(id), created };
  }
}
