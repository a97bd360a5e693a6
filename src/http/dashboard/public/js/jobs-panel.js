// The jobs list: recent jobs (polled), each running or queued one followed live through jobProgress.
// Every progress event is handed on, so the stream and training panels need no subscription of their own.
import { gql, subscribe } from './graphql.js';
import { h } from './charts.js';

export const JOB_FIELDS = 'id kind status progress done total message params error createdAt startedAt finishedAt durationMs typedResult { __typename ... on ClassifyJobResult { selfCheck { status warning } } ... on AnalyzeJobResult { selfCheck { status warning } } }';
const PROGRESS_SUB = 'subscription($id: ID!) { jobProgress(jobId: $id) { jobId status done total progress message metrics } }';
const LIVE = new Set(['QUEUED', 'RUNNING']);

export function statusBadge(status) {
  return h('span', { class: `badge ${String(status).toLowerCase()}` }, String(status).toLowerCase());
}

export function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/**
 * onProgress(event, job) for every jobProgress event; onJobs(jobs) after each poll; onSelect(id) when a
 * job is clicked. Returns { jobs(), get(id), setFocus(id), refresh(), track(job) }.
 */
export function createJobsPanel({ list, count, onProgress, onJobs, onSelect }) {
  let jobs = [];
  let focus = null;
  const subs = new Map();

  function follow(job) {
    if (subs.has(job.id) || !LIVE.has(job.status)) return;
    const stop = subscribe(PROGRESS_SUB, { id: job.id }, {
      next: ({ jobProgress: p }) => {
        const j = jobs.find((x) => x.id === p.jobId) ?? job;
        Object.assign(j, { status: p.status, done: p.done, total: p.total, progress: p.progress, message: p.message ?? j.message });
        render();
        onProgress(p, j);
        if (!LIVE.has(p.status)) setTimeout(refresh, 300);
      },
      complete: () => subs.delete(job.id),
      error: () => subs.delete(job.id),
    });
    subs.set(job.id, stop);
  }

  function row(j) {
    const pct = Math.round((j.progress ?? 0) * 100);
    return h(
      'li',
      { class: `job${j.id === focus ? ' focused' : ''}`, 'data-job': j.id, 'data-status': j.status, tabindex: 0, onclick: () => onSelect(j.id), onkeydown: (e) => e.key === 'Enter' && onSelect(j.id) },
      h('div', { class: 'job-line' }, h('span', { class: 'kind' }, j.kind), statusBadge(j.status), h('span', { class: 'when muted' }, j.status === 'RUNNING' ? `${pct} %` : ago(j.finishedAt ?? j.createdAt))),
      h('div', { class: 'bar', title: `${pct} %` }, h('span', { style: `width:${pct}%` })),
      h('div', { class: `job-msg muted${selfCheckOf(j) ? ` selfcheck-${selfCheckOf(j).status.toLowerCase()}` : ''}` }, j.error ?? j.message ?? `${j.done}${j.total ? ` / ${j.total}` : ''}`),
    );
  }

  function render() {
    list.replaceChildren(...jobs.map(row));
    count.textContent = jobs.length ? `(${jobs.filter((j) => LIVE.has(j.status)).length} live)` : '';
    if (!jobs.length) list.append(h('li', { class: 'muted empty' }, 'No jobs yet.'));
  }

  async function refresh() {
    try {
      const d = await gql(`{ jobs(limit: 30) { items { ${JOB_FIELDS} } } }`);
      const fresh = d.jobs.items;
      // Keep live numbers a subscription brought in if the poll raced behind them.
      for (const f of fresh) {
        const old = jobs.find((j) => j.id === f.id);
        if (old && LIVE.has(f.status) && old.done > f.done) Object.assign(f, { done: old.done, progress: old.progress, message: old.message });
      }
      jobs = fresh;
      for (const j of jobs) follow(j);
      render();
      onJobs(jobs);
    } catch (e) {
      list.replaceChildren(h('li', { class: 'error' }, `jobs: ${e.message}`));
    }
  }

  return {
    jobs: () => jobs,
    get: (id) => jobs.find((j) => j.id === id) ?? null,
    setFocus(id) {
      focus = id;
      render();
    },
    refresh,
    /** Follows a job that may not be in the list (an old one opened with ?job=). */
    track: follow,
  };
}

/**
 * A classify job's self-check when it did not pass ({ status: 'FAILED' | 'WARNING', warning }), else null: from its
 * typed result, or, while the result is not loaded yet, from the message the job ends with.
 */
export function selfCheckOf(job) {
  const c = job?.typedResult?.selfCheck;
  if (c) return c.status === 'PASSED' ? null : c;
  const m = job?.message ?? '';
  if (m.startsWith('SELF-CHECK FAILED')) return { status: 'FAILED', warning: m };
  if (m.startsWith('Self-check warning')) return { status: 'WARNING', warning: m };
  return null;
}
