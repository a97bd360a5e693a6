import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CellType } from './cell.type.js';

export enum ReviewSourceEnum {
  MODEL = 'model',
  REVIEW = 'review',
  NONE = 'none',
}
registerEnumType(ReviewSourceEnum, { name: 'ReviewSource', description: "Whose verdict a review replaced: the classifier's, an earlier review's, or none (the cell had no prediction)" });

@ObjectType('Review', { description: "A person's verdict on a cell: the class given and the verdict it replaced (audit trail; undone reviews stay, marked)" })
export class ReviewType {
  @Field(() => ID) id: string;
  @Field(() => ID) cellId: string;
  @Field(() => ID) datasetId: string;
  @Field(() => String, { description: 'The class given' }) label: string;
  @Field(() => String, { nullable: true, description: 'The class it replaced (null: the cell was flagged or had no prediction)' }) previousLabel: string | null;
  @Field(() => ReviewSourceEnum) previousSource: ReviewSourceEnum;
  @Field(() => Boolean, { description: 'The replaced verdict was a flag (the classifier named no class)' }) previousFlagged: boolean;
  @Field(() => ID, { nullable: true, description: 'The classifier whose verdict the cell had' }) previousModelId: string | null;
  @Field(() => String, { description: "Who gave it: 'token:' and the first 12 hex digits of the SHA-256 of the token used ('no token' on a server without tokens)" }) reviewer: string;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true, description: 'When it was undone; null while it stands' }) undoneAt: Date | null;
  @Field(() => String, { nullable: true }) undoneBy: string | null;
}

@ObjectType('ReviewEvent', { description: 'A review given or undone in a dataset' })
export class ReviewEventType {
  @Field(() => String, { description: 'REVIEWED or UNDONE' }) action: string;
  @Field(() => ReviewType) review: ReviewType;
}

@ObjectType('ReviewedCell', { description: 'A cell as a reviewer sees it' })
export class ReviewedCellType {
  @Field(() => CellType) cell: CellType;
  @Field(() => String, { nullable: true, description: "The review's class, else the classifier's; null for a flagged cell nobody reviewed" }) currentLabel: string | null;
  @Field(() => Float, { description: "The classifier's top probability" }) confidence: number;
  @Field(() => ReviewType, { nullable: true, description: 'The review standing (latest not undone)' }) review: ReviewType | null;
}

@ObjectType('ReviewQueueEntry', { description: 'A cell in the review queue, with why it is there' })
export class ReviewQueueEntryType extends ReviewedCellType {
  @Field(() => Int, { description: '0 = review first' }) rank: number;
  @Field(() => Float, { description: '1 - (top - second probability), raised for flagged cells' }) uncertainty: number;
  @Field(() => String, { description: 'Why it is queued where it is, in words' }) reason: string;
}

@ObjectType('ReviewedCellPage')
export class ReviewedCellPageType {
  @Field(() => [ReviewedCellType]) items: ReviewedCellType[];
  @Field(() => Int) total: number;
}

@ObjectType('ReviewPage')
export class ReviewPageType {
  @Field(() => [ReviewType]) items: ReviewType[];
  @Field(() => Int) total: number;
}

@ObjectType('ReviewClassCount')
export class ReviewClassCountType {
  @Field(() => String) label: string;
  @Field(() => Int, { description: 'Cells the classifier gave this class' }) predicted: number;
  @Field(() => Int, { description: 'Cells reviewed as this class' }) reviewed: number;
  @Field(() => Int, { description: 'Cells of this class now: reviewed as it, or predicted as it and not reviewed otherwise' }) current: number;
}

@ObjectType('ReviewSummary')
export class ReviewSummaryType {
  @Field(() => Int, { description: 'Cells with a prediction' }) cells: number;
  @Field(() => Int) classified: number;
  @Field(() => Int) flagged: number;
  @Field(() => Int, { description: 'Cells with a standing review' }) reviewed: number;
  @Field(() => Int, { description: "Reviews that gave the classifier's class" }) confirmed: number;
  @Field(() => Int, { description: 'Reviews that gave another class, or a class to a flagged cell' }) corrected: number;
  @Field(() => Int, { description: 'Reviews undone' }) undone: number;
  @Field(() => [ReviewClassCountType]) perClass: ReviewClassCountType[];
}
