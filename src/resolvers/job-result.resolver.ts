// The fields of typed job results that read more than the result JSON: the differential count of the
// job's cells and their agreement with labels (services/job-results.service.ts), and the models and
// evaluation a result names, through the request's loaders.
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import {
  AnalyzeJobResultType, ClassifyJobResultType, DifferentialCountType, EvaluateJobResultType, EvaluationScoreType, LabelAgreementType,
} from '../schema/types/job-result.type.js';
import { EvaluationType, ModelType } from '../schema/types/model.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { evaluationScores, toEvaluation, toModel } from '../schema/mappers.js';
import type { FlagReasonEnum } from '../schema/enums.js';
import { CLASS_MAP_NAMES, type ClassMapName } from '../pipeline/class-maps.js';

type Counted = ClassifyJobResultType | AnalyzeJobResultType;

async function modelOf(id: string | null, ctx: GraphQLContext): Promise<ModelType | null> {
  const m = id ? await ctx.loaders.model.load(id) : null;
  return m && toModel(m);
}

async function differential(r: Counted, ctx: GraphQLContext): Promise<DifferentialCountType> {
  const d = await ctx.services.results.differential(r.job);
  return { ...d, flaggedByReason: d.flaggedByReason.map((f) => ({ reason: f.reason as FlagReasonEnum, count: f.count })) };
}

async function againstLabels(r: Counted, ctx: GraphQLContext): Promise<LabelAgreementType | null> {
  const clf = r.classifierId ? await ctx.loaders.model.load(r.classifierId) : null;
  const classMap = clf?.params.classMap;
  if (!(CLASS_MAP_NAMES as readonly unknown[]).includes(classMap)) return null;
  return ctx.services.results.againstLabels(r.job, classMap as ClassMapName);
}

const DIFFERENTIAL = "The differential count of the job's cells, with the verdicts they carry now";
const AGAINST_LABELS = "Where the job's images are labelled: its verdicts against the labels (null when none is labelled)";

/** The fields classify and analyze results share, resolved alike for both. */
function countedResultResolver(of: typeof ClassifyJobResultType | typeof AnalyzeJobResultType) {
  @Resolver(() => of)
  abstract class CountedResultResolver {
    @FieldResolver(() => DifferentialCountType, { description: DIFFERENTIAL })
    differential(@Root() r: Counted, @Ctx() ctx: GraphQLContext): Promise<DifferentialCountType> {
      return differential(r, ctx);
    }

    @FieldResolver(() => LabelAgreementType, { nullable: true, description: AGAINST_LABELS })
    againstLabels(@Root() r: Counted, @Ctx() ctx: GraphQLContext): Promise<LabelAgreementType | null> {
      return againstLabels(r, ctx);
    }

    @FieldResolver(() => ModelType, { nullable: true })
    classifier(@Root() r: Counted, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
      return modelOf(r.classifierId, ctx);
    }
  }
  return CountedResultResolver;
}

@Resolver(() => ClassifyJobResultType)
export class ClassifyJobResultResolver extends countedResultResolver(ClassifyJobResultType) {}

@Resolver(() => AnalyzeJobResultType)
export class AnalyzeJobResultResolver extends countedResultResolver(AnalyzeJobResultType) {
  @FieldResolver(() => ModelType, { nullable: true })
  detector(@Root() r: AnalyzeJobResultType, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
    return modelOf(r.detectorId, ctx);
  }

  @FieldResolver(() => ModelType, { nullable: true })
  autoencoder(@Root() r: AnalyzeJobResultType, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
    return modelOf(r.autoencoderId, ctx);
  }
}

@Resolver(() => EvaluateJobResultType)
export class EvaluateJobResultResolver {
  @FieldResolver(() => EvaluationType, { nullable: true })
  async evaluation(@Root() r: EvaluateJobResultType, @Ctx() ctx: GraphQLContext): Promise<EvaluationType | null> {
    const e = await ctx.loaders.evaluationOfJob.load(r.jobId);
    return e && toEvaluation(e);
  }

  @FieldResolver(() => [EvaluationScoreType], { description: 'Every method on every scored lab' })
  async scores(@Root() r: EvaluateJobResultType, @Ctx() ctx: GraphQLContext): Promise<EvaluationScoreType[]> {
    const e = await ctx.loaders.evaluationOfJob.load(r.jobId);
    return e ? evaluationScores(e.report) : [];
  }
}
