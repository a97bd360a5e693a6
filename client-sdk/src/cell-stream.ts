// The analyze flow as one async iterator of cells: upload, start analyzeImages, stream jobCells, and when
// the job ends fetch the cells the stream may have missed (it only carries events from the moment it
// is subscribed, and nothing while a dropped socket reconnects), each cell yielded once. The verdicts a
// cell streams with are provisional: when the job ends it may rewrite them (its self-check withholds every
// class; the final classification of all its cells together names another), so the count is then made
// again from the cells as the server stores them, and the cells it rewrote are listed in `revised`.
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
  /**
   * The differential count of the cells yielded so far (differential-count.ts), with the verdicts they
   * streamed with; once the job has ended, recounted from its cells as stored then, with their final
   * verdicts (what its typedResult.differential counts), whether it succeeded or not.
   */
  readonly count: DifferentialCount;
  /** Where the last cell yielded went in the count (counted under a class, flagged, ...). */
  readonly lastTally: CellTally | undefined;
  /**
   * Cells yielded while the job ran whose verdict it rewrote when it ended, as stored now (empty until
   * it ends): each cell is yielded once, so a caller that keeps cells replaces these by id.
   */
  readonly revised: readonly Cell[];
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

/** Where a cell goes in the count, as one comparable string. */
function verdictKey(t: CellTally): string {
  return t.kind === 'counted' ? `counted:${t.label}` : t.kind === 'flagged' ? `flagged:${t.reason}` : t.kind;
}

export function analyzeCells(client: LeukographClient, files: readonly ImageSource[], opts: AnalyzeOptions): CellStream {
  const uploads: UploadResult[] = [];
  let tally = new DifferentialTally();
  const revised: Cell[] = [];
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

    // The verdict each cell was yielded with (verdictKey): what the catch-up compares the stored ones with.
    const yielded = new Map<string, string>();
    try {
      for await (const { jobCells } of client.subscribe(JobCellsDocument, { jobId })) {
        if (yielded.has(jobCells.id)) continue;
        lastTally = tally.add(jobCells);
        yielded.set(jobCells.id, verdictKey(lastTally));
        yield jobCells;
      }
    } catch (err) {
      // A socket that stayed down: the job goes on without us; the catch-up below still finds its cells.
      if (!(err instanceof NetworkError)) throw err;
    }

    const final = await client.waitForJob(jobId);
    setJob(final);
    // The job's own cells, then cells these images already had from the same detector (a second
    // analysis of an image stores nothing new). Every one is counted again as stored now, the ones
    // already yielded too: the job may have rewritten their verdicts when it ended.
    const detectorId = typeof final.result?.detectorId === 'string' ? final.result.detectorId : null;
    const catchUp = [
      allCells(client, { jobId }),
      ...(detectorId ? imageIds.map((imageId) => filtered(allCells(client, { imageId }), (c) => c.detector?.id === detectorId)) : []),
    ];
    const finalTally = new DifferentialTally();
    const counted = new Set<string>();
    for (const source of catchUp) {
      for await (const cell of source) {
        if (counted.has(cell.id)) continue;
        counted.add(cell.id);
        const now = finalTally.add(cell);
        const before = yielded.get(cell.id);
        if (before !== undefined) {
          if (before !== verdictKey(now)) revised.push(cell);
          continue;
        }
        lastTally = tally.add(cell);
        yielded.set(cell.id, verdictKey(lastTally));
        yield cell;
      }
    }
    tally = finalTally;
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
    get revised() {
      return revised;
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
