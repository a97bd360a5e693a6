// Relay-style connections (first/after) for cells and images, beside their offset pages.
import { Field, ObjectType } from 'type-graphql';
import type { Total } from '../../services/keyset.js';
import { CellType } from './cell.type.js';
import { ImageType } from './image.type.js';

@ObjectType('PageInfo', { description: 'Where a connection page sits: pass endCursor as `after` for the next page' })
export class PageInfoType {
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => Boolean, { description: 'Always false: these connections page forward only (first/after)' }) hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor: string | null;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType('CellEdge')
export class CellEdgeType {
  @Field(() => String) cursor: string;
  @Field(() => CellType) node: CellType;
}

@ObjectType('CellConnection', { description: 'A page of cells by cursor (keyset): a deep page costs what the first does' })
export class CellConnectionType {
  @Field(() => [CellEdgeType]) edges: CellEdgeType[];
  @Field(() => [CellType], { description: 'The edges\' nodes, for clients that need no per-row cursor' }) nodes: CellType[];
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  /** Counts the filter's rows when totalCount is asked for (not a field). */
  total: () => Promise<Total>;
}

@ObjectType('ImageEdge')
export class ImageEdgeType {
  @Field(() => String) cursor: string;
  @Field(() => ImageType) node: ImageType;
}

@ObjectType('ImageConnection', { description: 'A page of images by cursor (keyset): a deep page costs what the first does' })
export class ImageConnectionType {
  @Field(() => [ImageEdgeType]) edges: ImageEdgeType[];
  @Field(() => [ImageType], { description: 'The edges\' nodes, for clients that need no per-row cursor' }) nodes: ImageType[];
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  /** Counts the filter's rows when totalCount is asked for (not a field). */
  total: () => Promise<Total>;
}
