// Typed results of the jobs a diagnosis tool reads: classify and analyze (the differential count of their
// cells, agreement with the images' labels where there are labels) and evaluate (scores per method and lab).
// Read from the result JSON the job handlers write (Job.result keeps it whole) and, for the counts, from
// the cells themselves (services/job-results.service.ts).
import { createUnionType, Field, Float, ID, Int, InterfaceType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { FlagReasonEnum } from '../enums.js';
import type { JobScope } from '../../services/job-results.service.js';
import { SelfCheckType } from './self-check.type.js';

@ObjectType('ClassShare')
export class ClassShareType {
  @Field(() => String) label: string;
  @Field(() => Int) count: number;
  @Field(() => Float, { description: 'count / counted' }) fraction: number;
}

@ObjectType('FlagReasonCount')
export class FlagReasonCountType {
  @Field(() => FlagReasonEnum) reason: FlagReasonEnum;
  @Field(() => Int) count: number;
}

@ObjectType('DifferentialCount', {
  description:
    'Cells per class as a differential count takes them: complete cells with a class are counted; flagged cells (by reason) and cells ' +
    'without a prediction are shown apart; cells the image border cuts are left out. The SDK (differentialCount), the dashboard and the CLI count the same way.',
})
export class DifferentialCountType {
  @Field(() => Int, { description: 'Every cell looked at' }) cells: number;
  @Field(() => Int, { description: 'Complete cells with a class: the denominator of each fraction' }) counted: number;
  @Field(() => [ClassShareType], { description: 'Most frequent first' }) byClass: ClassShareType[];
  @Field(() => Int) flagged: number;
  @Field(() => [FlagReasonCountType]) flaggedByReason: FlagReasonCountType[];
  @Field(() => Int, { description: 'Complete cells without a prediction' }) unclassified: number;
  @Field(() => Int, { description: 'Left out: the image border cuts them' }) cutByBorder: number;
}

@ObjectType('ConfusionMatrix')
export class ConfusionMatrixType {
  @Field(() => [String]) labels: string[];
  @Field(() => [[Int]], { description: 'matrix[i][j]: cells labelled labels[i] and called labels[j]' }) matrix: number[][];
}

@ObjectType('Agreement', { description: 'Verdicts against labels: accuracy, balanced accuracy (the mean over the labels of the share called right) and the confusion matrix' })
export class AgreementType {
  @Field(() => Int) scored: number;
  @Field(() => Int) correct: number;
  @Field(() => Float, { nullable: true }) accuracy: number | null;
  @Field(() => Float, { nullable: true }) balancedAccuracy: number | null;
  @Field(() => ConfusionMatrixType) confusion: ConfusionMatrixType;
}

@ObjectType('LabelAgreement', { description: "A job's verdicts against the images' labels (under the classifier's class map)" })
export class LabelAgreementType {
  @Field(() => Int, { description: 'Counted (complete, classified) top-ranked cells of labelled images: a label names one cell per image' }) scored: number;
  @Field(() => Int) correct: number;
  @Field(() => Float, { nullable: true }) accuracy: number | null;
  @Field(() => Float, { nullable: true, description: 'The mean over the labels of the share of their cells called right' }) balancedAccuracy: number | null;
  @Field(() => AgreementType, { description: "Every labelled top-ranked cell with a verdict, flagged and border-cut ones included, by the classifier's best guess (what an evaluation scores)" }) bestGuess: AgreementType;
  @Field(() => Int, { description: 'Labelled cells flagged instead of classified (not scored)' }) flagged: number;
  @Field(() => String) classMap: string;
  @Field(() => ConfusionMatrixType) confusion: ConfusionMatrixType;
}

@ObjectType('ImageFailure')
export class ImageFailureType {
  @Field(() => String) path: string;
  @Field(() => String) reason: string;
}

@ObjectType('ClassifyJobResult')
export class ClassifyJobResultType {
  job: JobScope;
  @Field(() => Int, { description: 'Cells given a verdict (classified or flagged)' }) classified: number;
  @Field(() => Int) flagged: number;
  @Field(() => Int, { description: 'Cells whose image could not be read' }) unreadable: number;
  @Field(() => String, { nullable: true, description: 'latent | morphology' }) features: string | null;
  @Field(() => ID, { nullable: true }) classifierId: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'What the stain step measured and did (morphology classifiers)' }) stain: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'What neighbour consensus changed, when asked for' }) consensus: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Self-training, when asked for: applied, the cells added per class, how many cells changed class, and a note (or why it was not applied)' }) selfTraining: Record<string, unknown> | null;
  @Field(() => SelfCheckType, { nullable: true, description: "The job's check of its own count (docs/self-check.md; latent classifiers: its class mix and cells unlike training); FAILED: no cell was counted; WARNING: review it (also when too few cells to check)" })
  selfCheck: SelfCheckType | null;
}

