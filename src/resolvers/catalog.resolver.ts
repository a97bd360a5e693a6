import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { EvaluationType, ModelType } from '../schema/types/model.type.js';
import { EngineInstanceType } from '../schema/types/engine.type.js';
import { ClassMapEnum } from '../schema/inputs/dataset.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toEngine, toEvaluation, toModel } from '../schema/mappers.js';
import { CELL_TYPES, classesOf } from '../pipeline/class-maps.js';
import { MODEL_KINDS, ModelKindEnum, eitherArg, type ModelKind } from '../schema/enums.js';
import { ServerVersionType } from '../schema/types/server-version.type.js';
import { serverVersion } from '../schema/schema-version.js';

@Resolver()
export class CatalogResolver {
  @Query(() => [ModelType])
  async models(
    @Ctx() ctx: GraphQLContext,
    @Arg('type', () => ModelKindEnum, { nullable: true }) type?: ModelKind,
    @Arg('kind', () => String, { nullable: true, deprecationReason: 'Use type (a ModelKind); an unknown kind is refused' }) kind?: string,
  ): Promise<ModelType[]> {
    return (await ctx.services.catalog.models(eitherArg(type, kind, MODEL_KINDS, ['type', 'kind']))).map(toModel);
  }

  @Query(() => ModelType, { nullable: true, description: 'Null when there is no model with this id' })
  async model(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelType | null> {
    const m = await ctx.services.catalog.findModel(parseId(id));
    return m && toModel(m);
  }

  @Query(() => [EvaluationType])
  async evaluations(@Ctx() ctx: GraphQLContext): Promise<EvaluationType[]> {
    return (await ctx.services.catalog.evaluations()).map(toEvaluation);
  }

  @Query(() => EvaluationType, { nullable: true, description: 'Null when there is no evaluation with this id' })
  async evaluation(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<EvaluationType | null> {
    const e = await ctx.services.catalog.findEvaluation(parseId(id));
    return e && toEvaluation(e);
  }

  @Query(() => ServerVersionType, { description: "The server's version and the version of this schema: a client compares the schema's with its own" })
  serverVersion(): ServerVersionType {
    return serverVersion();
  }

  @Query(() => [EngineInstanceType], { description: 'Engines, with the backend and device of each runtime, resident models and memory' })
  async engineStatus(@Ctx() ctx: GraphQLContext): Promise<EngineInstanceType[]> {
    return (await ctx.services.catalog.engines()).map((e) => toEngine(e, ctx.services.cfg.engineStaleMs));
  }

  @Query(() => [String], { description: 'The canonical cell types labels are harmonised to (the CellType enum, as the stored strings)' })
  cellTypes(): string[] {
    return [...CELL_TYPES];
  }

  @Query(() => [String], { description: 'The classes of a class map' })
  classMap(@Arg('name', () => ClassMapEnum) name: ClassMapEnum): string[] {
    return [...classesOf(name)];
  }
}
