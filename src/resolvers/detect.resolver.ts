import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { JobType } from '../schema/types/job.type.js';
import { ModelType } from '../schema/types/model.type.js';
import { AnalyzeImagesInput, DetectCellsInput } from '../schema/inputs/detect.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toJob, toModel } from '../schema/mappers.js';
import { BadInputError } from '../services/errors.js';

@Resolver()
export class DetectResolver {
  @Mutation(() => JobType, { description: 'Detects white cells in images; stream them with jobCells(jobId)' })
  async detectCells(@Arg('input', () => DetectCellsInput) input: DetectCellsInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    if (!input.datasetId && !input.imageIds?.length) throw new BadInputError('give datasetId or imageIds');
    if (input.imageIds && input.imageIds.length > 10_000) throw new BadInputError('at most 10,000 imageIds per job; use datasetId');
    if (input.maxImages !== undefined && input.maxImages !== null && input.maxImages < 1) throw new BadInputError('maxImages must be positive');
    const datasetId = input.datasetId ? parseId(input.datasetId, 'datasetId') : undefined;
    if (datasetId) await ctx.services.datasets.get(datasetId);
    const imageIds = input.imageIds?.map((i) => parseId(i, 'imageId'));
    const detectorId = input.detectorId ? parseId(input.detectorId, 'detectorId') : undefined;
    const detector = detectorId ? await ctx.services.catalog.model(detectorId) : await ctx.services.models.active('detector');
    if (!detector) throw new BadInputError('no active detector model is registered');
    if (detector.kind !== 'detector') throw new BadInputError(`model ${detector.id} is a ${detector.kind}, not a detector`);
    const job = await ctx.services.jobs.create('detect', {
      datasetId, imageIds, detectorId: detector.id, topOnly: input.topOnly, maxImages: input.maxImages ?? undefined,
    });
    return toJob(job);
  }

  @Mutation(() => JobType, {
    description: 'Detects, encodes and classifies the cells of images with the active models, streaming each cell (jobCells) as its image is done',
  })
  async analyzeImages(@Arg('input', () => AnalyzeImagesInput) input: AnalyzeImagesInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    if (!input.datasetId && !input.imageIds?.length) throw new BadInputError('give datasetId or imageIds');
    const datasetId = input.datasetId ? parseId(input.datasetId, 'datasetId') : undefined;
    if (datasetId) await ctx.services.datasets.get(datasetId);
    if (!(await ctx.services.models.active('detector'))) throw new BadInputError('no active detector model is registered');
    const job = await ctx.services.jobs.create('analyze', { datasetId, imageIds: input.imageIds?.map((i) => parseId(i, 'imageIds')), topOnly: input.topOnly });
    return toJob(job);
  }

  @Mutation(() => ModelType, { description: 'Makes a model the active one of its kind (engines load it for their next job)' })
  async activateModel(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelType> {
    return toModel(await ctx.services.models.activate(parseId(id)));
  }
}
