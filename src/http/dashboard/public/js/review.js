// The review screen (issue 20): a lab's cells in the order that teaches the classifier most, one at a time,
// large, with its probabilities and why it is queued or flagged; a class given by click or key (1-9 a class,
// Enter the classifier's own, z undo, s skip); per-class galleries by confidence with captions always
// shown; counts and the audit trail kept current by the reviewEvents subscription (so two reviewers see each
// other's work); and retrain-with-the-reviews then re-classify, showing what changed.
import { gql, subscribe, onConnection, localPath } from './graphql.js';
import { authFetch, setImageSource } from './auth.js';
import { h, colour } from './charts.js';

const $ = (id) => document.getElementById(id);
const CELL = 'id imageId index cropUrl prediction { label flagged flagReason reason bestGuess { label probability } probabilities { label probability } }';
const REVIEW = 'id cellId label previousLabel previousSource previousFlagged reviewer createdAt undoneAt';
const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];
const QUEUE_SIZE = 24;

const state = {
  datasetId: null,
  queue: [],
  /** The cell under review: a queue entry, or a gallery cell picked by click. */
  current: null,
  /** This screen's own reviews, newest last: what z undoes. */
  mine: [],
  classes: [...CLASSES],
  galleryLabel: CLASSES[0],
  stopEvents: null,
  busy: false,
  /** The cell whose review this screen is sending: its own event can arrive before the mutation's answer. */
  giving: null,
  /** Cells other screens reviewed (their REVIEWED events, dropped again on UNDONE): a queue read before them still lists them. */
  reviewedElsewhere: new Set(),
};

// Each loader's answer is dropped when the lab (or the gallery's tab) changed, or a newer call of it was made, while
// it was on its way: a slow answer must not put another lab's cells, or cells reviewed meanwhile, back on the screen.
const calls = { queue: 0, summary: 0, trail: 0, gallery: 0 };
function guard(kind) {
  const n = ++calls[kind];
  const ds = state.datasetId;
  const label = state.galleryLabel;
  return () => n === calls[kind] && ds === state.datasetId && (kind !== 'gallery' || label === state.galleryLabel);
}

const pct = (p) => `${Math.round(100 * p)} %`;
const classColour = (label) => colour(Math.max(0, state.classes.indexOf(label)));

function crop(cell, cls = '') {
  const img = h('img', { alt: `cell ${cell.id}`, class: cls });
  setImageSource(img, localPath(cell.cropUrl));
  return img;
}

/** A montage card: the crop and a caption that is always visible (class, confidence, reviewed or flagged). */
function card(entry) {
  const p = entry.cell.prediction;
  const label = entry.currentLabel ?? `flagged · ${p?.bestGuess?.label ?? '?'}?`;
  const reviewed = entry.review ? (entry.review.label === p?.label ? 'confirmed' : 'corrected') : null;
  return h('figure', { class: `item cell${p?.flagged && !entry.review ? ' flagged' : ''}${reviewed ? ` reviewed ${reviewed}` : ''}`, 'data-cell': entry.cell.id, tabindex: '0', title: p?.reason ?? '' },
    h('div', { class: 'thumb' }, crop(entry.cell)),
    h('figcaption', {},
      h('div', { class: 'cap-line' }, h('b', {}, label), h('span', { class: 'conf' }, pct(entry.confidence))),
      h('div', { class: 'confbar' }, h('span', { style: `width:${entry.confidence * 100}%;background:${classColour(label)}` })),
      reviewed ? h('div', { class: 'badge' }, `${reviewed}${entry.review.previousLabel && reviewed === 'corrected' ? ` (was ${entry.review.previousLabel})` : ''}`) : null,
    ),
  );
}

function renderKeys() {
  const cur = state.current;
  const best = cur?.cell.prediction?.bestGuess?.label;
  $('keys').replaceChildren(
    ...state.classes.map((c, i) =>
      h('button', { type: 'button', class: `key${c === best ? ' best' : ''}`, 'data-label': c, disabled: cur ? null : '', title: `key ${i + 1}` },
        h('kbd', {}, String(i + 1)), ` ${c}`)),
    h('button', { type: 'button', class: 'key plain', 'data-action': 'confirm', disabled: cur && best ? null : '' }, h('kbd', {}, 'Enter'), best ? ` confirm ${best}` : ' confirm'),
    h('button', { type: 'button', class: 'key plain', 'data-action': 'skip', disabled: cur ? null : '' }, h('kbd', {}, 's'), ' skip'),
    h('button', { type: 'button', class: 'key plain', 'data-action': 'undo', disabled: state.mine.length ? null : '' }, h('kbd', {}, 'z'), ' undo'),
  );
}

