// Cells cut by the image border. A manual differential counts a cell only when the whole cell is in the
// field (the counting-frame rule); a detector rightly finds a neighbour that the image edge cuts in half,
// so the product marks such cells instead of hiding them. The same rule as training/detector/evaluate.py's
// "exactly one complete cell" metric: a box edge within 2 px of the image border.

export const BORDER_MARGIN_PX = 2;

/** Whether a box [x1, y1, x2, y2] (image pixels) reaches within `margin` px of the border of a width x height image. */
export function cutByBorder(box: readonly number[], width: number, height: number, margin = BORDER_MARGIN_PX): boolean {
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  return x1 < margin || y1 < margin || x2 > width - margin || y2 > height - margin;
}
