// Latents CSV (GET /datasets/<id>/latents.csv) and a two-component PCA, both in the browser: a few
// thousand 50-d rows take milliseconds, so the server needs no embedding endpoint.

/** Splits one CSV line, honouring double quotes ("a,b" and "" inside quotes). */
function splitLine(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Rows { cellId, imageId, sourcePath, cellType, z: Float64Array } of a latents CSV. */
export function parseLatentsCsv(text) {
  const lines = text.split('\n').filter((l) => l.length);
  if (!lines.length) return [];
  const head = splitLine(lines[0]);
  const col = (name) => head.indexOf(name);
  const zCols = head.map((c, i) => (/^z\d+$/.test(c) ? i : -1)).filter((i) => i >= 0);
  const [ci, ii, si, ti] = ['cell_id', 'image_id', 'source_path', 'cell_type'].map(col);
  return lines.slice(1).map((l) => {
    const f = splitLine(l);
    return { cellId: f[ci], imageId: f[ii], sourcePath: f[si], cellType: f[ti] || null, z: Float64Array.from(zCols, (k) => Number(f[k])) };
  });
}

/** The top `k` principal axes of rows (all of one length) by power iteration with deflation. */
export function pca(rows, k = 2) {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || d === 0) return { coords: rows.map(() => new Array(k).fill(0)), explained: new Array(k).fill(0) };
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (const r of rows) {
    for (let a = 0; a < d; a++) {
      const va = r[a] - mean[a];
      for (let b = a; b < d; b++) cov[a][b] += (va * (r[b] - mean[b])) / (n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a][b] = cov[b][a];
  const trace = cov.reduce((s, row, i) => s + row[i], 0) || 1;
  const axes = [];
  const explained = [];
  for (let c = 0; c < k; c++) {
    // A fixed, non-symmetric start so the result is the same on every load.
    let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 7919) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a][b] * v[b];
        w[a] = s;
      }
      const norm = Math.hypot(...w) || 1;
      let delta = 0;
      for (let a = 0; a < d; a++) {
        const nv = w[a] / norm;
        delta += Math.abs(nv - v[a]);
        v[a] = nv;
      }
      lambda = norm;
      if (delta < 1e-10) break;
    }
    // Sign convention: the largest component positive, so the picture does not flip between loads.
    let big = 0;
    for (let a = 1; a < d; a++) if (Math.abs(v[a]) > Math.abs(v[big])) big = a;
    if (v[big] < 0) v = v.map((x) => -x);
    axes.push(v);
    explained.push(lambda / trace);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a][b] -= lambda * v[a] * v[b];
  }
  const coords = rows.map((r) => axes.map((v) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (r[j] - mean[j]) * v[j];
    return s;
  }));
  return { coords, explained };
}
