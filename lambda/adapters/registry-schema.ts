/**
 * Key names and CreateTable inputs of the registry tables. The CDK construct and the embedded dynalite server
 * (local app, tests) both build their tables from here, so the code always meets the same schema.
 *
 * The registry table (one table, generic keys `pk`/`sk`) holds, per line (a Twilio number):
 *
 * | item        | pk                | sk                     | attributes                                               |
 * | ----------- | ----------------- | ---------------------- | -------------------------------------------------------- |
 * | line        | `LINE#<E.164>`    | `LINE`                 | number, the line's settings, memberCount, created/updated |
 * | member      | `LINE#<E.164>`    | `MEMBER#<clientName>`  | clientName, secretHash, label, createdAt                  |
 * | voicemail   | `LINE#<E.164>`    | `VOICEMAIL#<RE sid>`   | from, callSid, durationSeconds, recordingKey, heard, expiresAt |
 * | name claim  | `CLIENT#<name>`   | `CLIENT`               | line (the E.164 number holding the name), claimedAt       |
 *
 * One Query on `LINE#<number>` with `sk < "N"` reads a line and its members (`LINE` < `MEMBER#…` < `VOICEMAIL#…`).
 * Client names are unique across lines by their claim item. `expiresAt` (epoch seconds) is the table's TTL
 * attribute: voicemails are forgotten with their recordings.
 *
 * The devices table of the first release (`phoneNumber` key, one device per number) is kept only to be read by
 * the upgrade (lambda/core/registry-upgrade.ts); nothing else reads or writes it.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** TTL attribute of the registry table and of the attempts table, epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const LINE_PREFIX = 'LINE#';
export const LINE_SK = 'LINE';
export const MEMBER_PREFIX = 'MEMBER#';
export const VOICEMAIL_PREFIX = 'VOICEMAIL#';
export const CLIENT_PREFIX = 'CLIENT#';
export const CLIENT_SK = 'CLIENT';
/** `sk < LINE_AND_MEMBERS_BELOW` selects a line's own item and its members, not its voicemails. */
export const LINE_AND_MEMBERS_BELOW = 'N';

export const lineKey = (number: string) => ({ [PK]: `${LINE_PREFIX}${number}`, [SK]: LINE_SK });
export const memberKey = (number: string, clientName: string) => ({ [PK]: `${LINE_PREFIX}${number}`, [SK]: `${MEMBER_PREFIX}${clientName}` });
export const claimKey = (clientName: string) => ({ [PK]: `${CLIENT_PREFIX}${clientName}`, [SK]: CLIENT_SK });
export const voicemailKey = (number: string, id: string) => ({ [PK]: `${LINE_PREFIX}${number}`, [SK]: `${VOICEMAIL_PREFIX}${id}` });

/** The first release's devices table: partition key `phoneNumber`; client-name claims keyed `client#<name>`. */
export const LEGACY_DEVICE_KEY = 'phoneNumber';
export const LEGACY_CLIENT_CLAIM_PREFIX = 'client#';
export const LEGACY_CLIENT_NAME_INDEX = 'clientName-index';

/** Partition key of the sign-in attempts table (E.164, or a marker for unparsable numbers). */
export const ATTEMPTS_KEY = 'phoneNumber';
export const ATTEMPTS_TTL_ATTRIBUTE = TTL_ATTRIBUTE;

/** A table keyed by the generic `pk`/`sk` (the registry and the calls table), with any further key attributes. */
function pkSkTableInput(
  tableName: string,
  more: Pick<CreateTableCommandInput, 'GlobalSecondaryIndexes'> & { indexAttributes?: string[] } = {},
): CreateTableCommandInput {
  const { indexAttributes = [], ...rest } = more;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [PK, SK, ...indexAttributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    ...rest,
  };
}

export function registryTableInput(tableName: string): CreateTableCommandInput {
  return pkSkTableInput(tableName);
}

export function attemptsTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: ATTEMPTS_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: ATTEMPTS_KEY, KeyType: 'HASH' }],
  };
}

/** The first release's devices table, exactly as it was created (for the upgrade and its tests). */
export function legacyDevicesTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: LEGACY_DEVICE_KEY, AttributeType: 'S' },
      { AttributeName: 'clientName', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: LEGACY_DEVICE_KEY, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: LEGACY_CLIENT_NAME_INDEX,
        KeySchema: [{ AttributeName: 'clientName', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/**
 * The calls table (the call log, lambda/core/call-log.ts), generic keys `pk`/`sk` like the registry:
 *
 * | item        | pk                 | sk                          | attributes                                            |
 * | ----------- | ------------------ | --------------------------- | ----------------------------------------------------- |
 * | call        | `CALL#<CA sid>`    | `CALL`                      | line, startedAt (the index's keys), record, version    |
 * | device slot | `SLOTS#<E.164>`    | `DEVICE#<clientName>#<i>`   | callSid, expiresAt: one of a device's outgoing calls  |
 * | line slot   | `SLOTS#<E.164>`    | `LINE#<i>`                  | callSid, expiresAt: one of the line's outgoing calls  |
 * | seen mark   | `SEEN#<clientName>`| `SEEN`                      | seenUntil: the newest call the device has looked at   |
 *
 * A call is found by its parent CallSid (every leg's callback names it); the index `line-startedAt` lists a
 * line's calls newest first (only call items carry `line`). `expiresAt` (epoch seconds) is the TTL attribute:
 * calls are forgotten after the retention, a slot whose completion callback never came frees itself.
 */
export const CALL_PREFIX = 'CALL#';
export const CALL_SK = 'CALL';
export const SLOTS_PREFIX = 'SLOTS#';
export const DEVICE_SLOT_PREFIX = 'DEVICE#';
export const LINE_SLOT_PREFIX = 'LINE#';
export const SEEN_PREFIX = 'SEEN#';
export const SEEN_SK = 'SEEN';
export const CALLS_BY_LINE_INDEX = 'line-startedAt';
export const CALLS_INDEX_PK = 'line';
export const CALLS_INDEX_SK = 'startedAt';

export const callKey = (callSid: string) => ({ [PK]: `${CALL_PREFIX}${callSid}`, [SK]: CALL_SK });
export const deviceSlotKey = (line: string, clientName: string, index: number) => ({
  [PK]: `${SLOTS_PREFIX}${line}`,
  [SK]: `${DEVICE_SLOT_PREFIX}${clientName}#${index}`,
});
export const lineSlotKey = (line: string, index: number) => ({ [PK]: `${SLOTS_PREFIX}${line}`, [SK]: `${LINE_SLOT_PREFIX}${index}` });
export const seenKey = (clientName: string) => ({ [PK]: `${SEEN_PREFIX}${clientName}`, [SK]: SEEN_SK });

export function callsTableInput(tableName: string): CreateTableCommandInput {
  return pkSkTableInput(tableName, {
    indexAttributes: [CALLS_INDEX_PK, CALLS_INDEX_SK],
    GlobalSecondaryIndexes: [
      {
        IndexName: CALLS_BY_LINE_INDEX,
        KeySchema: [
          { AttributeName: CALLS_INDEX_PK, KeyType: 'HASH' },
          { AttributeName: CALLS_INDEX_SK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
}
