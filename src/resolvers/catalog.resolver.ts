import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { EvaluationType, ModelType } from '../schema/types/model.type.js';
import { EngineInstanceType } from '../schema/types/engine.type.js';
import { ClassMapEnum } from '../schema/inputs/dataset.input.js';
import type { GraphQLContext } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { toEngine, toEvaluation, toModel } from '../schema/mappers.js';
import { CELL_TYPES, classesOf } from '../services/class-maps.js';

@Resolver()
export class CatalogResolver {
  @Query(() => [ModelType])
  async models(@Ctx() ctx: GraphQLContext, @Arg('kind', () => String, { nullable: true }) kind?: string): Promise<ModelType[]> {
    return (await ctx.services.catalog.models(kind ?? undefined)).map(toModel);
  }

  @Query(() => ModelType)
  async model(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelType> {
    return toModel(await ctx.services.catalog.model(parseId(id)));
  }

  @Query(() => [EvaluationType])
  async evaluations(@Ctx() ctx: GraphQLContext): Promise<EvaluationType[]> {
    return (await ctx.services.catalog.evaluations()).map(toEvaluation);
  }

  @Query(() => EvaluationType)
  async evaluation(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<EvaluationType> {
    return toEvaluation(await ctx.services.catalog.evaluation(parseId(id)));
  }

  @Query(() => [EngineInstanceType], { description: 'Engines, with the backend and device of each runtime, resident models and memory' })
  async engineStatus(@Ctx() ctx: GraphQLContext): Promise<EngineInstanceType[]> {
    return (await ctx.services.catalog.engines()).map((e) => toEngine(e, ctx.services.cfg.engineStaleMs));
  }

  @Query(() => [String], { description: 'The canonical cell types labels are harmonised to' })
  cellTypes(): string[] {
    return [...CELL_TYPES];
  }

  @Query(() => [String], { description: 'The classes of a class map' })
  classMap(@Arg('name', () => ClassMapEnum) name: ClassMapEnum): string[] {
    return [...classesOf(name)];
  }
}
