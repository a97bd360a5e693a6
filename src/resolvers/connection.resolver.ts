// Cursor (keyset) pages of cells and images: cellsConnection and imagesConnection, beside the offset
// forms `cells` and `images`, in the same order.
import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root, type ClassType } from 'type-graphql';
import { CellConnectionType, ImageConnectionType, type PageInfoType } from '../schema/types/connection.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toCell, toImage } from '../schema/mappers.js';
import { parseFirst, type KeysetPage, type Total } from '../services/keyset.js';

const TOTAL_COUNT =
  'Rows matching the filter, not only this page. Exact with no filter or a dataset alone (counters kept by the database); other filters are counted exactly up to 10,000 rows and estimated by the planner beyond (totalCountIsEstimate)';

function connection<E, N>(page: KeysetPage<E>, toNode: (e: E) => N): { edges: { cursor: string; node: N }[]; nodes: N[]; pageInfo: PageInfoType; total: () => Promise<Total> } {
  const nodes = page.items.map(toNode);
  let counted: Promise<Total> | null = null;
  return {
    edges: nodes.map((node, i) => ({ cursor: page.cursors[i], node })),
    nodes,
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: false, startCursor: page.cursors[0] ?? null, endCursor: page.cursors.at(-1) ?? null },
    // Asked for by totalCount and totalCountIsEstimate alike: counted once.
    total: () => (counted ??= page.total()),
  };
}

/** totalCount and totalCountIsEstimate of a connection type (one count per page, see connection()). */
function ConnectionCounts<C extends { total: () => Promise<Total> }>(of: ClassType<C>) {
  @Resolver(() => of)
  abstract class Counts {
    @FieldResolver(() => Int, { description: TOTAL_COUNT })
    async totalCount(@Root() c: C): Promise<number> {
      return (await c.total()).count;
    }

    @FieldResolver(() => Boolean, { description: 'True when totalCount is the planner\'s estimate' })
    async totalCountIsEstimate(@Root() c: C): Promise<boolean> {
      return !(await c.total()).exact;
    }
  }
  return Counts;
}

@Resolver(() => CellConnectionType)
export class CellConnectionResolver extends ConnectionCounts(CellConnectionType) {
  @Query(() => CellConnectionType, { description: 'Cells filtered by image, job or dataset, by cursor: `first` (1-500, default 50) after the cursor `after`' })
  async cellsConnection(
    @Ctx() ctx: GraphQLContext,
    @Arg('imageId', () => ID, { nullable: true }) imageId?: string,
    @Arg('jobId', () => ID, { nullable: true }) jobId?: string,
    @Arg('datasetId', () => ID, { nullable: true }) datasetId?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<CellConnectionType> {
    const page = await ctx.services.catalog.cellsAfter(
      {
        imageId: imageId ? parseId(imageId, 'imageId') : undefined,
        jobId: jobId ? parseId(jobId, 'jobId') : undefined,
        datasetId: datasetId ? parseId(datasetId, 'datasetId') : undefined,
      },
      parseFirst(first),
      after ?? null,
    );
    return connection(page, (c) => toCell(c, ctx.baseUrl));
  }
}

@Resolver(() => ImageConnectionType)
export class ImageConnectionResolver extends ConnectionCounts(ImageConnectionType) {
  @Query(() => ImageConnectionType, { description: 'Images by cursor, in the order of `images` (source path): `first` (1-500, default 50) after the cursor `after`' })
  async imagesConnection(
    @Ctx() ctx: GraphQLContext,
    @Arg('datasetId', () => ID, { nullable: true }) datasetId?: string,
    @Arg('cellType', () => String, { nullable: true }) cellType?: string,
    @Arg('split', () => String, { nullable: true }) split?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<ImageConnectionType> {
    const page = await ctx.services.images.listAfter(
      { datasetId: datasetId ? parseId(datasetId, 'datasetId') : undefined, cellType: cellType ?? undefined, split: split ?? undefined },
      parseFirst(first),
      after ?? null,
    );
    return connection(page, (i) => toImage(i, ctx.baseUrl));
  }
}
