import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { JobKindEnum, type JobKind } from '../enums.js';

export enum JobStatusEnum {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}
registerEnumType(JobStatusEnum, { name: 'JobStatus' });

@ObjectType('Job', { description: 'A unit of work run by an engine: import, detect, train, classify, evaluate' })
export class JobType {
  @Field(() => ID) id: string;
  @Field(() => String, { deprecationReason: 'Use type (a JobKind)' }) kind: string;
  @Field(() => JobKindEnum) type: JobKind;
  @Field(() => JobStatusEnum) status: JobStatusEnum;
  @Field(() => Float, { description: '0..1' }) progress: number;
  @Field(() => Int) done: number;
  @Field(() => Int, { nullable: true }) total: number | null;
  @Field(() => String, { nullable: true }) message: string | null;
  @Field(() => GraphQLJSONObject) params: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The result as the job wrote it; typedResult has the typed parts' }) result: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Int, { description: 'Runs started so far (more than 1 after a retry)' }) attempts: number;
  @Field(() => String, { nullable: true }) engineId: string | null;
  @Field(() => Boolean) cancelRequested: boolean;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Float, { nullable: true, description: 'Wall time from start to end (or to now), ms' }) durationMs: number | null;
}

@ObjectType('JobPage')
export class JobPageType {
  @Field(() => [JobType]) items: JobType[];
  @Field(() => Int) total: number;
}

@ObjectType('JobProgress', { description: 'A progress event of a job' })
export class JobProgressType {
  @Field(() => ID) jobId: string;
  @Field(() => JobStatusEnum) status: JobStatusEnum;
  @Field(() => Int) done: number;
  @Field(() => Int, { nullable: true }) total: number | null;
  @Field(() => Float) progress: number;
  @Field(() => String, { nullable: true }) message: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Measurements of this step (loss terms, rates)' }) metrics: Record<string, number> | null;
}

@ObjectType('JobItemEvent', { description: 'One item of a job processed (an image imported, a cell found)' })
export class JobItemEventType {
  @Field(() => ID) jobId: string;
  @Field(() => String) itemKind: string;
  @Field(() => String) itemId: string;
  @Field(() => Int) index: number;
  @Field(() => Boolean) ok: boolean;
  @Field(() => String, { nullable: true }) error: string | null;
}
