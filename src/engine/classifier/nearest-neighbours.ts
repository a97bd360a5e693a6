// The k nearest other rows of every row, found exactly: the neighbours the neighbour consensus averages over.
// A row's distance to another is the sum, column by column in order, of their squared differences; of rows at the
// same distance, the lower index is nearer. Each pair of rows is measured once, for both rows, in blocks of rows
// that lie near each other along the data's leading principal direction (the rows sorted along it), nearest blocks
// first, so that every row's k-th distance is small early. A pair's sum stops once it passes both rows' k-th
// distance; a pair of blocks is skipped whole when a lower bound on the distance of any of their pairs (their gap
// along the leading principal directions, an orthonormal basis: never more than the whole distance) passes the
// k-th distance of all their rows. The bound is compared with a margin (a part in 1e9) far above its rounding
// error, so a skipped pair could never have been among the k: the lists are those of comparing every pair (test).

/** Principal directions in the blocks' bound: more skip more blocks, each costs one more term per pair of blocks. */
const BOUND_DIRECTIONS = 8;
/** Relative margin on the bound, against its rounding error (about 1e-13 at 59 columns). */
const MARGIN = 1e-9;
/** Rows per block: a pair of blocks' rows stay in the core's cache. */
const BLOCK = 64;

/**
 * Row-major z (n rows of d finite values), k < n: the k nearest other rows of each row, nearest first
 * (row i's at [i * k, (i + 1) * k)).
 */
export function nearestNeighbours(z: Float64Array, n: number, d: number, k: number): Int32Array {
  if (z.length !== n * d) throw new Error(`nearest neighbours: ${z.length} values for ${n} rows x ${d} columns`);
  if (!(k >= 1 && k < n)) throw new Error(`nearest neighbours: k must lie in [1, ${n - 1}], got ${k}`);
  let rowAbs = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let c = 0; c < d; c++) a += Math.abs(z[i * d + c]!);
    if (!Number.isFinite(a)) throw new Error(`nearest neighbours: row ${i} has a value that is not finite`);
    rowAbs = Math.max(rowAbs, a);
  }
  const basis = principalDirections(z, n, d, Math.min(BOUND_DIRECTIONS, d));
  const m = basis ? basis.length / d : 0;
  // Each row along the directions. slack bounds the rounding error of a difference of two such values (each a
  // d-term dot product with unit weights: under 1.01 d eps times the row's absolute sum), over the m directions.
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < m; q++) {
      let v = 0;
      for (let c = 0; c < d; c++) v += basis![q * d + c]! * z[i * d + c]!;
      y[i * m + q] = v;
    }
  }
  const slack = 2 * 2.02 * d * Number.EPSILON * rowAbs * Math.sqrt(m);
  /** Squared bound over which a pair cannot be among the k of a row whose k-th distance is kth. */
  const limitOf = (kth: number) => {
    if (!basis || kth === Infinity) return Infinity;
    const l = (Math.sqrt(kth) * (1 + MARGIN) + slack) * (1 + MARGIN);
    return l * l;
  };

  // The rows in order along the first direction (row r here is row orig[r] of z), and each block's box.
  const orig = Int32Array.from({ length: n }, (_, i) => i);
  if (m) orig.sort((a, b) => y[a * m]! - y[b * m]!);
  const zs = new Float64Array(n * d);
  for (let r = 0; r < n; r++) zs.set(z.subarray(orig[r]! * d, (orig[r]! + 1) * d), r * d);
  const blocks = Math.ceil(n / BLOCK);
  const lo = new Float64Array(blocks * m).fill(Infinity);
  const hi = new Float64Array(blocks * m).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    const b = Math.floor(r / BLOCK);
    for (let q = 0; q < m; q++) {
      const v = y[orig[r]! * m + q]!;
      if (v < lo[b * m + q]!) lo[b * m + q] = v;
      if (v > hi[b * m + q]!) hi[b * m + q] = v;
    }
  }

  // Per sorted row: its k nearest so far (distances, original indices; n where none yet), nearest first.
  const best = new Float64Array(n * k).fill(Infinity);
  const idx = new Int32Array(n * k).fill(n);
  const kth = new Float64Array(n).fill(Infinity);
  const offer = (r: number, j: number, s: number) => {
    const o = r * k;
    if (s > kth[r]! || (s === kth[r]! && j > idx[o + k - 1]!)) return;
    let p = k - 1;
    while (p > 0 && (best[o + p - 1]! > s || (best[o + p - 1]! === s && idx[o + p - 1]! > j))) {
      best[o + p] = best[o + p - 1]!;
      idx[o + p] = idx[o + p - 1]!;
      p--;
    }
    best[o + p] = s;
    idx[o + p] = j;
    kth[r] = best[o + k - 1]!;
  };

  for (let band = 0; band < blocks; band++) {
    for (let bi = 0; bi + band < blocks; bi++) {
      const bj = bi + band;
      const i0 = bi * BLOCK;
      const i1 = Math.min(n, i0 + BLOCK);
      const j0 = bj * BLOCK;
      const j1 = Math.min(n, j0 + BLOCK);
      if (band > 0 && m) {
        let gap = 0;
        for (let q = 0; q < m; q++) {
          const g = Math.max(0, lo[bj * m + q]! - hi[bi * m + q]!, lo[bi * m + q]! - hi[bj * m + q]!);
          gap += g * g;
        }
        let worst = 0;
        for (let r = i0; r < i1; r++) worst = Math.max(worst, kth[r]!);
        for (let r = j0; r < j1; r++) worst = Math.max(worst, kth[r]!);
        if (gap > limitOf(worst)) continue;
      }
      for (let i = i0; i < i1; i++) {
        const zi = i * d;
        for (let j = bi === bj ? i + 1 : j0; j < j1; j++) {
          const limit = Math.max(kth[i]!, kth[j]!);
          const zj = j * d;
          // Added in column order (the distance is the same sum whichever pair asks), checked every 4 columns.
          let s = 0;
          let c = 0;
          for (; c + 4 <= d && s <= limit; c += 4) {
            const t0 = zs[zi + c]! - zs[zj + c]!;
            const t1 = zs[zi + c + 1]! - zs[zj + c + 1]!;
            const t2 = zs[zi + c + 2]! - zs[zj + c + 2]!;
            const t3 = zs[zi + c + 3]! - zs[zj + c + 3]!;
            s += t0 * t0;
            s += t1 * t1;
            s += t2 * t2;
            s += t3 * t3;
          }
          if (s > limit) continue;
          for (; c < d; c++) {
            const t = zs[zi + c]! - zs[zj + c]!;
            s += t * t;
          }
          if (s > limit) continue;
          offer(i, orig[j]!, s);
          offer(j, orig[i]!, s);
        }
      }
    }
  }
  const nearest = new Int32Array(n * k);
  for (let r = 0; r < n; r++) nearest.set(idx.subarray(r * k, (r + 1) * k), orig[r]! * k);
  return nearest;
}

