// An evaluation's report: every confusion matrix in it (per method and domain) as a heat map, a summary
// grid of the scores to pick one from, and the autoencoders' loss per epoch with and without alignment.
import { gql } from './graphql.js';
import { h, heatMap, lineChart, colour, fmt } from './charts.js';
import { ago } from './jobs-panel.js';
import { findConfusions } from './confusions.js';

const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '—');

export function createEvaluationPanel({ select, summary, confusion, aePanel }) {
  let list = [];
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
    confusion.replaceChildren(
      h('div', { class: 'confusion-title' },
        h('b', {}, `${e.method} · ${e.domain}`),
        h('span', { class: 'muted' }, ` ${s.role ? `${s.role} · ` : ''}${n} cells · accuracy ${pct(s.accuracy)} · balanced ${pct(s.balanced_accuracy)} · macro F1 ${pct(s.macro_f1)}`)),
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
          return h('td', { 'data-key': e.key, tabindex: 0, title: `balanced ${pct(e.scores.balanced_accuracy)} · macro F1 ${pct(e.scores.macro_f1)}`, onclick: () => { chosen = e.key; renderSelected(); } }, pct(e.scores.accuracy));
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
