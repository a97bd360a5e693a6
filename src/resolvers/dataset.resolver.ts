import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { DatasetStatsType, DatasetType } from '../schema/types/dataset.type.js';
import { JobType } from '../schema/types/job.type.js';
import { CreateDatasetInput, ImportDatasetInput, UpdateDatasetInput } from '../schema/inputs/dataset.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toDataset, toJob } from '../schema/mappers.js';

@Resolver(() => DatasetType)
export class DatasetResolver {
  @Query(() => [DatasetType])
  async datasets(@Ctx() ctx: GraphQLContext): Promise<DatasetType[]> {
    return (await ctx.services.datasets.list()).map(toDataset);
  }

  @Query(() => DatasetType)
  async dataset(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DatasetType> {
    return toDataset(await ctx.services.datasets.get(parseId(id)));
  }

  @FieldResolver(() => DatasetStatsType)
  stats(@Root() d: DatasetType, @Ctx() ctx: GraphQLContext): Promise<DatasetStatsType> {
    return ctx.services.datasets.stats(d.id);
  }

  @Mutation(() => DatasetType)
  async createDataset(@Arg('input', () => CreateDatasetInput) input: CreateDatasetInput, @Ctx() ctx: GraphQLContext): Promise<DatasetType> {
    return toDataset(await ctx.services.datasets.create(input));
  }

  @Mutation(() => DatasetType)
  async updateDataset(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateDatasetInput) input: UpdateDatasetInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DatasetType> {
    return toDataset(await ctx.services.datasets.update(parseId(id), input));
  }

  @Mutation(() => JobType, { description: 'Imports a server folder (inside a data root) into a dataset; returns the import job' })
  async importDataset(@Arg('input', () => ImportDatasetInput) input: ImportDatasetInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    const job = await ctx.services.datasets.startImport(parseId(input.datasetId, 'datasetId'), input.path, input.layout, {
      maxPerClass: input.maxPerClass ?? undefined,
      throttleMs: input.throttleMs ?? undefined,
    });
    return toJob(job);
  }
}
