// What a stain move asks for a lab's class mix (src/engine/classifier/stain-shift.ts, adaptStain): a forest on the
// stain-free (shape) columns alone, fitted beside a morphology classifier, whose verdicts do not depend on the
// lab's stain, and the classifier's own forest for the second estimate, after the first move.
import type { RowsProba, StainReference } from './stain-shift.js';
import { fitRandomForest, predictProba, type RandomForest, type RandomForestOptions } from './random-forest.js';
import { matrixFromRows, type FeatureMatrix } from './feature-matrix.js';

/** The columns of a row of `width` values that the reference does not hold stain-dependent, in order. */
export function stainFreeColumns(ref: StainReference, width: number): number[] {
  const stain = new Set(ref.columns);
  return Array.from({ length: width }, (_, c) => c).filter((c) => !stain.has(c));
}

function pick(rows: readonly ArrayLike<number>[], columns: readonly number[]): FeatureMatrix {
  const data = new Float64Array(rows.length * columns.length);
  rows.forEach((r, i) => columns.forEach((c, j) => (data[i * columns.length + j] = r[c]!)));
  return { data, rows: rows.length, cols: columns.length };
}

/** The forest on the stain-free columns of the training rows (each `width` values long). */
export function fitShapeForest(rows: readonly ArrayLike<number>[], y: ArrayLike<number>, ref: StainReference, width: number, options: RandomForestOptions): RandomForest {
  const columns = stainFreeColumns(ref, width);
  if (columns.length === 0) throw new Error('fitShapeForest: every column is stain-dependent');
  return fitRandomForest(pick(rows, columns), y, options);
}

/** adaptStain's two classifiers, from the shape forest and the full forest (which fixes the row width). */
export function mixClassifiers(shapeForest: RandomForest, forest: RandomForest, ref: StainReference): { shapeProba: RowsProba; proba: RowsProba } {
  const width = forest.numFeatures;
  const columns = stainFreeColumns(ref, width);
  if (shapeForest.numFeatures !== columns.length) throw new Error(`mixClassifiers: the shape forest reads ${shapeForest.numFeatures} values, the stain-free columns are ${columns.length}`);
  if (shapeForest.numClasses !== forest.numClasses) throw new Error(`mixClassifiers: ${shapeForest.numClasses} and ${forest.numClasses} classes`);
  return {
    shapeProba: (rows) => predictProba(shapeForest, pick(rows, columns)),
    proba: (rows) => predictProba(forest, matrixFromRows(rows)),
  };
}
