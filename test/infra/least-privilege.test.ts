/**
 * Least privilege, both ways: every DynamoDB call each handler really makes (recorded on a real dynalite
 * registry, over each handler's success and refusal paths) is granted to its function's role in the
 * synthesized template, and nothing else on the registry is. A grant that misses a call would only show in
 * AWS (dynalite enforces no IAM); a grant that nothing calls is needless privilege.
 */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ROUTES, type RouteId } from '../../lib/api/routes';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler } from '../../lambda/handlers/token';
import { callable, makeDeps, registerDevice, TEST_SCRYPT } from '../lambda/helpers';
import { useDynalite } from '../support/dynalite';
import {
  DEVICE_NUMBER_TYPED,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
} from '../support/fixtures';
import { defaultTemplate, flatten, resourcesOf, type CfnTemplate } from './synth';

let template: CfnTemplate;
/** Fresh tables for every route, with the walkthrough's device registered. */
const db = useDynalite({ seed: ({ devices }) => registerDevice(devices) });
const calls: { action: string; table: string; index?: string }[] = [];

/** Records each low-level DynamoDB operation as the IAM action it needs and the table (and index) it touches. */
function recordCalls(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; IndexName?: string };
      calls.push({
        action: `dynamodb:${String(context.commandName).replace(/Command$/, '')}`,
        table: input.TableName ?? '?',
        index: input.IndexName,
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordIamActions' },
  );
}

beforeAll(() => {
  template = defaultTemplate();
  recordCalls(db.client);
});

/** A device as registered before client-name claims existed: its item alone, no `client#<name>` claim. */
const LEGACY = { number: '+815012345678', client: 'Legacy_0002' };
async function putLegacyDevice(): Promise<void> {
  await db.client.send(
    new PutItemCommand({
      TableName: db.devicesTable,
      Item: {
        phoneNumber: { S: LEGACY.number },
        clientName: { S: LEGACY.client },
        secretHash: { S: 'scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA' },
        createdAt: { S: '2023-01-01T00:00:00.000Z' },
      },
    }),
  );
}

/** Runs a route's handler over its success and refusal paths; returns the registry calls it made. */
async function exercise(route: RouteId): Promise<Set<string>> {
  if (route === 'callOutgoing') await putLegacyDevice();
  calls.length = 0; // (the seed's writes are not the handler's)
  const deps = makeDeps(db);
  if (route === 'token') {
    const handler = callable(createTokenHandler(deps, { dummyScryptParams: TEST_SCRYPT }));
    await handler({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET });
    await handler({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: 'wrong' }).catch(() => undefined);
    await handler({ twilioPhoneNumber: '+81-50-9999-0000', deviceSecret: 'wrong' }).catch(() => undefined);
  } else if (route === 'callIncoming') {
    const handler = callable(createIncomingCallHandler(deps));
    await handler(signedEvent(INCOMING_RESOURCE, incomingCallParams()));
    await handler(signedEvent(INCOMING_RESOURCE, incomingCallParams({ To: '+815099990000' })));
  } else {
    const handler = callable(createOutgoingCallHandler(deps));
    // a device with its client-name claim: the claim, then the device it names (GetItem)
    const dial = await handler(signedEvent(OUTGOING_RESOURCE, outgoingCallParams()));
    expect(dial).toContain('<Number>+819059876543</Number>'); // the path really reached the registry and dialled
    // identities without a claim fall back to the clientName-index (Query): a device registered before claims
    // existed, which still dials, and an unknown client
    const legacy = await handler(signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ From: `client:${LEGACY.client}`, callerPhoneNumber: '' })));
    expect(legacy).toContain(`callerId="${LEGACY.number}"`);
    await handler(signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ From: 'client:Nobody' })));
  }
  const kind = (c: (typeof calls)[number]) =>
    c.table === db.devicesTable
      ? c.index
        ? `devices/index/${c.index}`
        : 'devices'
      : c.table === db.attemptsTable
        ? 'attempts'
        : `unknown table ${c.table}`;
  return new Set(calls.map((c) => `${c.action} on ${kind(c)}`));
}

/** The registry grants of a function's role in the synthesized template, in the same words. */
function grantedRegistryAccess(functionName: string): Set<string> {
  const tableIds = Object.fromEntries(
    resourcesOf(template, 'AWS::DynamoDB::Table').map(([id, r]) => [id, r.Properties!.GlobalSecondaryIndexes ? 'devices' : 'attempts']),
  );
  const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([, r]) =>
    String(r.Properties?.Description ?? '').startsWith(`${functionName}:`),
  )!;
  const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
  const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([, p]) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId))!;
  const granted = new Set<string>();
  for (const st of policy.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
    for (const action of [st.Action].flat().filter((a) => a.startsWith('dynamodb:'))) {
      const resource = flatten(st.Resource).replace(/<(\w+)\.Arn>/, (_, id: string) => tableIds[id] ?? `unknown ${id}`);
      granted.add(`${action} on ${resource}`);
    }
  }
  return granted;
}

test.each(ROUTES.map((r) => [r.functionName, r.id] as const))(
  '%s: granted exactly the registry calls its handler makes',
  async (functionName, id) => {
    const used = await exercise(id);
    expect(used.size).toBeGreaterThan(0);
    expect([...grantedRegistryAccess(functionName)].sort()).toEqual([...used].sort());
  },
);
