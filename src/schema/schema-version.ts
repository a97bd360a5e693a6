// The version of the GraphQL schema this server serves, apart from the server's own version: major for a
// change that can break a client (a field removed, a lookup made nullable), minor for additions (a new field,
// a deprecation). The SDK's package version carries the same major.minor (client-sdk/src/version.ts), and
// its checkServer() refuses a server whose schema major differs or whose minor is older than its own.
// Raise it in the same commit that changes the schema (npm run schema shows the change in client-sdk/schema.graphql).
import { readFileSync } from 'node:fs';

/** 2.6: ClassifyCellsInput.selfTraining and ClassifyJobResult.selfTraining (issue 17). 2.5: EvaluationScore.selfCheck (morphology_default's self-check per lab). 2.4: FlagScores.selfCheck (cells flagged because the lab's self-check failed). 2.3: SelfCheck.skipped (SelfCheckSkip: checks not run for too few cells). 2.2: FlagReason SELF_CHECK, ClassifyJobResult.selfCheck and AnalyzeJobResult.selfCheck, StainAdaptation CENTRED/ADAPTIVE/PRIOR_MIX/ENSEMBLE (issue 17). 2.1: reviews (reviewCell, undoReview, reviewQueue, reviewGallery, reviewSummary, reviewTrail, reviewEvents) and trainClassifier(reviewedDatasetIds). 2.0: enums for kinds and cell types, relations, typed results, nullable lookups, serverVersion (1.x: before versioning). */
export const SCHEMA_VERSION = '2.6.0';

let packageVersion: string | null = null;

export function serverVersion(): { server: string; schema: string } {
  if (!packageVersion) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    packageVersion = pkg.version;
  }
  return { server: packageVersion, schema: SCHEMA_VERSION };
}
