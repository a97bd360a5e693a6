// One handler per job kind. Kinds without a handler in this engine are refused at start-up rather than
// left to fail at run time.
import type { JobKind, JobOutcome } from '../../jobs/job-kinds.js';
import type { JobContext } from '../job-context.js';
import { runImport } from './import.handler.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobHandler = (ctx: JobContext<any>) => Promise<JobOutcome>;

export const handlers: Partial<Record<JobKind, JobHandler>> = {
  import: runImport,
};
