// Entity rows -> GraphQL objects. Kept apart so that internal columns (storage paths, queue ids) never
// reach the API by accident.
import type { CellEntity, DatasetEntity, EngineEntity, EvaluationEntity, ImageEntity, JobEntity, ModelEntity } from '../db/entities/index.js';
import type { JobEvent } from '../pubsub/events.js';
import type { DatasetType } from './types/dataset.type.js';
import type { ImageType } from './types/image.type.js';
import type { CellType } from './types/cell.type.js';
import type { JobItemEventType, JobProgressType, JobStatusEnum, JobType } from './types/job.type.js';
import type { EvaluationType, ModelType } from './types/model.type.js';
import type { EngineInstanceType } from './types/engine.type.js';
import { cellCutByBorder, type JobScope } from '../services/job-results.service.js';
import { flagReasonOf } from '../../client-sdk/src/differential-count.js';
import type { FlagReasonEnum, CellType as CellTypeName, JobKind, ModelKind } from './enums.js';
import { AnalyzeJobResultType, ClassifyJobResultType, EvaluateJobResultType, type EvaluationScoreType } from './types/job-result.type.js';
import { selfCheckOf } from './types/self-check.type.js';

export function toDataset(d: DatasetEntity): DatasetType {
  return {
    id: d.id, name: d.name, description: d.description, stain: d.stain, scanner: d.scanner, layout: d.layout,
    sourcePath: d.sourcePath, classOverrides: d.classOverrides, createdAt: d.createdAt,
  };
}

export function toImage(i: ImageEntity, baseUrl: string): ImageType {
  return {
    id: i.id, datasetId: i.datasetId, sourcePath: i.sourcePath, sha256: i.sha256, width: i.width, height: i.height,
    format: i.format, bytes: i.bytes, rawLabel: i.rawLabel, subtype: i.subtype, cellType: i.cellType, canonicalType: i.cellType as CellTypeName | null, split: i.split,
    url: `${baseUrl}/images/${i.id}`, createdAt: i.createdAt,
  };
}

export function toCell(c: CellEntity, baseUrl: string): CellType {
  const p = c.prediction;
  const probabilities = p ? Object.entries(p.probabilities).map(([label, probability]) => ({ label, probability })) : [];
  return {
    id: c.id, imageId: c.imageId, detectorId: c.detectorId, index: c.index, box: c.box, score: c.score, mask: c.mask,
    cutByBorder: cellCutByBorder(c.box, c.mask),
    latent: c.latent,
    prediction: p
      ? {
          label: p.label,
          bestGuess: probabilities.reduce((a, b) => (b.probability > a.probability ? b : a), { label: p.label ?? '', probability: 0 }),
          probabilities,
          flagged: p.flagged,
          flagReason: p.flagged ? (flagReasonOf(p) as FlagReasonEnum) : null,
          reason: p.reason,
          modelId: p.modelId,
        }
      : null,
    cropUrl: `${baseUrl}/cells/${c.id}/crop.png`,
    createdAt: c.createdAt,
  };
}

export function toJob(j: JobEntity): JobType {
  const end = j.finishedAt ?? (j.status === 'running' ? new Date() : null);
  return {
    id: j.id, kind: j.kind, type: j.kind as JobKind, status: j.status as JobStatusEnum, progress: j.progress, done: j.done, total: j.total,
    message: j.message, params: j.params, result: j.result, error: j.error, attempts: j.attempts, engineId: j.engineId,
    cancelRequested: j.cancelRequested, createdAt: j.createdAt, startedAt: j.startedAt, finishedAt: j.finishedAt,
    durationMs: j.startedAt && end ? end.getTime() - j.startedAt.getTime() : null,
  };
}

export function toJobProgress(e: Extract<JobEvent, { type: 'progress' }>): JobProgressType {
  return {
    jobId: e.jobId, status: e.status as JobStatusEnum, done: e.done, total: e.total, progress: e.progress,
    message: e.message, metrics: e.metrics ?? null,
  };
}

export function toJobItem(e: Extract<JobEvent, { type: 'item' }>): JobItemEventType {
  return { jobId: e.jobId, itemKind: e.itemKind, itemId: e.itemId, index: e.index, ok: e.ok, error: e.error ?? null };
}

export function toModel(m: ModelEntity): ModelType {
  return {
    id: m.id, kind: m.kind, type: m.kind as ModelKind, name: m.name, version: m.version, preset: m.preset, metrics: m.metrics, heldOut: classifierScores(m.metrics.heldOut), params: m.params,
    artifactPath: m.artifactPath, checksum: m.checksum, active: m.active, datasetIds: m.datasetIds, jobId: m.jobId,
    parentId: m.parentId, createdAt: m.createdAt,
  };
}

export function toEvaluation(e: EvaluationEntity): EvaluationType {
  return { id: e.id, jobId: e.jobId, name: e.name, report: e.report, scores: evaluationScores(e.report), createdAt: e.createdAt };
}

