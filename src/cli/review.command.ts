// `leukograph review`: the review loop from a terminal, against a running server. The queue (cells that
// teach the classifier the most first), a class given or undone, the counts, the audit trail as CSV, and
// retrain-with-the-reviews followed by the lab classified again with what changed.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connect, type Remote } from './remote.js';

export const REVIEW_USAGE = `Usage (against a running server; --url, default http://127.0.0.1:4000/graphql; --token or LEUKOGRAPH_TOKEN):
  leukograph review queue --dataset NAME [--first 20] [--json]   the cells to review first, with why
  leukograph review give <cellId> <class>                        confirm or correct a cell's class (neutrophil, lymphocyte, ...)
  leukograph review undo <reviewId>                              undo a review (it stays in the audit trail, marked)
  leukograph review summary --dataset NAME [--json]              counts: classified, flagged, reviewed, per class
  leukograph review export --dataset NAME --out reviews.csv      the audit trail as CSV
  leukograph review retrain --dataset NAME --source NAME [--source ...] [--features morphology|latent] [--share 0.5]
      trains a classifier on the source labs plus the lab's reviewed cells, classifies the lab again and
      prints what changed
`;

async function datasetId(r: Remote, name: string): Promise<string> {
  const d = await r.request<{ datasets: { id: string; name: string }[] }>(`{ datasets { id name } }`);
  const found = d.datasets.find((x) => x.name === name || x.id === name);
  if (!found) throw new Error(`no dataset named "${name}"`);
  return found.id;
}

