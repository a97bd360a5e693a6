import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType('Model', { description: 'A trained model and its lineage' })
export class ModelType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'detector | autoencoder | classifier' }) kind: string;
  @Field(() => String) name: string;
  @Field(() => String) version: string;
  @Field(() => String, { nullable: true }) preset: string | null;
  @Field(() => GraphQLJSONObject) metrics: Record<string, unknown>;
  @Field(() => GraphQLJSONObject) params: Record<string, unknown>;
  @Field(() => String) artifactPath: string;
  @Field(() => String, { nullable: true }) checksum: string | null;
  @Field(() => Boolean, { description: 'The one of its kind the engines keep resident' }) active: boolean;
  @Field(() => [ID], { description: 'Datasets it was trained on' }) datasetIds: string[];
  @Field(() => ID, { nullable: true, description: 'The job that made it' }) jobId: string | null;
  @Field(() => ID, { nullable: true }) parentId: string | null;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('Evaluation')
export class EvaluationType {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true }) jobId: string | null;
  @Field(() => String) name: string;
  @Field(() => GraphQLJSONObject) report: Record<string, unknown>;
  @Field(() => Date) createdAt: Date;
}
