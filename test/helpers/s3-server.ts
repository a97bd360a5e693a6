// A real S3-protocol server for the tests: s3rver (npm, a devDependency, so `npm ci` in .ci/run installs
// it), serving a bucket from a temporary folder on a loopback port. The AWS SDK talks to it as to any
// S3-compatible store; s3rver accepts any well-formed signature made with its default key pair.
import S3rver from 's3rver';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const S3_TEST_BUCKET = 'leukograph';
/** s3rver's own default credentials. */
export const S3_TEST_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
  // The SDK's notice that its releases from 2027 need Node 22 (package.json pins one that runs on 20).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface S3TestServer {
  endpoint: string;
  /** A LEUKOGRAPH_STORAGE_URL for this server's bucket under `prefix`. */
  storageUrl(prefix: string): string;
  close(): Promise<void>;
}

/** Starts s3rver; also sets the AWS_* variables (this process's, and so its children's) to its keys. */
export async function startS3Server(): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'leukograph-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: S3_TEST_BUCKET }] });
  const { port } = await server.run();
  Object.assign(process.env, S3_TEST_CREDENTIALS);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    storageUrl: (prefix) => `s3://${S3_TEST_BUCKET}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
