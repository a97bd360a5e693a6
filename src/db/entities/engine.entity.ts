// A running engine process: its heartbeat tells the others it is alive; its status what it runs on.
import { Column, Entity, PrimaryColumn } from 'typeorm';

export interface EngineRuntimeStatus {
  name: string;
  backend: string;
  device: string;
  detail?: string;
}

export interface EngineStatusDoc {
  /** What it can run (engine/capabilities.ts); absent in rows of engines older than it. */
  capabilities?: { gpu: boolean; gpuDetail: string; kinds: string[]; storage: string };
  runtimes: EngineRuntimeStatus[];
  models: { id: string; kind: string; name: string; version: string }[];
  memory: { rssMb: number; heapUsedMb: number; externalMb: number };
  currentJobs: string[];
}

@Entity({ name: 'engines' })
export class EngineEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ type: 'text' }) hostname: string;
  @Column({ type: 'int' }) pid: number;
  @Column({ type: 'timestamptz', name: 'started_at' }) startedAt: Date;
  @Column({ type: 'timestamptz', name: 'heartbeat_at' }) heartbeatAt: Date;
  @Column({ type: 'jsonb' }) status: EngineStatusDoc;
}
