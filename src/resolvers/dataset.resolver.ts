import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ImagePageType } from '../schema/types/image.type.js';
import { DatasetStatsType, DatasetType } from '../schema/types/dataset.type.js';
import { JobType } from '../schema/types/job.type.js';
import { CreateDatasetInput, ImportDatasetInput, UpdateDatasetInput } from '../schema/inputs/dataset.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toDataset, toImage, toJob } from '../schema/mappers.js';

@Resolver(() => DatasetType)
export class DatasetResolver {
  @Query(() => [DatasetType])
  async datasets(@Ctx() ctx: GraphQLContext): Promise<DatasetType[]> {
    return (await ctx.services.datasets.list()).map(toDataset);
  }

  @Query(() => DatasetType, { nullable: true, description: 'Null when there is no dataset with this id' })
  async dataset(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DatasetType | null> {
    const d = await ctx.services.datasets.find(parseId(id));
    return d && toDataset(d);
  }

  @FieldResolver(() => ImagePageType, { description: 'Its images, by source path (the datasets of one response share one query per page size)' })
  async images(
    @Root() d: DatasetType,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<ImagePageType> {
    const page = await ctx.loaders.imagesOfDataset.load({ parentId: d.id, ...parsePage(limit, offset) });
    return { items: page.items.map((i) => toImage(i, ctx.baseUrl)), total: page.total };
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
      throttleMs: ctx.testThrottleMs,
    });
    return toJob(job);
  }
}
