// The evaluation report as Markdown (docs/results.md and report.md beside report.json): one table per
// method and domain, the data and how it was loaded, wall times, the machine and the dataset citations.
import os from 'node:os';
import type { FlagScores } from './flag-scores.js';
import { METHODS, METHOD_DESCRIPTIONS, type DomainReport, type EvaluationReport, type MethodName } from './pipeline.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** The papers to cite for numbers on each public dataset (shared/data/README.md), matched by name or folder. */
const CITATIONS: Array<{ match: RegExp; cite: string }> = [
  { match: /acevedo|pbc/i, cite: 'Acevedo-20 (PBC): Acevedo et al. 2020, Data in Brief 30:105474, doi 10.17632/snkd93bnjr.1 (CC BY 4.0)' },
  { match: /bccd/i, cite: 'BCCD: Shenggan/BCCD_Dataset (MIT); nucleus/cytoplasm masks from Banik et al. 2020' },
  { match: /zheng/i, cite: 'Zheng DS2: Zheng et al. 2018, Micron 107:55-71 (GPL-3.0)' },
  { match: /matek|aml/i, cite: 'Matek-19 (AML-Cytomorphology_LMU): Matek et al. 2019, Nature Machine Intelligence 1:538-544' },
  { match: /txl/i, cite: 'TXL-PBC: Gan & Li 2024, arXiv 2407.13214 (MIT)' },
  { match: /raabin/i, cite: 'Raabin-WBC: Kouzehkanan et al. 2022, Scientific Reports 12:1123' },
];

export function citationsFor(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of CITATIONS) if (names.some((n) => c.match.test(n)) && !out.includes(c.cite)) out.push(c.cite);
  return out;
}

export interface MarkdownContext {
  title?: string;
  commandLine?: string;
  machine?: MachineInfo;
  /** Extra paragraphs after the summary (e.g. what was filtered out of a dataset and why). */
  preamble?: string[];
  /** The detector used (path, name, version, runtime), one line. */
  detector?: string;
  /** Data folders per domain, for citations matched on the path too. */
  dirs?: Record<string, string>;
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : (v * 100).toFixed(1));
const span = ([lo, hi]: readonly [number, number]): string => `${pct(lo)}-${pct(hi)}`;
/** Accuracy's 95 % interval as 'lo-hi' %. */
export function accuracyInterval(d: Pick<DomainReport, 'accuracy_ci95'>): string {
  return span(d.accuracy_ci95);
}
function flagCell(f: FlagScores | undefined): string {
  if (!f) return '—';
  const u = f.unflagged;
  return `${pct(f.flagged / f.n)} % flagged · ${u.accuracy === null ? '—' : `${pct(u.accuracy)} (${span(u.accuracy_ci95!)})`}`;
}

function flagLine(f: FlagScores): string {
  const u = f.unflagged;
  return (
    `Flagged as the product would (unlike the training cells, or top probability < ${f.min_confidence}${f.self_check ? ', or the batch\'s self-check failed' : ''}): ${f.flagged} of ${f.n} ` +
    `(${f.novel} unlike, ${f.low_confidence} low confidence${f.self_check ? `, ${f.self_check} withheld by the failed self-check` : ''}); accuracy on the ${u.n} left ${u.accuracy === null ? '—' : `${pct(u.accuracy)} % (95 % interval ${span(u.accuracy_ci95!)} %)`}` +
    `, on the flagged ${pct(f.flagged_accuracy)} %.`
  );
}
const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '—');

function methodDomains(r: EvaluationReport, m: MethodName): Record<string, DomainReport> | undefined {
  return m === 'ae_cfe' ? (Object.keys(r.domains).length || r.methods.ae_cfe ? r.domains : undefined) : r.baselines[m]?.domains;
}

function domainLabel(r: EvaluationReport, name: string, d: DomainReport): string {
  return d.role === 'source-test' ? `${name} (held-out ${Math.round(r.settings.testFraction * 100)} %)` : name;
}

function domainTable(d: DomainReport): string[] {
  const lines = ['| class | precision | recall | F1 | support |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const [cls, m] of Object.entries(d.per_class)) {
    const mark = d.excluded_classes.includes(cls) ? ' *' : '';
    lines.push(`| ${cls}${mark} | ${f3(m.precision)} | ${f3(m.recall)} | ${f3(m.f1)} | ${m.support} |`);
  }
  lines.push('', `Confusion (rows: true, columns: predicted): ${d.confusion.labels.join(', ')}`, '', '```');
  const w = Math.max(...d.confusion.labels.map((l) => l.length), 5);
  const wc = Math.max(5, ...d.confusion.matrix.flat().map((v) => String(v).length));
  lines.push(' '.repeat(w) + ' ' + d.confusion.labels.map((l) => l.slice(0, wc).padStart(wc)).join(' '));
  d.confusion.matrix.forEach((row, i) => lines.push(d.confusion.labels[i]!.padEnd(w) + ' ' + row.map((v) => String(v).padStart(wc)).join(' ')));
  lines.push('```');
  return lines;
}

