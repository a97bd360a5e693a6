// Relations of models and evaluations: the datasets a model was trained on, the job that made it, its
// parent (a classifier's autoencoder), and an evaluation's job, each read through the request's loaders.
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { EvaluationType, ModelType } from '../schema/types/model.type.js';
import { DatasetType } from '../schema/types/dataset.type.js';
import { JobType } from '../schema/types/job.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { toDataset, toJob, toModel } from '../schema/mappers.js';

async function jobOf(id: string | null, ctx: GraphQLContext): Promise<JobType | null> {
  const j = id ? await ctx.loaders.job.load(id) : null;
  return j && toJob(j);
}

@Resolver(() => ModelType)
export class ModelResolver {
  @FieldResolver(() => [DatasetType], { description: 'The datasets it was trained on (those that still exist)' })
  async datasets(@Root() m: ModelType, @Ctx() ctx: GraphQLContext): Promise<DatasetType[]> {
    return (await ctx.loaders.dataset.loadMany(m.datasetIds)).flatMap((d) => (d && !(d instanceof Error) ? [toDataset(d)] : []));
  }

  @FieldResolver(() => JobType, { nullable: true, description: 'The job that made it (null for bundled models)' })
  job(@Root() m: ModelType, @Ctx() ctx: GraphQLContext): Promise<JobType | null> {
    return jobOf(m.jobId, ctx);
  }

  @FieldResolver(() => ModelType, { nullable: true, description: "The model it builds on (a latent classifier's autoencoder)" })
  async parent(@Root() m: ModelType, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
    const p = m.parentId ? await ctx.loaders.model.load(m.parentId) : null;
    return p && toModel(p);
  }
}

@Resolver(() => EvaluationType)
export class EvaluationResolver {
  @FieldResolver(() => JobType, { nullable: true, description: 'The evaluate job that made it' })
  job(@Root() e: EvaluationType, @Ctx() ctx: GraphQLContext): Promise<JobType | null> {
    return jobOf(e.jobId, ctx);
  }
}
