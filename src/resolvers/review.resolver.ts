import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { GraphQLContext } from '../schema/context.js';
import { parseId, parsePage } from '../schema/ids.js';
import { toCell } from '../schema/mappers.js';
import {
  ReviewedCellPageType, ReviewEventType, ReviewPageType, ReviewQueueEntryType, ReviewSourceEnum, ReviewSummaryType, ReviewType,
} from '../schema/types/review.type.js';
import type { ReviewedCell, ReviewRow } from '../services/review.service.js';
import type { JobEvent } from '../pubsub/events.js';
import { BadInputError } from '../services/errors.js';

type ReviewEvent = Extract<JobEvent, { type: 'review' }>;

/** How a reviewer is shown: the first 12 hex digits of the token's SHA-256. */
export const reviewerLabel = (sha256: string | null) => (sha256 ? `token:${sha256.slice(0, 12)}` : 'no token');

export function toReview(r: ReviewRow): ReviewType {
  return {
    id: r.id, cellId: r.cellId, datasetId: r.datasetId, label: r.label, previousLabel: r.previousLabel, previousSource: r.previousSource as ReviewSourceEnum,
    previousFlagged: r.previousFlagged, previousModelId: r.previousModelId, reviewer: reviewerLabel(r.reviewer), createdAt: r.createdAt, undoneAt: r.undoneAt,
    undoneBy: r.undoneAt ? reviewerLabel(r.undoneBy) : null,
  };
}

const toReviewedCell = (c: ReviewedCell, baseUrl: string) => ({ cell: toCell(c.cell, baseUrl), currentLabel: c.currentLabel, confidence: c.confidence, review: c.review && toReview(c.review) });

@Resolver()
export class ReviewResolver {
  @Mutation(() => ReviewType, { description: "Confirms or corrects a cell's class (a read-write token; the token's SHA-256 is recorded, never the token)" })
  async reviewCell(@Arg('cellId', () => ID) cellId: string, @Arg('label', () => String, { description: 'A class of either class map (neutrophil, lymphocyte, ...)' }) label: string, @Ctx() ctx: GraphQLContext): Promise<ReviewType> {
    return toReview(await ctx.services.reviews.review(parseId(cellId, 'cellId'), label.trim(), ctx.reviewer));
  }

  @Mutation(() => ReviewType, { description: 'Undoes a review: it stays in the audit trail, marked undone, and the verdict before it counts again' })
  async undoReview(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ReviewType> {
    return toReview(await ctx.services.reviews.undo(parseId(id), ctx.reviewer));
  }

  @Query(() => [ReviewQueueEntryType], { description: 'The cells nobody has reviewed, in the order that teaches the classifier the most: uncertain and flagged cells, spread over the lab and its predicted classes' })
  async reviewQueue(@Arg('datasetId', () => ID) datasetId: string, @Arg('first', () => Int, { defaultValue: 20 }) first: number, @Ctx() ctx: GraphQLContext): Promise<ReviewQueueEntryType[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new BadInputError('first must be between 1 and 500');
    const id = parseId(datasetId, 'datasetId');
    await ctx.services.datasets.get(id);
    return (await ctx.services.reviews.queue(id, first)).map((q) => ({ ...toReviewedCell(q, ctx.baseUrl), rank: q.rank, uncertainty: q.uncertainty, reason: q.reason }));
  }

  @Query(() => ReviewedCellPageType, { description: "A dataset's cells of one class (the review's class, else the classifier's; label null: flagged cells nobody reviewed), by the classifier's confidence" })
  async reviewGallery(
    @Ctx() ctx: GraphQLContext,
    @Arg('datasetId', () => ID) datasetId: string,
    @Arg('label', () => String, { nullable: true }) label: string | null,
    @Arg('ascending', () => Boolean, { defaultValue: true, description: 'Least confident first (default)' }) ascending: boolean,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<ReviewedCellPageType> {
    const id = parseId(datasetId, 'datasetId');
    await ctx.services.datasets.get(id);
    const r = await ctx.services.reviews.gallery(id, label ?? null, { ascending, ...parsePage(limit, offset) });
    return { items: r.items.map((c) => toReviewedCell(c, ctx.baseUrl)), total: r.total };
  }

  @Query(() => ReviewSummaryType, { description: "Counts of a dataset's cells: classified, flagged, reviewed (confirmed, corrected), per class" })
  async reviewSummary(@Arg('datasetId', () => ID) datasetId: string, @Ctx() ctx: GraphQLContext): Promise<ReviewSummaryType> {
    const id = parseId(datasetId, 'datasetId');
    await ctx.services.datasets.get(id);
    return ctx.services.reviews.summary(id);
  }

  @Query(() => ReviewPageType, { description: "A dataset's audit trail, newest first, undone reviews included (as CSV: reviewTrailCsv or GET /datasets/<id>/reviews.csv)" })
  async reviewTrail(
    @Ctx() ctx: GraphQLContext,
    @Arg('datasetId', () => ID) datasetId: string,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<ReviewPageType> {
    const id = parseId(datasetId, 'datasetId');
    await ctx.services.datasets.get(id);
    const r = await ctx.services.reviews.trail(id, parsePage(limit, offset));
    return { items: r.items.map(toReview), total: r.total };
  }

  @Query(() => String, { description: 'The whole audit trail as CSV, oldest first (one row per review, undone ones included)' })
  async reviewTrailCsv(@Arg('datasetId', () => ID) datasetId: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const id = parseId(datasetId, 'datasetId');
    await ctx.services.datasets.get(id);
    return ctx.services.reviews.trailCsv(id);
  }

  @Subscription(() => ReviewEventType, {
    description: "Every review given or undone in a dataset, by anyone, as it happens (so that reviewers see each other's work)",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { datasetId: string }, GraphQLContext>) => {
      const id = parseId(args.datasetId, 'datasetId');
      await context.services.datasets.get(id);
      return context.services.hub.subscribe((e): e is ReviewEvent => e.type === 'review' && e.datasetId === id);
    },
  })
  async reviewEvents(@Root() e: ReviewEvent, @Arg('datasetId', () => ID) _datasetId: string, @Ctx() ctx: GraphQLContext): Promise<ReviewEventType> {
    return { action: e.action.toUpperCase(), review: toReview(await ctx.services.reviews.get(e.reviewId)) };
  }
}
