// Autoencoder training: one loss curve per term (total, SSIM, MSE, alignment) from the live jobProgress
// metrics of each step and the per-epoch means (live, or job.result.history after the fact), and the
// input/reconstruction pairs the job saves each epoch (GET /jobs/<id>/reconstructions/<epoch>.png).
import { gql } from './graphql.js';
import { setImageSource } from './auth.js';
import { h, lineChart, fmt } from './charts.js';
import { duration } from './jobs-panel.js';

const TERMS = [
  { key: 'loss', epochKey: 'epochLoss', title: 'loss (total)' },
  { key: 'ssim', epochKey: 'epochSsim', title: 'SSIM term' },
  { key: 'mse', epochKey: 'epochMse', title: 'MSE term' },
  { key: 'align', epochKey: 'epochAlign', title: 'alignment term' },
];

export function createTrainingPanel({ select, stats, charts, slider, frame, caption }) {
  let job = null;
  let steps = [];
  let epochs = new Map();
  let lastMetrics = null;
  let reconEpoch = 0;
  let loadedStatus = null;
  let currentId = null;
  let chosenByUser = false;
  let drawTimer = null;

  function draw() {
    drawTimer = null;
    const hist = [...epochs.values()].sort((a, b) => a.epoch - b.epoch);
    charts.replaceChildren(
      ...TERMS.map((t) =>
        lineChart(
          [
            { name: 'step', colour: '#9db4cf', width: 1, points: steps.map((s) => [s.x, s[t.key]]) },
            { name: 'epoch mean', colour: '#1f5f99', width: 2, dots: true, points: hist.map((e) => [e.epoch, e[t.key]]) },
          ],
          { title: t.title, xLabel: 'epoch', integerX: true },
        ),
      ),
    );
    charts.dataset.job = job?.id ?? '';
    charts.dataset.epochs = String(hist.length);
    charts.dataset.steps = String(steps.length);
    const last = hist.at(-1);
    const epochsTotal = job?.params?.epochs;
    const bits = [];
    if (job) bits.push(`${job.id.slice(0, 8)} · ${job.status.toLowerCase()}`);
    if (lastMetrics?.epoch || last) bits.push(`epoch ${lastMetrics?.epoch ?? last.epoch}${epochsTotal ? ` / ${epochsTotal}` : ''}`);
    if (last) bits.push(`epoch loss ${fmt(last.loss, 4)}`);
    if (lastMetrics?.samplesPerSec ?? last?.samplesPerSec) bits.push(`${fmt(lastMetrics?.samplesPerSec ?? last.samplesPerSec, 1)} cells/s`);
    if (lastMetrics?.etaSec > 0 && job?.status === 'RUNNING') bits.push(`ETA ${duration(lastMetrics.etaSec * 1000)}`);
    if (job?.params) bits.push(`align weight ${job.params.alignWeight ?? '—'} · ${job.params.preset ?? ''} preset`);
    stats.textContent = job ? bits.join(' · ') : 'No train-autoencoder job yet.';
    stats.classList.toggle('muted', !job);
    const maxEpoch = Math.max(reconEpoch, hist.length ? hist.at(-1).epoch : 0);
    if (maxEpoch > 0) {
      const wasAtEnd = Number(slider.value) >= Number(slider.max) || slider.disabled;
      slider.max = String(maxEpoch);
      slider.disabled = false;
      if (wasAtEnd) {
        slider.value = String(maxEpoch);
        showRecon();
      }
    }
  }

  function redraw() {
    if (!drawTimer) drawTimer = setTimeout(draw, 250);
  }

  function showRecon() {
    if (!job) return;
    const e = Number(slider.value);
    const src = `/jobs/${encodeURIComponent(job.id)}/reconstructions/${e}.png`;
    if (frame.querySelector('img')?.dataset.path === src) return;
    caption.textContent = `epoch ${e} · top row: input, bottom row: reconstruction`;
    const img = h('img', { alt: `input and reconstruction, epoch ${e}` });
    img.addEventListener('error', () => frame.replaceChildren(h('span', { class: 'muted' }, `No reconstruction saved for epoch ${e}.`)), { once: true });
    setImageSource(img, src);
    frame.classList.remove('muted');
    frame.replaceChildren(img);
  }
  slider.addEventListener('input', showRecon);

  async function load(id) {
    steps = [];
    epochs = new Map();
    lastMetrics = null;
    reconEpoch = 0;
    slider.disabled = true;
    slider.max = '1';
    frame.replaceChildren('No reconstructions yet.');
    frame.classList.add('muted');
    caption.textContent = '';
    job = null;
    currentId = id;
    if (!id) return draw();
    const d = await gql('query($id: ID!) { job(id: $id) { id kind status params result } }', { id });
    if (currentId !== id) return;
    job = d.job;
    loadedStatus = job.status;
    for (const e of job.result?.history ?? []) epochs.set(e.epoch, e);
    reconEpoch = job.result?.history?.length ?? 0;
    draw();
  }

  /** After the job ends: its result's per-epoch history, keeping the step curve seen live. */
  async function refreshResult() {
    const d = await gql('query($id: ID!) { job(id: $id) { id kind status params result } }', { id: job.id });
    if (d.job.id !== job?.id) return;
    job = d.job;
    loadedStatus = job.status;
    for (const e of job.result?.history ?? []) epochs.set(e.epoch, e);
    reconEpoch = Math.max(reconEpoch, job.result?.history?.length ?? 0);
    draw();
  }

  // The train-autoencoder job last focused (a link, a click in the jobs list).
  let pinned = null;

  // A person's choice sticks until another job is focused.
  select.addEventListener('change', () => {
    chosenByUser = true;
    load(select.value).catch((e) => (stats.textContent = `training: ${e.message}`));
  });

  return {
    /** The train-autoencoder jobs of the list; the focused job is preferred when it is one. */
    jobs(list, focusedId) {
      const trains = list.filter((j) => j.kind === 'train-autoencoder');
      // A job focused by link may be older than the list's newest jobs: it stays, with an option of its own.
      if (pinned && pinned === focusedId && !trains.some((j) => j.id === pinned)) trains.unshift({ id: pinned, status: job?.id === pinned ? job.status : 'LOADING' });
      const current = select.value;
      select.replaceChildren(...trains.map((j) => h('option', { value: j.id }, `${j.id.slice(0, 8)} · ${j.status.toLowerCase()}`)));
      select.disabled = !trains.length;
      let want = chosenByUser && trains.some((j) => j.id === current) ? current : null;
      want ??= trains.find((j) => j.id === focusedId)?.id ?? trains.find((j) => j.status === 'RUNNING')?.id ?? trains[0]?.id ?? null;
      if (want) select.value = want;
      if ((want ?? null) !== currentId) load(want).catch((e) => (stats.textContent = `training: ${e.message}`));
      else if (job && loadedStatus !== trains.find((j) => j.id === job.id)?.status) refreshResult().catch(() => undefined);
    },
    focus(id) {
      chosenByUser = false;
      pinned = id ?? null;
      if (id && id !== currentId) load(id).catch(() => undefined);
    },
    /** A jobProgress event: step metrics (loss terms per step) and epoch means. */
    progress(p) {
      if (!job || p.jobId !== job.id || !p.metrics) return;
      const m = p.metrics;
      job.status = p.status;
      lastMetrics = { ...lastMetrics, ...m };
      if (typeof m.loss === 'number') {
        const x = p.total && job.params?.epochs ? (p.done / p.total) * job.params.epochs : m.step ?? steps.length + 1;
        steps.push({ x, loss: m.loss, ssim: m.ssim, mse: m.mse, align: m.align });
      }
      if (typeof m.epochLoss === 'number') {
        epochs.set(m.epoch, { epoch: m.epoch, loss: m.epochLoss, ssim: m.epochSsim, mse: m.epochMse, align: m.epochAlign, samplesPerSec: m.epochSamplesPerSec });
      }
      if (typeof m.reconstructionEpoch === 'number') reconEpoch = Math.max(reconEpoch, m.reconstructionEpoch);
      redraw();
    },
  };
}
