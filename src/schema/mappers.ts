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
import { cutByBorder } from '../engine/detector/border.js';

export function toDataset(d: DatasetEntity): DatasetType {
  return {
    id: d.id, name: d.name, description: d.description, stain: d.stain, scanner: d.scanner, layout: d.layout,
    sourcePath: d.sourcePath, classOverrides: d.classOverrides, createdAt: d.createdAt,
  };
}

export function toImage(i: ImageEntity, baseUrl: string): ImageType {
  return {
    id: i.id, datasetId: i.datasetId, sourcePath: i.sourcePath, sha256: i.sha256, width: i.width, height: i.height,
    format: i.format, bytes: i.bytes, rawLabel: i.rawLabel, subtype: i.subtype, cellType: i.cellType, split: i.split,
    url: `${baseUrl}/images/${i.id}`, createdAt: i.createdAt,
  };
}

export function toCell(c: CellEntity, baseUrl: string): CellType {
  const p = c.prediction;
  return {
    id: c.id, imageId: c.imageId, detectorId: c.detectorId, index: c.index, box: c.box, score: c.score, mask: c.mask,
    // The mask's size is the image's [height, width].
    cutByBorder: c.mask ? cutByBorder(c.box, c.mask.size[1]!, c.mask.size[0]!) : null,
    latent: c.latent,
    prediction: p
      ? {
          label: p.label,
          probabilities: Object.entries(p.probabilities).map(([label, probability]) => ({ label, probability })),
          flagged: p.flagged,
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
    id: j.id, kind: j.kind, status: j.status as JobStatusEnum, progress: j.progress, done: j.done, total: j.total,
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
    id: m.id, kind: m.kind, name: m.name, version: m.version, preset: m.preset, metrics: m.metrics, params: m.params,
    artifactPath: m.artifactPath, checksum: m.checksum, active: m.active, datasetIds: m.datasetIds, jobId: m.jobId,
    parentId: m.parentId, createdAt: m.createdAt,
  };
}

export function toEvaluation(e: EvaluationEntity): EvaluationType {
  return { id: e.id, jobId: e.jobId, name: e.name, report: e.report, createdAt: e.createdAt };
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
