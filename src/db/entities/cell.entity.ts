// A detected white cell: its box and mask in image pixels, and what later stages computed for it.
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export interface RleMask {
  size: [number, number];
  counts: number[];
}

export interface CellPrediction {
  label: string | null;
  probabilities: Record<string, number>;
  flagged: boolean;
  reason: string | null;
  modelId: string;
}

@Entity({ name: 'cells' })
@Index(['imageId', 'detectorId', 'index'], { unique: true })
export class CellEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid', name: 'image_id' }) imageId: string;
  /** The image's dataset, set by a trigger on insert (for keyset pages and counts per dataset). */
  @Column({ type: 'uuid', name: 'dataset_id', insert: false, update: false }) datasetId: string;
  @Column({ type: 'uuid', name: 'detector_id', nullable: true }) detectorId: string | null;
  /** Rank of the detection within its image (0 = highest score). */
  @Column({ type: 'int' }) index: number;
  @Column({ type: 'real', array: true }) box: number[];
  @Column({ type: 'real' }) score: number;
  @Column({ type: 'jsonb', nullable: true }) mask: RleMask | null;
  /** Location of the 256x14x14 instance feature in the feature store (kept out of this table: 196 kB each). */
  @Column({ type: 'text', name: 'feature_ref', nullable: true }) featureRef: string | null;
  @Column({ type: 'real', array: true, nullable: true }) latent: number[] | null;
  @Column({ type: 'uuid', name: 'encoder_id', nullable: true }) encoderId: string | null;
  @Column({ type: 'jsonb', nullable: true }) prediction: CellPrediction | null;
  @Column({ type: 'uuid', name: 'job_id', nullable: true }) jobId: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt: Date;
}
