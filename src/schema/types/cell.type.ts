import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { FlagReasonEnum } from '../enums.js';

@ObjectType('RleMask', { description: 'Uncompressed COCO run-length encoding, column-major, starting with a background run' })
export class RleMaskType {
  @Field(() => [Int], { description: '[height, width]' }) size: number[];
  @Field(() => [Int]) counts: number[];
}

@ObjectType('ClassProbability')
export class ClassProbabilityType {
  @Field(() => String) label: string;
  @Field(() => Float) probability: number;
}

@ObjectType('CellPrediction')
export class CellPredictionType {
  @Field(() => String, { nullable: true, description: 'The class; null when flagged (bestGuess still names the likeliest one)' }) label: string | null;
  @Field(() => ClassProbabilityType, { description: "The likeliest class and its probability, also for a flagged cell (whose label is null): the classifier's best guess" })
  bestGuess: ClassProbabilityType;
  @Field(() => [ClassProbabilityType]) probabilities: ClassProbabilityType[];
  @Field(() => Boolean, { description: 'True when the classifier would not name a class: see flagReason' }) flagged: boolean;
  @Field(() => FlagReasonEnum, { nullable: true, description: 'Why it is flagged; null when it is not' }) flagReason: FlagReasonEnum | null;
  @Field(() => String, { nullable: true, description: 'The reason in words, with its numbers' }) reason: string | null;
  @Field(() => ID) modelId: string;
}

@ObjectType('Cell', { description: 'A detected white blood cell' })
export class CellType {
  @Field(() => ID) id: string;
  @Field(() => ID, { deprecationReason: 'Use image { id }' }) imageId: string;
  @Field(() => ID, { nullable: true, deprecationReason: 'Use detector { id }' }) detectorId: string | null;
  @Field(() => Int, { description: 'Rank within its image, 0 = highest score' }) index: number;
  @Field(() => [Float], { description: '[x1, y1, x2, y2] in image pixels' }) box: number[];
  @Field(() => Float) score: number;
  @Field(() => RleMaskType, { nullable: true, description: 'Select it only when needed: about 2 kB per cell' }) mask: RleMaskType | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'True when the box reaches within 2 px of the image border: a cell the image cuts, which a differential count (counting-frame rule) leaves out. Null when the image size is unknown (no mask).',
  })
  cutByBorder: boolean | null;
  @Field(() => [Float], { nullable: true, description: '50-d AE-CFE latent (select it only when needed: 50 numbers per cell)' }) latent: number[] | null;
  @Field(() => CellPredictionType, { nullable: true }) prediction: CellPredictionType | null;
  @Field(() => String, { description: 'PNG crop of the cell with its mask outline (GET)' }) cropUrl: string;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('CellPage')
export class CellPageType {
  @Field(() => [CellType]) items: CellType[];
  @Field(() => Int) total: number;
}
