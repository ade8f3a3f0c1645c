/**
 * The local app's voicemail recordings: files under `<registry>/recordings/`, played through URLs that work
 * like S3's presigned GETs — signed (HMAC-SHA256 with a key made at each start) and expiring — served by the app
 * itself at `/recordings/<key>?expires=…&signature=…`. Without a valid, unexpired signature: 403, as S3 answers.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { RecordingStore } from '../../lambda/ports';
import { send } from './static-site';

/** The keys the recording-status handler writes (`voicemail/<digits>/<RecordingSid>.mp3`); nothing else is served. */
const RECORDING_KEY = /^voicemail\/\d{1,15}\/RE[0-9a-f]{32}\.mp3$/;
export const RECORDINGS_PATH = '/recordings/';

export class LocalRecordingStore implements RecordingStore {
  private readonly signingKey = randomBytes(32);

  constructor(
    private readonly dir: string,
    /** the app's URL, known once it listens */
    private readonly baseUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  private file(key: string): string {
    if (!RECORDING_KEY.test(key)) throw new Error(`not a recording key: ${key}`);
    return path.join(this.dir, ...key.split('/'));
  }

  async put(key: string, audio: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, audio, { mode: 0o600 });
  }

  async playbackUrl(key: string, seconds: number): Promise<string> {
    this.file(key);
    const expires = Math.floor(this.now() / 1000) + seconds;
    return `${this.baseUrl()}${RECORDINGS_PATH}${key}?expires=${expires}&signature=${this.sign(key, expires)}`;
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  private sign(key: string, expires: number): string {
    return createHmac('sha256', this.signingKey).update(`${key}\n${expires}`).digest('base64url');
  }

  /** Answers `GET /recordings/<key>?expires&signature`; resolves to the status sent. */
  async serve(res: ServerResponse, pathname: string, search: URLSearchParams, headers: Record<string, string>, head = false): Promise<number> {
    const refuse = (status: number, text: string): number => {
      send(
        res,
        { statusCode: status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: `${text}\n` },
        head,
      );
      return status;
    };
    const key = pathname.slice(RECORDINGS_PATH.length);
    const expires = Number(search.get('expires'));
    const given = Buffer.from(search.get('signature') ?? '', 'base64url');
    if (!RECORDING_KEY.test(key) || !Number.isInteger(expires)) return refuse(403, 'Forbidden');
    const expected = Buffer.from(this.sign(key, expires), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(403, 'Forbidden');
    if (expires < Math.floor(this.now() / 1000)) return refuse(403, 'Request has expired');
    let audio: Buffer;
    try {
      audio = await readFile(this.file(key));
    } catch {
      return refuse(404, 'Not Found');
    }
    res.writeHead(200, { ...headers, 'Content-Type': 'audio/mpeg', 'Content-Length': String(audio.length), 'Cache-Control': 'private, no-store' });
    res.end(head ? undefined : audio);
    return 200;
  }
}
