import { Field, ID, InputType, Int } from 'type-graphql';

@InputType('DetectCellsInput', { description: 'Give a dataset, a list of images, or both (the images of the dataset that are listed)' })
export class DetectCellsInput {
  @Field(() => ID, { nullable: true }) datasetId?: string;
  @Field(() => [ID], { nullable: true }) imageIds?: string[];
  @Field(() => ID, { nullable: true, description: 'Default: the active detector' }) detectorId?: string;
  @Field(() => Boolean, { defaultValue: false, description: 'Keep only the highest-scoring cell of each image' }) topOnly: boolean;
  @Field(() => Int, { nullable: true }) maxImages?: number;
}

@InputType('AnalyzeImagesInput')
export class AnalyzeImagesInput {
  @Field(() => ID, { nullable: true }) datasetId?: string;
  @Field(() => [ID], { nullable: true }) imageIds?: string[];
  @Field(() => Boolean, { defaultValue: false, description: 'Keep only the highest-scoring cell of each image' }) topOnly: boolean;
}
