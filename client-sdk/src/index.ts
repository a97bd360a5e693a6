// The package's entry: the client, its errors, the differential count, the version check, and every generated document and type.
export { createLeukographClient, LeukographClient, type LeukographClientOptions, type JobProgressEvent, type VariablesArg } from './client.js';
export {
  LeukographError, BadInputError, NotFoundError, UnauthenticatedError, ConflictError, ServerError, NetworkError, JobFailedError, IncompatibleServerError,
  type ServerErrorEntry,
} from './errors.js';
export { SCHEMA_VERSION, compatibility, type Compatibility } from './version.js';
export {
  differentialCount, DifferentialTally, tallyOf, flagReasonOf, flagReasonText, differentialLine, differentialTable,
  type DifferentialCount, type CountableCell, type CellTally, type ClassShare, type ReasonCount, type FlagReasonName,
} from './differential-count.js';
export type { Cell, CellStream, AnalyzeOptions } from './cell-stream.js';
export { safeFilename, type ImageSource, type UploadResult, type UploadedImage } from './upload.js';
export * from './generated/graphql.js';
