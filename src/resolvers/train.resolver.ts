import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { JobType } from '../schema/types/job.type.js';
import { ClassifierFeaturesEnum, ClassifyCellsInput, EncodeCellsInput, EvaluateInput, TrainAutoencoderInput, TrainClassifierInput } from '../schema/inputs/train.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toJob } from '../schema/mappers.js';
import { BadInputError } from '../services/errors.js';
import { DEFAULT_REVIEW_SHARE, SELF_TRAINING_BY_DEFAULT } from '../jobs/job-kinds.js';

function check(ok: boolean, message: string): void {
  if (!ok) throw new BadInputError(message);
}

@Resolver()
export class TrainResolver {
  @Mutation(() => JobType, { description: 'Trains the AE-CFE autoencoder; watch it with jobProgress (loss terms per step, reconstructions per epoch)' })
  async trainAutoencoder(@Arg('input', () => TrainAutoencoderInput) input: TrainAutoencoderInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    check(Number.isInteger(input.epochs) && input.epochs >= 1 && input.epochs <= 1000, 'epochs must be 1-1000');
    check(Number.isInteger(input.batchSize) && input.batchSize >= 2 && input.batchSize <= 1024, 'batchSize must be 2-1024');
    check(input.learningRate > 0 && input.learningRate <= 1, 'learningRate must be in (0, 1]');
    check(input.alignWeight >= 0 && input.alignWeight <= 1000, 'alignWeight must be 0-1000');
    check(Number.isInteger(input.seed) && input.seed >= 0, 'seed must be a non-negative integer');
    check(input.maxCells === undefined || input.maxCells === null || input.maxCells >= 2, 'maxCells must be at least 2');
    const source = parseId(input.sourceDatasetId, 'sourceDatasetId');
    const align = [...new Set(input.alignDatasetIds.map((a) => parseId(a, 'alignDatasetIds')))];
    check(!align.includes(source), 'the source dataset cannot also be an alignment dataset');
    for (const id of [source, ...align]) await ctx.services.datasets.get(id);
    const detectorId = input.detectorId ? parseId(input.detectorId, 'detectorId') : undefined;
    const job = await ctx.services.jobs.create('train-autoencoder', {
      sourceDatasetId: source, alignDatasetIds: align, preset: input.preset, epochs: input.epochs, batchSize: input.batchSize,
      learningRate: input.learningRate, alignWeight: input.alignWeight, seed: input.seed, detectorId, maxCells: input.maxCells ?? undefined,
    });
    return toJob(job);
  }

  @Mutation(() => JobType, { description: "Encodes a dataset's cells into 50-d latents; each cell streams with jobCells(jobId)" })
  async encodeCells(@Arg('input', () => EncodeCellsInput) input: EncodeCellsInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    const datasetId = parseId(input.datasetId, 'datasetId');
    await ctx.services.datasets.get(datasetId);
    const autoencoderId = input.autoencoderId ? parseId(input.autoencoderId, 'autoencoderId') : undefined;
    const ae = autoencoderId ? await ctx.services.catalog.model(autoencoderId) : await ctx.services.models.active('autoencoder');
    if (!ae || ae.kind !== 'autoencoder') throw new BadInputError('no autoencoder: train one first (trainAutoencoder)');
    const job = await ctx.services.jobs.create('encode', {
      datasetId, autoencoderId: ae.id, detectorId: input.detectorId ? parseId(input.detectorId, 'detectorId') : undefined,
    });
    return toJob(job);
  }

  @Mutation(() => JobType, { description: 'Trains a random forest on the latents (or the morphology) of labelled cells; it becomes the active classifier' })
  async trainClassifier(@Arg('input', () => TrainClassifierInput) input: TrainClassifierInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    check(input.datasetIds.length > 0, 'give at least one dataset');
    check(Number.isInteger(input.trees) && input.trees >= 1 && input.trees <= 2000, 'trees must be 1-2000');
    check(Number.isInteger(input.maxDepth) && input.maxDepth >= 1 && input.maxDepth <= 64, 'maxDepth must be 1-64');
    check(input.testFraction >= 0 && input.testFraction < 1, 'testFraction must be in [0, 1)');
    check(input.minConfidence >= 0 && input.minConfidence <= 1, 'minConfidence must be in [0, 1]');
    check(Number.isInteger(input.seed) && input.seed >= 0, 'seed must be a non-negative integer');
    const datasetIds = [...new Set(input.datasetIds.map((d) => parseId(d, 'datasetIds')))];
    for (const id of datasetIds) await ctx.services.datasets.get(id);
    const reviewedDatasetIds = [...new Set((input.reviewedDatasetIds ?? []).map((d) => parseId(d, 'reviewedDatasetIds')))];
    for (const id of reviewedDatasetIds) await ctx.services.datasets.get(id);
    const reviewShare = input.reviewShare ?? DEFAULT_REVIEW_SHARE;
    check(reviewShare >= 0 && reviewShare <= 0.95, 'reviewShare must be in [0, 0.95]');
    const features = input.features ?? ClassifierFeaturesEnum.MORPHOLOGY;
    let encoderId: string | null = null;
    if (features === ClassifierFeaturesEnum.LATENT) {
      const enc = input.encoderId ? await ctx.services.catalog.model(parseId(input.encoderId, 'encoderId')) : await ctx.services.models.active('autoencoder');
      if (!enc || enc.kind !== 'autoencoder') throw new BadInputError('no autoencoder: train one first (trainAutoencoder), or train on features: MORPHOLOGY');
      encoderId = enc.id;
    } else check(!input.encoderId, 'encoderId is for latent features; a morphology classifier uses no autoencoder');
    const job = await ctx.services.jobs.create('train-classifier', {
      datasetIds, classMap: input.classMap, features, encoderId, trees: input.trees, maxDepth: input.maxDepth, seed: input.seed,
      balanced: input.balanced, testFraction: input.testFraction, minConfidence: input.minConfidence,
      ...(reviewedDatasetIds.length ? { reviewedDatasetIds, reviewShare } : {}),
    });
    return toJob(job);
  }

