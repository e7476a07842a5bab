/**
 * An action function: a Lambda with Cordon's defaults baked in (the newest Node.js runtime, arm64, an ESM
 * bundle made by the local esbuild with a source map kept for offline use, active tracing, a log group
 * with a retention), its own role with no managed policy, and intent methods that set an environment
 * variable and its grant together.
 *
 * The resource's metadata `cordon:entry` names its handler's source module, so that the local engine runs
 * the same module the stack deploys, found from the stack itself.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '#shared/config';
import { SETTINGS_ENV, type Settings } from '#shared/settings';
import { RESTORE_ENV } from '../../functions/actions/recover-common/config.ts';
import { fromRoot, REPO_ROOT } from '../paths.ts';
import { tableAccessOf } from '../table-access.ts';
import type { AuditTable } from './audit-table.ts';

export interface ActionFunctionProps {
  /** The handler module, relative to the repository's root: `functions/<path>/handler.ts`. */
  readonly entry: string;
  /** What the function does; shown in the console and on its role. */
  readonly description: string;
  /** Default 30 seconds. */
  readonly timeout?: Duration;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** Default one month. */
  readonly logRetention?: logs.RetentionDays;
}

/** The metadata key that names a function's handler module. */
export const ENTRY_METADATA = 'cordon:entry';

/** What `node:stream/web` is in a bundle (see {@link ACTION_BUNDLING}). */
export const STREAM_WEB_SHIM = 'functions/shared/stream-web.ts';

/** The runtime every function uses: the newest Node.js that Lambda offers. */
export const ACTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * How every function is bundled (bench/bundles.ts reproduces it with esbuild's API, and measures it):
 *
 * - Minified ESM with the SDK inside: what is tested is what is deployed.
 * - `node:stream/web` is given to middy as ./functions/shared/stream-web.ts: middy imports it only to
 *   recognise a streamed response, and loading it costs 1 to 3 ms of every cold start.
 * - A source map beside the bundle, positions and names only (the sources are the repository at the
 *   deployed commit), and no `--enable-source-maps`: with it, Node reads and parses the whole map as
 *   the bundle loads (2 to 6 MB, 90 % of it the SDK's), which cost `ec2-detach` about 40 ms of CPU
 *   time against about 150 ms for its clients, and the option alone, with no map, about 3 %. Cordon's
 *   errors say what failed in their name and message; a trace's `index.mjs:<line>:<column>` frames
 *   are mapped offline with the kept map: `npx tsx infra/map-trace.ts <map> < trace.txt`
 *   (infra/map-trace.ts says where the map is).
 */
export const ACTION_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  // An ESM bundle of CommonJS dependencies needs a `require`.
  banner:
    "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);",
  // Resolved from the project's root, where NodejsFunction runs esbuild (locally or in its container).
  esbuildArgs: {
    '--alias:node:stream/web': `./${STREAM_WEB_SHIM}`,
  },
};

export class ActionFunction extends nodejs.NodejsFunction {
  /** The handler module, relative to the repository's root. */
  readonly entryPath: string;
  /** Its own role (a sibling construct, `<id>Role`). */
  readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: ActionFunctionProps) {
    if (!/^functions\/[a-z0-9/-]+\/handler\.ts$/.test(props.entry)) {
      throw new Error(
        `ActionFunction ${id}: entry must be functions/<path>/handler.ts, got "${props.entry}"`,
      );
    }
    const memorySize = props.memorySize ?? 256;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      throw new Error(
        `ActionFunction ${id}: memorySize must be an integer from 128 to 10240 MB, got ${memorySize}`,
      );
    }
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, with no AWS managed policy: logs go to its own group only.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs Cordon's ${id}: ${props.description}`.slice(0, 1000),
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      entry: fromRoot(props.entry),
      handler: 'handler',
      description: props.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: fromRoot('package-lock.json'),
      runtime: ACTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      bundling: ACTION_BUNDLING,
    });
    this.entryPath = props.entry;
    this.executionRole = role;
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA, props.entry);
  }

  /** Gives the function the validated settings, as JSON in `CORDON_SETTINGS`. */
  withSettings(settings: Settings): this {
    this.addEnvironment(SETTINGS_ENV, JSON.stringify(settings));
    return this;
  }

  /**
   * Lets the function record: its items of the audit table (infra/table-access.ts, by its handler), the
   * record key and the anchor; and tells it their names.
   */
  recordsTo(audit: AuditTable): this {
    this.addEnvironment(ENV.tableName, audit.tableName);
    this.addEnvironment(ENV.recordKey, audit.key.keyArn);
    this.addEnvironment(ENV.anchorBucket, audit.anchorBucket.bucketName);
    audit.grantRecord(this, tableAccessOf(this.entryPath));
    return this;
  }

  /**
   * Lets the function start restores with `role` (`iam:PassRole` on it alone) and tells it the role and
   * where restored instances land by default: the settings' subnet, security groups and instance profile.
   */
  restoresWith(role: iam.IRole, recovery: Settings['recovery']): this {
    this.addEnvironment(RESTORE_ENV.restoreRoleArn, role.roleArn);
    if (recovery.subnetId) this.addEnvironment(RESTORE_ENV.subnetId, recovery.subnetId);
    if (recovery.securityGroupIds?.length) {
      this.addEnvironment(RESTORE_ENV.securityGroupIds, recovery.securityGroupIds.join(','));
    }
    if (recovery.instanceProfileName) {
      this.addEnvironment(RESTORE_ENV.instanceProfileName, recovery.instanceProfileName);
    }
    this.addToRolePolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [role.roleArn] }));
    return this;
  }
}