function renderCurrent() {
  const cur = state.current;
  const box = $('current');
  if (!cur) {
    box.className = 'current muted';
    box.replaceChildren(state.datasetId ? 'Nothing left in the queue: every classified cell of this lab has a review.' : 'Pick a lab.');
    renderKeys();
    return;
  }
  const p = cur.cell.prediction;
  const probs = [...(p?.probabilities ?? [])].sort((a, b) => b.probability - a.probability);
  const why = [];
  if (cur.reason) why.push(h('div', {}, h('b', {}, 'Queued: '), cur.reason));
  if (p?.flagged) why.push(h('div', { class: 'flag' }, h('b', {}, 'Flagged: '), p.reason ?? 'flagged'));
  if (cur.review) why.push(h('div', {}, h('b', {}, 'Reviewed: '), `${cur.review.label} (${cur.review.reviewer})`));
  box.className = 'current';
  box.dataset.cell = cur.cell.id;
  box.replaceChildren(
    h('div', { class: 'big-crop' }, crop(cur.cell)),
    h('div', { class: 'current-side' },
      h('div', { class: 'verdict' }, h('span', { class: 'muted' }, 'classifier: '), h('b', {}, p?.flagged ? `flagged (best guess ${p.bestGuess.label})` : (p?.label ?? 'none'))),
      h('div', { class: 'probs' }, ...probs.map((q) =>
        h('div', { class: 'count-row' },
          h('span', { class: 'count-label' }, q.label),
          h('span', { class: 'count-bar' }, h('span', { style: `width:${100 * q.probability}%;background:${classColour(q.label)}` })),
          h('span', { class: 'count-n' }, pct(q.probability))))),
      h('div', { class: 'why' }, ...why),
      h('div', { class: 'muted small' }, h('code', {}, cur.cell.id.slice(0, 8)), ` · cell ${cur.cell.index} of image `, h('code', {}, cur.cell.imageId.slice(0, 8))),
    ),
  );
  renderKeys();
}

function renderQueue() {
  const rest = state.queue.filter((e) => e.cell.id !== state.current?.cell.id);
  $('queue').replaceChildren(...rest.slice(0, 12).map((e) => card(e)));
  $('queue-note').textContent = state.datasetId ? `(${state.queue.length} shown; ${state.mine.length} reviewed here)` : '';
}

async function loadQueue() {
  if (!state.datasetId) return;
  const fresh = guard('queue');
  const d = await gql(`query($d: ID!, $n: Int) { reviewQueue(datasetId: $d, first: $n) { rank uncertainty reason currentLabel confidence review { ${REVIEW} } cell { ${CELL} } } }`, { d: state.datasetId, n: QUEUE_SIZE });
  if (!fresh()) return;
  // The queue was ranked when the call was made: cells reviewed since (here, being sent, or on another screen) leave it.
  const done = new Set([...state.mine.map((m) => m.review.cellId), ...state.reviewedElsewhere, state.giving]);
  state.queue = d.reviewQueue.filter((e) => !done.has(e.cell.id));
  // The classes a key gives: the classifier's (its probabilities), else the five all labs share.
  const seen = state.queue[0]?.cell.prediction?.probabilities.map((q) => q.label);
  if (seen?.length) state.classes = [...seen].sort((a, b) => (CLASSES.indexOf(a) + 1 || 99) - (CLASSES.indexOf(b) + 1 || 99) || a.localeCompare(b));
  if (!state.current || !state.queue.some((e) => e.cell.id === state.current.cell.id)) {
    if (!state.current?.picked) state.current = state.queue[0] ?? null;
  }
  renderCurrent();
  renderQueue();
}

