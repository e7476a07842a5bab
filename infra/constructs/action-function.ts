/**
 * An action function: a Lambda with Cordon's defaults baked in (the newest Node.js runtime, arm64, an ESM
 * bundle made by the local esbuild, source maps, active tracing, a log group with a retention), its own
 * role with no managed policy, and intent methods that set an environment variable and its grant together.
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

/** The runtime every function uses: the newest Node.js that Lambda offers. */
export const ACTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

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
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Bundle the SDK too: what is tested is what is deployed.
        externalModules: [],
        // An ESM bundle of CommonJS dependencies needs a `require`.
        banner:
          "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);",
      },
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