/** The whole report as Markdown. */
export function renderMarkdown(r: EvaluationReport, ctx: MarkdownContext = {}): string {
  const out: string[] = [];
  const machine = ctx.machine ?? machineInfo();
  const methods = METHODS.filter((m) => methodDomains(r, m));
  const scored = Object.keys(r.domains).length ? Object.entries(r.domains) : Object.entries(Object.values(r.baselines)[0]?.domains ?? {});
  out.push(`# ${ctx.title ?? 'Cross-domain evaluation'}`, '');
  out.push(
    `Source **${r.source}** (forests fitted on a stratified, seeded ${Math.round((1 - r.settings.testFraction) * 100)} % of its labelled cells); ` +
      `scored on its held-out ${Math.round(r.settings.testFraction * 100)} % and on every labelled cell of ${r.targets.length ? r.targets.join(', ') : 'no target'}. ` +
      `Alignment (AE-CFE only) to the unlabelled cells of: ${r.align.length ? r.align.join(', ') : 'none'}. Classes: ${r.classes.join(', ')}.`,
    '',
  );
  for (const p of ctx.preamble ?? []) out.push(p, '');

  out.push('## Summary', '', 'Accuracy / balanced accuracy / macro F1, % (macro F1 over classes with >= ' + `${r.settings.minSupport} cells in the domain).`, '');
  out.push(`| method | ${scored.map(([n, d]) => domainLabel(r, n, d)).join(' | ')} |`);
  out.push(`| --- | ${scored.map(() => '---').join(' | ')} |`);
  for (const m of methods) {
    const doms = methodDomains(r, m)!;
    out.push(`| ${m} | ${scored.map(([n]) => (doms[n] ? `${pct(doms[n]!.accuracy)} / ${pct(doms[n]!.balanced_accuracy)} / ${pct(doms[n]!.macro_f1)}` : '—')).join(' | ')} |`);
  }
  out.push(
    '',
    'Accuracy, % (its 95 % interval): the interval is the uncertainty that the number of cells scored leaves alone ' +
      '(Wilson score interval): where a domain holds few cells, a difference inside it is not a measured difference.',
    '',
  );
  out.push(`| method | ${scored.map(([n, d]) => `${domainLabel(r, n, d)}, n ${d.n}`).join(' | ')} |`);
  out.push(`| --- | ${scored.map(() => '---').join(' | ')} |`);
  for (const m of methods) {
    const doms = methodDomains(r, m)!;
    out.push(`| ${m} | ${scored.map(([n]) => (doms[n] ? `${pct(doms[n]!.accuracy)} (${accuracyInterval(doms[n]!)})` : '—')).join(' | ')} |`);
  }
  if (methods.some((m) => Object.values(methodDomains(r, m)!).some((d) => d.flags))) {
    const minConf = methods.flatMap((m) => Object.values(methodDomains(r, m)!)).find((d) => d.flags)!.flags!.min_confidence;
    out.push(
      '',
      'If a person reviews the flagged cells: the share of cells the product would flag (unlike every training class, or a top ' +
        `probability under ${minConf}, or every cell of a lab whose self-check failed, as the classify job withholds them) · accuracy, % (95 % interval), on the cells left. ` +
        'Flags that work leave the rest more accurate than all cells.',
      '',
    );
    out.push(`| method | ${scored.map(([n, d]) => domainLabel(r, n, d)).join(' | ')} |`);
    out.push(`| --- | ${scored.map(() => '---').join(' | ')} |`);
    for (const m of methods) {
      const doms = methodDomains(r, m)!;
      out.push(`| ${m} | ${scored.map(([n]) => flagCell(doms[n]?.flags)).join(' | ')} |`);
    }
  }
  out.push('', 'Methods:', '');
  for (const m of methods) out.push(`- **${m}**: ${METHOD_DESCRIPTIONS[m]}`);
  out.push('');

  out.push('## Data', '', '| domain | role | cells | labelled | unlabelled | scored | aligned | images listed | sampled | no detection | failed |', '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const [name, d] of Object.entries(r.datasets)) {
    const l = (d.loading ?? {}) as Record<string, unknown>;
    const num = (k: string) => (typeof l[k] === 'number' ? String(l[k]) : '—');
    out.push(`| ${name} | ${d.role} | ${d.cells} | ${d.labelled} | ${d.unlabelled} | ${d.scored}${d.train !== undefined ? ` (train ${d.train})` : ''} | ${d.aligned ? 'yes' : 'no'} | ${num('images')} | ${num('sampled')} | ${num('noDetection')} | ${num('failed')} |`);
  }
  out.push('');
  for (const [name, d] of Object.entries(r.datasets)) {
    const l = (d.loading ?? {}) as { noDetectionByClass?: Record<string, number>; unmapped?: Record<string, number>; unmappedDropped?: boolean; failures?: Array<{ path: string; error: string }>; dir?: string; maxPerClass?: number | null; cached?: number; multipleDetections?: number };
    const bits: string[] = [];
    bits.push(`labelled per class: ${Object.entries(d.classes).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`);
    if (l.maxPerClass) bits.push(`at most ${l.maxPerClass} images per class (seeded sample)`);
    if (l.noDetectionByClass && Object.keys(l.noDetectionByClass).length) bits.push(`no detection: ${Object.entries(l.noDetectionByClass).map(([c, n]) => `${c} ${n}`).join(', ')}`);
    if (l.unmapped && Object.keys(l.unmapped).length) {
      bits.push(`labels outside the class map (${l.unmappedDropped ? 'dropped' : 'kept unlabelled: autoencoder/alignment only, never scored'}): ${Object.entries(l.unmapped).map(([c, n]) => `${c} ${n}`).join(', ')}`);
    }
    if (l.multipleDetections) bits.push(`${l.multipleDetections} images with more than one detection (the top-scoring cell used)`);
    if (l.cached) bits.push(`${l.cached} detections read from the cache`);
    if (l.failures?.length) bits.push(`failed images (first ${l.failures.length}): ${l.failures.slice(0, 5).map((f) => `${f.path} (${f.error})`).join('; ')}`);
    out.push(`- **${name}**${l.dir ? ` (\`${l.dir}\`)` : ''}: ${bits.join('; ')}.`);
  }
  out.push('');

  for (const m of methods) {
    const doms = methodDomains(r, m)!;
    out.push(`## ${m}`, '', METHOD_DESCRIPTIONS[m] + '.', '');
    for (const [name, d] of Object.entries(doms)) {
      out.push(`### ${m} — ${domainLabel(r, name, d)}`, '');
      out.push(
        `n ${d.n}, accuracy ${pct(d.accuracy)} % (95 % interval ${accuracyInterval(d)} %), balanced accuracy ${pct(d.balanced_accuracy)} %, macro F1 ${pct(d.macro_f1)} %` +
          (d.excluded_classes.length ? ` (left out of macro F1, < ${r.settings.minSupport} cells: ${d.excluded_classes.join(', ')}, marked *)` : '') +
          '.',
        '',
      );
      if (d.flags) out.push(flagLine(d.flags), '');
      out.push(...domainTable(d), '');
    }
  }

  out.push('## Training', '');
  for (const [m, run] of Object.entries(r.autoencoders)) {
    if (!run) continue;
    const last = run.epochs.at(-1);
    out.push(
      `- **${m}**: ${r.settings.preset} preset (${run.parameterCount.toLocaleString('en')} parameters), ${run.steps} steps over ${run.epochs.length} epochs, ` +
        `batch ${r.settings.batchSize}, lr ${r.settings.learningRate}, align weight ${run.alignWeight} to ${run.alignDomains.join(', ') || 'nothing'}; ` +
        `${run.backend} (${run.device}); last epoch loss ${last ? f3(last.loss) : '—'} (SSIM ${last ? f3(last.ssim) : '—'}, MSE ${last ? f3(last.mse) : '—'}, align ${last ? last.align.toExponential(2) : '—'}).`,
    );
    if (run.latents) {
      const parts = Object.entries(run.latents).map(([d, l]) => `${d} ${l.meanStd.toFixed(3)}${l.alignmentToSource === null ? '' : ` (alignment to the source ${l.alignmentToSource.toExponential(2)})`}`);
      out.push(`  Latent spread (mean standard deviation of z per dimension; near 0 = collapsed): ${parts.join(', ')}.`);
    }
  }
  out.push(`- Forests: ${r.settings.trees} trees, max depth ${r.settings.maxDepth}, seed from ${r.settings.seed}; split seed ${r.settings.seed}.`, '');

  out.push('## Wall time', '', '| stage | seconds |', '| --- | ---: |');
  for (const [k, v] of Object.entries(r.timings)) out.push(`| ${k} | ${v.toFixed(1)} |`);
  out.push('');

  out.push('## Machine and command', '');
  out.push(`- ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.platform}; Node ${machine.node}.`);
  if (ctx.detector) out.push(`- Detector: ${ctx.detector}.`);
  if (ctx.commandLine) out.push(`- Command: \`${ctx.commandLine}\``);
  out.push(`- Report created ${r.created}.`, '');

  if (r.notes.length) {
    out.push('## Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  const cites = citationsFor([...Object.keys(r.datasets), ...Object.values(ctx.dirs ?? {})]);
  if (cites.length) {
    out.push('## Datasets', '');
    for (const c of cites) out.push(`- ${c}`);
    out.push('');
  }
  out.push('Method: Salehi, Sadafi et al., "Unsupervised Cross-Domain Feature Extraction for Single Blood Cell Image Classification", MICCAI 2022 (arXiv 2207.00501).', '');
  return out.join('\n');
}
