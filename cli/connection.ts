/**
 * Where the console reads the record: `--local` (the project's state folder store, started when none
 * runs), or AWS (`--region`, `--profile`, `--endpoint` and the standard settings), on `--table` or the
 * table the deployed stack named. Errors reaching the record become named errors with a message that says
 * what to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditRecorder, type DocumentSender } from '#shared/audit';
import { awsCall } from '#shared/aws';
import { type ClientSettings, makeClient } from '#shared/clients';
import { ENV } from '#shared/config';
import { CordonError, ValidationError } from '#shared/errors';
import { KmsS3Seal, type RecordSeal } from '#shared/seal';
import { LOCAL_TABLE, openStateStore, openStateTrust, stateDir } from '../local/state.ts';
import { localClient } from '../local/store.ts';
import {
  EndpointUnreachableError,
  NoCredentialsError,
  ReadDeniedError,
  TableNotFoundError,
} from './errors.ts';
import { ConsoleQueries } from './queries.ts';

/** The connection flags every console command takes. */
export interface ConnectionFlags {
  readonly region?: string;
  readonly profile?: string;
  readonly table?: string;
  readonly endpoint?: string;
  readonly local?: boolean;
  /** The state folder for `--local` (default `$CORDON_STATE_DIR` or `./.cordon`). */
  readonly stateDir?: string;
  /**
   * The record key (its ARN): default `$CORDON_RECORD_KEY`, else the stack's `RecordKeyArn` output. An
   * alias is used only when it resolves to the stack's output (see {@link aliasCheckedSeal}).
   */
  readonly recordKey?: string;
  /** The anchor bucket: default `$CORDON_ANCHOR_BUCKET` or the stack's output. */
  readonly anchorBucket?: string;
}

/** An open connection to the audit table. */
export interface Connection {
  readonly tableName: string;
  /** Where the table is, for messages: `table cordon-audit in us-east-1`. */
  readonly where: string;
  readonly documents: DocumentSender;
  readonly recorder: AuditRecorder;
  readonly queries: ConsoleQueries;
  close(): Promise<void>;
}

/** Opens a connection; the console's default is {@link connect}, tests may pass their own. */
export type Connect = (flags: ConnectionFlags) => Promise<Connection>;

/** The stack name `cdk deploy --outputs-file cdk-outputs.json` writes under, and the outputs' keys. */
const STACK_OUTPUTS = {
  file: 'cdk-outputs.json',
  stack: 'Cordon',
  output: 'AuditTableName',
  recordKey: 'RecordKeyArn',
  anchorBucket: 'AnchorBucketName',
} as const;

