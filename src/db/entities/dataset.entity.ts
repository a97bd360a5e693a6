// A dataset: the images of one lab/acquisition domain.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text', unique: true }) name: string;
  @Column({ type: 'text', default: '' }) description: string;
  @Column({ type: 'text', default: '' }) stain: string;
  @Column({ type: 'text', default: '' }) scanner: string;
  /** The folder layout of its last import (class-folders, matek, labels-csv, images, upload). */
  @Column({ type: 'text', nullable: true }) layout: string | null;
  @Column({ type: 'text', name: 'source_path', nullable: true }) sourcePath: string | null;
  /** Per-dataset label overrides: raw label -> canonical cell type. */
  @Column({ type: 'jsonb', name: 'class_overrides', default: () => "'{}'" }) classOverrides: Record<string, string>;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt: Date;
}
