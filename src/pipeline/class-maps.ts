// Class harmonisation: every dataset's raw labels map to one canonical cell-type vocabulary, and from it
// to the paper's 13 classes or to the 5 classes that all domains share (docs/aecfe-method.md, "Datasets").

/** Canonical cell types: the paper's 13 plus the coarse labels some datasets give instead. */
export const CELL_TYPES = [
  'basophil', 'eosinophil', 'erythroblast', 'myeloblast', 'promyelocyte', 'myelocyte', 'metamyelocyte',
  'neutrophil_band', 'neutrophil_segmented', 'monocyte', 'lymphocyte_typical', 'lymphocyte_atypical', 'smudge_cell',
  // coarse or out-of-scheme labels
  'neutrophil', 'lymphocyte', 'immature_granulocyte', 'platelet', 'other',
] as const;
export type CellType = (typeof CELL_TYPES)[number];

export const CLASS_MAP_NAMES = ['common5', 'common5_ig', 'paper13'] as const;
export type ClassMapName = (typeof CLASS_MAP_NAMES)[number];

export const PAPER13 = CELL_TYPES.slice(0, 13) as readonly string[];
export const COMMON5 = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'] as const;
/**
 * The five and the immature granulocytes (promyelocytes, myelocytes, metamyelocytes: Acevedo-20's `ig`), whose
 * count in peripheral blood is the left shift a differential count reports.
 */
export const COMMON5_IG = [...COMMON5, 'immature_granulocyte'] as const;
const IMMATURE_GRANULOCYTES: readonly string[] = ['immature_granulocyte', 'promyelocyte', 'myelocyte', 'metamyelocyte'];

/** Raw label spellings -> canonical type. Keys are lower-cased, with separators collapsed to '_'. */
const RAW_TO_TYPE: Record<string, CellType> = {
  // English names (Acevedo-20 folders, BCCD, Zheng, generic CSVs)
  basophil: 'basophil', eosinophil: 'eosinophil', erythroblast: 'erythroblast', myeloblast: 'myeloblast',
  promyelocyte: 'promyelocyte', myelocyte: 'myelocyte', metamyelocyte: 'metamyelocyte', monocyte: 'monocyte',
  neutrophil: 'neutrophil', lymphocyte: 'lymphocyte', platelet: 'platelet', ig: 'immature_granulocyte',
  immature_granulocyte: 'immature_granulocyte', band_neutrophil: 'neutrophil_band', segmented_neutrophil: 'neutrophil_segmented',
  neutrophil_band: 'neutrophil_band', neutrophil_segmented: 'neutrophil_segmented', lymphocyte_typical: 'lymphocyte_typical',
  lymphocyte_atypical: 'lymphocyte_atypical', smudge_cell: 'smudge_cell', smudge: 'smudge_cell',
  // Acevedo-20 file-name prefixes (subtypes)
  ba: 'basophil', eo: 'eosinophil', erb: 'erythroblast', mo: 'monocyte', ly: 'lymphocyte', sne: 'neutrophil_segmented',
  bne: 'neutrophil_band', ne: 'neutrophil', my: 'myelocyte', mmy: 'metamyelocyte', pmy: 'promyelocyte',
  // Matek-19 class codes
  ngs: 'neutrophil_segmented', ngb: 'neutrophil_band', lyt: 'lymphocyte_typical', lya: 'lymphocyte_atypical',
  mon: 'monocyte', mob: 'monocyte', eos: 'eosinophil', bas: 'basophil', ebo: 'erythroblast', myo: 'myeloblast',
  pmo: 'promyelocyte', myb: 'myelocyte', mmz: 'metamyelocyte', ksc: 'smudge_cell', plt: 'platelet',
};

/** Matek-19's folder codes: a folder layout whose class folders are these is Matek's. */
export const MATEK_CODES = ['NGS', 'NGB', 'LYT', 'LYA', 'MON', 'MOB', 'EOS', 'BAS', 'EBO', 'MYO', 'PMO', 'PMB', 'MYB', 'MMZ', 'KSC'];

function key(raw: string): string {
  return raw.trim().toLowerCase().replace(/[\s\-./()]+/g, '_').replace(/^_|_$/g, '');
}

/**
 * The canonical type of a raw label. A subtype (Acevedo's file-name prefix) refines a coarse label.
 * `overrides` (per dataset) win over the built-in table. Unknown labels give null.
 */
export function harmonise(raw: string | null | undefined, subtype?: string | null, overrides: Record<string, string> = {}): CellType | null {
  if (!raw) return null;
  const ov = overrides[raw] ?? overrides[key(raw)];
  if (ov) return (CELL_TYPES as readonly string[]).includes(ov) ? (ov as CellType) : null;
  const base = RAW_TO_TYPE[key(raw)] ?? null;
  const sub = subtype ? (RAW_TO_TYPE[key(subtype)] ?? null) : null;
  if (sub && (base === null || refines(base, sub))) return sub;
  return base;
}

function refines(coarse: CellType, fine: CellType): boolean {
  if (coarse === fine) return true;
  if (coarse === 'neutrophil') return fine === 'neutrophil_band' || fine === 'neutrophil_segmented';
  if (coarse === 'lymphocyte') return fine === 'lymphocyte_typical' || fine === 'lymphocyte_atypical';
  if (coarse === 'immature_granulocyte') return ['promyelocyte', 'myelocyte', 'metamyelocyte'].includes(fine);
  return false;
}

/**
 * The class of a canonical type under a class map, or null when the map leaves it out. In `paper13`
 * a neutrophil or lymphocyte of unknown subtype counts as the common one (segmented, typical), which
 * is what a peripheral-blood count of such a label almost always is.
 */
export function classOf(type: CellType | string | null, map: ClassMapName): string | null {
  if (!type) return null;
  if (map === 'common5' || map === 'common5_ig') {
    if (map === 'common5_ig' && IMMATURE_GRANULOCYTES.includes(type)) return 'immature_granulocyte';
    if (type.startsWith('neutrophil')) return 'neutrophil';
    if (type.startsWith('lymphocyte')) return 'lymphocyte';
    return (COMMON5 as readonly string[]).includes(type) ? type : null;
  }
  if (type === 'neutrophil') return 'neutrophil_segmented';
  if (type === 'lymphocyte') return 'lymphocyte_typical';
  return PAPER13.includes(type) ? type : null;
}

export function classesOf(map: ClassMapName): readonly string[] {
  return map === 'common5' ? COMMON5 : map === 'common5_ig' ? COMMON5_IG : PAPER13;
}