async function runJob(r: Remote, mutation: string, input: Record<string, unknown>, say: (s: string) => void): Promise<{ id: string; status: string; result: any; error: string | null; message: string | null }> {
  const type = mutation[0]!.toUpperCase() + mutation.slice(1);
  const id: string = (await r.request(`mutation($i: ${type}Input!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id;
  let last = '';
  await r.follow(id, (e) => {
    const line = `${mutation}: ${e.status}${e.message ? ` ${e.message}` : ''}`;
    if (line !== last) say((last = line));
  });
  const j = (await r.request(`query($id: ID!) { job(id: $id) { id status result error message } }`, { id })).job;
  return { ...j, status: String(j.status).toLowerCase() };
}

const pct = (x: number) => `${Math.round(100 * x)} %`;

export async function reviewCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' }, token: { type: 'string' }, dataset: { type: 'string' }, source: { type: 'string', multiple: true },
        first: { type: 'string' }, out: { type: 'string' }, features: { type: 'string' }, share: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${REVIEW_USAGE}`);
    return 2;
  }
  const { values: v, positionals: [sub, ...rest] } = parsed;
  if (v.help || !sub) {
    (v.help ? out : err).write(REVIEW_USAGE);
    return v.help ? 0 : 2;
  }
  const need = (x: string | undefined, what: string) => {
    if (!x) throw new Error(`${what} is required (leukograph review --help)`);
    return x;
  };
  const r = connect(v.url ?? process.env.LEUKOGRAPH_URL ?? 'http://127.0.0.1:4000/graphql', v.token ?? process.env.LEUKOGRAPH_TOKEN);
  try {
    switch (sub) {
      case 'queue': {
        const first = Number(v.first ?? 20);
        const q = (await r.request(
          `query($d: ID!, $n: Int) { reviewQueue(datasetId: $d, first: $n) { rank uncertainty reason currentLabel confidence cell { id cropUrl prediction { flagged reason probabilities { label probability } } } } }`,
          { d: await datasetId(r, need(v.dataset, '--dataset')), n: first },
        )).reviewQueue as any[];
        if (v.json) for (const e of q) out.write(JSON.stringify(e) + '\n');
        else {
          for (const e of q) {
            const probs = [...e.cell.prediction.probabilities].sort((a: any, b: any) => b.probability - a.probability).slice(0, 3).map((p: any) => `${p.label} ${pct(p.probability)}`).join(', ');
            out.write(`${String(e.rank + 1).padStart(3)}  ${e.cell.id}  ${(e.currentLabel ?? 'flagged').padEnd(11)} ${probs}  (${e.reason})\n`);
          }
          if (q.length === 0) out.write('nothing to review: every classified cell has a review\n');
        }
        return 0;
      }
      case 'give': {
        const [cellId, label] = rest;
        const rv = (await r.request(`mutation($c: ID!, $l: String!) { reviewCell(cellId: $c, label: $l) { id label previousLabel previousSource } }`, { c: need(cellId, 'the cell id'), l: need(label, 'the class') })).reviewCell;
        out.write(v.json ? JSON.stringify(rv) + '\n' : `review ${rv.id}: ${rv.previousLabel ?? 'flagged'} (${rv.previousSource.toLowerCase()}) -> ${rv.label}\n`);
        return 0;
      }
      case 'undo': {
        const rv = (await r.request(`mutation($id: ID!) { undoReview(id: $id) { id label undoneAt } }`, { id: need(rest[0], 'the review id') })).undoReview;
        out.write(v.json ? JSON.stringify(rv) + '\n' : `review ${rv.id} (${rv.label}) undone\n`);
        return 0;
      }
      case 'summary': {
        const s = (await r.request(
          `query($d: ID!) { reviewSummary(datasetId: $d) { cells classified flagged reviewed confirmed corrected undone perClass { label predicted reviewed current } } }`,
          { d: await datasetId(r, need(v.dataset, '--dataset')) },
        )).reviewSummary;
        if (v.json) out.write(JSON.stringify(s) + '\n');
        else {
          out.write(`${s.cells} cells: ${s.classified} classified, ${s.flagged} flagged; ${s.reviewed} reviewed (${s.confirmed} confirmed, ${s.corrected} corrected), ${s.undone} undone\n`);
          out.write(`${'class'.padEnd(22)} predicted  reviewed  now\n`);
          for (const c of s.perClass) out.write(`${c.label.padEnd(22)} ${String(c.predicted).padStart(9)} ${String(c.reviewed).padStart(9)} ${String(c.current).padStart(4)}\n`);
        }
        return 0;
      }
      case 'export': {
        const csv = (await r.request(`query($d: ID!) { reviewTrailCsv(datasetId: $d) }`, { d: await datasetId(r, need(v.dataset, '--dataset')) })).reviewTrailCsv as string;
        await writeFile(need(v.out, '--out'), csv);
        err.write(`wrote ${csv.trim().split('\n').length - 1} reviews to ${v.out}\n`);
        return 0;
      }
      case 'retrain': {
        const lab = await datasetId(r, need(v.dataset, '--dataset'));
        const sources = await Promise.all((v.source ?? []).map((n) => datasetId(r, n)));
        if (sources.length === 0) throw new Error('--source is required: the labelled lab(s) the classifier learns from besides the reviews');
        const features = (v.features ?? 'morphology').toUpperCase();
        const say = (s: string) => err.write(s + '\n');
        const trained = await runJob(r, 'trainClassifier', {
          datasetIds: sources, features, reviewedDatasetIds: [lab], ...(v.share !== undefined ? { reviewShare: Number(v.share) } : {}),
        }, say);
        if (trained.status !== 'succeeded') throw new Error(`training failed: ${trained.error ?? trained.status}`);
        const classified = await runJob(r, 'classifyCells', { datasetId: lab }, say);
        if (classified.status !== 'succeeded') throw new Error(`classifying failed: ${classified.error ?? classified.status}`);
        const ch = classified.result.changes as { compared: number; changed: number; transitions: Record<string, number> };
        if (v.json) out.write(JSON.stringify({ trainJobId: trained.id, classifyJobId: classified.id, reviewed: trained.result.reviewed, changes: ch }) + '\n');
        else {
          out.write(`retrained with ${trained.result.reviewed?.cells ?? 0} reviewed cells; ${ch.changed} of ${ch.compared} verdicts changed\n`);
          for (const [t, n] of Object.entries(ch.transitions)) out.write(`  ${t}: ${n}\n`);
        }
        return 0;
      }
      default:
        err.write(`unknown review command "${sub}"\n\n${REVIEW_USAGE}`);
        return 2;
    }
  } catch (e) {
    err.write(`leukograph review ${sub}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await r.close();
  }
}
