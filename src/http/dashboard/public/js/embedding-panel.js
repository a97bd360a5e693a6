// A 2-D picture of the 50-d latents of several labs together: PCA in the browser over the rows of each
// dataset's latents.csv, coloured by lab (do the labs overlap: alignment) or by class (do classes separate).
import { gql } from './graphql.js';
import { authFetch } from './auth.js';
import { h, colour, scatter } from './charts.js';
import { parseLatentsCsv, pca } from './pca.js';

/** Points drawn at most; more are thinned evenly (PCA on thousands of rows is still instant). */
const MAX_POINTS = 4000;

export function createEmbeddingPanel({ checks, canvas, legend, note, button, colourInputs }) {
  let datasets = [];
  let points = [];
  let explained = [0, 0];
  let computed = false;

  const colourBy = () => colourInputs.find((i) => i.checked)?.value ?? 'lab';

  function draw() {
    const by = colourBy();
    const key = (p) => (by === 'lab' ? p.lab : p.cls);
    const groups = [...new Set(points.map(key))].sort((a, b) => (a === 'unlabelled') - (b === 'unlabelled') || a.localeCompare(b));
    scatter(canvas, points.map((p) => ({ x: p.x, y: p.y, group: groups.indexOf(key(p)) })));
    canvas.dataset.colourBy = by;
    legend.replaceChildren(
      points.length ? h('div', { class: 'legend-title' }, by === 'lab' ? 'Lab (dataset)' : 'Class') : '',
      ...groups.map((g, i) => h('div', { class: 'legend-row' }, h('span', { class: 'swatch', style: `background:${colour(i)}` }), h('span', {}, g), h('span', { class: 'muted' }, String(points.filter((p) => key(p) === g).length)))),
    );
    if (points.length) {
      note.textContent = `${points.length} cells from ${new Set(points.map((p) => p.lab)).size} labs · PC1 ${(explained[0] * 100).toFixed(1)} %, PC2 ${(explained[1] * 100).toFixed(1)} % of the variance. Each cell is plotted with the encoder that encoded it last.`;
    }
  }

  async function compute() {
    const chosen = datasets.filter((d) => checks.querySelector(`input[value="${d.id}"]`)?.checked);
    if (!chosen.length) {
      note.textContent = 'Choose at least one dataset with encoded cells.';
      return;
    }
    button.disabled = true;
    note.textContent = 'Reading latents…';
    try {
      const rows = [];
      for (const d of chosen) {
        const res = await authFetch(`/datasets/${encodeURIComponent(d.id)}/latents.csv`);
        if (!res.ok) throw new Error(`${d.name}: HTTP ${res.status}`);
        for (const r of parseLatentsCsv(await res.text())) rows.push({ ...r, lab: d.name });
      }
      const valid = rows.filter((r) => r.z.length && r.z.every(Number.isFinite));
      const stride = Math.max(1, valid.length / MAX_POINTS);
      const used = [];
      for (let i = 0; i < valid.length && used.length < MAX_POINTS; i += stride) used.push(valid[Math.floor(i)]);
      if (!used.length) {
        points = [];
        draw();
        note.textContent = 'No encoded cells in these datasets yet (run encodeCells or analyzeImages).';
        return;
      }
      const r = pca(used.map((u) => u.z), 2);
      explained = r.explained;
      points = used.map((u, i) => ({ x: r.coords[i][0], y: r.coords[i][1], lab: u.lab, cls: u.cellType ?? 'unlabelled' }));
      computed = true;
      draw();
    } catch (e) {
      note.textContent = `latents: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener('click', compute);
  for (const i of colourInputs) i.addEventListener('change', draw);
  new ResizeObserver(() => points.length && draw()).observe(canvas);

  return {
    async refresh() {
      const d = await gql('{ datasets { id name stats { images cells } } }');
      const signature = (list) => list.map((x) => `${x.id}:${x.stats.cells}`).join();
      const known = signature(datasets);
      datasets = d.datasets;
      if (signature(datasets) === known && checks.children.length) return;
      const withCells = new Set(datasets.filter((x) => x.stats.cells > 0).map((x) => x.id));
      // Rebuilt whenever a lab's cell count moves (every refresh while a job stores cells): a lab that had cells keeps
      // the box as the user left it; one that gains its first cells starts checked.
      const before = new Map([...checks.querySelectorAll('input')].map((i) => [i.value, { checked: i.checked, hadCells: !i.closest('label')?.classList.contains('muted') }]));
      const checkedNow = (id) => (before.get(id)?.hadCells ? before.get(id).checked : withCells.has(id));
      checks.replaceChildren(
        ...datasets.map((x) =>
          h('label', { class: withCells.has(x.id) ? '' : 'muted', title: `${x.stats.images} images, ${x.stats.cells} cells` },
            h('input', { type: 'checkbox', value: x.id, checked: checkedNow(x.id) }), ` ${x.name}`),
        ),
      );
      if (!computed && withCells.size) await compute();
      else if (!withCells.size) note.textContent = 'No dataset has cells yet: the embedding appears once cells are encoded.';
    },
  };
}
