// Type-checked, never run: a wrong variable is a compile error, for the SDK's documents and the tool's own.
import { createLeukographClient, JobDocument, ImagesDocument } from '@leukograph/client';
import { ToolCellMasksDocument } from './gql/graphql.js';

const client = createLeukographClient({ url: 'http://127.0.0.1:1/graphql' });
// @ts-expect-error jobId is an ID (a string), not a number
void client.query(ToolCellMasksDocument, { jobId: 42 });
// @ts-expect-error id is required
void client.query(JobDocument, {});
// @ts-expect-error canonicalType is a CellType: a misspelt one does not compile
void client.query(ImagesDocument, { canonicalType: 'NEUTROPHILS' });
void client.query(ImagesDocument, { canonicalType: 'NEUTROPHIL_SEGMENTED' });
