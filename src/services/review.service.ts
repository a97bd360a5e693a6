// Reviews of cells (issue 20): a person confirms or corrects a cell's class; every review is a row of
// cell_reviews (the class given, the verdict it replaced, when, which token: its SHA-256), undone by marking
// it, never by deleting it. Also what a reviewer looks at: the queue of cells that teach the classifier the
// most (review-order.ts), per-class galleries sorted by confidence, counts, and the audit trail as rows or CSV.
import type { DataSource } from 'typeorm';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import type { CellEntity, CellPrediction } from '../db/entities/cell.entity.js';
import { CellEntity as CellRow } from '../db/entities/index.js';
import { BadInputError, ConflictError, NotFoundError } from './errors.js';
import { CLASS_MAP_NAMES, classesOf } from '../pipeline/class-maps.js';
import { orderReviewQueue, type QueueEntry } from './review-order.js';

/** The classes a review may give: those of either class map. */
export const REVIEW_CLASSES: readonly string[] = [...new Set(CLASS_MAP_NAMES.flatMap((m) => classesOf(m)))];

export interface ReviewRow {
  id: string;
  cellId: string;
  datasetId: string;
  label: string;
  previousLabel: string | null;
  previousSource: 'model' | 'review' | 'none';
  previousFlagged: boolean;
  previousModelId: string | null;
  reviewer: string | null;
  createdAt: Date;
  undoneAt: Date | null;
  undoneBy: string | null;
}

interface RawReview {
  id: string;
  cell_id: string;
  dataset_id: string;
  label: string;
  previous_label: string | null;
  previous_source: ReviewRow['previousSource'];
  previous_flagged: boolean;
  previous_model_id: string | null;
  token_sha256: string | null;
  created_at: Date;
  undone_at: Date | null;
  undone_by_sha256: string | null;
}

const REVIEW_COLUMNS = `r.id, r.cell_id, r.dataset_id, r.label, r.previous_label, r.previous_source, r.previous_flagged, r.previous_model_id, r.token_sha256, r.created_at, r.undone_at, r.undone_by_sha256`;

const toRow = (r: RawReview): ReviewRow => ({
  id: r.id, cellId: r.cell_id, datasetId: r.dataset_id, label: r.label, previousLabel: r.previous_label, previousSource: r.previous_source,
  previousFlagged: r.previous_flagged, previousModelId: r.previous_model_id, reviewer: r.token_sha256, createdAt: r.created_at, undoneAt: r.undone_at, undoneBy: r.undone_by_sha256,
});

/** A cell as a reviewer sees it: its current class (the review's, else the model's), confidence, review. */
export interface ReviewedCell {
  cell: CellEntity;
  /** The latest review not undone, or null. */
  review: ReviewRow | null;
  /** The review's class, else the model's class; null for a flagged cell nobody has reviewed. */
  currentLabel: string | null;
  /** The model's top probability. */
  confidence: number;
}

export interface QueuedCell extends ReviewedCell {
  rank: number;
  uncertainty: number;
  reason: string;
}

export interface ReviewSummary {
  cells: number;
  classified: number;
  flagged: number;
  reviewed: number;
  /** Reviews that gave the model's own class. */
  confirmed: number;
  /** Reviews that gave another class, or a class to a flagged cell. */
  corrected: number;
  undone: number;
  perClass: Array<{ label: string; predicted: number; reviewed: number; current: number }>;
}

