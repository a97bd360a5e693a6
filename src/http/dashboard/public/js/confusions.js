// The confusion matrices of an evaluation report. The report's shape may still change, so they are
// found by walking it (report.domains[d], report.baselines[m].domains[d], report[m][d], ...), not by path.

const GROUPING_KEYS = new Set(['domains', 'baselines', 'methods', 'results']);

/**
 * A confusion as { labels, matrix }: the report's own form, a nested { true: { predicted: n } }, or a bare
 * matrix whose labels sit beside it (labels / classes) or at the report's top (classes).
 */
function asConfusion(c, node, report) {
  if (!c || typeof c !== 'object') return null;
  if (Array.isArray(c.labels) && Array.isArray(c.matrix)) return c;
  if (Array.isArray(c)) {
    if (!c.length || !c.every((r) => Array.isArray(r) && r.length === c.length)) return null;
    const named = [node.labels, node.classes, report.classes].find((l) => Array.isArray(l) && l.length === c.length);
    return { labels: named ? named.map(String) : c.map((_, i) => `class ${i}`), matrix: c };
  }
  const rows = Object.entries(c).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
  if (!rows.length) return null;
  const labels = [...new Set(rows.flatMap(([k, v]) => [k, ...Object.keys(v)]))];
  return { labels, matrix: labels.map((t) => labels.map((p) => Number(c[t]?.[p]) || 0)) };
}

/** Every object in the report that carries a confusion, named by method and domain. */
export function findConfusions(report) {
  const found = [];
  const walk = (node, path, depth) => {
    if (!node || typeof node !== 'object' || Array.isArray(node) || depth > 6) return;
    const conf = 'confusion' in node ? asConfusion(node.confusion, node, report) : null;
    if (conf) {
      found.push({ path, confusion: conf, scores: node });
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, [...path, k], depth + 1);
  };
  walk(report, [], 0);
  return found.map((f) => {
    const segs = f.path.filter((s) => !GROUPING_KEYS.has(s));
    const domain = segs.at(-1) ?? 'all';
    // leukograph-evaluation/1 keeps AE-CFE's own scores at report.domains, the baselines under baselines.
    const method = segs.slice(0, -1).join(' / ') || (report.format ? 'ae_cfe' : 'model');
    return { ...f, method, domain, key: `${method}\u0000${domain}` };
  });
}
