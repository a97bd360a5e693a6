import { Field, Float, ID, InputType, Int, registerEnumType } from 'type-graphql';

export enum AutoencoderPresetEnum {
  PAPER = 'paper',
  CPU = 'cpu',
}
registerEnumType(AutoencoderPresetEnum, {
  name: 'AutoencoderPreset',
  description: 'paper: aecfe-method.md exactly (3x128x128 image decoder); cpu: a lighter network for 2-core machines',
});

@InputType('TrainAutoencoderInput')
export class TrainAutoencoderInput {
  @Field(() => ID, { description: 'The labelled lab whose cells are reconstructed' }) sourceDatasetId: string;
  @Field(() => [ID], { defaultValue: [], description: 'Other labs whose unlabelled cells the latents are aligned to' }) alignDatasetIds: string[];
  @Field(() => AutoencoderPresetEnum, { defaultValue: AutoencoderPresetEnum.CPU }) preset: AutoencoderPresetEnum;
  @Field(() => Int, { defaultValue: 10 }) epochs: number;
  @Field(() => Int, { defaultValue: 64 }) batchSize: number;
  @Field(() => Float, { defaultValue: 1e-3, description: 'Adam learning rate (paper: 1e-3)' }) learningRate: number;
  @Field(() => Float, { defaultValue: 5, description: 'Weight of the alignment term (paper: 5); 0 turns it off' }) alignWeight: number;
  @Field(() => Int, { defaultValue: 0 }) seed: number;
  @Field(() => ID, { nullable: true, description: 'Use cells of this detector (default: any)' }) detectorId?: string;
  @Field(() => Int, { nullable: true, description: 'At most this many cells per dataset' }) maxCells?: number;
}

@InputType('EncodeCellsInput')
export class EncodeCellsInput {
  @Field(() => ID) datasetId: string;
  @Field(() => ID, { nullable: true, description: 'Default: the active autoencoder' }) autoencoderId?: string;
  @Field(() => ID, { nullable: true }) detectorId?: string;
}