async function loadSummary() {
  const fresh = guard('summary');
  const s = (await gql(`query($d: ID!) { reviewSummary(datasetId: $d) { cells classified flagged reviewed confirmed corrected undone perClass { label predicted reviewed current } } }`, { d: state.datasetId })).reviewSummary;
  if (!fresh()) return;
  const stat = (n, label, key) => h('span', { class: 'stat', 'data-stat': key }, h('b', {}, String(n)), ` ${label}`);
  $('summary').replaceChildren(
    stat(s.cells, 'cells', 'cells'), stat(s.flagged, 'flagged', 'flagged'), stat(s.reviewed, 'reviewed', 'reviewed'),
    stat(s.confirmed, 'confirmed', 'confirmed'), stat(s.corrected, 'corrected', 'corrected'), stat(s.undone, 'undone', 'undone'),
  );
  const tabs = [...s.perClass.map((c) => ({ label: c.label, n: c.current })), { label: null, n: s.cells - s.perClass.reduce((a, c) => a + c.current, 0) }];
  $('gallery-tabs').replaceChildren(...tabs.map((t) =>
    h('button', { type: 'button', role: 'tab', class: `tab${t.label === state.galleryLabel ? ' on' : ''}`, 'data-label': t.label ?? '', 'aria-selected': String(t.label === state.galleryLabel) },
      `${t.label ?? 'flagged'} `, h('span', { class: 'n' }, String(t.n)))));
}

async function loadTrail() {
  const fresh = guard('trail');
  const d = await gql(`query($d: ID!) { reviewTrail(datasetId: $d, limit: 12) { total items { ${REVIEW} } } }`, { d: state.datasetId });
  if (!fresh()) return;
  $('trail').tBodies[0].replaceChildren(...d.reviewTrail.items.map((r) =>
    h('tr', { class: r.undoneAt ? 'undone' : '', 'data-review': r.id },
      h('td', {}, new Date(r.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })),
      h('td', {}, h('code', {}, r.cellId.slice(0, 8))),
      h('td', {}, r.previousLabel ?? (r.previousFlagged ? 'flagged' : '—')),
      h('td', {}, h('b', {}, r.label), r.undoneAt ? ' (undone)' : ''),
      h('td', { class: 'muted', title: r.reviewer }, r.reviewer.replace(/^token:(\w{6})\w*/, 'token $1…')))));
  $('trail').dataset.total = String(d.reviewTrail.total);
}

// Gallery entries by cell, for picking one to review by click.
const galleryEntries = new Map();

async function loadGallery() {
  const fresh = guard('gallery');
  const d = await gql(`query($d: ID!, $l: String) { reviewGallery(datasetId: $d, label: $l, limit: 60) { total items { currentLabel confidence review { ${REVIEW} } cell { ${CELL} } } } }`, { d: state.datasetId, l: state.galleryLabel });
  if (!fresh()) return;
  galleryEntries.clear();
  for (const e of d.reviewGallery.items) galleryEntries.set(e.cell.id, e);
  $('gallery').replaceChildren(...d.reviewGallery.items.map((e) => card(e)));
  $('gallery').dataset.label = state.galleryLabel ?? '';
}

const refreshAll = () => (state.datasetId ? Promise.all([loadSummary(), loadTrail(), loadGallery()]).catch(showError) : Promise.resolve());

function showError(e) {
  $('retrain-status').replaceChildren(h('span', { class: 'error' }, e.message));
}

async function give(label) {
  const cur = state.current;
  if (!cur || state.busy) return;
  state.busy = true;
  state.giving = cur.cell.id;
  try {
    const r = (await gql(`mutation($c: ID!, $l: String!) { reviewCell(cellId: $c, label: $l) { ${REVIEW} } }`, { c: cur.cell.id, l: label })).reviewCell;
    state.mine.push({ review: r, entry: cur });
    state.queue = state.queue.filter((e) => e.cell.id !== cur.cell.id);
    state.current = state.queue[0] ?? null;
    renderCurrent();
    renderQueue();
  } catch (e) {
    showError(e);
    return;
  } finally {
    state.busy = false;
    state.giving = null;
  }
  // Counts, trail and galleries follow in the background: the next key is taken at once.
  void refreshAll();
  if (state.queue.length < QUEUE_SIZE / 2) void loadQueue().catch(showError);
}

async function undo() {
  // Taken off the trail only once the server has undone it: a key pressed while busy, or a failed call, keeps it.
  const last = state.mine.at(-1);
  if (!last || state.busy) return;
  state.busy = true;
  try {
    await gql(`mutation($id: ID!) { undoReview(id: $id) { id } }`, { id: last.review.id });
    state.mine.pop();
    // The undone cell comes back under review, in front of the queue.
    state.current = { ...last.entry, review: null, picked: true };
    state.queue = [state.current, ...state.queue.filter((e) => e.cell.id !== last.entry.cell.id)];
    renderCurrent();
    renderQueue();
  } catch (e) {
    showError(e);
    return;
  } finally {
    state.busy = false;
  }
  void refreshAll();
}

