import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

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
  @Field(() => String, { nullable: true, description: 'Null when flagged as unlike the training data' }) label: string | null;
  @Field(() => [ClassProbabilityType]) probabilities: ClassProbabilityType[];
  @Field(() => Boolean) flagged: boolean;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => ID) modelId: string;
}

@ObjectType('Cell', { description: 'A detected white blood cell' })
export class CellType {
  @Field(() => ID) id: string;
  @Field(() => ID) imageId: string;
  @Field(() => ID, { nullable: true }) detectorId: string | null;
  @Field(() => Int, { description: 'Rank within its image, 0 = highest score' }) index: number;
  @Field(() => [Float], { description: '[x1, y1, x2, y2] in image pixels' }) box: number[];
  @Field(() => Float) score: number;
  @Field(() => RleMaskType, { nullable: true }) mask: RleMaskType | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'True when the box reaches within 2 px of the image border: a cell the image cuts, which a differential count (counting-frame rule) leaves out. Null when the image size is unknown (no mask).',
  })
  cutByBorder: boolean | null;
  @Field(() => [Float], { nullable: true, description: '50-d AE-CFE latent' }) latent: number[] | null;
  @Field(() => CellPredictionType, { nullable: true }) prediction: CellPredictionType | null;
  @Field(() => String, { description: 'PNG crop of the cell with its mask outline (GET)' }) cropUrl: string;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('CellPage')
export class CellPageType {
  @Field(() => [CellType]) items: CellType[];
  @Field(() => Int) total: number;
}
