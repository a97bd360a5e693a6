// What every resolver receives: the services, what the caller may do, and its upload allowance.
import type { Services } from '../services/index.js';

export interface GraphQLContext {
  services: Services;
  /** 'write' with the read-write token or when no token is configured; 'read' with the read-only token. */
  access: 'none' | 'read' | 'write';
  /** access === 'write'. */
  mayMutate: boolean;
  /** Base URL for links to image bytes and crops. */
  baseUrl: string;
  /** Counts one upload against the caller's per-minute allowance; throws TOO_MANY_REQUESTS past it. */
  countUpload(): Promise<void>;
}
