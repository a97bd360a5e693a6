import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { JobItemEventType, JobPageType, JobProgressType, JobStatusEnum, JobType } from '../schema/types/job.type.js';
import { CellType } from '../schema/types/cell.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toCell, toJob, toJobItem, toJobProgress, toJobResult } from '../schema/mappers.js';
import { JobKindEnum, eitherArg, type JobKind } from '../schema/enums.js';
import { JobResultUnion } from '../schema/types/job-result.type.js';
import { JOB_KINDS } from '../jobs/job-kinds.js';
import type { JobEvent } from '../pubsub/events.js';
import { jobProgressStream, jobEventStream } from '../services/job-streams.js';

type Progress = Extract<JobEvent, { type: 'progress' }>;
type Item = Extract<JobEvent, { type: 'item' }>;

@Resolver(() => JobType)
export class JobResolver {
  @Query(() => JobPageType)
  async jobs(
    @Ctx() ctx: GraphQLContext,
    @Arg('status', () => JobStatusEnum, { nullable: true }) status?: JobStatusEnum,
    @Arg('type', () => JobKindEnum, { nullable: true }) type?: JobKind,
    @Arg('kind', () => String, { nullable: true, deprecationReason: 'Use type (a JobKind); an unknown kind is refused' }) kind?: string,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<JobPageType> {
    const r = await ctx.services.jobs.list({ status: status ?? undefined, kind: eitherArg(type, kind, JOB_KINDS, ['type', 'kind']), ...parsePage(limit, offset) });
    return { items: r.items.map(toJob), total: r.total };
  }

  @Query(() => JobType, { nullable: true, description: 'Null when there is no job with this id' })
  async job(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<JobType | null> {
    const j = await ctx.services.jobs.find(parseId(id));
    return j && toJob(j);
  }

  @FieldResolver(() => JobResultUnion, { nullable: true, description: 'The typed result of a classify, analyze or evaluate job once it has one' })
  typedResult(@Root() j: JobType): typeof JobResultUnion | null {
    return toJobResult({ id: j.id, kind: j.kind, params: j.params, result: j.result });
  }

  @Mutation(() => JobType, { description: 'Cancels a job: at once if queued; a running job stops after its current item' })
  async cancelJob(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    return toJob(await ctx.services.jobs.cancel(parseId(id)));
  }

  @Subscription(() => JobProgressType, {
    description: "A job's progress: its current state first, then every change, ending when the job ends",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, GraphQLContext>) =>
      jobProgressStream(context.services, parseId(args.jobId, 'jobId')),
  })
  jobProgress(@Root() e: Progress, @Arg('jobId', () => ID) _jobId: string): JobProgressType {
    return toJobProgress(e);
  }

  @Subscription(() => JobItemEventType, {
    description: 'Every item a job processes (images imported, cells found), until the job ends',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, GraphQLContext>) =>
      jobEventStream(context.services, parseId(args.jobId, 'jobId'), () => true),
  })
  jobItems(@Root() e: Item, @Arg('jobId', () => ID) _jobId: string): JobItemEventType {
    return toJobItem(e);
  }

  @Subscription(() => CellType, {
    description: 'Each cell a job stores (detections, features, predictions), as it is stored, until the job ends',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, GraphQLContext>) =>
      jobEventStream(context.services, parseId(args.jobId, 'jobId'), (e) => e.itemKind === 'cell' && e.ok),
  })
  async jobCells(@Root() e: Item, @Arg('jobId', () => ID) _jobId: string, @Ctx() ctx: GraphQLContext): Promise<CellType> {
    return toCell(await ctx.services.catalog.cell(e.itemId), ctx.baseUrl);
  }
}
