// What the typed job results read beyond the result JSON a handler wrote: the cells a classify or analyze
// job gave a verdict, counted by the one definition of a differential count (client-sdk's
// differential-count.ts, compiled from source here), and their agreement with the images' labels.
import type { DataSource } from 'typeorm';
import type { CellPrediction, RleMask } from '../db/entities/cell.entity.js';
import { differentialCount, tallyOf, type DifferentialCount } from '../../client-sdk/src/differential-count.js';
import { cutByBorder } from '../imaging/border.js';
import { classOf, type ClassMapName } from '../pipeline/class-maps.js';

/** Border-cut by the cell's box and its mask's size (the image's [height, width]); null without a mask. */
export function cellCutByBorder(box: readonly number[], mask: Pick<RleMask, 'size'> | null): boolean | null {
  return mask ? cutByBorder(box, mask.size[1]!, mask.size[0]!) : null;
}

export interface JobScope {
  kind: string;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
}

interface VerdictRow {
  box: number[];
  size: [number, number] | null;
  prediction: CellPrediction | null;
  cell_type: string | null;
  index: number;
}

export interface Agreement {
  scored: number;
  correct: number;
  accuracy: number | null;
  /** The mean over the labels present of the share of their cells called right (rare classes weigh as much as common ones). */
  balancedAccuracy: number | null;
  confusion: { labels: string[]; matrix: number[][] };
}

export interface LabelAgreement extends Agreement {
  /** scored: complete, classified top-ranked cells of labelled images (a label names one cell per image). */
  /** Labelled cells that were flagged instead (not scored). */
  flagged: number;
  classMap: ClassMapName;
  /**
   * Every labelled top-ranked cell with a verdict (flagged ones and those the border cuts included), by the
   * classifier's best guess: what an evaluation scores, without the product's flags.
   */
  bestGuess: Agreement;
}

/** Agreement of (truth, called) pairs: accuracy, balanced accuracy and the confusion matrix over the labels seen. */
export function agreementOf(pairs: readonly (readonly [string, string])[]): Agreement {
  const labels = [...new Set(pairs.flat())].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (const [t, p] of pairs) {
    matrix[at.get(t)!]![at.get(p)!]!++;
    if (t === p) correct++;
  }
  const recalls = matrix.flatMap((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? [row[i]! / n] : [];
  });
  return {
    scored: pairs.length, correct, accuracy: pairs.length ? correct / pairs.length : null,
    balancedAccuracy: recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : null, confusion: { labels, matrix },
  };
}

/** The likeliest class of a verdict, also for a flagged cell. */
function bestGuessOf(p: CellPrediction): string | null {
  let best: string | null = null;
  for (const [k, v] of Object.entries(p.probabilities ?? {})) if (best === null || v > p.probabilities[best]!) best = k;
  return best;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class JobResultService {
  constructor(private readonly ds: DataSource) {}

  /**
   * The cells of a classify or analyze job with the verdict its classifier gave them, as they are now (a later
   * job with another classifier replaces a verdict; one with the same classifier leaves it as the same model's).
   * Analyze: every cell its detector found in the job's images, unclassified when the job had no classifier.
   */
  private async verdicts(job: JobScope): Promise<VerdictRow[]> {
    const p = job.params;
    const r = job.result ?? {};
    const classifierId = str(r.classifierId) ?? (job.kind === 'classify' ? str(p.classifierId) : null);
    const detectorId = job.kind === 'analyze' ? str(r.detectorId) : null;
    if (job.kind === 'classify' && !classifierId) return [];
    if (job.kind === 'analyze' && !detectorId) return [];
    return this.ds.query(
      `SELECT c.box, c.mask->'size' AS size, c.index, i.cell_type,
              CASE WHEN c.prediction->>'modelId' = $3 THEN c.prediction END AS prediction
         FROM cells c JOIN images i ON i.id = c.image_id
        WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
          AND ($4::uuid IS NULL OR c.detector_id = $4)
          AND ($4::uuid IS NOT NULL OR c.prediction->>'modelId' = $3)
        ORDER BY i.source_path, c.index`,
      [str(p.datasetId), Array.isArray(p.imageIds) ? p.imageIds : null, classifierId, detectorId],
    );
  }

  private static countable(v: VerdictRow) {
    return { cutByBorder: cellCutByBorder(v.box, v.size ? { size: v.size } : null), prediction: v.prediction };
  }

  async differential(job: JobScope): Promise<DifferentialCount> {
    return differentialCount((await this.verdicts(job)).map(JobResultService.countable));
  }

  /** Null when none of the job's counted cells has a label the classifier's classes can name. */
  async againstLabels(job: JobScope, classMap: ClassMapName): Promise<LabelAgreement | null> {
    const pairs: [string, string][] = [];
    const guesses: [string, string][] = [];
    let flagged = 0;
    for (const v of await this.verdicts(job)) {
      const truth = v.index === 0 ? classOf(v.cell_type, classMap) : null;
      if (!truth) continue;
      const t = tallyOf(JobResultService.countable(v));
      if (t.kind === 'counted') pairs.push([truth, t.label]);
      else if (t.kind === 'flagged') flagged++;
      const guess = v.prediction ? bestGuessOf(v.prediction) : null;
      if (guess) guesses.push([truth, guess]);
    }
    if (pairs.length === 0 && flagged === 0) return null;
    return { ...agreementOf(pairs), flagged, classMap, bestGuess: agreementOf(guesses) };
  }
}