/**
 * Up to m orthonormal directions (m x d, row-major) along which the rows spread most: power iteration on the
 * rows' scatter matrix, each direction kept orthogonal to the ones before. Only their orthonormality matters to the
 * bound (checked here, to 1e-12); how well they follow the spread only decides how many rows it skips. Null when
 * none is found (no spread) or the check fails.
 */
function principalDirections(z: Float64Array, n: number, d: number, m: number): Float64Array | null {
  const scatter = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let a = 0; a < d; a++) {
      const va = z[o + a]!;
      if (va === 0) continue;
      for (let b = a; b < d; b++) scatter[a * d + b]! += va * z[o + b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) scatter[a * d + b] = scatter[b * d + a]!;
  const dirs: Float64Array[] = [];
  const w = new Float64Array(d);
  for (let q = 0; q < m; q++) {
    // A start no earlier direction spans: the basis vector the previous ones cover least.
    let v: Float64Array | null = null;
    let bestCover = Infinity;
    for (let c = 0; c < d; c++) {
      let cover = 0;
      for (const u of dirs) cover += u[c]! * u[c]!;
      if (cover < bestCover) {
        bestCover = cover;
        v = new Float64Array(d);
        v[c] = 1;
      }
    }
    if (!v || !orthonormalise(v, dirs)) break;
    for (let it = 0; it < 30; it++) {
      for (let a = 0; a < d; a++) {
        let t = 0;
        for (let b = 0; b < d; b++) t += scatter[a * d + b]! * v[b]!;
        w[a] = t;
      }
      if (!orthonormalise(w, dirs)) break;
      v.set(w);
    }
    dirs.push(v);
  }
  if (dirs.length === 0) return null;
  for (let q = 0; q < dirs.length; q++) {
    for (let r = q; r < dirs.length; r++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += dirs[q]![c]! * dirs[r]![c]!;
      if (Math.abs(dot - (q === r ? 1 : 0)) > 1e-12) return null;
    }
  }
  const out = new Float64Array(dirs.length * d);
  dirs.forEach((u, q) => out.set(u, q * d));
  return out;
}

/** v made orthogonal to the (orthonormal) dirs, twice over (Gram-Schmidt), and of unit length; false when nothing is left of it. */
function orthonormalise(v: Float64Array, dirs: readonly Float64Array[]): boolean {
  for (let pass = 0; pass < 2; pass++) {
    for (const u of dirs) {
      let dot = 0;
      for (let c = 0; c < v.length; c++) dot += u[c]! * v[c]!;
      for (let c = 0; c < v.length; c++) v[c]! -= dot * u[c]!;
    }
  }
  let norm = 0;
  for (let c = 0; c < v.length; c++) norm += v[c]! * v[c]!;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-9)) return false;
  for (let c = 0; c < v.length; c++) v[c]! /= norm;
  return true;
}
