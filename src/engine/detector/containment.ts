// Duplicate boxes that the model's NMS (IoU 0.5) lets through: a larger second box around a cell already
// found has IoU < 0.5 with it but holds it almost whole. On held-out Acevedo-20 images these were 7 of the 20
// images with more than one detection (training/detector/evaluate.py lists them). A lower-scoring box is
// dropped when it is larger than a kept box and holds at least `minContained` of it. The other way round
// (a smaller box inside a higher-scoring larger one) is kept: on TXL-PBC's test split those were real cells
// next to a cell whose box spans them (dropping them too cost 2 of 133 cells of recall).

/** Indices (ascending) of the boxes kept; boxes [x1, y1, x2, y2] in any one coordinate frame, scores any order. */
export function suppressContained(boxes: ArrayLike<number>, scores: ArrayLike<number>, n: number, minContained: number): number[] {
  if (!(minContained > 0 && minContained <= 1) || n < 2) return Array.from({ length: n }, (_, i) => i);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const area = (i: number) => Math.max(0, boxes[4 * i + 2]! - boxes[4 * i]!) * Math.max(0, boxes[4 * i + 3]! - boxes[4 * i + 1]!);
  const kept: number[] = [];
  for (const i of order) {
    const covered = kept.some((k) => {
      if (area(i) <= area(k)) return false;
      const iw = Math.min(boxes[4 * i + 2]!, boxes[4 * k + 2]!) - Math.max(boxes[4 * i]!, boxes[4 * k]!);
      const ih = Math.min(boxes[4 * i + 3]!, boxes[4 * k + 3]!) - Math.max(boxes[4 * i + 1]!, boxes[4 * k + 1]!);
      return iw > 0 && ih > 0 && (iw * ih) / area(k) >= minContained;
    });
    if (!covered) kept.push(i);
  }
  return kept.sort((a, b) => a - b);
}
