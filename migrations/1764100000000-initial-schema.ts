// The first schema: datasets, images, cells, models, jobs, evaluations and engines.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764100000000 implements MigrationInterface {
  name = 'InitialSchema1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE datasets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        stain text NOT NULL DEFAULT '',
        scanner text NOT NULL DEFAULT '',
        layout text,
        source_path text,
        class_overrides jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL,
        status text NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
        progress real NOT NULL DEFAULT 0,
        done int NOT NULL DEFAULT 0,
        total int,
        message text,
        params jsonb NOT NULL DEFAULT '{}',
        result jsonb,
        error text,
        attempts int NOT NULL DEFAULT 0,
        boss_id uuid,
        engine_id text,
        cancel_requested boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX jobs_status_idx ON jobs (status, created_at DESC)`);
    await q.query(`
      CREATE TABLE images (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dataset_id uuid NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        source_path text NOT NULL,
        storage_path text NOT NULL,
        sha256 char(64) NOT NULL,
        width int NOT NULL,
        height int NOT NULL,
        format text NOT NULL,
        bytes int NOT NULL,
        raw_label text,
        subtype text,
        cell_type text,
        split text,
        job_id uuid REFERENCES jobs(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (dataset_id, source_path)
      )`);
    await q.query(`CREATE INDEX images_dataset_type_idx ON images (dataset_id, cell_type)`);
    await q.query(`CREATE INDEX images_sha_idx ON images (sha256)`);
    await q.query(`
      CREATE TABLE models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('detector','autoencoder','classifier')),
        name text NOT NULL,
        version text NOT NULL,
        preset text,
        metrics jsonb NOT NULL DEFAULT '{}',
        params jsonb NOT NULL DEFAULT '{}',
        artifact_path text NOT NULL,
        checksum char(64),
        active boolean NOT NULL DEFAULT false,
        dataset_ids uuid[] NOT NULL DEFAULT '{}',
        job_id uuid REFERENCES jobs(id) ON DELETE SET NULL,
        parent_id uuid REFERENCES models(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // At most one active model of each kind: the engine keeps exactly that one resident.
    await q.query(`CREATE UNIQUE INDEX models_one_active_idx ON models (kind) WHERE active`);
    await q.query(`
      CREATE TABLE cells (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        image_id uuid NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        detector_id uuid REFERENCES models(id) ON DELETE SET NULL,
        index int NOT NULL,
        box real[] NOT NULL,
        score real NOT NULL,
        mask jsonb,
        feature_ref text,
        latent real[],
        encoder_id uuid REFERENCES models(id) ON DELETE SET NULL,
        prediction jsonb,
        job_id uuid REFERENCES jobs(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // NULLS NOT DISTINCT: a rerun of detection without a registered detector still may not duplicate.
    await q.query(`CREATE UNIQUE INDEX cells_image_detector_index_idx ON cells (image_id, detector_id, index) NULLS NOT DISTINCT`);
    await q.query(`CREATE INDEX cells_job_idx ON cells (job_id)`);
    await q.query(`
      CREATE TABLE evaluations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id uuid REFERENCES jobs(id) ON DELETE SET NULL,
        name text NOT NULL,
        report jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE engines (
        id text PRIMARY KEY,
        hostname text NOT NULL,
        pid int NOT NULL,
        started_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        status jsonb NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['engines', 'evaluations', 'cells', 'models', 'images', 'jobs', 'datasets']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
