// What every resolver receives: the services, what the caller may do, its upload allowance, and this
// request's loaders for relation fields.
import type { Services } from '../services/index.js';
import { createLoaders, type Loaders } from './loaders.js';

export type Access = 'none' | 'read' | 'write';

export interface GraphQLContext {
  services: Services;
  /** 'write' with the read-write token or when no token is configured; 'read' with the read-only token. */
  access: Access;
  /** access === 'write'. */
  mayMutate: boolean;
  /** Base URL for links to image bytes and crops. */
  baseUrl: string;
  loaders: Loaders;
  /**
   * Who reviews: the SHA-256 (hex) of the bearer token the request presented, stored with each review so a
   * lab can tell its reviewers' tokens apart without the tokens ever being stored; null without a token.
   */
  reviewer: string | null;
  /** Counts one upload against the caller's per-minute allowance; throws TOO_MANY_REQUESTS past it. */
  countUpload(): Promise<void>;
  /**
   * Test hooks (LEUKOGRAPH_TEST_HOOKS=1 only, never in the schema): a per-image pause for imports started by
   * this request, from its `x-leukograph-test-throttle-ms` header, so that a test can act mid-job.
   */
  testThrottleMs?: number;
}

export const TEST_THROTTLE_HEADER = 'x-leukograph-test-throttle-ms';

/** The context of one HTTP request or one subscription (`stream`: loaders without a cache). */
export function createContext(
  services: Services,
  req: {
    access: Access; baseUrl: string; countUpload: () => Promise<void>; header: (name: string) => string | undefined; stream?: boolean;
    /** The SHA-256 of the bearer token presented (http/auth.ts reviewerOf), or null. */
    reviewer?: string | null;
  },
): GraphQLContext {
  const throttle = services.cfg.testHooks ? Number(req.header(TEST_THROTTLE_HEADER) ?? NaN) : NaN;
  return {
    services,
    access: req.access,
    mayMutate: req.access === 'write',
    baseUrl: req.baseUrl,
    countUpload: req.countUpload,
    loaders: createLoaders(services.relations, { cache: !req.stream }),
    reviewer: req.access === 'write' ? (req.reviewer ?? null) : null,
    ...(Number.isInteger(throttle) && throttle > 0 ? { testThrottleMs: throttle } : {}),
  };
}
