// The analyze flow as one async iterator of cells: upload, start analyzeImages, stream jobCells, and when
// the job ends fetch the cells the stream may have missed (it only carries events from the moment it
// is subscribed, and nothing while a dropped socket reconnects), each cell yielded once.
import type { LeukographClient } from './client.js';
import { JobFailedError, NetworkError } from './errors.js';
import { AnalyzeImagesDocument, CellsDocument, JobCellsDocument, type CellFieldsFragment, type JobFieldsFragment } from './generated/graphql.js';
import type { ImageSource, UploadResult } from './upload.js';
import { DifferentialTally, type CellTally, type DifferentialCount } from './differential-count.js';

export type Cell = CellFieldsFragment;

export interface AnalyzeOptions {
  /** The dataset the images go to; default: the dataset named `datasetName`, created if needed. */
  datasetId?: string;
  /** Default "uploads". */
  datasetName?: string;
  /** The label of every image (when the caller knows it). */
  label?: string;
  /** Keep only the highest-scoring cell of each image. */
  topOnly?: boolean;
  /** Called after each image is sent (progress of the upload phase). */
  onUpload?: (result: UploadResult, index: number) => void;
  /** Called once the analyze job exists, and again with its final state. */
  onJob?: (job: JobFieldsFragment) => void;
}

/**
 * Cells as they are stored. Ends when the job ends; throws JobFailedError (after yielding the cells it
 * stored) when the job failed or was cancelled, e.g. when the server has no detector model.
 */
export interface CellStream extends AsyncIterableIterator<Cell> {
  /** The analyze job: undefined until it is started, then its latest known state. */
  readonly job: JobFieldsFragment | undefined;
  /** What each upload returned, in the order of the files. */
  readonly uploads: readonly UploadResult[];
  /** The differential count of the cells yielded so far (differential-count.ts): the job's typedResult.differential once it ends. */
  readonly count: DifferentialCount;
  /** Where the last cell yielded went in the count (counted under a class, flagged, ...). */
  readonly lastTally: CellTally | undefined;
}

const PAGE = 500;

async function* allCells(client: LeukographClient, filter: { jobId?: string; imageId?: string }): AsyncIterableIterator<Cell> {
  for (let offset = 0; ; offset += PAGE) {
    const { cells } = await client.query(CellsDocument, { ...filter, limit: PAGE, offset });
    yield* cells.items;
    if (cells.items.length < PAGE) return;
  }
}

async function* filtered(source: AsyncIterable<Cell>, keep: (c: Cell) => boolean): AsyncIterableIterator<Cell> {
  for await (const c of source) if (keep(c)) yield c;
}

export function analyzeCells(client: LeukographClient, files: readonly ImageSource[], opts: AnalyzeOptions): CellStream {
  const uploads: UploadResult[] = [];
  const tally = new DifferentialTally();
  let lastTally: CellTally | undefined;
  let job: JobFieldsFragment | undefined;
  const setJob = (j: JobFieldsFragment) => {
    job = j;
    opts.onJob?.(j);
  };

  async function* run(): AsyncGenerator<Cell> {
    const datasetId = opts.datasetId ?? (await client.ensureDataset(opts.datasetName ?? 'uploads')).id;
    for (const file of files) {
      const r = await client.uploadImage(datasetId, file, { label: opts.label });
      uploads.push(r);
      opts.onUpload?.(r, uploads.length - 1);
    }
    const imageIds = [...new Set(uploads.map((u) => u.image.id))];
    setJob((await client.mutate(AnalyzeImagesDocument, { input: { imageIds, topOnly: opts.topOnly ?? false } })).analyzeImages);
    const jobId = job!.id;

    const seen = new Set<string>();
    try {
      for await (const { jobCells } of client.subscribe(JobCellsDocument, { jobId })) {
        if (seen.has(jobCells.id)) continue;
        seen.add(jobCells.id);
        lastTally = tally.add(jobCells);
        yield jobCells;
      }
    } catch (err) {
      // A socket that stayed down: the job goes on without us; the catch-up below still finds its cells.
      if (!(err instanceof NetworkError)) throw err;
    }

    const final = await client.waitForJob(jobId);
    setJob(final);
    // The job's own cells, then cells these images already had from the same detector (a second
    // analysis of an image stores nothing new).
    const detectorId = typeof final.result?.detectorId === 'string' ? final.result.detectorId : null;
    const catchUp = [
      allCells(client, { jobId }),
      ...(detectorId ? imageIds.map((imageId) => filtered(allCells(client, { imageId }), (c) => c.detector?.id === detectorId)) : []),
    ];
    for (const source of catchUp) {
      for await (const cell of source) {
        if (seen.has(cell.id)) continue;
        seen.add(cell.id);
        lastTally = tally.add(cell);
        yield cell;
      }
    }
    if (final.status !== 'SUCCEEDED') throw new JobFailedError(jobId, final.status, final.error);
  }

  const gen = run();
  const stream: CellStream = {
    get job() {
      return job;
    },
    get uploads() {
      return uploads;
    },
    get count() {
      return tally.result();
    },
    get lastTally() {
      return lastTally;
    },
    next: () => gen.next(),
    return: async () => gen.return(undefined),
    throw: (e?: unknown) => gen.throw(e),
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
