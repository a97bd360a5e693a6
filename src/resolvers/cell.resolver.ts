import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { CellPageType, CellType } from '../schema/types/cell.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toCell } from '../schema/mappers.js';

@Resolver(() => CellType)
export class CellResolver {
  @Query(() => CellType)
  async cell(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<CellType> {
    return toCell(await ctx.services.catalog.cell(parseId(id)), ctx.baseUrl);
  }

  @Query(() => CellPageType, { description: 'Cells filtered by image, job or dataset' })
  async cells(
    @Ctx() ctx: GraphQLContext,
    @Arg('imageId', () => ID, { nullable: true }) imageId?: string,
    @Arg('jobId', () => ID, { nullable: true }) jobId?: string,
    @Arg('datasetId', () => ID, { nullable: true }) datasetId?: string,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<CellPageType> {
    const r = await ctx.services.catalog.cells({
      imageId: imageId ? parseId(imageId, 'imageId') : undefined,
      jobId: jobId ? parseId(jobId, 'jobId') : undefined,
      datasetId: datasetId ? parseId(datasetId, 'datasetId') : undefined,
      ...parsePage(limit, offset),
    });
    return { items: r.items.map((c) => toCell(c, ctx.baseUrl)), total: r.total };
  }
}
