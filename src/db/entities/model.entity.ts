// A trained model: what it is, where its artifact lives, and the data and job that made it.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'models' })
export class ModelEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** detector | autoencoder | classifier */
  @Column({ type: 'text' }) kind: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) version: string;
  @Column({ type: 'text', nullable: true }) preset: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'" }) metrics: Record<string, unknown>;
  @Column({ type: 'jsonb', default: () => "'{}'" }) params: Record<string, unknown>;
  @Column({ type: 'text', name: 'artifact_path' }) artifactPath: string;
  @Column({ type: 'char', length: 64, nullable: true }) checksum: string | null;
  @Column({ type: 'boolean', default: false }) active: boolean;
  @Column({ type: 'uuid', array: true, name: 'dataset_ids', default: () => "'{}'" }) datasetIds: string[];
  @Column({ type: 'uuid', name: 'job_id', nullable: true }) jobId: string | null;
  @Column({ type: 'uuid', name: 'parent_id', nullable: true }) parentId: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt: Date;
}
