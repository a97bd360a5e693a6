import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ModelKindEnum, type ModelKind } from '../enums.js';
import { ClassifierScoresType, EvaluationScoreType } from './job-result.type.js';

@ObjectType('Model', { description: 'A trained model and its lineage' })
export class ModelType {
  @Field(() => ID) id: string;
  @Field(() => String, { deprecationReason: 'Use type (a ModelKind)' }) kind: string;
  @Field(() => ModelKindEnum) type: ModelKind;
  @Field(() => String) name: string;
  @Field(() => String) version: string;
  @Field(() => String, { nullable: true }) preset: string | null;
  @Field(() => GraphQLJSONObject, { description: 'What its training measured (heldOut has the typed scores of a classifier)' }) metrics: Record<string, unknown>;
  @Field(() => ClassifierScoresType, { nullable: true, description: 'A classifier trained with a held-out share: its scores there; null otherwise' })
  heldOut: ClassifierScoresType | null;
  @Field(() => GraphQLJSONObject) params: Record<string, unknown>;
  @Field(() => String) artifactPath: string;
  @Field(() => String, { nullable: true }) checksum: string | null;
  @Field(() => Boolean, { description: 'The one of its kind the engines keep resident' }) active: boolean;
  @Field(() => [ID], { deprecationReason: 'Use datasets { id }' }) datasetIds: string[];
  @Field(() => ID, { nullable: true, deprecationReason: 'Use job { id }' }) jobId: string | null;
  @Field(() => ID, { nullable: true, deprecationReason: 'Use parent { id }' }) parentId: string | null;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('Evaluation')
export class EvaluationType {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true, deprecationReason: 'Use job { id }' }) jobId: string | null;
  @Field(() => String) name: string;
  @Field(() => GraphQLJSONObject, { description: 'The whole report (leukograph-evaluation/1); scores has its numbers typed' }) report: Record<string, unknown>;
  @Field(() => [EvaluationScoreType], { description: 'Every method on every scored lab' }) scores: EvaluationScoreType[];
  @Field(() => Date) createdAt: Date;
}
