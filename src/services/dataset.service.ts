// Datasets: create and describe them, and start imports from server folders inside the data roots.
import type { DataSource, Repository } from 'typeorm';
import DataLoader from 'dataloader';
import { DatasetEntity } from '../db/entities/index.js';
import type { JobEntity } from '../db/entities/index.js';
import type { Config } from '../config.js';
import { resolveInsideRoots, PathRefused } from './data-roots.js';
import { readLayout, LayoutError, type Layout, LAYOUTS } from './dataset-layouts.js';
import { BadInputError, ConflictError, NotFoundError } from './errors.js';
import { CELL_TYPES } from '../pipeline/class-maps.js';
import type { JobService } from './job.service.js';

export interface DatasetInput {
  name: string;
  description?: string;
  stain?: string;
  scanner?: string;
  classOverrides?: Record<string, string>;
}

export interface DatasetStats {
  images: number;
  labelled: number;
  cells: number;
  byType: { cellType: string | null; count: number }[];
}

export class DatasetService {
  private repo: Repository<DatasetEntity>;

  constructor(private readonly ds: DataSource, private readonly cfg: Config, private readonly jobs: JobService) {
    this.repo = ds.getRepository(DatasetEntity);
  }

  private checkOverrides(o: Record<string, string> | undefined): void {
    for (const [raw, t] of Object.entries(o ?? {})) {
      if (typeof t !== 'string') {
        throw new BadInputError(`class override "${raw.slice(0, 100)}": the value must be a cell type name (${CELL_TYPES.join(', ')}), not ${JSON.stringify(t)?.slice(0, 100)}`);
      }
      if (!(CELL_TYPES as readonly string[]).includes(t)) {
        throw new BadInputError(`class override "${raw}" -> "${t}": "${t}" is not a cell type (${CELL_TYPES.join(', ')})`);
      }
    }
  }

  async create(input: DatasetInput): Promise<DatasetEntity> {
    const name = input.name.trim();
    if (!/^[\w.\- ]{1,100}$/.test(name)) throw new BadInputError('dataset name must be 1-100 letters, digits, spaces, ".", "-" or "_"');
    this.checkOverrides(input.classOverrides);
    if (await this.repo.existsBy({ name })) throw new ConflictError(`a dataset named "${name}" exists`);
    return this.repo.save(
      this.repo.create({
        name,
        description: input.description ?? '',
        stain: input.stain ?? '',
        scanner: input.scanner ?? '',
        classOverrides: input.classOverrides ?? {},
      }),
    );
  }

  async update(id: string, input: Partial<DatasetInput>): Promise<DatasetEntity> {
    const d = await this.get(id);
    this.checkOverrides(input.classOverrides);
    Object.assign(d, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
    return this.repo.save(d);
  }

  find(id: string): Promise<DatasetEntity | null> {
    return this.repo.findOneBy({ id });
  }

  async get(id: string): Promise<DatasetEntity> {
    const d = await this.repo.findOneBy({ id });
    if (!d) throw new NotFoundError('dataset', id);
    return d;
  }

  async findByName(name: string): Promise<DatasetEntity | null> {
    return this.repo.findOneBy({ name });
  }

  list(): Promise<DatasetEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  /** A dataset's counts. Calls made together (`datasets { stats }`) are answered by one statement. */
  stats(id: string): Promise<DatasetStats> {
    return this.statsLoader.load(id);
  }

  private readonly statsLoader = new DataLoader<string, DatasetStats>((ids) => this.statsOf(ids), { cache: false });

  private async statsOf(ids: readonly string[]): Promise<DatasetStats[]> {
    const rows: { id: string; images: number; labelled: number; cells: number; by_type: DatasetStats['byType'] }[] = await this.ds.query(
      `WITH img AS (
         SELECT dataset_id, cell_type, count(*)::int AS n FROM images WHERE dataset_id = ANY($1) GROUP BY dataset_id, cell_type
       ), cel AS (
         SELECT i.dataset_id, count(*)::int AS n FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = ANY($1) GROUP BY i.dataset_id
       )
       SELECT d.id,
              coalesce((SELECT sum(n)::int FROM img WHERE img.dataset_id = d.id), 0) AS images,
              coalesce((SELECT sum(n)::int FROM img WHERE img.dataset_id = d.id AND cell_type IS NOT NULL), 0) AS labelled,
              coalesce((SELECT n FROM cel WHERE cel.dataset_id = d.id), 0) AS cells,
              coalesce((SELECT json_agg(json_build_object('cellType', cell_type, 'count', n) ORDER BY cell_type) FROM img WHERE img.dataset_id = d.id), '[]') AS by_type
         FROM unnest($1::uuid[]) AS d(id)`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const r = byId.get(id)!;
      return { images: r.images, labelled: r.labelled, cells: r.cells, byType: r.by_type };
    });
  }

  /**
   * Checks the folder (inside a data root, a readable layout with images) and queues the import.
   * Everything that can be checked is checked here, so that a refused import writes nothing.
   */
  async startImport(datasetId: string, path: string, layout: Layout, opts: { maxPerClass?: number; throttleMs?: number } = {}): Promise<JobEntity> {
    const dataset = await this.get(datasetId);
    if (!(LAYOUTS as readonly string[]).includes(layout)) throw new BadInputError(`unknown layout "${layout}"`);
    if (opts.maxPerClass !== undefined && !(Number.isInteger(opts.maxPerClass) && opts.maxPerClass > 0)) {
      throw new BadInputError('maxPerClass must be a positive integer');
    }
    if (opts.throttleMs !== undefined && !this.cfg.testHooks) throw new BadInputError('throttleMs is only accepted with LEUKOGRAPH_TEST_HOOKS=1');
    let where: { root: string; path: string };
    try {
      where = await resolveInsideRoots(path, this.cfg.dataRoots);
    } catch (err) {
      if (err instanceof PathRefused) throw new BadInputError(err.message);
      throw err;
    }
    let found: Awaited<ReturnType<typeof readLayout>>;
    try {
      found = await readLayout(where.path, where.root, layout);
    } catch (err) {
      if (err instanceof LayoutError) throw new BadInputError(err.message);
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new BadInputError(`"${path}" is not a folder`);
      throw err;
    }
    await this.repo.update(dataset.id, { layout: found.layout, sourcePath: where.path });
    return this.jobs.create('import', { datasetId: dataset.id, path: where.path, root: where.root, layout: found.layout, ...opts });
  }
}