  @Mutation(() => JobType, { description: 'Classifies cells (class + probabilities, or flagged): encoded cells for a latent classifier, detected cells for a morphology one; each cell streams with jobCells(jobId)' })
  async classifyCells(@Arg('input', () => ClassifyCellsInput) input: ClassifyCellsInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    check(Boolean(input.datasetId || input.imageIds?.length), 'give datasetId or imageIds');
    const datasetId = input.datasetId ? parseId(input.datasetId, 'datasetId') : undefined;
    if (datasetId) await ctx.services.datasets.get(datasetId);
    const clf = input.classifierId ? await ctx.services.catalog.model(parseId(input.classifierId, 'classifierId')) : await ctx.services.models.active('classifier');
    if (!clf || clf.kind !== 'classifier') throw new BadInputError('no classifier: train one first (trainClassifier)');
    // Only a classifier that kept its training cells can be fitted again (the train-classifier job's morphology ones).
    if (input.selfTraining && clf.metrics.trainingCellsKept !== true) {
      throw new BadInputError(`selfTraining: classifier ${clf.id} carries no training cells (a latent, shipped or older classifier): train a morphology classifier with trainClassifier, or leave selfTraining off`);
    }
    const job = await ctx.services.jobs.create('classify', {
      datasetId, imageIds: input.imageIds?.map((i) => parseId(i, 'imageIds')), classifierId: clf.id, stainAdaptation: input.stainAdaptation ?? 'auto',
      neighbourConsensus: input.neighbourConsensus ?? false, selfTraining: input.selfTraining ?? SELF_TRAINING_BY_DEFAULT,
    });
    return toJob(job);
  }

  @Mutation(() => JobType, { description: 'Cross-domain evaluation (detect, train with alignment, encode, forest on 80 % of the source, score on its 20 % and every target, with baselines); the report is stored as an evaluation' })
  async evaluate(@Arg('input', () => EvaluateInput) input: EvaluateInput, @Ctx() ctx: GraphQLContext): Promise<JobType> {
    check(input.name.trim().length > 0 && input.name.length <= 200, 'name must be 1-200 characters');
    check(input.targetDatasetIds.length > 0, 'give at least one target dataset');
    check(Number.isInteger(input.epochs) && input.epochs >= 1 && input.epochs <= 1000, 'epochs must be 1-1000');
    check(Number.isInteger(input.seed) && input.seed >= 0, 'seed must be a non-negative integer');
    check(input.maxPerClass === undefined || input.maxPerClass === null || input.maxPerClass >= 5, 'maxPerClass must be at least 5');
    const source = parseId(input.sourceDatasetId, 'sourceDatasetId');
    const targets = [...new Set(input.targetDatasetIds.map((t) => parseId(t, 'targetDatasetIds')))];
    const align = [...new Set(input.alignDatasetIds.map((a) => parseId(a, 'alignDatasetIds')))];
    check(!targets.includes(source) && !align.includes(source), 'the source cannot also be a target or an alignment dataset');
    for (const id of [source, ...targets, ...align]) await ctx.services.datasets.get(id);
    if (!(await ctx.services.models.active('detector'))) throw new BadInputError('no active detector model is registered');
    const job = await ctx.services.jobs.create('evaluate', {
      name: input.name.trim(), sourceDatasetId: source, targetDatasetIds: targets, alignDatasetIds: align, preset: input.preset,
      epochs: input.epochs, classes: input.classes, seed: input.seed, maxPerClass: input.maxPerClass ?? undefined,
    });
    return toJob(job);
  }
}
