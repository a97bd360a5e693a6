// The dashboard's composition root: the header (engines, connection), the jobs list and the panels,
// wired together. ?job=<id> focuses a job's live stream; clicking a job does the same.
import { gql, onConnection } from './graphql.js';
import { h } from './charts.js';
import { createJobsPanel, JOB_FIELDS } from './jobs-panel.js';
import { createStreamPanel } from './stream-panel.js';
import { createTrainingPanel } from './training-panel.js';
import { createEvaluationPanel } from './evaluation-panel.js';
import { createEmbeddingPanel } from './embedding-panel.js';

const $ = (id) => document.getElementById(id);

const stream = createStreamPanel({ panel: $('stream-panel'), head: $('stream-head'), summary: $('stream-summary'), grid: $('stream') });
const training = createTrainingPanel({ select: $('training-job'), stats: $('training-stats'), charts: $('loss-charts'), slider: $('recon-epoch'), frame: $('recon-frame'), caption: $('recon-caption') });
const evaluation = createEvaluationPanel({ select: $('evaluation'), summary: $('evaluation-summary'), confusion: $('confusion'), aePanel: $('evaluation-ae'), embeddingPanel: $('evaluation-embedding') });
const embedding = createEmbeddingPanel({
  checks: $('embedding-datasets'), canvas: $('embedding'), legend: $('embedding-legend'), note: $('embedding-note'), button: $('embedding-run'),
  colourInputs: [...document.querySelectorAll('input[name="colour"]')],
});

let focusId = new URL(location.href).searchParams.get('job');
let autoFocused = false;
const lastStatus = new Map();

const jobs = createJobsPanel({
  list: $('jobs'),
  count: $('jobs-count'),
  onSelect: (id) => focus(id, true),
  onProgress: (p, job) => {
    stream.progress(p, job);
    training.progress(p);
    // An engine's state changes with its jobs': show it without waiting for the next poll.
    if (lastStatus.get(p.jobId) !== p.status) {
      lastStatus.set(p.jobId, p.status);
      engines();
      setTimeout(engines, 1000); // after the engine's next heartbeat has listed the job
    }
  },
  onJobs: (list) => {
    // Without ?job=, follow the newest running job (else the newest job) until a person picks one.
    if (!focusId || autoFocused) {
      const pick = list.find((j) => j.status === 'RUNNING') ?? list.find((j) => j.status === 'QUEUED') ?? list[0];
      if (pick && pick.id !== focusId) {
        autoFocused = true;
        focus(pick.id, false);
      }
    }
    const f = list.find((j) => j.id === focusId);
    if (f) stream.update(f);
    training.jobs(list, focusId);
  },
});

async function focus(id, fromPerson) {
  if (fromPerson) {
    autoFocused = false;
    const u = new URL(location.href);
    u.searchParams.set('job', id);
    history.replaceState(null, '', u);
  }
  focusId = id;
  jobs.setFocus(id);
  try {
    const j = jobs.get(id) ?? (await gql(`query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id })).job;
    if (focusId !== id) return;
    jobs.track(j);
    if (j.kind === 'train-autoencoder') training.focus(j.id);
    await stream.focus(j);
  } catch (e) {
    $('stream-head').replaceChildren(h('span', { class: 'error' }, `job ${id}: ${e.message}`));
  }
}

async function engines() {
  const box = $('engines');
  try {
    const d = await gql('{ engineStatus { id hostname pid alive currentJobs memory { rssMb } runtimes { name backend device } models { kind name } } }');
    if (!d.engineStatus.length) {
      box.replaceChildren(h('span', { class: 'engine down' }, h('span', { class: 'dot' }), 'no engine running'));
      return;
    }
    box.replaceChildren(
      ...d.engineStatus.map((e) =>
        h('span', { class: `engine ${e.alive ? 'up' : 'down'}`, title: `${e.id}\nmodels: ${e.models.map((m) => `${m.kind} ${m.name}`).join(', ') || 'none'}` },
          h('span', { class: 'dot' }),
          h('b', {}, `${e.hostname}:${e.pid}`),
          h('span', { class: 'muted' }, ` ${e.alive ? (e.currentJobs.length ? `${e.currentJobs.length} job${e.currentJobs.length > 1 ? 's' : ''}` : 'idle') : 'silent'} · ${Math.round(e.memory.rssMb)} MB`),
          ...e.runtimes.map((r) => h('span', { class: 'runtime' }, `${r.name} ${r.backend}/${r.device}`)),
        ),
      ),
    );
  } catch (e) {
    box.replaceChildren(h('span', { class: 'error' }, `engines: ${e.message}`));
  }
}

onConnection((state) => {
  const el = $('connection');
  el.className = `conn ${state}`;
  el.textContent = state === 'live' ? '● live' : state === 'connecting' ? '◌ connecting' : '○ idle';
});

const safely = (fn) => () => fn().catch(() => undefined);
if (focusId) focus(focusId, false);
await Promise.all([jobs.refresh(), engines(), safely(evaluation.refresh)(), safely(embedding.refresh)()]);
setInterval(jobs.refresh, 2000);
setInterval(engines, 2000);
setInterval(safely(evaluation.refresh), 10_000);
setInterval(safely(embedding.refresh), 15_000);
