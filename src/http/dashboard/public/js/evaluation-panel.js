// An evaluation's report: every confusion matrix in it (per method and domain) as a heat map, a summary
// grid of the scores to pick one from, the autoencoders' loss per epoch with and without alignment, and
// the same cells' latents from both autoencoders side by side (PCA each): before and after alignment.
import { gql } from './graphql.js';
import { h, heatMap, lineChart, colour, fmt, scatter } from './charts.js';
import { pca } from './pca.js';
import { ago } from './jobs-panel.js';
import { findConfusions } from './confusions.js';

const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '—');
/** A domain's self-check (the report keeps it for morphology_default) when it did not pass; else null. */
const unpassed = (scores) => (scores?.selfCheck && scores.selfCheck.status !== 'passed' ? scores.selfCheck : null);

export function createEvaluationPanel({ select, summary, confusion, aePanel, embeddingPanel }) {
  let list = [];
  let embeddingBy = 'lab';
  let current = null;
  let entries = [];
  let chosen = null;

  function renderSelected() {
    const e = entries.find((x) => x.key === chosen) ?? entries[0];
    if (!e) {
      confusion.replaceChildren(h('p', { class: 'muted' }, 'This report has no confusion matrix.'));
      return;
    }
    chosen = e.key;
    for (const td of summary.querySelectorAll('td[data-key]')) td.classList.toggle('chosen', td.dataset.key === chosen);
    const s = e.scores;
    const n = s.n ?? e.confusion.matrix.flat().reduce((a, b) => a + (Number(b) || 0), 0);
    const check = unpassed(s);
    confusion.replaceChildren(
      h('div', { class: 'confusion-title' },
        h('b', {}, `${e.method} · ${e.domain}`),
        h('span', { class: 'muted' }, ` ${s.role ? `${s.role} · ` : ''}${n} cells · accuracy ${pct(s.accuracy)} · balanced ${pct(s.balanced_accuracy)} · macro F1 ${pct(s.macro_f1)}`)),
      // What a classify job over this lab would have said of its own count (morphology_default, docs/self-check.md).
      ...(check ? [h('div', { class: `selfcheck ${check.status}` }, check.warning ?? `self-check ${check.status}`)] : []),
      heatMap(e.confusion.labels, e.confusion.matrix, { title: `confusion ${e.method} ${e.domain}` }),
      h('p', { class: 'muted small' }, 'Rows: true class; columns: predicted. Colour: share of the row (green on the diagonal = recall, red = confusions).'),
    );
    confusion.dataset.labels = String(e.confusion.labels.length);
  }

  function renderSummary(report) {
    const methods = [...new Set(entries.map((e) => e.method))];
    const domains = [...new Set(entries.map((e) => e.domain))];
    const head = [];
    if (report.source) head.push(`source ${report.source}`);
    if (report.targets?.length) head.push(`targets ${report.targets.join(', ')}`);
    if (report.align?.length) head.push(`aligned to ${report.align.join(', ')}`);
    summary.classList.remove('muted');
    summary.replaceChildren(
      h('div', { class: 'muted' }, [current.name, ago(current.createdAt), ...head].filter(Boolean).join(' · ')),
      h('table', { class: 'scores' },
        h('thead', {}, h('tr', {}, h('th', {}, 'accuracy'), ...domains.map((d) => h('th', {}, d)))),
        h('tbody', {}, ...methods.map((m) => h('tr', {}, h('th', {}, m), ...domains.map((d) => {
          const e = entries.find((x) => x.method === m && x.domain === d);
          if (!e) return h('td', { class: 'muted' }, '—');
          const check = unpassed(e.scores);
          return h('td', {
            'data-key': e.key, tabindex: 0, ...(check ? { class: `selfcheck-${check.status}` } : {}),
            title: `balanced ${pct(e.scores.balanced_accuracy)} · macro F1 ${pct(e.scores.macro_f1)}${check ? ` · a classify job's self-check: ${check.status}` : ''}`,
            onclick: () => { chosen = e.key; renderSelected(); },
          }, `${pct(e.scores.accuracy)}${check ? ` · check ${check.status}` : ''}`);
        })))),
      ),
    );
  }

  function renderAutoencoders(report) {
    const runs = Object.entries(report.autoencoders ?? {}).filter(([, r]) => Array.isArray(r?.epochs) && r.epochs.length);
    if (!runs.length) {
      aePanel.replaceChildren();
      return;
    }
    const series = (key) => runs.map(([name, r], i) => ({ name: name === 'ae_cfe' ? 'with alignment' : name === 'ae_no_align' ? 'without' : name, colour: colour(i), width: 2, dots: true, points: r.epochs.map((e) => [e.epoch, e[key]]) }));
    aePanel.replaceChildren(
      lineChart(series('loss'), { title: 'autoencoder loss per epoch', xLabel: 'epoch', integerX: true }),
      lineChart(series('align'), { title: 'alignment term per epoch', xLabel: 'epoch', integerX: true, yFormat: (v) => fmt(v, 3) }),
    );
  }

  /** Before/after alignment: the report's latent sample of each autoencoder, PCA'd on its own. */
  function renderEmbedding(report) {
    if (!embeddingPanel) return;
    const runs = [['ae_no_align', 'without alignment'], ['ae_cfe', 'with alignment (AE-CFE)']]
      .map(([k, title]) => [k, title, report.autoencoders?.[k]?.embedding])
      .filter(([, , e]) => e && Array.isArray(e.z) && e.z.length > 1);
    if (!runs.length) {
      embeddingPanel.replaceChildren();
      return;
    }
    const draw = () => {
      const key = (e, i) => (embeddingBy === 'lab' ? e.domain[i] : e.label[i]);
      const groups = [...new Set(runs.flatMap(([, , e]) => e.z.map((_, i) => key(e, i))))].sort((a, b) => (a === 'unlabelled') - (b === 'unlabelled') || a.localeCompare(b));
      const figures = runs.map(([k, title, e]) => {
        const r = pca(e.z, 2);
        const canvas = h('canvas', { class: 'scatter', 'data-method': k });
        const fig = h('div', {}, h('h3', {}, `${title} `, h('span', { class: 'muted' }, `PC1 ${(r.explained[0] * 100).toFixed(0)} %, PC2 ${(r.explained[1] * 100).toFixed(0)} %`)), canvas);
        return { fig, canvas, pts: r.coords.map((c, i) => ({ x: c[0], y: c[1], group: groups.indexOf(key(e, i)) })) };
      });
      const radios = ['lab', 'class'].map((v) => h('label', {}, h('input', { type: 'radio', name: 'eval-colour', value: v, checked: v === embeddingBy, onchange: () => { embeddingBy = v; draw(); } }), ` ${v}`));
      const legend = h('div', { class: 'legend' }, h('div', { class: 'legend-title' }, 'Colour by'), ...radios,
        ...groups.map((g, i) => h('div', { class: 'legend-row' }, h('span', { class: 'swatch', style: `background:${colour(i)}` }), h('span', {}, g))));
      embeddingPanel.replaceChildren(
        h('div', { class: 'pair' }, ...figures.map((f) => f.fig), legend),
        h('p', { class: 'muted small' }, `The same ${runs[0][2].z.length} cells (source training split and targets, at most 150 per lab) encoded by each autoencoder of this evaluation.`),
      );
      embeddingPanel.dataset.colourBy = embeddingBy;
      for (const f of figures) scatter(f.canvas, f.pts);
    };
    draw();
  }

  async function show(id) {
    current = list.find((e) => e.id === id) ?? null;
    if (!current) return;
    const d = await gql('query($id: ID!) { evaluation(id: $id) { id name createdAt report } }', { id });
    if (current?.id !== id) return;
    const report = d.evaluation.report ?? {};
    entries = findConfusions(report);
    // Default: AE-CFE on the first target domain (the cross-lab number), else the first found.
    if (!entries.some((e) => e.key === chosen)) chosen = (entries.find((e) => e.method === 'ae_cfe' && e.scores.role === 'target') ?? entries[0])?.key ?? null;
    renderSummary(report);
    renderSelected();
    renderAutoencoders(report);
    renderEmbedding(report);
  }

  select.addEventListener('change', () => show(select.value).catch((e) => (summary.textContent = `evaluation: ${e.message}`)));

  return {
    async refresh() {
      const d = await gql('{ evaluations { id name createdAt } }');
      const fresh = [...d.evaluations].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
      if (fresh.map((e) => e.id).join() === list.map((e) => e.id).join()) return;
      list = fresh;
      const keep = current && list.some((e) => e.id === current.id) ? current.id : list[0]?.id;
      select.replaceChildren(...list.map((e) => h('option', { value: e.id }, `${e.name} · ${new Date(e.createdAt).toLocaleString()}`)));
      select.disabled = !list.length;
      if (keep) {
        select.value = keep;
        await show(keep);
      }
    },
  };
}
