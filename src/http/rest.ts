// Plain HTTP beside /graphql, for bytes that do not belong in JSON: image files, uploads. Every route
// needs the read token (when one is configured); uploads need the read-write one.
import express, { type Router, type Request, type Response, type NextFunction, type RequestHandler } from 'express';
import type { Services } from '../services/index.js';
import { BadInputError, DomainError, NotFoundError, isDatabaseUnavailable } from '../services/errors.js';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { jobObjectKey, NotOnThisMachine } from '../storage/blobs.js';
import { isObjectNotFound } from '../storage/object-store.js';
import { uploadAllowance, type ClientLimits } from './guard.js';
import { toImage } from '../schema/mappers.js';
import { overlayPng } from '../imaging/cell-crop.js';
import { parseId } from '../schema/ids.js';
import { logger } from '../logger.js';
import { DATABASE_UNAVAILABLE } from '../schema/errors.js';
import { formFiles, isMultipart, multipartForm } from './multipart.js';

const log = logger('http');

const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', tiff: 'image/tiff', bmp: 'image/bmp' };

function sendError(res: Response, err: unknown): void {
  if (res.headersSent) {
    // A stream that broke part-way: the client sees a cut response, not a second status.
    log.warn('response cut off', { err: err as Error });
    res.destroy();
    return;
  }
  if (isObjectNotFound(err) || err instanceof NotOnThisMachine) {
    // A row whose bytes this process cannot reach (removed from the store, or another machine's file).
    // The details (paths, host names) go to the log, not to the client.
    log.warn('stored bytes missing', { err: err as Error });
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'the stored bytes are not available to this server (its log says why)' } });
    return;
  }
  if (err instanceof DomainError) {
    const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'CONFLICT' ? 409 : 400;
    res.status(status).json({ error: { code: err.code, message: err.message } });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE } });
    return;
  }
  log.error('unexpected error', { err: err as Error });
  res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
}