function skip() {
  if (!state.current) return;
  const i = state.queue.findIndex((e) => e.cell.id === state.current.cell.id);
  state.current = state.queue[i + 1] ?? state.queue[0] ?? null;
  renderCurrent();
  renderQueue();
}

function pick(cellId) {
  const from = state.queue.find((x) => x.cell.id === cellId) ?? galleryEntries.get(cellId);
  if (from) {
    state.current = { ...from, picked: true };
    renderCurrent();
    renderQueue();
    $('current').scrollIntoView({ block: 'nearest' });
  }
}


async function follow(jobId, label) {
  const status = $('retrain-status');
  await new Promise((resolve) => {
    const stop = subscribe(`subscription($j: ID!) { jobProgress(jobId: $j) { status message } }`, { j: jobId }, {
      next: (d) => {
        status.textContent = `${label}: ${d.jobProgress.status.toLowerCase()}${d.jobProgress.message ? ` · ${d.jobProgress.message}` : ''}`;
      },
      complete: () => resolve(stop),
      error: () => resolve(stop),
    });
  });
  return (await gql(`query($id: ID!) { job(id: $id) { id status result error message } }`, { id: jobId })).job;
}

async function retrain() {
  const source = $('source').value;
  // The lab whose reviews train and which is classified again: the one on screen when the button was pressed. The lab
  // picker is held until both jobs end (minutes), so that another lab is never classified with this lab's reviews.
  const ds = state.datasetId;
  if (!ds) return showError(new Error('pick the lab under review first'));
  if (!source) return showError(new Error('pick the source lab the classifier learns from besides the reviews'));
  $('retrain').disabled = true;
  $('dataset').disabled = true;
  $('changes').replaceChildren();
  try {
    const t = (await gql(`mutation($i: TrainClassifierInput!) { trainClassifier(input: $i) { id } }`, { i: { datasetIds: [source], features: $('features').value, reviewedDatasetIds: [ds] } })).trainClassifier;
    const trained = await follow(t.id, 'training');
    if (trained.status !== 'SUCCEEDED') throw new Error(`training ${trained.status.toLowerCase()}: ${trained.error ?? ''}`);
    const c = (await gql(`mutation($i: ClassifyCellsInput!) { classifyCells(input: $i) { id } }`, { i: { datasetId: ds } })).classifyCells;
    const classified = await follow(c.id, 'classifying');
    if (classified.status !== 'SUCCEEDED') throw new Error(`classifying ${classified.status.toLowerCase()}: ${classified.error ?? ''}`);
    showChanges(trained.result, classified);
    await Promise.all([loadQueue(), refreshAll()]);
  } catch (e) {
    showError(e);
  } finally {
    $('retrain').disabled = false;
    $('dataset').disabled = false;
  }
}

/** What the re-classification changed: per transition, and the changed cells (open them in the dashboard's stream). */
function showChanges(trainResult, job) {
  const ch = job.result.changes;
  $('retrain-status').replaceChildren(
    `Retrained with ${trainResult.reviewed?.cells ?? 0} reviewed cells; `, h('b', {}, `${ch.changed} of ${ch.compared}`), ' verdicts changed · ',
    h('a', { href: `./?job=${job.id}` }, 'see the classify job'));
  $('changes').replaceChildren(
    h('ul', { class: 'transitions' }, ...Object.entries(ch.transitions).map(([t, n]) => h('li', { 'data-transition': t }, h('b', {}, String(n)), ` ${t}`))),
  );
}

