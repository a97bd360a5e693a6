// An analysis in steps across engines: an engine that takes `analyze` but not `classify`
// (LEUKOGRAPH_ENGINE_KINDS) detects every image — cells into the database, their features into the object
// store — and hands the job on to the classify queue, where any engine that takes `classify` (another
// machine: it reads the features from the store) encodes and classifies the cells and streams them. One
// job throughout: a subscriber sees its steps' events and one end. An engine that takes both runs the whole
// chain itself, as before.
import { HANDED_ON_ITEMS, type JobContext } from '../job-context.js';
import type { AnalyzeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { runDetect } from './detect.handler.js';
import { runAnalyze } from './analyze.handler.js';

interface DetectStep {
  engineId: string;
  detectorId: string;
  cells: number;
  failed: number;
  failures: { path: string; reason: string }[];
}

export async function runAnalyzeInSteps(ctx: JobContext<AnalyzeParams>): Promise<JobOutcome> {
  if (ctx.step === 'classify') return classifyStep(ctx);
  if (ctx.engineTakes('classify')) return runAnalyze(ctx);
  // The detect step: the cells are streamed once, classified, by the next step; failed images now.
  const detect = await runDetect({
    ...ctx,
    params: { datasetId: ctx.params.datasetId, imageIds: ctx.params.imageIds, topOnly: ctx.params.topOnly },
    item: (e) => (e.ok ? Promise.resolve() : ctx.item(e)),
  });
  if (detect.status !== 'succeeded') return detect;
  const r = detect.result as Record<string, unknown>;
  const step: DetectStep = {
    engineId: ctx.engineId, detectorId: r.detectorId as string, cells: (r.cells as number) + 0, failed: r.failed as number,
    failures: r.failures as DetectStep['failures'],
  };
  return {
    status: 'handed-on', to: 'classify', result: { detect: step, [HANDED_ON_ITEMS]: ctx.itemSummary() },
    message: `detected on engine ${ctx.engineId} (${detect.message}); waiting for an engine that classifies`,
  };
}

async function classifyStep(ctx: JobContext<AnalyzeParams>): Promise<JobOutcome> {
  const detect = (ctx.handedOn?.detect ?? null) as DetectStep | null;
  if (!detect) return { status: 'failed', error: 'an analysis reached its classify step without a detect step' };
  const p = ctx.params;
  // The images the detect step found cells in; the others failed or had none, and are not detected again here.
  const rows = await ctx.repos.cells.imagesWithCells({ datasetId: p.datasetId, imageIds: p.imageIds, detectorId: detect.detectorId });
  const steps = [{ step: 'detect', engineId: detect.engineId }, { step: 'classify', engineId: ctx.engineId }];
  if (rows.length === 0) {
    const result = { cells: 0, counts: {}, flagged: 0, failed: detect.failed, failures: detect.failures, steps };
    if (detect.failed > 0) return { status: 'failed', error: `no image could be analyzed: ${detect.failed} failed in the detect step (${detect.failures[0]?.reason ?? ''})`, result };
    return { status: 'succeeded', result, message: '0 cells (no image had a cell)' };
  }
  const out = await runAnalyze({ ...ctx, params: { imageIds: rows.map((r) => r.id), topOnly: p.topOnly } });
  if (out.status === 'handed-on') return out;
  const r = (out.result ?? {}) as Record<string, unknown>;
  const result = {
    ...r, steps,
    failed: ((r.failed as number) ?? 0) + detect.failed,
    failures: [...detect.failures, ...((r.failures as DetectStep['failures']) ?? [])].slice(0, 200),
  };
  if (out.status !== 'succeeded') return { ...out, result };
  return { status: 'succeeded', result, message: `${out.message ?? ''}; detected on engine ${detect.engineId}, classified on engine ${ctx.engineId}` };
}
