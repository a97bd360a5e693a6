// The package's entry: the client, its errors, and every generated document and type.
export { createLeukographClient, LeukographClient, type LeukographClientOptions, type JobProgressEvent, type VariablesArg } from './client.js';
export { LeukographError, BadInputError, NotFoundError, UnauthenticatedError, ConflictError, ServerError, NetworkError, JobFailedError, type ServerErrorEntry } from './errors.js';
export type { Cell, CellStream, AnalyzeOptions } from './cell-stream.js';
export { safeFilename, type ImageSource, type UploadResult, type UploadedImage } from './upload.js';
export * from './generated/graphql.js';
