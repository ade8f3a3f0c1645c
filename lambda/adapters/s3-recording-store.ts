/**
 * Voicemail recordings in S3: the bucket encrypts them at rest (SSE-S3, enforced by the bucket) and its
 * lifecycle deletes them after the retention; the page plays one through a short-lived presigned GET URL.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { RecordingStore } from '../ports';
import { RegistryError } from '../ports';
import { AWS_CONNECTION_TIMEOUT_MS, AWS_MAX_ATTEMPTS } from './aws-clients';

/** The recordings' S3 client: uploads are up to ~1 MB, so a longer request time-out than the registry's. */
export function createS3Client(): S3Client {
  return new S3Client({
    maxAttempts: AWS_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: 5000, throwOnRequestTimeout: true },
  });
}

/** Failures throw RegistryError with `dependency: 'S3'`. */
export class S3RecordingStore implements RecordingStore {
  private readonly s3: S3Client;

  constructor(
    private readonly bucket: string,
    client?: S3Client,
  ) {
    this.s3 = client ?? createS3Client();
  }

  async put(key: string, audio: Uint8Array, contentType: string): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: audio, ContentType: contentType, ServerSideEncryption: 'AES256' }),
      );
    } catch (err) {
      throw new RegistryError(`S3 put failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err, dependency: 'S3' });
    }
  }

  playbackUrl(key: string, seconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: seconds });
  }

  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw new RegistryError(`S3 delete failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err, dependency: 'S3' });
    }
  }
}
