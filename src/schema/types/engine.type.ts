import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('RuntimeStatus', { description: 'An ML runtime of an engine and the device it uses' })
export class RuntimeStatusType {
  @Field(() => String, { description: 'onnxruntime | tfjs | random-forest' }) name: string;
  @Field(() => String, { description: 'e.g. webgpu, cpu, wasm, tensorflow' }) backend: string;
  @Field(() => String) device: string;
  @Field(() => String, { nullable: true }) detail: string | null;
}

@ObjectType('ResidentModel')
export class ResidentModelType {
  @Field(() => ID) id: string;
  @Field(() => String) kind: string;
  @Field(() => String) name: string;
  @Field(() => String) version: string;
}

@ObjectType('EngineMemory')
export class EngineMemoryType {
  @Field(() => Float) rssMb: number;
  @Field(() => Float) heapUsedMb: number;
  @Field(() => Float) externalMb: number;
}

@ObjectType('EngineInstance', { description: 'A running engine process' })
export class EngineInstanceType {
  @Field(() => ID) id: string;
  @Field(() => String) hostname: string;
  @Field(() => Int) pid: number;
  @Field(() => Date) startedAt: Date;
  @Field(() => Date) heartbeatAt: Date;
  @Field(() => Boolean, { description: 'Heartbeat seen recently' }) alive: boolean;
  @Field(() => [RuntimeStatusType]) runtimes: RuntimeStatusType[];
  @Field(() => [ResidentModelType]) models: ResidentModelType[];
  @Field(() => EngineMemoryType) memory: EngineMemoryType;
  @Field(() => [ID]) currentJobs: string[];
  @Field(() => Boolean, { nullable: true, description: 'Whether it has a GPU (GPU-heavy jobs, training, prefer such engines); null for an engine that does not say' })
  gpu: boolean | null;
  @Field(() => String, { nullable: true, description: 'Its GPU adapter, or why it has none' }) gpuDetail: string | null;
  @Field(() => [String], { nullable: true, description: 'Job kinds it takes (LEUKOGRAPH_ENGINE_KINDS)' }) kinds: string[] | null;
  @Field(() => String, { nullable: true, description: 'The object store it uses (LEUKOGRAPH_STORAGE_URL, without credentials)' }) storage: string | null;
}