@ObjectType('AnalyzeJobResult')
export class AnalyzeJobResultType {
  job: JobScope;
  @Field(() => Int, { description: 'Cells found' }) cells: number;
  @Field(() => Int) flagged: number;
  @Field(() => Int, { description: 'Images that could not be analyzed' }) failed: number;
  @Field(() => [ImageFailureType]) failures: ImageFailureType[];
  @Field(() => [String], { description: 'detect, encode, classify: the stages that had a model' }) stages: string[];
  @Field(() => ID, { nullable: true }) detectorId: string | null;
  @Field(() => ID, { nullable: true }) autoencoderId: string | null;
  @Field(() => ID, { nullable: true }) classifierId: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) stain: Record<string, unknown> | null;
  @Field(() => SelfCheckType, { nullable: true, description: "The final count's check, as a classify job over the same cells makes it (each dataset's cells classified together; the gravest dataset's check); FAILED: no cell was counted" })
  selfCheck: SelfCheckType | null;
}

@ObjectType('FlagScores', { description: "The product's flags on an evaluation's scored cells" })
export class FlagScoresType {
  @Field(() => Int) n: number;
  @Field(() => Int) flagged: number;
  @Field(() => Int) novel: number;
  @Field(() => Int) lowConfidence: number;
  @Field(() => Int, { description: "Flagged only because the lab's self-check failed (the classify job withholds every cell then); 0 for methods without the check and for evaluations stored before it" }) selfCheck: number;
  @Field(() => Float) minConfidence: number;
  @Field(() => Float, { nullable: true, description: 'Accuracy on the cells not flagged' }) unflaggedAccuracy: number | null;
  @Field(() => Float, { nullable: true, description: "How often the withheld class is right on the flagged cells" }) flaggedAccuracy: number | null;
}

@InterfaceType('Scores', { description: 'A classifier scored against labels' })
export abstract class ScoresInterface {
  @Field(() => Int, { description: 'Cells scored' }) n: number;
  @Field(() => Float) accuracy: number;
  @Field(() => [Float], { nullable: true, description: "Accuracy's 95 % Wilson interval [low, high]" }) accuracyCi95: number[] | null;
  @Field(() => Float, { nullable: true }) balancedAccuracy: number | null;
  @Field(() => Float, { nullable: true, description: 'Over the classes with enough cells' }) macroF1: number | null;
  @Field(() => ConfusionMatrixType) confusion: ConfusionMatrixType;
}

@ObjectType('EvaluationScore', { implements: ScoresInterface, description: 'One method on one lab of an evaluation' })
export class EvaluationScoreType extends ScoresInterface {
  @Field(() => String, { description: 'ae_cfe, or a baseline (morphology_adaptive, colour_shape, ...)' }) method: string;
  @Field(() => String) domain: string;
  @Field(() => String, { description: 'source-test (the source lab\'s held-out cells) | target' }) role: string;
  @Field(() => FlagScoresType, { nullable: true }) flags: FlagScoresType | null;
  @Field(() => SelfCheckType, { nullable: true, description: "morphology_default only: the lab's self-check as a classify job over its cells reports it (FAILED: the job would withhold every cell); null for other methods and for evaluations stored before it was kept" })
  selfCheck: SelfCheckType | null;
}

@ObjectType('ClassifierScores', { implements: ScoresInterface, description: "A classifier's scores on its held-out training cells (trainClassifier's testFraction)" })
export class ClassifierScoresType extends ScoresInterface {}

@ObjectType('EvaluateJobResult', { description: 'The stored evaluation; its scores field has every method on every lab' })
export class EvaluateJobResultType {
  jobId: string;
  @Field(() => ID, { nullable: true }) evaluationId: string | null;
}

export const JobResultUnion = createUnionType({
  name: 'JobResult',
  description: 'The typed result of a job, for the kinds that have one (classify, analyze, evaluate); Job.result keeps the raw JSON',
  types: () => [ClassifyJobResultType, AnalyzeJobResultType, EvaluateJobResultType] as const,
  resolveType: (v) => (v instanceof ClassifyJobResultType ? ClassifyJobResultType : v instanceof AnalyzeJobResultType ? AnalyzeJobResultType : EvaluateJobResultType),
});
