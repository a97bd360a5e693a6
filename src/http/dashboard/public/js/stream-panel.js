// The focused job's live stream: each cell as it is stored (crop with mask outline, class, confidence)
// for cell-making jobs, each image as it is imported for imports; a running differential count above, by
// the one definition the server's typed results and the SDK use (differential-count.js, served from the
// SDK's source: complete classified cells counted, flagged and unclassified apart, border-cut left out).
// An analyze job's verdicts are final only when it ends, so its count is then made again from its cells.
import { gql, subscribe, localPath } from './graphql.js';
import { DifferentialTally, flagReasonText } from './differential-count.js';
import { setImageSource } from './auth.js';
import { h, colour, fmt } from './charts.js';
import { statusBadge, duration, selfCheckOf } from './jobs-panel.js';

const CELL_FIELDS = 'id imageId index box score cutByBorder cropUrl prediction { label flagged flagReason reason bestGuess { label probability } probabilities { label probability } }';
const CELL_KINDS = new Set(['analyze', 'detect', 'classify', 'encode']);
const LIVE = new Set(['QUEUED', 'RUNNING']);
/**
 * Jobs whose verdicts are final only when they end: an analyze job rewrites its cells then (a failed
 * self-check withholds every class; the final classification of all its cells together may name another),
 * so what streamed is provisional and the count is made again from the cells as stored.
 */
const FINAL_AT_END = new Set(['analyze']);
/** The cells query's largest page: the count reads every cell of the job, the cards only the newest. */
const PAGE = 500;
const COUNT_FIELDS = 'cutByBorder prediction { label flagged flagReason reason }';
/** Cards kept on the page; older ones drop off the end (the counts keep everything). */
const MAX_CARDS = 96;

