// The events that travel from engines to API processes through PostgreSQL NOTIFY. Payloads stay small
// (NOTIFY's limit is 8 kB): ids and short summaries; large things are fetched by id.
export type JobEvent =
  | {
      type: 'progress';
      jobId: string;
      status: string;
      done: number;
      total: number | null;
      progress: number;
      message: string | null;
      /** Small numeric measurements of this step (losses, rates). */
      metrics?: Record<string, number>;
    }
  | { type: 'item'; jobId: string; itemKind: 'image' | 'cell'; itemId: string; index: number; ok: boolean; error?: string }
  | { type: 'cancel'; jobId: string }
  /** A cell of the dataset was reviewed, or a review undone (src/services/review.service.ts). */
  | { type: 'review'; datasetId: string; reviewId: string; action: 'reviewed' | 'undone' }
  | { type: 'wake'; queue: string };

export const EVENTS_CHANNEL = 'leukograph_events';
