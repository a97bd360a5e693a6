// A diagnosis tool: send a smear's images, stream their cells as they are found, print the differential count.
//   node dist/tool.js <graphql url> <token> <image files...>
import { createLeukographClient, differentialCount, differentialLine, type Cell } from '@leukograph/client';
import { ToolCellMasksDocument } from './gql/graphql.js';

const [url, token, ...files] = process.argv.slice(2);
const client = createLeukographClient({ url: url!, token });
try {
  const server = await client.assertCompatible();
  const stream = client.analyzeImages(files, { datasetName: 'downstream-tool' });
  const cells: Cell[] = [];
  for await (const cell of stream) {
    cells.push(cell);
    console.error(`${cell.image.id} #${cell.index}: ${differentialLine(stream.count)}`);
  }
  // The job may have rewritten verdicts when it ended (stream.count is already the final count): the cells it kept take them.
  for (const r of stream.revised) cells[cells.findIndex((c) => c.id === r.id)] = r;
  const job = stream.job!;
  // Its own operation, through the same client (auth, typed errors): the masks the SDK's fragments leave out.
  const { cells: withMasks } = await client.query(ToolCellMasksDocument, { jobId: job.id });
  const masks = withMasks.items.filter((c) => c.mask && c.mask.size.length === 2).length;
  console.log(JSON.stringify({ server, jobId: job.id, status: job.status, cells: cells.length, masks, count: stream.count, recount: differentialCount(cells) }));
} finally {
  await client.close();
}
