import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CellTypeEnum, type CellType } from '../enums.js';

@ObjectType('Image', { description: 'An image file of a dataset' })
export class ImageType {
  @Field(() => ID) id: string;
  @Field(() => ID, { deprecationReason: 'Use dataset { id }' }) datasetId: string;
  @Field(() => String, { description: 'Path relative to the imported folder (upload/... for uploads)' }) sourcePath: string;
  @Field(() => String) sha256: string;
  @Field(() => Int) width: number;
  @Field(() => Int) height: number;
  @Field(() => String) format: string;
  @Field(() => Int) bytes: number;
  @Field(() => String, { nullable: true, description: 'The label as the dataset gives it' }) rawLabel: string | null;
  @Field(() => String, { nullable: true }) subtype: string | null;
  @Field(() => String, { nullable: true, deprecationReason: 'Use canonicalType (a CellType)' }) cellType: string | null;
  @Field(() => CellTypeEnum, { nullable: true, description: 'The canonical cell type its label harmonises to; null when unlabelled or unknown' }) canonicalType: CellType | null;
  @Field(() => String, { nullable: true }) split: string | null;
  @Field(() => String, { description: 'Where the image bytes can be fetched (GET)' }) url: string;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('ImagePage')
export class ImagePageType {
  @Field(() => [ImageType]) items: ImageType[];
  @Field(() => Int) total: number;
}

@ObjectType('UploadResult')
export class UploadResultType {
  @Field(() => ImageType) image: ImageType;
  @Field(() => Boolean, { description: 'False when the same image was uploaded before' }) created: boolean;
}
