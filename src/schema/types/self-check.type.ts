// A classify job's self-check as clients read it (engine/classifier/self-check.ts writes it into the result).
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum SelfCheckStatusEnum {
  PASSED = 'passed',
  WARNING = 'warning',
  FAILED = 'failed',
}
registerEnumType(SelfCheckStatusEnum, {
  name: 'SelfCheckStatus',
  description:
    'PASSED: nothing found; WARNING: review the count; FAILED: the count is withheld (every cell it would have counted is flagged SELF_CHECK). ' +
    'FAILED means a check failed, or enough checks warned at once (docs/self-check.md, "Warnings together"; the warning says how many): a FAILED status may hold no FAILED verdict',
});

@ObjectType('SelfCheckVerdict')
export class SelfCheckVerdictType {
  @Field(() => String, { description: 'class_mix | estimated_mix | coverage | view_agreement | confidence' }) check: string;
  @Field(() => SelfCheckStatusEnum) status: SelfCheckStatusEnum;
  @Field(() => Float, { description: 'What was measured (the note says what it is)' }) value: number;
  @Field(() => Float) warnAt: number;
  @Field(() => Float) failAt: number;
  @Field(() => String, { description: 'In words' }) note: string;
}

@ObjectType('SelfCheckSkip', { description: 'A check not run because the batch had too few cells (docs/self-check.md, "Too few cells")' })
export class SelfCheckSkipType {
  @Field(() => String, { description: 'class_mix | estimated_mix | coverage | view_agreement | confidence (as SelfCheckVerdict.check)' }) check: string;
  @Field(() => String, { description: 'Why it was not run, in words' }) reason: string;
}

@ObjectType('SelfCheck', { description: "What a classify job checked of its own count before reporting it (docs/self-check.md)" })
export class SelfCheckType {
  @Field(() => SelfCheckStatusEnum) status: SelfCheckStatusEnum;
  @Field(() => Int, { description: 'Cells the count checks looked at (those given a class)' }) cells: number;
  @Field(() => String, { nullable: true, description: 'The warning in words; null when every check passed' }) warning: string | null;
  @Field(() => [SelfCheckVerdictType], { description: 'Each check that ran, with its own status; the whole may be FAILED with WARNING verdicts only (enough warnings together)' }) verdicts: SelfCheckVerdictType[];
  @Field(() => [SelfCheckSkipType], { description: 'Checks not run for too few cells, each with its reason (any makes the status at least WARNING, never FAILED); empty when every check ran, and for results stored before 2.3' })
  skipped: SelfCheckSkipType[];
}

/** From the result JSON (null when the job wrote none: latent classifiers, older jobs). */
export function selfCheckOf(v: unknown): SelfCheckType | null {
  if (!v || typeof v !== 'object') return null;
  const s = v as Record<string, unknown>;
  const status = (x: unknown) => (x === 'failed' ? SelfCheckStatusEnum.FAILED : x === 'warning' ? SelfCheckStatusEnum.WARNING : SelfCheckStatusEnum.PASSED);
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  return {
    status: status(s.status), cells: n(s.cells), warning: typeof s.warning === 'string' ? s.warning : null,
    verdicts: (Array.isArray(s.verdicts) ? s.verdicts : []).map((x) => {
      const r = x as Record<string, unknown>;
      return { check: String(r.check ?? ''), status: status(r.status), value: n(r.value), warnAt: n(r.warnAt), failAt: n(r.failAt), note: String(r.note ?? '') };
    }),
    // Results stored before the list existed have none.
    skipped: (Array.isArray(s.skipped) ? s.skipped : []).filter((x) => x && typeof x === 'object').map((x) => {
      const r = x as Record<string, unknown>;
      return { check: String(r.check ?? ''), reason: String(r.reason ?? '') };
    }),
  };
}