// Readers of the JSON a handler or an evaluation wrote: a missing or mistyped value reads as null (or empty).
type Json = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const num0 = (v: unknown): number => num(v) ?? 0;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const jsonOrNull = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const obj = (v: unknown): Json => jsonOrNull(v) ?? {};
const interval = (v: unknown): number[] | null => {
  const ci = Array.isArray(v) ? v.map(num).filter((x): x is number => x !== null) : [];
  return ci.length === 2 ? ci : null;
};
const confusionOf = (v: unknown) => {
  const c = obj(v);
  return { labels: (c.labels as string[] | undefined) ?? [], matrix: (c.matrix as number[][] | undefined) ?? [] };
};

/** A trained classifier's held-out report (src/pipeline/metrics.ts ClassificationReport), typed; null when it has none. */
function classifierScores(v: unknown) {
  const r = jsonOrNull(v);
  if (!r || num(r.accuracy) === null) return null;
  return { n: num0(r.n), accuracy: num(r.accuracy)!, accuracyCi95: interval(r.accuracyCi95), balancedAccuracy: num(r.balancedAccuracy), macroF1: num(r.macroF1), confusion: confusionOf(r.confusion) };
}

/** The scores of an evaluation report (src/evaluation/pipeline.ts EvaluationReport): AE-CFE's domains, then each baseline's. */
export function evaluationScores(report: Json): EvaluationScoreType[] {
  const methods: [string, Json][] = [['ae_cfe', obj(report.domains)], ...Object.entries(obj(report.baselines)).map(([m, b]): [string, Json] => [m, obj(obj(b).domains)])];
  return methods.flatMap(([method, domains]) =>
    Object.entries(domains).map(([domain, raw]) => {
      const d = obj(raw);
      const f = d.flags ? obj(d.flags) : null;
      return {
        method, domain, role: String(d.role ?? ''), n: num0(d.n), accuracy: num0(d.accuracy), accuracyCi95: interval(d.accuracy_ci95),
        balancedAccuracy: num(d.balanced_accuracy), macroF1: num(d.macro_f1), confusion: confusionOf(d.confusion),
        flags: f
          ? {
              n: num0(f.n), flagged: num0(f.flagged), novel: num0(f.novel), lowConfidence: num0(f.low_confidence), selfCheck: num0(f.self_check),
              minConfidence: num0(f.min_confidence), unflaggedAccuracy: num(obj(f.unflagged).accuracy), flaggedAccuracy: num(f.flagged_accuracy),
            }
          : null,
        selfCheck: selfCheckOf(d.selfCheck),
      };
    }),
  );
}

/** The typed result of a finished classify, analyze or evaluate job (null for other kinds, or before it has a result). */
export function toJobResult(job: JobScope & { id: string }) {
  const r = job.result;
  if (!r) return null;
  if (job.kind === 'classify') {
    return Object.assign(new ClassifyJobResultType(), {
      job, classified: num0(r.classified), flagged: num0(r.flagged), unreadable: num0(r.unreadable), features: str(r.features),
      classifierId: str(r.classifierId) ?? str(job.params.classifierId), stain: jsonOrNull(r.stain), consensus: jsonOrNull(r.consensus),
      selfTraining: jsonOrNull(r.selfTraining), selfCheck: selfCheckOf(r.selfCheck),
    });
  }
  if (job.kind === 'analyze') {
    const failures = Array.isArray(r.failures) ? (r.failures as Json[]).map((f) => ({ path: String(f.path ?? ''), reason: String(f.reason ?? '') })) : [];
    return Object.assign(new AnalyzeJobResultType(), {
      job, cells: num0(r.cells), flagged: num0(r.flagged), failed: num0(r.failed), failures, stages: Array.isArray(r.stages) ? r.stages.map(String) : [],
      detectorId: str(r.detectorId), autoencoderId: str(r.autoencoderId), classifierId: str(r.classifierId), stain: jsonOrNull(r.stain),
      selfCheck: selfCheckOf(r.selfCheck),
    });
  }
  if (job.kind === 'evaluate') {
    return Object.assign(new EvaluateJobResultType(), { jobId: job.id, evaluationId: str(r.evaluationId) });
  }
  return null;
}

export function toEngine(e: EngineEntity, staleMs: number): EngineInstanceType {
  return {
    id: e.id, hostname: e.hostname, pid: e.pid, startedAt: e.startedAt, heartbeatAt: e.heartbeatAt,
    alive: Date.now() - e.heartbeatAt.getTime() < staleMs,
    runtimes: e.status.runtimes.map((r) => ({ ...r, detail: r.detail ?? null })),
    models: e.status.models, memory: e.status.memory, currentJobs: e.status.currentJobs,
    gpu: e.status.capabilities?.gpu ?? null, gpuDetail: e.status.capabilities?.gpuDetail ?? null,
    kinds: e.status.capabilities?.kinds ?? null, storage: e.status.capabilities?.storage ?? null,
  };
}
