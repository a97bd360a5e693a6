// A job as users see it. pg-boss carries the work between processes; this row keeps the user-facing
// status, progress and outcome, and survives pg-boss's own archiving.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ type: 'text', default: 'queued' }) status: JobStatus;
  @Column({ type: 'real', default: 0 }) progress: number;
  @Column({ type: 'int', default: 0 }) done: number;
  @Column({ type: 'int', nullable: true }) total: number | null;
  @Column({ type: 'text', nullable: true }) message: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'" }) params: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) result: Record<string, unknown> | null;
  @Column({ type: 'text', nullable: true }) error: string | null;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ type: 'uuid', name: 'boss_id', nullable: true }) bossId: string | null;
  @Column({ type: 'text', name: 'engine_id', nullable: true }) engineId: string | null;
  /** The queue (kind) of the job's current step when it is not the job's own kind (a step handed on to another engine). */
  @Column({ type: 'text', nullable: true }) step: string | null;
  @Column({ type: 'boolean', name: 'cancel_requested', default: false }) cancelRequested: boolean;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt: Date;
  @Column({ type: 'timestamptz', name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}
