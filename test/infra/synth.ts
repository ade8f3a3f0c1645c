/**
 * Synthesizes the stack in-process the way `bin/twilio-softphone.ts` does (cdk.json's context, the context
 * keys, cdk-nag AwsSolutions as a validation plugin) into a temporary cloud assembly.
 * `bundle: false` skips asset bundling (esbuild for the functions and the client) for tests that only read the
 * template; the template is the same apart from asset hashes.
 *
 * The DEFAULT stack (no extra context, bundling skipped) is synthesized once per `jest` run, by the global setup
 * (`test/global-setup.ts`), which shares it with the test files through a JSON file named by
 * SOFTPHONE_TEST_DEFAULT_SYNTHESIS: `defaultTemplate()` and `defaultSynthesis()` read it (and synthesize
 * themselves, once per process, when run without that setup). Only tests that need other context (or the real
 * `cdk synth`) synthesize on their own.
 *
 * The CDK is loaded only when something is synthesized: reading the shared template costs no CDK.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { ContextKey } from '../../lib/config/context';
import type { TwilioSoftphoneStack } from '../../lib/softphone-stack';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The environment variable the global setup names the shared default synthesis file in. */
export const DEFAULT_SYNTHESIS_ENV = 'SOFTPHONE_TEST_DEFAULT_SYNTHESIS';

export interface Synthesized {
  app: App;
  stack: TwilioSoftphoneStack;
  template: Template;
  /** The template as JSON. */
  json: CfnTemplate;
  /** The cloud assembly directory (a temporary directory; `cleanUp()` removes it). */
  outdir: string;
  cleanUp(): void;
}

export interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field in the tests
  Properties?: Record<string, any>;
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
  const { App, Validations } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
  const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
  const { stackPropsFromContext } = require('../../lib/config/context') as typeof import('../../lib/config/context');
  const { TwilioSoftphoneStack } = require('../../lib/softphone-stack') as typeof import('../../lib/softphone-stack');
  const outdir = mkdtempSync(path.join(tmpdir(), 'softphone-infra-'));
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), ...context, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const { stackName, ...props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
  const stack = new TwilioSoftphoneStack(app, stackName, { stackName, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  // Synthesizes the whole app: a cdk-nag finding would throw here (in-memory app mode under Jest).
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as CfnTemplate, outdir, cleanUp: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** What the cdk-nag tests need of a synthesis, as JSON. */
export interface NagFacts {
  /** AwsSolutions findings on the stack (`validateScope`), acknowledged ones excluded; warnings included. */
  violations: { ruleName: string; severity: string; resources: string[] }[];
  /** CDK error annotations on the stack. */
  errorAnnotations: string[];
  /** Every acknowledgement in the stack: rule id → reason. */
  acknowledgements: Record<string, unknown>[];
}

/** A synthesis as the tests share it: the template, and what cdk-nag found in the construct tree. */
export interface SharedSynthesis {
  template: CfnTemplate;
  nag: NagFacts;
}

/** The shareable facts of a synthesis (the construct tree does not cross processes; these do). */
export function shareableSynthesis(s: Synthesized): SharedSynthesis {
  const { Validations } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { Annotations, Match } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
  const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.stack);
  return {
    template: s.json,
    nag: {
      violations: report.violations.map((v) => ({
        ruleName: v.ruleName,
        severity: v.severity ?? 'unknown',
        resources: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
      })),
      errorAnnotations: Annotations.fromStack(s.stack)
        .findError('*', Match.anyValue())
        .map((m) => `${m.id}: ${String(m.entry.data)}`),
      acknowledgements: s.stack.node
        .findAll()
        .flatMap((c) =>
          c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as Record<string, unknown>),
        ),
    },
  };
}

let defaultOnce: SharedSynthesis | undefined;

/**
 * The default stack's synthesis: the global setup's shared file, or (run without it) synthesized here; once per
 * process either way.
 */
export function defaultSynthesis(): SharedSynthesis {
  if (!defaultOnce) {
    const file = process.env[DEFAULT_SYNTHESIS_ENV];
    if (file && existsSync(file)) {
      defaultOnce = JSON.parse(readFileSync(file, 'utf8')) as SharedSynthesis;
    } else {
      const s = synthesize();
      defaultOnce = shareableSynthesis(s);
      s.cleanUp();
    }
  }
  return defaultOnce;
}

/** The default stack's template (synthesized once per run; see the header). */
export function defaultTemplate(): CfnTemplate {
  return defaultSynthesis().template;
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