async function chooseDataset(id) {
  state.datasetId = id || null;
  state.current = null;
  state.mine = [];
  state.queue = [];
  state.reviewedElsewhere = new Set();
  galleryEntries.clear();
  $('gallery').replaceChildren();
  state.stopEvents?.();
  const u = new URL(location.href);
  if (id) u.searchParams.set('dataset', id);
  else u.searchParams.delete('dataset');
  history.replaceState(null, '', u);
  $('csv').disabled = !id;
  renderQueue();
  if (!id) return renderCurrent();
  for (const o of $('source').options) o.disabled = o.value === id;
  if ($('source').value === id) $('source').value = [...$('source').options].find((o) => !o.disabled)?.value ?? '';
  state.stopEvents = subscribe(`subscription($d: ID!) { reviewEvents(datasetId: $d) { action review { ${REVIEW} } } }`, { d: id }, {
    next: (d) => {
      const ev = d.reviewEvents;
      // Another reviewer's verdict on the cell under review here: move on. This screen's own review can be
      // announced before its mutation answers; moving on then would show the next cell while keys are still
      // refused (busy), and the reviewer's next key would be lost: give() moves on when the answer comes.
      if (ev.action === 'REVIEWED' && ev.review.cellId !== state.giving && !state.mine.some((m) => m.review.id === ev.review.id)) {
        state.reviewedElsewhere.add(ev.review.cellId);
        state.queue = state.queue.filter((e) => e.cell.id !== ev.review.cellId);
        if (state.current?.cell.id === ev.review.cellId) state.current = state.queue[0] ?? null;
        renderCurrent();
        renderQueue();
      }
      if (ev.action === 'UNDONE') state.reviewedElsewhere.delete(ev.review.cellId);
      void refreshAll();
    },
    error: () => undefined,
  });
  await Promise.all([loadQueue(), refreshAll()]).catch(showError);
}

// Keys: 1-9 and 0 give a class, Enter the classifier's own, z (or Backspace) undoes, s (or ->) skips.
document.addEventListener('keydown', (ev) => {
  // A held key repeats every ~30 ms: it would review cells the reviewer has not seen, or undo a chain of reviews.
  if (ev.repeat) return;
  if (ev.target instanceof HTMLSelectElement || ev.target instanceof HTMLInputElement || ev.metaKey || ev.ctrlKey || ev.altKey) return;
  const k = ev.key;
  if (/^[0-9]$/.test(k)) {
    const label = state.classes[k === '0' ? 9 : Number(k) - 1];
    if (label) give(label);
  } else if (k === 'Enter') {
    const best = state.current?.cell.prediction?.bestGuess?.label;
    if (best) give(best);
  } else if (k === 'z' || k === 'Backspace') undo();
  else if (k === 's' || k === 'ArrowRight') skip();
  else return;
  ev.preventDefault();
});

document.addEventListener('click', (ev) => {
  const t = ev.target.closest('button, figure[data-cell]');
  if (!t) return;
  if (t.matches('button.key[data-label]')) give(t.dataset.label);
  else if (t.dataset.action === 'confirm') give(state.current?.cell.prediction?.bestGuess?.label);
  else if (t.dataset.action === 'skip') skip();
  else if (t.dataset.action === 'undo') undo();
  else if (t.matches('button.tab')) {
    state.galleryLabel = t.dataset.label || null;
    for (const b of document.querySelectorAll('button.tab')) b.classList.toggle('on', b === t);
    loadGallery().catch(showError);
  } else if (t.matches('figure[data-cell]')) pick(t.dataset.cell);
});

$('csv').addEventListener('click', async () => {
  if (!state.datasetId) return;
  const res = await authFetch(`/datasets/${state.datasetId}/reviews.csv`).catch((e) => (showError(e), null));
  if (!res) return;
  if (!res.ok) return showError(new Error(`the review CSV: ${res.status} ${(await res.text()).slice(0, 200)}`));
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `reviews-${state.datasetId}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});
$('retrain').addEventListener('click', retrain);
$('dataset').addEventListener('change', () => chooseDataset($('dataset').value));

onConnection((s) => {
  const el = $('connection');
  el.className = `conn ${s}`;
  el.textContent = s === 'live' ? '● live' : s === 'connecting' ? '◌ connecting' : '○ idle';
});

const datasets = (await gql('{ datasets { id name } }')).datasets;
const wanted = new URL(location.href).searchParams.get('dataset');
$('dataset').replaceChildren(h('option', { value: '' }, '— lab —'), ...datasets.map((d) => h('option', { value: d.id }, d.name)));
$('source').replaceChildren(...datasets.map((d) => h('option', { value: d.id }, d.name)));
if (wanted && datasets.some((d) => d.id === wanted)) {
  $('dataset').value = wanted;
  await chooseDataset(wanted);
} else renderCurrent();
