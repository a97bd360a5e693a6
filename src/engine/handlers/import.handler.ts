// The import job: reads every image of a folder layout, checks it, and stores a row per good image.
// A bad file fails alone (its reason is kept in the job's result); a rerun inserts only what is missing.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobContext } from '../job-context.js';
import type { ImportParams, JobOutcome } from '../../jobs/job-kinds.js';
import { readLayout } from '../../services/dataset-layouts.js';
import { inspectImage, ImageRejected } from '../../imaging/image-codec.js';
import { harmonise } from '../../pipeline/class-maps.js';

const MAX_LISTED_FAILURES = 200;

export async function runImport(ctx: JobContext<ImportParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const dataset = await ctx.repos.dataset(p.datasetId);
  if (!dataset) return { status: 'failed', error: `dataset ${p.datasetId} no longer exists` };
  // The folder is read on this engine's machine: one that cannot see it says so (an engine elsewhere may).
  const unseen = await ctx.blobs.folderProblem(p.path);
  if (unseen) return { status: 'failed', error: unseen };
  const { entries: all, skipped } = await readLayout(p.path, p.root, p.layout);
  const entries = p.maxPerClass ? capPerClass(all, p.maxPerClass) : all;
  const failures: { path: string; reason: string }[] = [];
  let failed = 0;
  let created = 0;
  let existing = 0;
  await ctx.progress(0, entries.length, `importing ${entries.length} images`);
  for (let i = 0; i < entries.length; i++) {
    if (ctx.cancelled()) {
      return { status: 'cancelled', result: { created, existing, failed, failures, seen: i } };
    }
    const e = entries[i];
    try {
      const data = await readFile(e.absPath);
      const info = await inspectImage(data, { maxBytes: ctx.cfg.maxImageBytes, maxPixels: ctx.cfg.maxImagePixels });
      const r = await ctx.repos.images.insert({
        // Copied into a shared store (postgres:, s3:), so that every engine reads it; by path in a file: store.
        datasetId: p.datasetId, sourcePath: e.relPath, storagePath: await ctx.blobs.importedImage(e.absPath, data, info), info, rawLabel: e.rawLabel, subtype: e.subtype,
        cellType: harmonise(e.rawLabel, e.subtype, dataset.classOverrides), split: e.split, jobId: ctx.jobId,
      });
      if (r.created) created++;
      else existing++;
      await ctx.item({ itemKind: 'image', itemId: r.id, index: i, ok: true });
    } catch (err) {
      // Bad files (rejected content, unreadable paths) fail alone; anything else (the database) fails the run.
      if (!(err instanceof ImageRejected) && (err as NodeJS.ErrnoException).syscall === undefined) throw err;
      failed++;
      const reason = (err as Error).message;
      if (failures.length < MAX_LISTED_FAILURES) failures.push({ path: e.relPath, reason });
      await ctx.item({ itemKind: 'image', itemId: e.relPath, index: i, ok: false, error: reason.slice(0, 500) });
    }
    if (p.throttleMs && ctx.cfg.testHooks) await sleep(p.throttleMs);
    await ctx.progress(i + 1, entries.length, `${created + existing} imported, ${failed} refused`);
  }
  return {
    status: 'succeeded',
    result: { created, existing, failed, failures, skipped: skipped.slice(0, MAX_LISTED_FAILURES), skippedCount: skipped.length },
    message: `${created} new, ${existing} already present, ${failed} refused${skipped.length ? `, ${skipped.length} files skipped (see result.skipped)` : ''}`,
  };
}

/** The first n images of each class, in path order, so that a capped import is reproducible. */
function capPerClass<T extends { rawLabel: string | null }>(entries: T[], n: number): T[] {
  const seen = new Map<string, number>();
  return entries.filter((e) => {
    const k = e.rawLabel ?? '';
    const c = seen.get(k) ?? 0;
    seen.set(k, c + 1);
    return c < n;
  });
}
