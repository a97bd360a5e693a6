import { Field, Float, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { AUTOENCODER_DEFAULTS, DEFAULT_MIN_CONFIDENCE, DEFAULT_REVIEW_SHARE, FOREST_DEFAULTS, SELF_TRAINING_BY_DEFAULT } from '../../pipeline/defaults.js';
import { ClassMapEnum } from './dataset.input.js';

export enum AutoencoderPresetEnum {
  PAPER = 'paper',
  CPU = 'cpu',
}
registerEnumType(AutoencoderPresetEnum, {
  name: 'AutoencoderPreset',
  description: 'paper: aecfe-method.md exactly (3x128x128 image decoder); cpu: a lighter network for 2-core machines',
});

@InputType('TrainAutoencoderInput')
export class TrainAutoencoderInput {
  @Field(() => ID, { description: 'The labelled lab whose cells are reconstructed' }) sourceDatasetId: string;
  @Field(() => [ID], { defaultValue: [], description: 'Other labs whose unlabelled cells the latents are aligned to' }) alignDatasetIds: string[];
  @Field(() => AutoencoderPresetEnum, { defaultValue: AutoencoderPresetEnum.CPU }) preset: AutoencoderPresetEnum;
  @Field(() => Int, { defaultValue: AUTOENCODER_DEFAULTS.epochs }) epochs: number;
  @Field(() => Int, { defaultValue: AUTOENCODER_DEFAULTS.batchSize }) batchSize: number;
  @Field(() => Float, { defaultValue: AUTOENCODER_DEFAULTS.learningRate, description: 'Adam learning rate (paper: 1e-3)' }) learningRate: number;
  @Field(() => Float, { defaultValue: AUTOENCODER_DEFAULTS.alignWeight, description: 'Weight of the alignment term (paper: 5); 0 turns it off' }) alignWeight: number;
  @Field(() => Int, { defaultValue: AUTOENCODER_DEFAULTS.seed }) seed: number;
  @Field(() => ID, { nullable: true, description: 'Use cells of this detector (default: any)' }) detectorId?: string;
  @Field(() => Int, { nullable: true, description: 'At most this many cells per dataset' }) maxCells?: number;
}

@InputType('EncodeCellsInput')
export class EncodeCellsInput {
  @Field(() => ID) datasetId: string;
  @Field(() => ID, { nullable: true, description: 'Default: the active autoencoder' }) autoencoderId?: string;
  @Field(() => ID, { nullable: true }) detectorId?: string;
}

export enum ClassifierFeaturesEnum {
  LATENT = 'latent',
  MORPHOLOGY = 'morphology',
}
registerEnumType(ClassifierFeaturesEnum, {
  name: 'ClassifierFeatures',
  description:
    "What the forest reads of a cell. latent: the autoencoder's 50-d AE-CFE latent (cells must be encoded); morphology: the stain-normalised shape, colour and granularity of the cell's crop (no autoencoder; carries across labs better, docs/results.md)",
});

@InputType('TrainClassifierInput')
export class TrainClassifierInput {
  @Field(() => [ID], { description: 'Labelled datasets whose encoded cells train the forest' }) datasetIds: string[];
  @Field(() => ClassMapEnum, { defaultValue: ClassMapEnum.COMMON5 }) classMap: ClassMapEnum;
  @Field(() => ClassifierFeaturesEnum, { defaultValue: ClassifierFeaturesEnum.MORPHOLOGY, description: 'Default MORPHOLOGY: it carries across labs far better than the AE-CFE latents (docs/results.md)' }) features: ClassifierFeaturesEnum;
  @Field(() => ID, { nullable: true, description: 'latent features only. Default: the active autoencoder' }) encoderId?: string;
  @Field(() => Int, { defaultValue: FOREST_DEFAULTS.trees, description: 'Paper: 100' }) trees: number;
  @Field(() => Int, { defaultValue: FOREST_DEFAULTS.maxDepth, description: 'Paper: 16' }) maxDepth: number;
  @Field(() => Int, { defaultValue: FOREST_DEFAULTS.seed }) seed: number;
  @Field(() => Boolean, { defaultValue: FOREST_DEFAULTS.balanced, description: 'Weight classes inversely to their frequency' }) balanced: boolean;
  @Field(() => Float, { defaultValue: FOREST_DEFAULTS.testFraction, description: 'Stratified held-out fraction for a score (0: none)' }) testFraction: number;
  @Field(() => Float, { defaultValue: DEFAULT_MIN_CONFIDENCE, description: 'Cells whose top probability is lower are flagged' }) minConfidence: number;
  @Field(() => [ID], { defaultValue: [], description: "Labs whose reviewed cells (reviewCell) join the training cells, with the classes people gave them (their latest review each; morphology: moved onto the source's stain as the lab's last classify job moved it)" })
  reviewedDatasetIds: string[];
  @Field(() => Float, { defaultValue: DEFAULT_REVIEW_SHARE, description: 'Share of the training weight that the reviewed cells carry together (each repeated; at most 40 times), so that a few dozen count beside hundreds of source cells' })
  reviewShare: number;
}

export enum StainAdaptationEnum {
  AUTO = 'auto',
  OFF = 'off',
  ALWAYS = 'always',
  CENTRED = 'centred',
  ADAPTIVE = 'adaptive',
  PRIOR_MIX = 'prior_mix',
  ENSEMBLE = 'ensemble',
}
registerEnumType(StainAdaptationEnum, {
  name: 'StainAdaptation',
  description:
    "Morphology classifiers: the stain step over the cells classified together (at least 30; src/engine/classifier/stain-steps.ts). AUTO: the step " +
    'with the best worst-lab accuracy in docs/unseen-labs.md (now ENSEMBLE); OFF: values as they are; CENTRED: the cells\' median moved onto the ' +
    "training cells' median; ADAPTIVE (AUTO before issue 17): past a shift of one within-class standard deviation, onto the training medians " +
    "re-weighted to the cells' class mix as the forests estimate it (can collapse onto one class on a lab nobody tuned for); ALWAYS: ADAPTIVE at any " +
    'shift; PRIOR_MIX: ADAPTIVE with the estimate shrunk towards a normal blood count and capped at generous bounds; ENSEMBLE: the probabilities ' +
    "of PRIOR_MIX and CENTRED averaged. The job's result says what was measured and done (stain) and what its self-check found (selfCheck).",
});

@InputType('ClassifyCellsInput')
export class ClassifyCellsInput {
  @Field(() => ID, { nullable: true }) datasetId?: string;
  @Field(() => [ID], { nullable: true }) imageIds?: string[];
  @Field(() => ID, { nullable: true, description: 'Default: the active classifier' }) classifierId?: string;
  @Field(() => StainAdaptationEnum, { defaultValue: StainAdaptationEnum.AUTO, description: 'Morphology classifiers only; one lab per job gives AUTO its meaning' })
  stainAdaptation: StainAdaptationEnum;
  @Field(() => Boolean, {
    defaultValue: false,
    description:
      "Morphology classifiers only: average each cell's class probabilities half and half with the mean of its 5 nearest neighbours among the " +
      "cells classified together (their values standardised; at least 20 cells; no labels used). Cells of one lab's type resemble each other " +
      'more than the training lab\'s, so similar cells settle a wavering verdict: more cells right on another lab (BCCD 78.2 % against ' +
      '76.1 without it over 5 seeds, docs/results-seeds.md), but rare types are pulled towards common ones (BCCD\'s basophils lost), hence off by ' +
      'default. The job\'s result says what it changed (consensus).',
  })
  neighbourConsensus: boolean;
  @Field(() => Boolean, {
    defaultValue: SELF_TRAINING_BY_DEFAULT,
    description:
      'Morphology classifiers trained by trainClassifier (they carry their training cells; the shipped ones do not, and are refused): after ' +
      "the first classification, the 40 % of each predicted class's cells the forest is surest of join the training cells under that class, " +
      'the forests are fitted again (about 11 s at the shipped classifier\'s training size on 2 cores) and the lab is classified again. ' +
      'It lifts labs where one class is read as another while the rest are read well (BCCD -> Acevedo-20 54.0 -> 61.1 %), cannot lift a ' +
      "lab whose first classes are wrong as a whole, and keeps the first classification's self-check and novelty flags. Off by default: " +
      "docs/unseen-labs-self-trained.md's rule keeps the default (its worst selection lab over forest seeds, 73.9 % against 74.5 %). A lab " +
      'read by the plain forest, or of fewer than 30 cells, is left as it is. The job\'s result says what it did (selfTraining).',
  })
  selfTraining: boolean;
}

@InputType('EvaluateInput')
export class EvaluateInput {
  @Field(() => String, { description: 'A name for the report' }) name: string;
  @Field(() => ID, { description: 'The labelled lab trained on (80 %) and scored on (20 %)' }) sourceDatasetId: string;
  @Field(() => [ID], { description: 'Labs scored on all their labelled cells (their labels are never trained on)' }) targetDatasetIds: string[];
  @Field(() => [ID], { defaultValue: [], description: 'More unlabelled labs to align to (targets are aligned to as well)' }) alignDatasetIds: string[];
  @Field(() => AutoencoderPresetEnum, { defaultValue: AutoencoderPresetEnum.CPU }) preset: AutoencoderPresetEnum;
  @Field(() => Int, { defaultValue: AUTOENCODER_DEFAULTS.epochs }) epochs: number;
  @Field(() => ClassMapEnum, { defaultValue: ClassMapEnum.COMMON5 }) classes: ClassMapEnum;
  @Field(() => Int, { defaultValue: AUTOENCODER_DEFAULTS.seed }) seed: number;
  @Field(() => Int, { nullable: true, description: 'At most this many cells per class and dataset (seeded sample)' }) maxPerClass?: number;
}
