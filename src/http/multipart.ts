// POST /upload as a browser sends a form: multipart/form-data with one or more image files (field `file`,
// or any field name) and the fields datasetId and label (or the same as query parameters). multer writes
// each file to a temporary folder (bounded by the image size limit), so that a form of many images is read
// one file at a time; every file then gets the same checks as the raw body and the uploadImage mutation
// (ImageService.upload). One bad file is refused with its reason and the others are stored.
import multer from 'multer';
import { readFile, rm } from 'node:fs/promises';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Files in one form; a larger batch is several requests. */
export const MAX_FORM_FILES = 100;

export function isMultipart(req: Request): boolean {
  return req.is('multipart/form-data') === 'multipart/form-data';
}

/** Parses a multipart form into req.files / req.body; answers 400/413 with the usual JSON error when it cannot. */
export function multipartForm(maxFileBytes: number, tmpDir: string): RequestHandler {
  const parse = multer({
    storage: multer.diskStorage({ destination: tmpDir }),
    limits: { fileSize: maxFileBytes, files: MAX_FORM_FILES, fields: 20, fieldSize: 64 * 1024 },
  }).any();
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { code?: string; message?: string };
      const tooLarge = e.code === 'LIMIT_FILE_SIZE';
      const message = tooLarge
        ? `file is over the limit of ${maxFileBytes} bytes`
        : e.code === 'LIMIT_FILE_COUNT'
          ? `at most ${MAX_FORM_FILES} files per form`
          : `malformed multipart form: ${e.message ?? String(err)}`;
      res.status(tooLarge ? 413 : 400).json({ error: { code: 'BAD_USER_INPUT', message } });
    });
  };
}

export interface FormFile {
  filename: string;
  read(): Promise<Buffer>;
}

/** The form's files, whatever their field names, read on demand; `done()` removes them (call it in a finally). */
export function formFiles(req: Request): { files: FormFile[]; done: () => Promise<void> } {
  const files = (req.files ?? []) as Express.Multer.File[];
  return {
    files: files.map((f) => ({ filename: f.originalname, read: () => readFile(f.path) })),
    done: async () => {
      await Promise.all(files.map((f) => rm(f.path, { force: true })));
    },
  };
}
