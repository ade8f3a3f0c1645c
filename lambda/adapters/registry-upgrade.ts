/**
 * The upgrade from the first release's devices table (one device per number, `phoneNumber` key) to the
 * registry table of lines: each device becomes the member of its number's line (with the default settings),
 * keeping its client name, secret hash, label and creation time, so every device signs in as before.
 *
 * Idempotent and safe to re-run: a device whose client name the registry already knows is left alone (it was
 * copied before, and may have been changed since, e.g. a rotated secret). The first release's client-name
 * claims (`client#<name>` items) are not devices and are skipped. Runs at `cdk deploy` (the stack's
 * RegistryUpgrade custom resource) and when the local app opens a registry made by the first release.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DuplicateClientNameError, LineFullError, type LineDirectory, type UpgradeReport } from '../ports';
import { documentClient, dynamoCall } from './dynamo';
import { LEGACY_CLIENT_CLAIM_PREFIX, LEGACY_DEVICE_KEY } from './registry-schema';

export async function upgradeRegistry(opts: { client: DynamoDBClient; legacyTable: string; lines: LineDirectory }): Promise<UpgradeReport> {
  const doc = documentClient(opts.client);
  const report: UpgradeReport = { copied: 0, alreadyThere: 0, skipped: [] };
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoCall('upgrade scan', () =>
      doc.send(new ScanCommand({ TableName: opts.legacyTable, ExclusiveStartKey: start, ConsistentRead: true })),
    );
    for (const item of page.Items ?? []) {
      const phoneNumber = item[LEGACY_DEVICE_KEY];
      const { clientName, secretHash, label, createdAt } = item;
      if (typeof phoneNumber !== 'string' || phoneNumber.startsWith(LEGACY_CLIENT_CLAIM_PREFIX)) continue;
      if (typeof clientName !== 'string' || typeof secretHash !== 'string') continue;
      const holder = await opts.lines.findByClientName(clientName);
      if (holder?.phoneNumber === phoneNumber) {
        report.alreadyThere++;
        continue;
      }
      if (holder) {
        report.skipped.push({ clientName, phoneNumber, reason: `the client name "${clientName}" is already used on ${holder.phoneNumber}` });
        continue;
      }
      try {
        await opts.lines.put({
          phoneNumber,
          clientName,
          secretHash,
          createdAt: typeof createdAt === 'string' ? createdAt : new Date(0).toISOString(),
          ...(typeof label === 'string' ? { label } : {}),
        });
        report.copied++;
      } catch (err) {
        if (!(err instanceof DuplicateClientNameError || err instanceof LineFullError)) throw err;
        report.skipped.push({ clientName, phoneNumber, reason: err.message });
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return report;
}
