// The dense feature matrix the classifier and novelty scorer take, and the checks on it: row-major
// floats so 100k x 256 latents stay one allocation instead of 100k arrays.

/** Row-major dense matrix: value (r, c) is data[r * cols + c]. */
export interface FeatureMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Packs an array of equal-length rows into a FeatureMatrix (Float64). */
export function matrixFromRows(rows: readonly ArrayLike<number>[]): FeatureMatrix {
  if (rows.length === 0) throw new Error('feature matrix: no rows');
  const cols = rows[0].length;
  const data = new Float64Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== cols) {
      throw new Error(`feature matrix: row ${r} has ${row.length} values, row 0 has ${cols}`);
    }
    data.set(row, r * cols);
  }
  return { data, rows: rows.length, cols };
}

/** Stacks matrices of the same width, in order (Float64); no parts: 0 x 0. */
export function concatRows(parts: readonly FeatureMatrix[]): FeatureMatrix {
  const cols = parts[0]?.cols ?? 0;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const data = new Float64Array(rows * cols);
  let r = 0;
  for (const p of parts) {
    if (p.cols !== cols) throw new Error(`feature matrix: a part has ${p.cols} columns, the first ${cols}`);
    data.set(p.data.subarray(0, p.rows * cols), r * cols);
    r += p.rows;
  }
  return { data, rows, cols };
}

/** Throws a clear Error unless `x` is a non-empty, consistent matrix of finite numbers. */
export function assertFeatureMatrix(x: FeatureMatrix, what: string, expectedCols?: number): void {
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows <= 0 || x.cols <= 0) {
    throw new Error(`${what}: empty feature matrix (${x.rows} x ${x.cols})`);
  }
  if (x.data.length !== x.rows * x.cols) {
    throw new Error(`${what}: data has ${x.data.length} values, expected rows*cols = ${x.rows * x.cols}`);
  }
  if (expectedCols !== undefined && x.cols !== expectedCols) {
    throw new Error(`${what}: ${x.cols} features, the model was fitted on ${expectedCols}`);
  }
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const r = Math.floor(i / x.cols);
      throw new Error(`${what}: non-finite value ${d[i]} at row ${r}, column ${i - r * x.cols}`);
    }
  }
}

/** Throws unless `y` holds one integer class index in [0, numClasses) per row. */
export function assertLabels(y: ArrayLike<number>, rows: number, numClasses: number, what: string): void {
  if (y.length !== rows) throw new Error(`${what}: ${y.length} labels for ${rows} rows`);
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`${what}: label ${c} at row ${i} is not a class index in [0, ${numClasses})`);
    }
  }
}
