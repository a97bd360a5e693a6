// The closed sets of values clients pass and read as GraphQL enums, so that a misspelt one is a validation
// error instead of an empty list. Each enum's values are the strings stored in the database (job kinds,
// model kinds, canonical cell types), so resolvers hand them to the services unchanged.
import { registerEnumType } from 'type-graphql';
import { JOB_KINDS, type JobKind } from '../jobs/job-kinds.js';
import { CELL_TYPES, type CellType } from '../pipeline/class-maps.js';
import { BadInputError } from '../services/errors.js';

/** 'train-autoencoder' -> 'TRAIN_AUTOENCODER' */
const enumName = (v: string) => v.toUpperCase().replace(/-/g, '_');
const enumOf = <T extends string>(values: readonly T[]): Record<string, T> => Object.fromEntries(values.map((v) => [enumName(v), v]));

export const JobKindEnum = enumOf(JOB_KINDS);
registerEnumType(JobKindEnum, { name: 'JobKind', description: 'What a job does (Job.type; the mutation that starts it is named in each description of Mutation)' });

export const MODEL_KINDS = ['detector', 'autoencoder', 'classifier'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const ModelKindEnum = enumOf(MODEL_KINDS);
registerEnumType(ModelKindEnum, { name: 'ModelKind' });

export const CellTypeEnum = enumOf(CELL_TYPES);
registerEnumType(CellTypeEnum, {
  name: 'CellType',
  description: 'The canonical cell types labels are harmonised to (the first 13 are the paper\'s classes; then coarse or out-of-scheme labels)',
});

export enum FlagReasonEnum {
  NOVEL = 'NOVEL',
  LOW_CONFIDENCE = 'LOW_CONFIDENCE',
  OTHER = 'OTHER',
  SELF_CHECK = 'SELF_CHECK',
}
registerEnumType(FlagReasonEnum, {
  name: 'FlagReason',
  description:
    'Why a cell got no class: NOVEL, unlike every training class (novelty score > 1); LOW_CONFIDENCE, top probability under the classifier\'s minConfidence; ' +
    "SELF_CHECK, its job's self-check failed over the whole batch (a degenerate or implausible count, a collapsed class-mix estimate, cells outside training, " +
    "independent views that disagree, a classifier unsure of the cells, or enough checks warning at once: the job's selfCheck.warning says which), " +
    'so no cell of it is counted until a person reviews them',
});

/**
 * The old string arguments (deprecated beside their enum) still work, but a value outside the set is now
 * refused rather than matching nothing.
 */
export function checkedString<T extends string>(value: string | null | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === null || value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new BadInputError(`${what} "${value.slice(0, 64)}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** The enum argument, else the deprecated string one; both given must agree. */
export function eitherArg<T extends string>(fromEnum: T | null | undefined, fromString: string | null | undefined, allowed: readonly T[], names: [string, string]): T | undefined {
  const s = checkedString(fromString, allowed, names[1]);
  if (fromEnum && s && fromEnum !== s) throw new BadInputError(`${names[0]} and ${names[1]} disagree; give ${names[0]} alone`);
  return fromEnum ?? s;
}

export type { JobKind, CellType };