/** An output of the deployed stack as `cdk deploy --outputs-file cdk-outputs.json` saved it, if any. */
function stackOutput(cwd: string, key: string): string | undefined {
  const file = join(cwd, STACK_OUTPUTS.file);
  if (!existsSync(file)) return undefined;
  try {
    const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    const value = outputs[STACK_OUTPUTS.stack]?.[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The table to read: `--table`, else `$CORDON_TABLE_NAME`, else the `AuditTableName` output of the
 * deployed stack as `cdk deploy --outputs-file cdk-outputs.json` saved it in the working directory,
 * else `cordon-audit`.
 */
export function resolveTableName(flags: ConnectionFlags, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flags.table) return flags.table;
  const fromEnv = env[ENV.tableName];
  if (fromEnv) return fromEnv;
  return stackOutput(cwd, STACK_OUTPUTS.output) ?? LOCAL_TABLE;
}

/**
 * The record key verify checks MACs with: `--record-key`, else `$CORDON_RECORD_KEY`, else the deployed
 * stack's `RecordKeyArn` output; never a default alias (an alias can be re-pointed). `stackKey` is that
 * output, which an alias given is held to ({@link aliasCheckedSeal}).
 */
export function resolveRecordKey(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { readonly keyId?: string; readonly stackKey?: string } {
  const stackKey = stackOutput(cwd, STACK_OUTPUTS.recordKey);
  const keyId = flags.recordKey ?? env[ENV.recordKey] ?? stackKey;
  return { ...(keyId ? { keyId } : {}), ...(stackKey ? { stackKey } : {}) };
}

/** A seal that cannot be used: verify says what is missing, every other command works without it. */
function missingSeal(what: string): RecordSeal {
  const fail = (): never => {
    throw new ValidationError('the record key and anchor', [what]);
  };
  return { keyId: '', bucket: '', mac: fail, verify: fail, anchor: fail, anchors: fail };
}

function documentsOf(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

function open(
  client: DynamoDBClient,
  tableName: string,
  where: string,
  seal: RecordSeal,
  close: () => Promise<void>,
) {
  const documents = documentsOf(client);
  return {
    tableName,
    where,
    documents,
    recorder: new AuditRecorder({ client: documents, tableName, seal }),
    queries: new ConsoleQueries(documents, tableName),
    close: async () => {
      client.destroy();
      await close();
    },
  };
}

/** Refuses a flag's value that is not an http(s) URL, naming the flag. */
export function checkUrl(flag: string, value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValidationError(flag, [`must be an http(s) URL such as http://127.0.0.1:8000, got "${value}"`]);
  }
}

/** Opens the connection the flags describe (see {@link ConnectionFlags}). */
export async function connect(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  if (flags.local) {
    const clash = (['endpoint', 'profile', 'region'] as const).filter((f) => flags[f] !== undefined);
    if (clash.length > 0) {
      throw new ValidationError('--local', [
        `reads the state folder's store; it cannot be combined with ${clash.map((f) => `--${f}`).join(', ')}`,
      ]);
    }
    const dir = flags.stateDir ?? stateDir(env);
    // The console reads a record that a demo or a run wrote: a folder that does not exist is an error.
    const store = await openStateStore(dir, { create: false });
    const trust = await openStateTrust(dir);
    const tableName = flags.table ?? LOCAL_TABLE;
    return open(
      localClient(store.endpoint),
      tableName,
      `table ${tableName} in the local store of ${dir}`,
      trust.seal,
      () => store.close(),
    );
  }
  if (flags.endpoint !== undefined) checkUrl('--endpoint', flags.endpoint);
  const profile = flags.profile;
  // The client factory sets region, endpoint and retries; a profile is a client setting it does not know.
  const Client = class extends DynamoDBClient {
    constructor(settings: ClientSettings) {
      super({ ...settings, ...(profile ? { profile } : {}) });
    }
  };
  const client = makeClient(Client, {
    service: 'DYNAMODB',
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    env,
  });
  const seal = deployedSeal(flags, env, profile);
  const tableName = resolveTableName(flags, env, process.cwd());
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = flags.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const where = [
    `table ${tableName}`,
    region ? `in ${region}` : '',
    endpoint ? `at ${endpoint}` : '',
    profile ? `(profile ${profile})` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return open(client, tableName, where, seal, async () => {});
}

/**
 * The deployed record key and anchor, through clients with the same region and profile (the endpoint
 * flag is DynamoDB's: KMS and S3 take the standard `AWS_ENDPOINT_URL_KMS` / `_S3` settings).
 */
function deployedSeal(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  profile: string | undefined,
): RecordSeal {
  const cwd = process.cwd();
  const { keyId, stackKey } = resolveRecordKey(flags, env, cwd);
  const bucket = flags.anchorBucket ?? env[ENV.anchorBucket] ?? stackOutput(cwd, STACK_OUTPUTS.anchorBucket);
  const outputs = `the cdk-outputs.json that \`cdk deploy --outputs-file cdk-outputs.json\` writes`;
  if (!keyId) {
    return missingSeal(
      `the record key is unknown: pass --record-key with its ARN (the stack's RecordKeyArn output), set ${ENV.recordKey}, or keep ${outputs}`,
    );
  }
  if (!bucket) {
    return missingSeal(
      `the anchor bucket is unknown: pass --anchor-bucket, set ${ENV.anchorBucket}, or keep ${outputs}`,
    );
  }
  const withProfile = <C>(Base: new (settings: ClientSettings & { profile?: string }) => C) =>
    class extends (Base as new (settings: ClientSettings & { profile?: string }) => object) {
      constructor(settings: ClientSettings) {
        super({ ...settings, ...(profile ? { profile } : {}) });
      }
    } as unknown as new (
      settings: ClientSettings,
    ) => C;
  const region = flags.region ? { region: flags.region } : {};
  const kms = makeClient(withProfile(KMSClient), { service: 'KMS', ...region, env });
  const s3 = makeClient(withProfile(S3Client), { service: 'S3', ...region, env });
  const sealWith = (key: string) => new KmsS3Seal({ kms, s3, keyId: key, bucket });
  return KMS_ALIAS.test(keyId) ? aliasCheckedSeal(keyId, stackKey, kms, sealWith) : sealWith(keyId);
}

/** A KMS alias, by name or by ARN. */
const KMS_ALIAS = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias\//;

/**
 * The seal for a record key given as an alias. An alias can be re-pointed (`kms:UpdateAlias`) at a key of
 * someone else's, whose MACs of a forged record would then check; so before the first MAC is checked the
 * alias is resolved (`kms:DescribeKey`) and used only if it names the deployed stack's own key (its
 * `RecordKeyArn` output). Without that output there is nothing to hold it to, and it is refused. The
 * anchors need no key.
 */
export function aliasCheckedSeal(
  alias: string,
  stackKey: string | undefined,
  kms: Pick<KMSClient, 'send'>,
  sealWith: (keyArn: string) => RecordSeal,
): RecordSeal {
  const byAlias = sealWith(alias);
  let checked: Promise<RecordSeal> | undefined;
  const check = async (): Promise<RecordSeal> => {
    if (stackKey === undefined) {
      throw new ValidationError('--record-key', [
        `${alias} is an alias, which can be re-pointed at another key: pass the key's ARN (the stack's RecordKeyArn output), or keep the cdk-outputs.json that names it`,
      ]);
    }
    const described = await awsCall(`kms:DescribeKey ${alias}`, () =>
      kms.send(new DescribeKeyCommand({ KeyId: alias })),
    );
    const arn = described.KeyMetadata?.Arn;
    if (arn !== stackKey) {
      throw new ValidationError('--record-key', [
        `${alias} points at ${arn ?? 'no key'}, not at the stack's record key ${stackKey}: the alias was re-pointed, or names another key; pass the key's ARN`,
      ]);
    }
    return sealWith(arn);
  };
  const keyed = () => {
    checked ??= check();
    return checked;
  };
  return {
    keyId: alias,
    bucket: byAlias.bucket,
    mac: async (message) => (await keyed()).mac(message),
    verify: async (message, mac) => (await keyed()).verify(message, mac),
    anchor: (entry) => byAlias.anchor(entry),
    anchors: (incidentId) => byAlias.anchors(incidentId),
  };
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET']);
const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);

function codeOf(error: Error): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? codeOf(cause) : undefined;
}

/**
 * Turns what can go wrong reaching the record into a named error that says what to fix: a missing table,
 * no credentials, an endpoint that does not answer, a refused read, no region. Anything else is returned
 * unchanged, to be rethrown.
 */
export function translateReadError(error: unknown, where: string): unknown {
  if (!(error instanceof Error) || error instanceof CordonError) return error;
  if (error.name === 'ResourceNotFoundException') {
    return new TableNotFoundError(
      `${where}: the table (or one of its indexes) does not exist; pass --table, set ${ENV.tableName}, or use --local after npm run demo`,
      { cause: error },
    );
  }
  if (error.name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message)) {
    return new NoCredentialsError(
      `${where}: no AWS credentials found; pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --local`,
      { cause: error },
    );
  }
  if (DENIED.has(error.name)) {
    return new ReadDeniedError(`${where}: AWS refused the read (${error.name}: ${error.message})`, {
      cause: error,
    });
  }
  if (/region is missing/i.test(error.message)) {
    return new ValidationError('--region', ['no region: pass --region or set AWS_REGION'], { cause: error });
  }
  const code = codeOf(error);
  if ((code && UNREACHABLE_CODES.has(code)) || error.name === 'TimeoutError') {
    return new EndpointUnreachableError(`${where}: the endpoint did not answer (${code ?? error.name})`, {
      cause: error,
    });
  }
  return error;
}

/** Opens a connection, runs `work` on it, translates read errors, and always closes it. */
export async function withConnection<T>(
  connectTo: Connect,
  flags: ConnectionFlags,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connectTo(flags);
  try {
    return await work(connection);
  } catch (error) {
    throw translateReadError(error, connection.where);
  } finally {
    await connection.close();
  }
}
