// What every resolver receives: the services and whether the caller may run mutations.
import type { Services } from '../services/index.js';

export interface GraphQLContext {
  services: Services;
  /** True when no token is configured or the request carried the right one. */
  mayMutate: boolean;
  /** Base URL for links to image bytes and crops. */
  baseUrl: string;
}
