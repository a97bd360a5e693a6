// An image file of a dataset: where its bytes are, what they are, and its label if any.
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'images' })
@Index(['datasetId', 'sourcePath'], { unique: true })
export class ImageEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid', name: 'dataset_id' }) datasetId: string;
  /** Path relative to the imported folder, or `upload/<name>` for uploads: the idempotency key. */
  @Column({ type: 'text', name: 'source_path' }) sourcePath: string;
  /** Absolute path of the bytes on the server. */
  @Column({ type: 'text', name: 'storage_path' }) storagePath: string;
  @Column({ type: 'char', length: 64 }) sha256: string;
  @Column({ type: 'int' }) width: number;
  @Column({ type: 'int' }) height: number;
  @Column({ type: 'text' }) format: string;
  @Column({ type: 'int' }) bytes: number;
  @Column({ type: 'text', name: 'raw_label', nullable: true }) rawLabel: string | null;
  @Column({ type: 'text', nullable: true }) subtype: string | null;
  /** Canonical cell type (see src/pipeline/class-maps.ts), null when unlabelled or unknown. */
  @Column({ type: 'text', name: 'cell_type', nullable: true }) cellType: string | null;
  @Column({ type: 'text', nullable: true }) split: string | null;
  @Column({ type: 'uuid', name: 'job_id', nullable: true }) jobId: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt: Date;
}
