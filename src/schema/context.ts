// What every resolver receives: the services, whether the caller may run mutations, and this request's
// loaders for relation fields.
import type { Services } from '../services/index.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface GraphQLContext {
  services: Services;
  /** True when no token is configured or the request carried the right one. */
  mayMutate: boolean;
  /** Base URL for links to image bytes and crops. */
  baseUrl: string;
  loaders: Loaders;
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
  req: { mayMutate: boolean; baseUrl: string; header: (name: string) => string | undefined; stream?: boolean },
): GraphQLContext {
  const throttle = services.cfg.testHooks ? Number(req.header(TEST_THROTTLE_HEADER) ?? NaN) : NaN;
  return {
    services,
    mayMutate: req.mayMutate,
    baseUrl: req.baseUrl,
    loaders: createLoaders(services.relations, { cache: !req.stream }),
    ...(Number.isInteger(throttle) && throttle > 0 ? { testThrottleMs: throttle } : {}),
  };
}