export function restRoutes(services: Services, baseUrl: () => string, gate: { read: RequestHandler; write: RequestHandler; uploads: ClientLimits }): Router {
  const r = express.Router();
  const { read, write } = gate;
  const raw = express.raw({ type: () => true, limit: services.cfg.maxImageBytes });
  const form = multipartForm(services.cfg.maxImageBytes, join(services.cfg.dataDir, 'upload-forms'));

  r.get('/images/:id', read, async (req: Request, res: Response) => {
    try {
      const { image, body } = await services.images.stream(parseId(String(req.params.id)));
      res.type(MIME[image.format] ?? 'application/octet-stream');
      await pipeline(body, res);
    } catch (err) {
      sendError(res, err);
    }
  });

  // A cell with its mask outline drawn, cropped around its box (Cell.cropUrl).
  r.get('/cells/:id/crop.png', read, async (req: Request, res: Response) => {
    try {
      const cell = await services.catalog.cell(parseId(String(req.params.id)));
      const { data } = await services.images.bytes(cell.imageId);
      if (!cell.mask) throw new NotFoundError('mask of cell', cell.id);
      const png = await overlayPng(data, { box: cell.box as [number, number, number, number], mask: cell.mask });
      res.type('image/png').send(png);
    } catch (err) {
      sendError(res, err);
    }
  });

  // Input/reconstruction pairs that a training job saves every epoch.
  r.get('/jobs/:id/reconstructions/:epoch.png', read, async (req: Request, res: Response) => {
    try {
      const id = parseId(String(req.params.id));
      const epoch = Number(req.params.epoch);
      if (!Number.isInteger(epoch) || epoch < 1) throw new BadInputError('epoch must be a positive integer');
      await services.jobs.get(id);
      // Saved by whichever engine trained, into the object store that every process shares.
      let body;
      try {
        body = await services.store.read(jobObjectKey(id, `reconstructions-epoch-${epoch}.png`));
      } catch (err) {
        if (isObjectNotFound(err)) throw new NotFoundError('reconstruction of epoch', String(epoch));
        throw err;
      }
      res.type('image/png');
      await pipeline(body, res);
    } catch (err) {
      sendError(res, err);
    }
  });

  // A dataset's latents as CSV: cell, image, label, then the 50 latent values.
  r.get('/datasets/:id/latents.csv', read, async (req: Request, res: Response) => {
    try {
      const id = parseId(String(req.params.id));
      await services.datasets.get(id);
      const rows: { cell_id: string; image_id: string; source_path: string; cell_type: string | null; latent: number[] }[] = await services.ds.query(
        `SELECT c.id AS cell_id, i.id AS image_id, i.source_path, i.cell_type, c.latent FROM cells c JOIN images i ON i.id = c.image_id
          WHERE i.dataset_id = $1 AND c.latent IS NOT NULL ORDER BY i.source_path, c.index`,
        [id],
      );
      const dim = rows[0]?.latent.length ?? 50;
      const q = (s: string | null) => (s === null ? '' : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      const head = ['cell_id', 'image_id', 'source_path', 'cell_type', ...Array.from({ length: dim }, (_, i) => `z${i}`)].join(',');
      res.type('text/csv').send([head, ...rows.map((r) => [r.cell_id, r.image_id, q(r.source_path), q(r.cell_type), ...r.latent].join(','))].join('\n') + '\n');
    } catch (err) {
      sendError(res, err);
    }
  });

  // A dataset's review audit trail as CSV (every review, undone ones included, oldest first).
  r.get('/datasets/:id/reviews.csv', read, async (req: Request, res: Response) => {
    try {
      const id = parseId(String(req.params.id));
      await services.datasets.get(id);
      res.type('text/csv').attachment(`reviews-${id}.csv`).send(await services.reviews.trailCsv(id));
    } catch (err) {
      sendError(res, err);
    }
  });

  /**
   * POST /upload?datasetId=...&filename=...&label=... with the raw file as the body, or a multipart form
   * (multipart.ts): the way for a client to send images from its own disk or a browser without base64.
   * Same checks as the uploadImage mutation.
   */
  r.post(
    '/upload',
    write,
    uploadAllowance(gate.uploads),
    (req: Request, res: Response, next: NextFunction) => (isMultipart(req) ? form(req, res, next) : raw(req, res, next)),
    async (req: Request, res: Response) => {
      // A form's files wait in a temporary folder until they are read, and go whatever happens.
      const form = isMultipart(req) ? formFiles(req) : null;
      try {
        const field = (name: string) => (form ? (req.body as Record<string, unknown> | undefined)?.[name] : undefined) ?? req.query[name];
        const datasetId = parseId(String(field('datasetId') ?? ''), 'datasetId');
        const label = field('label') ? String(field('label')) : null;
        const upload = async (filename: string, data: Buffer) => {
          const r2 = await services.images.upload(datasetId, filename, data, label);
          return { image: toImage(r2.image, baseUrl()), created: r2.created };
        };
        // A raw body, or a form of one file: one image. Several files: one entry per file, in order, each stored or refused alone.
        if (!form || form.files.length === 1) {
          const one = form
            ? await upload(form.files[0]!.filename, await form.files[0]!.read())
            : await upload(String(req.query.filename ?? ''), Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
          res.status(one.created ? 201 : 200).json(one);
          return;
        }
        if (form.files.length === 0) throw new BadInputError('the form has no file');
        const uploads = [];
        for (const f of form.files) {
          try {
            uploads.push({ filename: f.filename, ...(await upload(f.filename, await f.read())) });
          } catch (err) {
            if (!(err instanceof DomainError) || err.code !== 'BAD_USER_INPUT') throw err;
            uploads.push({ filename: f.filename, error: { code: err.code, message: err.message } });
          }
        }
        res.status(uploads.some((u) => 'image' in u) ? 200 : 400).json({ uploads });
      } catch (err) {
        sendError(res, err);
      } finally {
        await form?.done();
      }
    },
  );

  // Body-parser's own errors (too large) as JSON with a clear message.
  r.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'BAD_USER_INPUT', message: `file is over the limit of ${services.cfg.maxImageBytes} bytes` } });
      return;
    }
    next(err);
  });
  return r;
}
