// What a lab gets if a person reviews the cells the classifier flags (issue 5: flag cells that look unlike the
// training data instead of forcing a class). The evaluation flags each scored cell as classifyLatents does in the
// product — far from every training class (novelty score > 1), or a top probability under minConfidence — and
// reports how many are flagged and how accurate the class is on the rest. Flags that work leave the unflagged
// cells more accurate than all of them, and the flagged ones less.
import { flagKind } from '../engine/classifier/classifier-artifact.js';
import { wilsonInterval } from '../pipeline/metrics.js';

export interface FlagScores {
  /** The top-probability threshold used (the product's default, TrainClassifierInput.minConfidence). */
  min_confidence: number;
  n: number;
  flagged: number;
  /** Flagged as unlike the training cells (novelty), and, of the rest, for a low top probability. */
  novel: number;
  low_confidence: number;
  /**
   * Cells flagged only because the batch's self-check failed (the classify job withholds every cell then: SELF_CHECK);
   * 0 or absent where the check passed or the method runs none.
   */
  self_check?: number;
  /** The forest's class on the cells not flagged; null accuracy when every cell is flagged. */
  unflagged: { n: number; accuracy: number | null; accuracy_ci95: [number, number] | null };
  /** How often the forest's class (which the product withholds) is right on the flagged cells. */
  flagged_accuracy: number | null;
}

/**
 * truth/pred: each cell's class and the forest's; top: its top probability; novel: 1 where the novelty score is
 * above 1. Cells are flagged by the product's own rule (flagKind: novelty first). `withheld`: the batch's self-check
 * failed, so the job flags every other cell too (SELF_CHECK), as classifyCells does.
 */
export function flagScores(
  truth: readonly string[],
  pred: readonly string[],
  top: ArrayLike<number>,
  novel: ArrayLike<number>,
  minConfidence: number,
  withheld = false,
): FlagScores {
  const n = truth.length;
  if (pred.length !== n || top.length !== n || novel.length !== n) {
    throw new Error(`flag scores: ${n} labels, ${pred.length} predictions, ${top.length} top probabilities, ${novel.length} novelty flags`);
  }
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new Error(`flag scores: minConfidence must be in [0, 1], got ${minConfidence}`);
  let nNovel = 0;
  let nLow = 0;
  let nWithheld = 0;
  let kept = 0;
  let keptRight = 0;
  let flaggedRight = 0;
  for (let i = 0; i < n; i++) {
    const right = truth[i] === pred[i] ? 1 : 0;
    const kind = flagKind(novel[i] === 1, top[i]!, minConfidence);
    if (kind === null && withheld) {
      nWithheld++;
      flaggedRight += right;
    } else if (kind === null) {
      kept++;
      keptRight += right;
    } else {
      if (kind === 'novel') nNovel++;
      else nLow++;
      flaggedRight += right;
    }
  }
  const flagged = nNovel + nLow + nWithheld;
  return {
    min_confidence: minConfidence,
    n,
    flagged,
    novel: nNovel,
    low_confidence: nLow,
    self_check: nWithheld,
    unflagged: { n: kept, accuracy: kept ? keptRight / kept : null, accuracy_ci95: kept ? wilsonInterval(keptRight, kept) : null },
    flagged_accuracy: flagged ? flaggedRight / flagged : null,
  };
}
