import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { CellPageType, CellType } from '../schema/types/cell.type.js';
import { ImageType } from '../schema/types/image.type.js';
import { ModelType } from '../schema/types/model.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toCell, toImage, toModel } from '../schema/mappers.js';

@Resolver(() => CellType)
export class CellResolver {
  @Query(() => CellType, { nullable: true, description: 'Null when there is no cell with this id' })
  async cell(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<CellType | null> {
    const c = await ctx.services.catalog.findCell(parseId(id));
    return c && toCell(c, ctx.baseUrl);
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

  @FieldResolver(() => ImageType, { description: 'The image the cell was found in' })
  async image(@Root() c: CellType, @Ctx() ctx: GraphQLContext): Promise<ImageType> {
    const img = await ctx.loaders.image.load(c.imageId);
    // A cell's image is a foreign key with ON DELETE CASCADE: a cell without one is not served.
    if (!img) throw new Error(`cell ${c.id}: image ${c.imageId} is missing`);
    return toImage(img, ctx.baseUrl);
  }

  @FieldResolver(() => ModelType, { nullable: true, description: 'The detector that found it (null for cells stored without one)' })
  async detector(@Root() c: CellType, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
    const m = c.detectorId ? await ctx.loaders.model.load(c.detectorId) : null;
    return m && toModel(m);
  }
}
