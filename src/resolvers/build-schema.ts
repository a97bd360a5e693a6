// Builds the executable schema from the resolvers; a global middleware guards every mutation (the
// read-write token) and counts uploads against the caller's allowance.
import 'reflect-metadata';
import { buildSchema, type MiddlewareFn } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { DatasetResolver } from './dataset.resolver.js';
import { ImageResolver } from './image.resolver.js';
import { CellResolver } from './cell.resolver.js';
import { JobResolver } from './job.resolver.js';
import { CatalogResolver } from './catalog.resolver.js';
import { DetectResolver } from './detect.resolver.js';
import { TrainResolver } from './train.resolver.js';
import { EvaluationResolver, ModelResolver } from './model.resolver.js';
import { AnalyzeJobResultResolver, ClassifyJobResultResolver, EvaluateJobResultResolver } from './job-result.resolver.js';
import { CellConnectionResolver, ImageConnectionResolver } from './connection.resolver.js';
import { ReviewResolver } from './review.resolver.js';
import type { GraphQLContext } from '../schema/context.js';
import { forbidden, unauthenticated } from '../schema/errors.js';

export const resolvers = [
  DatasetResolver, ImageResolver, CellResolver, JobResolver, CatalogResolver, DetectResolver, TrainResolver,
  ModelResolver, EvaluationResolver, ClassifyJobResultResolver, AnalyzeJobResultResolver, EvaluateJobResultResolver,
  CellConnectionResolver, ImageConnectionResolver, ReviewResolver,
] as const;

const requireTokenForMutations: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  if (info.parentType.name === 'Mutation' && !info.path.prev) {
    if (!context.mayMutate) throw context.access === 'read' ? forbidden() : unauthenticated();
    if (/^upload/i.test(info.fieldName)) await context.countUpload();
  }
  return next();
};

/**
 * type-graphql insists on a PubSub whenever a schema has subscriptions, even when every subscription
 * brings its own `subscribe` (ours read PostgreSQL NOTIFY through the hub, so that events from engine
 * processes reach every API process). This in-process one satisfies it and is not used by our resolvers.
 */
function inProcessPubSub() {
  const target = new EventTarget();
  return {
    publish(routingKey: string, ...args: unknown[]): void {
      target.dispatchEvent(new CustomEvent(routingKey, { detail: args[0] }));
    },
    subscribe(routingKey: string): AsyncIterable<unknown> {
      return {
        [Symbol.asyncIterator]() {
          const queue: unknown[] = [];
          let wake: (() => void) | null = null;
          const listener = (e: Event) => {
            queue.push((e as CustomEvent).detail);
            wake?.();
          };
          target.addEventListener(routingKey, listener);
          return {
            async next() {
              while (queue.length === 0) await new Promise<void>((r) => (wake = r));
              return { done: false, value: queue.shift() };
            },
            async return() {
              target.removeEventListener(routingKey, listener);
              return { done: true, value: undefined };
            },
          };
        },
      };
    },
  };
}

export function buildLeukographSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    pubSub: inProcessPubSub(),
    globalMiddlewares: [requireTokenForMutations],
    validate: false,
    emitSchemaFile: false,
  });
}