function topOf(p: CellPrediction | null): { label: string | null; probability: number } {
  let best: { label: string | null; probability: number } = { label: null, probability: 0 };
  for (const [label, probability] of Object.entries(p?.probabilities ?? {})) if (probability > best.probability) best = { label, probability };
  return best;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export class ReviewService {
  constructor(private readonly ds: DataSource, private readonly hub: NotifyHub) {}

  async get(id: string): Promise<ReviewRow> {
    const rows: RawReview[] = await this.ds.query(`SELECT ${REVIEW_COLUMNS} FROM cell_reviews r WHERE r.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('review', id);
    return toRow(rows[0]);
  }

  /** Gives a cell a class. `reviewer`: the SHA-256 of the token that asked. */
  async review(cellId: string, label: string, reviewer: string | null): Promise<ReviewRow> {
    if (!REVIEW_CLASSES.includes(label)) throw new BadInputError(`label "${label}" is not a cell class (${REVIEW_CLASSES.join(', ')})`);
    const row = await this.ds.transaction(async (m) => {
      // The cell's row is locked so that two reviewers of one cell record each other's verdict as the one replaced.
      const cells: { id: string; dataset_id: string; prediction: CellPrediction | null }[] = await m.query(`SELECT id, dataset_id, prediction FROM cells WHERE id = $1 FOR UPDATE`, [cellId]);
      const cell = cells[0];
      if (!cell) throw new NotFoundError('cell', cellId);
      const prior: { label: string }[] = await m.query(`SELECT label FROM cell_reviews WHERE cell_id = $1 AND undone_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1`, [cellId]);
      const p = cell.prediction;
      const previous = prior[0]
        ? { label: prior[0].label, source: 'review', flagged: false }
        : p ? { label: p.label, source: 'model', flagged: p.flagged } : { label: null, source: 'none', flagged: false };
      const inserted: RawReview[] = await m.query(
        `INSERT INTO cell_reviews (cell_id, dataset_id, label, previous_label, previous_source, previous_flagged, previous_model_id, token_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, cell_id, dataset_id, label, previous_label, previous_source, previous_flagged, previous_model_id, token_sha256, created_at, undone_at, undone_by_sha256`,
        [cellId, cell.dataset_id, label, previous.label, previous.source, previous.flagged, p?.modelId ?? null, reviewer],
      );
      return toRow(inserted[0]!);
    });
    await this.hub.publish({ type: 'review', datasetId: row.datasetId, reviewId: row.id, action: 'reviewed' });
    return row;
  }

  /** Marks a review undone: the cell's earlier review (or the model's verdict) counts again. */
  async undo(reviewId: string, reviewer: string | null): Promise<ReviewRow> {
    const rows: RawReview[] = await this.ds.query(
      // Through a CTE: typeorm answers a bare UPDATE ... RETURNING with [rows, count].
      `WITH r AS (UPDATE cell_reviews SET undone_at = now(), undone_by_sha256 = $2 WHERE id = $1 AND undone_at IS NULL RETURNING *) SELECT ${REVIEW_COLUMNS} FROM r`,
      [reviewId, reviewer],
    );
    if (!rows[0]) {
      await this.get(reviewId);
      throw new ConflictError(`review ${reviewId} is already undone`);
    }
    const row = toRow(rows[0]);
    await this.hub.publish({ type: 'review', datasetId: row.datasetId, reviewId: row.id, action: 'undone' });
    return row;
  }

  /** Every cell of a dataset that has a prediction, with its current review. */
  private async reviewable(datasetId: string): Promise<ReviewedCell[]> {
    const cells = await this.ds.getRepository(CellRow).createQueryBuilder('c')
      .where('c.dataset_id = :datasetId AND c.prediction IS NOT NULL', { datasetId })
      .orderBy('c.created_at').addOrderBy('c.index').addOrderBy('c.id').getMany();
    const reviews: RawReview[] = await this.ds.query(
      `SELECT DISTINCT ON (r.cell_id) ${REVIEW_COLUMNS} FROM cell_reviews r WHERE r.dataset_id = $1 AND r.undone_at IS NULL ORDER BY r.cell_id, r.created_at DESC, r.id DESC`,
      [datasetId],
    );
    const byCell = new Map(reviews.map((r) => [r.cell_id, toRow(r)]));
    return cells.map((cell) => {
      const review = byCell.get(cell.id) ?? null;
      return { cell, review, currentLabel: review?.label ?? cell.prediction?.label ?? null, confidence: topOf(cell.prediction).probability };
    });
  }

  /**
   * The cells nobody has reviewed, most useful first (review-order.ts): uncertain and flagged cells, spread
   * over the lab's cells (their latents where the cells have them, else their probabilities) and over the
   * predicted classes, away from the cells already reviewed.
   */
  async queue(datasetId: string, first: number): Promise<QueuedCell[]> {
    const all = await this.reviewable(datasetId);
    const classes = [...new Set(all.flatMap((c) => Object.keys(c.cell.prediction?.probabilities ?? {})))];
    const vector = (c: CellEntity) => classes.map((k) => c.prediction?.probabilities[k] ?? 0);
    const withLatent = all.every((c) => c.cell.latent?.length);
    const embed = (c: CellEntity) => (withLatent ? c.latent! : vector(c));
    const open = all.filter((c) => !c.review);
    const order: QueueEntry[] = orderReviewQueue(
      open.map((c) => ({ probabilities: vector(c.cell), flagged: c.cell.prediction?.flagged ?? false, embedding: embed(c.cell) })),
      { first, reviewed: all.filter((c) => c.review).map((c) => embed(c.cell)) },
    );
    return order.map((e, rank) => ({ ...open[e.index]!, rank, uncertainty: e.uncertainty, reason: e.reason }));
  }

  /** The cells whose current class is `label` (null: flagged and not reviewed), by the model's confidence. */
  async gallery(datasetId: string, label: string | null, opts: { ascending: boolean; limit: number; offset: number }): Promise<{ items: ReviewedCell[]; total: number }> {
    const all = (await this.reviewable(datasetId)).filter((c) => c.currentLabel === label);
    all.sort((a, b) => (opts.ascending ? a.confidence - b.confidence : b.confidence - a.confidence) || (a.cell.id < b.cell.id ? -1 : 1));
    return { items: all.slice(opts.offset, opts.offset + opts.limit), total: all.length };
  }

  async summary(datasetId: string): Promise<ReviewSummary> {
    const all = await this.reviewable(datasetId);
    const undone: { n: string }[] = await this.ds.query(`SELECT count(*) AS n FROM cell_reviews WHERE dataset_id = $1 AND undone_at IS NOT NULL`, [datasetId]);
    const per = new Map<string, { label: string; predicted: number; reviewed: number; current: number }>();
    const at = (label: string) => per.get(label) ?? per.set(label, { label, predicted: 0, reviewed: 0, current: 0 }).get(label)!;
    let confirmed = 0;
    let corrected = 0;
    for (const c of all) {
      const p = c.cell.prediction!;
      if (p.label) at(p.label).predicted++;
      if (c.currentLabel) at(c.currentLabel).current++;
      if (c.review) {
        at(c.review.label).reviewed++;
        if (c.review.label === p.label) confirmed++;
        else corrected++;
      }
    }
    const order = REVIEW_CLASSES;
    return {
      cells: all.length,
      classified: all.filter((c) => c.cell.prediction!.label !== null).length,
      flagged: all.filter((c) => c.cell.prediction!.flagged).length,
      reviewed: confirmed + corrected,
      confirmed,
      corrected,
      undone: Number(undone[0]?.n ?? 0),
      perClass: [...per.values()].sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label)),
    };
  }

  /** The audit trail, newest first: every review of the dataset, undone ones included. */
  async trail(datasetId: string, opts: { limit: number; offset: number }): Promise<{ items: ReviewRow[]; total: number }> {
    const rows: RawReview[] = await this.ds.query(
      `SELECT ${REVIEW_COLUMNS} FROM cell_reviews r WHERE r.dataset_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3`,
      [datasetId, opts.limit, opts.offset],
    );
    const total: { n: string }[] = await this.ds.query(`SELECT count(*) AS n FROM cell_reviews WHERE dataset_id = $1`, [datasetId]);
    return { items: rows.map(toRow), total: Number(total[0]?.n ?? 0) };
  }

  /** The whole audit trail as CSV, oldest first, with each cell's image path. */
  async trailCsv(datasetId: string): Promise<string> {
    const rows: (RawReview & { source_path: string; cell_index: number })[] = await this.ds.query(
      `SELECT ${REVIEW_COLUMNS}, i.source_path, c.index AS cell_index FROM cell_reviews r JOIN cells c ON c.id = r.cell_id JOIN images i ON i.id = c.image_id
        WHERE r.dataset_id = $1 ORDER BY r.created_at, r.id`,
      [datasetId],
    );
    const head = ['review_id', 'created_at', 'cell_id', 'image_path', 'cell_index', 'label', 'previous_label', 'previous_source', 'previous_flagged', 'previous_model_id', 'reviewer_token_sha256', 'undone_at', 'undone_by_token_sha256'];
    const lines = rows.map((r) =>
      [r.id, r.created_at, r.cell_id, r.source_path, r.cell_index, r.label, r.previous_label, r.previous_source, r.previous_flagged, r.previous_model_id, r.token_sha256, r.undone_at, r.undone_by_sha256].map(csvField).join(','),
    );
    return [head.join(','), ...lines].join('\n') + '\n';
  }
}