export function createStreamPanel({ panel, head, summary, grid }) {
  let job = null;
  let stop = null;
  let seen = new Set();
  let counts = new Map();
  let tally = new DifferentialTally();
  let rate = null;
  let labelQueue = [];
  let labelTimer = null;
  let generation = 0;

  function reset() {
    stop?.();
    stop = null;
    counts = new Map();
    rate = null;
    labelQueue = [];
    // Forgotten too, not only cleared: queueLabel schedules a flush only while none is pending.
    clearTimeout(labelTimer);
    labelTimer = null;
    clearShown();
  }

  /** Forgets the cards and the count, and (a new generation) whatever is still on its way for them. */
  function clearShown() {
    generation++;
    seen = new Set();
    tally = new DifferentialTally();
    grid.replaceChildren();
    grid.dataset.items = '0';
    summary.replaceChildren();
    delete panel.dataset.final;
  }

  function renderHead(metrics) {
    if (!job) return;
    panel.dataset.status = job.status;
    const pct = Math.round((job.progress ?? 0) * 100);
    const bits = [`${job.done}${job.total ? ` / ${job.total}` : ''}`];
    if (rate && rate.perSec > 0 && LIVE.has(job.status)) bits.push(`${fmt(rate.perSec, 1)}/s`);
    const eta = metrics?.etaSec ?? (rate && rate.perSec > 0 && job.total ? (job.total - job.done) / rate.perSec : null);
    if (eta > 0 && LIVE.has(job.status)) bits.push(`ETA ${duration(eta * 1000)}`);
    if (!LIVE.has(job.status) && job.durationMs) bits.push(`took ${duration(job.durationMs)}`);
    head.classList.remove('muted');
    // A failed self-check withholds the count (every cell flagged SELF_CHECK): said above everything else.
    const check = selfCheckOf(job);
    head.replaceChildren(
      check ? h('div', { class: `selfcheck ${check.status.toLowerCase()}`, role: 'alert', 'data-selfcheck': check.status }, check.warning ?? '') : null,
      h('div', { class: 'stream-title' }, h('b', {}, job.kind), h('code', { title: job.id }, job.id.slice(0, 8)), statusBadge(job.status), h('span', { class: 'muted' }, bits.join(' · '))),
      h('div', { class: 'bar big' }, h('span', { style: `width:${pct}%` })),
      check ? null : h('div', { class: `muted msg${job.error ? ' error' : ''}` }, job.error ?? job.message ?? ''),
    );
  }

  const countRow = (label, n, share, colourOf, cls = '') =>
    h('div', { class: `count-row${cls}` },
      h('span', { class: 'count-label', title: label }, label),
      h('span', { class: 'count-bar' }, h('span', { style: `width:${100 * share}%;background:${colourOf}` })),
      h('span', { class: 'count-n' }, `${n} · ${Math.round(100 * share)} %`));

  /** The differential count of the cells shown so far: classes over the counted cells, the rest apart. */
  function countCell(cell) {
    tally.add(cell);
    renderCount();
  }

  function renderCount() {
    const d = tally.result();
    const order = d.byClass.map((c) => c.label).sort();
    const apart = [
      ...d.flaggedByReason.map((r) => [`flagged (${flagReasonText(r.reason)})`, r.count]),
      ...(d.unclassified ? [['not classified', d.unclassified]] : []),
      ...(d.cutByBorder ? [['cut by the border (not counted)', d.cutByBorder]] : []),
    ];
    summary.replaceChildren(
      h('div', { class: 'summary-title' }, `Differential count · ${d.cells} cells`),
      ...d.byClass.map((c) => countRow(c.label, c.count, c.fraction, colour(order.indexOf(c.label)))),
      h('div', { class: 'count-total muted', 'data-counted': String(d.counted) }, `${d.counted} counted`),
      ...apart.map(([label, n]) => countRow(label, n, d.cells ? n / d.cells : 0, '#d4a017', ' apart')),
    );
  }

  function count(key) {
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const order = [...counts.keys()].sort();
    summary.replaceChildren(
      h('div', { class: 'summary-title' }, CELL_KINDS.has(job?.kind) ? `Differential count · ${total} cells` : `By cell type · ${total} images`),
      ...rows.map(([k, n]) =>
        h('div', { class: 'count-row' },
          h('span', { class: 'count-label' }, k),
          h('span', { class: 'count-bar' }, h('span', { style: `width:${(100 * n) / total}%;background:${k === 'flagged' ? '#d4a017' : colour(order.indexOf(k))}` })),
          h('span', { class: 'count-n' }, `${n} · ${Math.round((100 * n) / total)} %`)),
      ),
    );
  }

  function add(card) {
    grid.prepend(card);
    while (grid.children.length > MAX_CARDS) grid.lastElementChild.remove();
    grid.dataset.items = String(seen.size);
  }

  /** The whole image with the cell's box drawn on it: what a cell shows when its crop cannot be made. */
  function boxOnImage(cell, thumb) {
    const canvas = h('canvas', { width: 240, height: 240, class: 'fallback', title: 'no crop: the box on the whole image' });
    const img = new Image();
    img.onload = () => {
      const ctx = canvas.getContext('2d');
      const s = Math.min(canvas.width / img.naturalWidth, canvas.height / img.naturalHeight);
      const [w, hh] = [img.naturalWidth * s, img.naturalHeight * s];
      const [ox, oy] = [(canvas.width - w) / 2, (canvas.height - hh) / 2];
      ctx.fillStyle = '#f1f3f5';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, ox, oy, w, hh);
      const [x1, y1, x2, y2] = cell.box;
      ctx.strokeStyle = '#ffd60a';
      ctx.lineWidth = 3;
      ctx.strokeRect(ox + x1 * s, oy + y1 * s, (x2 - x1) * s, (y2 - y1) * s);
    };
    setImageSource(img, `/images/${encodeURIComponent(cell.imageId)}`);
    thumb.replaceChildren(canvas);
    thumb.parentElement.dataset.fallback = 'box';
  }

  function addCell(cell) {
    if (seen.has(cell.id)) return;
    seen.add(cell.id);
    const p = cell.prediction;
    const top = p ? [...p.probabilities].sort((a, b) => b.probability - a.probability)[0] : null;
    const conf = p ? (p.probabilities.find((q) => q.label === p.label) ?? top)?.probability ?? null : null;
    const label = !p ? 'unclassified' : p.flagged ? 'flagged' : p.label;
    countCell(cell);
    const thumb = h('div', { class: 'thumb' });
    const img = h('img', { alt: `cell ${cell.index} of image ${cell.imageId}`, loading: 'lazy' });
    img.addEventListener('error', () => boxOnImage(cell, thumb), { once: true });
    setImageSource(img, localPath(cell.cropUrl));
    thumb.append(img);
    add(h('figure', { class: `item cell${p?.flagged ? ' flagged' : ''}`, 'data-cell': cell.id },
      thumb,
      h('figcaption', {},
        h('div', { class: 'cap-line' }, h('b', { title: p?.flagged ? `flagged${p.bestGuess ? `; best guess ${p.bestGuess.label}` : ''}` : '' }, label), conf !== null ? h('span', { class: 'conf' }, `${Math.round(conf * 100)} %`) : h('span', { class: 'muted' }, `score ${fmt(cell.score, 2)}`)),
        conf !== null ? h('div', { class: 'confbar' }, h('span', { style: `width:${conf * 100}%` })) : null,
        p?.flagged && p.reason ? h('div', { class: 'reason', title: p.reason }, p.reason) : null,
      ),
    ));
  }

  // Images of an import: labels come in small batches of aliased queries, not one request per card.
  function queueLabel(id, caption) {
    labelQueue.push({ id, caption });
    if (!labelTimer) labelTimer = setTimeout(flushLabels, 200);
  }

  async function flushLabels() {
    labelTimer = null;
    const batch = labelQueue.splice(0, 40);
    if (!batch.length) return;
    const gen = generation;
    const vars = Object.fromEntries(batch.map((b, i) => [`i${i}`, b.id]));
    const q = `query(${batch.map((_, i) => `$i${i}: ID!`).join(', ')}) { ${batch.map((_, i) => `a${i}: image(id: $i${i}) { sourcePath cellType rawLabel }`).join(' ')} }`;
    try {
      const d = await gql(q, vars);
      if (gen !== generation) return;
      batch.forEach((b, i) => {
        const im = d[`a${i}`];
        const type = im.cellType ?? im.rawLabel ?? 'unlabelled';
        count(type);
        b.caption.replaceChildren(h('div', { class: 'cap-line' }, h('b', {}, type)), h('div', { class: 'path muted', title: im.sourcePath }, im.sourcePath.split('/').pop()));
      });
    } catch {
      /* the cards keep their placeholder caption */
    }
    if (labelQueue.length) labelTimer = setTimeout(flushLabels, 50);
  }

  function addItem(ev) {
    const key = `${ev.itemKind}:${ev.itemId}:${ev.index}`;
    if (seen.has(ev.itemId) || seen.has(key)) return;
    seen.add(ev.itemKind === 'image' && ev.ok ? ev.itemId : key);
    if (!ev.ok) {
      count('refused');
      add(h('figure', { class: 'item failed', 'data-item': ev.itemId }, h('div', { class: 'thumb error-thumb' }, '✕'), h('figcaption', {}, h('b', {}, 'refused'), h('div', { class: 'reason', title: ev.error ?? '' }, `${ev.itemId}: ${ev.error ?? ''}`))));
      return;
    }
    if (ev.itemKind === 'image') {
      const caption = h('figcaption', {}, h('span', { class: 'muted' }, `image ${ev.index + 1}`));
      const img = h('img', { alt: `image ${ev.index + 1}` });
      setImageSource(img, `/images/${encodeURIComponent(ev.itemId)}`);
      add(h('figure', { class: 'item ok image', 'data-item': ev.itemId }, h('div', { class: 'thumb' }, img), caption));
      queueLabel(ev.itemId, caption);
      return;
    }
    count(ev.itemKind);
    add(h('figure', { class: 'item ok', 'data-item': ev.itemId }, h('div', { class: 'thumb error-thumb' }, '•'), h('figcaption', {}, h('b', {}, ev.itemKind), h('div', { class: 'path muted' }, ev.itemId))));
  }

  async function backfill(j, gen) {
    try {
      if (j.kind === 'classify' && j.params?.datasetId) {
        // A classify job writes verdicts onto cells other jobs stored: its cells are its dataset's.
        const d = await gql(`query($ds: ID!) { cells(datasetId: $ds, limit: ${MAX_CARDS}) { items { ${CELL_FIELDS} } } }`, { ds: j.params.datasetId });
        if (gen === generation) for (const c of [...d.cells.items].reverse()) addCell(c);
        if (gen === generation) markChanges(j);
      } else if (CELL_KINDS.has(j.kind)) {
        const d = await gql(`query($id: ID!) { cells(jobId: $id, limit: ${MAX_CARDS}) { items { ${CELL_FIELDS} } } }`, { id: j.id });
        if (gen === generation) for (const c of [...d.cells.items].reverse()) addCell(c);
      } else if (j.kind === 'import' && j.params?.datasetId) {
        const d = await gql(`query($ds: ID!) { images(datasetId: $ds, limit: ${MAX_CARDS}) { items { id } } }`, { ds: j.params.datasetId });
        if (gen === generation) d.images.items.forEach((im, i) => addItem({ itemKind: 'image', itemId: im.id, index: i, ok: true }));
      }
    } catch {
      /* the live stream still fills the panel */
    }
  }

  /** A classify job that re-classified cells (after a retraining with reviews): each changed cell says what it was. */
  async function markChanges(j) {
    const g0 = generation;
    let ch = j.result?.changes;
    if (!ch && !LIVE.has(j.status)) ch = (await gql(`query($id: ID!) { job(id: $id) { result } }`, { id: j.id })).job?.result?.changes;
    // Another job was focused while the answer was on its way: its panel is not this job's.
    if (!ch?.changed || g0 !== generation) return;
    const was = new Map(ch.cells.map((c) => [c.cellId, c.from]));
    for (const fig of grid.querySelectorAll('figure[data-cell]')) {
      const from = was.get(fig.dataset.cell);
      if (!from || fig.querySelector('.changed')) continue;
      fig.classList.add('changed');
      fig.querySelector('figcaption').append(h('div', { class: 'changed' }, `was ${from}`));
    }
    summary.append(h('div', { class: 'count-total changes', 'data-changed': String(ch.changed) }, `${ch.changed} of ${ch.compared} verdicts changed: `,
      Object.entries(ch.transitions).slice(0, 6).map(([t, n]) => `${t} ${n}`).join(', ')));
  }

  /** Every cell of the job counted as stored now, in pages of light fields: the count, not the cards. */
  async function recount(j, gen) {
    const fresh = new DifferentialTally();
    for (let offset = 0; ; offset += PAGE) {
      const d = await gql(`query($id: ID!, $o: Int) { cells(jobId: $id, limit: ${PAGE}, offset: $o) { items { ${COUNT_FIELDS} } } }`, { id: j.id, o: offset });
      if (gen !== generation) return;
      for (const c of d.cells.items) fresh.add(c);
      if (d.cells.items.length < PAGE) break;
    }
    tally = fresh;
    renderCount();
  }

  /**
   * A job whose verdicts are final only at its end: what streamed is forgotten (cards, count, and any
   * late stream event, by the new generation) and the job's cells are read back with their final verdicts.
   */
  async function reread(j) {
    // Images analyzed again keep the cells an earlier job stored (analyze.handler.ts): this job owns none, and a
    // job-scoped read-back would blank what streamed. Those cards and their count stay, said to be as streamed.
    if (seen.size) {
      const g0 = generation;
      const owned = await gql(`query($id: ID!) { cells(jobId: $id, limit: 1) { total } }`, { id: j.id }).catch(() => null);
      // Another job was focused meanwhile: clearing now would also drop that job's live cards (a new generation).
      if (g0 !== generation) return;
      if (owned && owned.cells.total === 0) {
        summary.append(h('div', { class: 'muted as-streamed' }, 'verdicts as streamed: these cells were stored by an earlier job; open their dataset for the final ones'));
        panel.dataset.final = j.id;
        return;
      }
    }
    clearShown();
    const gen = generation;
    await backfill(j, gen);
    try {
      await recount(j, gen);
    } catch {
      /* the count of the cards read back stays */
    }
    if (gen === generation) panel.dataset.final = j.id;
  }

  /**
   * Takes the job's new state. When it stops running, what it stored is read once more: items stored
   * between the first read-back and the subscription going live on the server reach no event, and
   * `seen` keeps the ones already shown from appearing twice. A job that rewrites its verdicts when it
   * ends is read back whole instead, so the count is its final one (a failed check: no class at all).
   */
  function settle(next) {
    const ended = LIVE.has(job.status) && !LIVE.has(next.status);
    job = next;
    if (!ended) return;
    if (FINAL_AT_END.has(job.kind)) reread(job);
    else backfill(job, generation);
  }

  return {
    /** Shows a job (a Job object from the jobs query, or null). */
    async focus(j) {
      reset();
      job = j;
      if (!j) return;
      const gen = generation;
      renderHead();
      if (LIVE.has(j.status)) {
        const cells = CELL_KINDS.has(j.kind);
        const query = cells
          ? `subscription($id: ID!) { jobCells(jobId: $id) { ${CELL_FIELDS} } }`
          : 'subscription($id: ID!) { jobItems(jobId: $id) { index itemKind itemId ok error } }';
        stop = subscribe(query, { id: j.id }, {
          next: (d) => gen === generation && (cells ? addCell(d.jobCells) : addItem(d.jobItems)),
          error: () => undefined,
        });
        panel.dataset.subscribed = j.id;
      }
      if (j.kind === 'train-autoencoder') {
        summary.replaceChildren(h('div', { class: 'muted' }, 'A training job: its loss curves and reconstructions are in the training panel.'));
      }
      if (FINAL_AT_END.has(j.kind) && !LIVE.has(j.status)) await reread(j);
      else await backfill(j, gen);
    },
    /** A jobProgress event of any job; only the focused one's matter here. */
    progress(p, j) {
      if (!job || p.jobId !== job.id) return;
      settle({ ...job, ...j });
      panel.dataset.live = p.jobId;
      const now = performance.now();
      if (p.status === 'RUNNING') {
        if (!rate || p.done < rate.done0) rate = { t0: now, done0: p.done, perSec: 0 };
        else if (now - rate.t0 > 500) rate.perSec = (p.done - rate.done0) / ((now - rate.t0) / 1000);
      }
      renderHead(p.metrics);
    },
    update(j) {
      if (!job || j.id !== job.id) return;
      settle({ ...job, ...j });
      renderHead();
    },
    focused: () => job,
  };
}
