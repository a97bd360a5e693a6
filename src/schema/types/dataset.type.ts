import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType('CellTypeCount')
export class CellTypeCountType {
  @Field(() => String, { nullable: true, description: 'Canonical cell type; null for unlabelled or unknown labels' }) cellType: string | null;
  @Field(() => Int) count: number;
}

@ObjectType('DatasetStats')
export class DatasetStatsType {
  @Field(() => Int) images: number;
  @Field(() => Int) labelled: number;
  @Field(() => Int) cells: number;
  @Field(() => [CellTypeCountType]) byType: CellTypeCountType[];
}

@ObjectType('Dataset', { description: 'The images of one lab or acquisition domain' })
export class DatasetType {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => String, { description: 'Stain notes (e.g. May-Grünwald-Giemsa)' }) stain: string;
  @Field(() => String, { description: 'Scanner / microscope / camera notes' }) scanner: string;
  @Field(() => String, { nullable: true, description: 'Layout of the last import' }) layout: string | null;
  @Field(() => String, { nullable: true }) sourcePath: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Raw label -> canonical cell type overrides' }) classOverrides: Record<string, string>;
  @Field(() => Date) createdAt: Date;
}
