/**
 * Synthesizes the stack in-process the way `bin/twilio-softphone.ts` does (cdk.json's context, the context
 * keys, cdk-nag AwsSolutions as a validation plugin) into a temporary cloud assembly.
 * `bundle: false` skips asset bundling (esbuild for the functions and the client) for tests that only read the
 * template; the template is the same apart from asset hashes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext, type ContextKey } from '../../lib/config/context';
import { TwilioSoftphoneStack } from '../../lib/softphone-stack';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface Synthesized {
  app: App;
  stack: TwilioSoftphoneStack;
  template: Template;
  /** The template as JSON. */
  json: CfnTemplate;
  outdir: string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [key: string]: unknown;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
  [key: string]: unknown;
}

export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export function synthesize(context: Partial<Record<ContextKey, unknown>> = {}, opts: { bundle?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'softphone-infra-'));
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), ...context, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const { stackName, ...props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
  const stack = new TwilioSoftphoneStack(app, stackName, { stackName, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  // Synthesizes the whole app: a cdk-nag error would throw here (in-memory app mode under Jest).
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as CfnTemplate, outdir };
}

/** Resources of one type, by logical id. */
export function resourcesOf(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** Resolves the `Fn::Join`s and `Fn::GetAtt`s of a template value to a readable string (`<Logical.Attr>`). */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Ref' in v) return `<${v.Ref as string}>`;
  }
  return JSON.stringify(value);
}
