import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

export enum LayoutEnum {
  AUTO = 'auto',
  CLASS_FOLDERS = 'class-folders',
  MATEK = 'matek',
  LABELS_CSV = 'labels-csv',
  IMAGES = 'images',
}
registerEnumType(LayoutEnum, {
  name: 'DatasetLayout',
  description: 'class-folders: dir/<class>/*.jpg; matek: Matek-19 class-code folders; labels-csv: labels.csv (path, class); images: unlabelled',
});

export enum ClassMapEnum {
  COMMON5 = 'common5',
  COMMON5_IG = 'common5_ig',
  PAPER13 = 'paper13',
}
registerEnumType(ClassMapEnum, {
  name: 'ClassMap',
  description: 'COMMON5: the five types every lab shares; COMMON5_IG: those and immature granulocytes (a left shift); PAPER13: the paper\'s 13 classes',
});

@InputType('CreateDatasetInput')
export class CreateDatasetInput {
  @Field(() => String) name: string;
  @Field(() => String, { nullable: true }) description?: string;
  @Field(() => String, { nullable: true }) stain?: string;
  @Field(() => String, { nullable: true }) scanner?: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Raw label -> canonical cell type' }) classOverrides?: Record<string, string>;
}

@InputType('UpdateDatasetInput')
export class UpdateDatasetInput {
  @Field(() => String, { nullable: true }) description?: string;
  @Field(() => String, { nullable: true }) stain?: string;
  @Field(() => String, { nullable: true }) scanner?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) classOverrides?: Record<string, string>;
}

@InputType('ImportDatasetInput')
export class ImportDatasetInput {
  @Field(() => ID) datasetId: string;
  @Field(() => String, { description: 'A server folder inside a configured data root (absolute, or relative to the first root)' }) path: string;
  @Field(() => LayoutEnum, { defaultValue: LayoutEnum.AUTO }) layout: LayoutEnum;
  @Field(() => Int, { nullable: true, description: 'Import at most this many images per class' }) maxPerClass?: number;
}

@InputType('UploadImageInput')
export class UploadImageInput {
  @Field(() => ID) datasetId: string;
  @Field(() => String) filename: string;
  @Field(() => String, { description: 'The file, base64-encoded (for large batches use POST /upload)' }) contentBase64: string;
  @Field(() => String, { nullable: true }) label?: string;
}
