import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ImagePageType, ImageType, UploadResultType } from '../schema/types/image.type.js';
import { DatasetType } from '../schema/types/dataset.type.js';
import { CellType } from '../schema/types/cell.type.js';
import { CellTypeEnum, eitherArg, type CellType as CellTypeName } from '../schema/enums.js';
import { CELL_TYPES } from '../pipeline/class-maps.js';
import { ClassMapEnum, UploadImageInput } from '../schema/inputs/dataset.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toCell, toDataset, toImage } from '../schema/mappers.js';
import { classOf } from '../pipeline/class-maps.js';
import { BadInputError } from '../services/errors.js';

@Resolver(() => ImageType)
export class ImageResolver {
  @Query(() => ImagePageType)
  async images(
    @Ctx() ctx: GraphQLContext,
    @Arg('datasetId', () => ID, { nullable: true }) datasetId?: string,
    @Arg('canonicalType', () => CellTypeEnum, { nullable: true, description: 'Images labelled with this cell type' }) canonicalType?: CellTypeName,
    @Arg('cellType', () => String, { nullable: true, deprecationReason: 'Use canonicalType (a CellType); an unknown name is refused' }) cellType?: string,
    @Arg('split', () => String, { nullable: true }) split?: string,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<ImagePageType> {
    const page = parsePage(limit, offset);
    const r = await ctx.services.images.list({
      datasetId: datasetId ? parseId(datasetId, 'datasetId') : undefined,
      cellType: eitherArg(canonicalType, cellType, CELL_TYPES, ['canonicalType', 'cellType']),
      split: split ?? undefined,
      ...page,
    });
    return { items: r.items.map((i) => toImage(i, ctx.baseUrl)), total: r.total };
  }

  @Query(() => ImageType, { nullable: true, description: 'Null when there is no image with this id' })
  async image(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ImageType | null> {
    const img = await ctx.services.images.find(parseId(id));
    return img && toImage(img, ctx.baseUrl);
  }

  @FieldResolver(() => DatasetType)
  async dataset(@Root() img: ImageType, @Ctx() ctx: GraphQLContext): Promise<DatasetType> {
    const d = await ctx.loaders.dataset.load(img.datasetId);
    if (!d) throw new Error(`image ${img.id}: dataset ${img.datasetId} is missing`);
    return toDataset(d);
  }

  @FieldResolver(() => [CellType], { description: 'The cells found in it, by rank (every detector\'s)' })
  async cells(@Root() img: ImageType, @Ctx() ctx: GraphQLContext): Promise<CellType[]> {
    return (await ctx.loaders.cellsOfImage.load(img.id)).map((c) => toCell(c, ctx.baseUrl));
  }

  @FieldResolver(() => String, { nullable: true, description: 'The class of this image under a class map (null: not in the map)' })
  label(@Root() img: ImageType, @Arg('classMap', () => ClassMapEnum, { defaultValue: ClassMapEnum.COMMON5 }) classMap: ClassMapEnum): string | null {
    return classOf(img.cellType, classMap);
  }

  @Mutation(() => UploadResultType, { description: 'Stores an image sent by the client (checked: format, size, complete decode)' })
  async uploadImage(@Arg('input', () => UploadImageInput) input: UploadImageInput, @Ctx() ctx: GraphQLContext): Promise<UploadResultType> {
    const b64 = input.contentBase64.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new BadInputError('contentBase64 is not valid base64');
    const data = Buffer.from(b64, 'base64');
    const r = await ctx.services.images.upload(parseId(input.datasetId, 'datasetId'), input.filename, data, input.label ?? null);
    return { image: toImage(r.image, ctx.baseUrl), created: r.created };
  }
}
