/** `ec2-release`: restores the state the containment recorded (recovery, after approval). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { AuditRecorder } from '#shared/audit';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { releaseInstance } from './core.ts';

const config = readAuditConfig();
const recorder = new AuditRecorder({ client: makeDocumentClient(), tableName: config.tableName });
const logger = createLogger('ec2-release');
const deps = {
  ec2: makeClient(EC2Client, { service: 'EC2' }),
  iam: makeClient(IAMClient, { service: 'IAM' }),
  autoScaling: makeClient(AutoScalingClient, { service: 'AUTO_SCALING' }),
  elbv2: makeClient(ElasticLoadBalancingV2Client, { service: 'ELASTIC_LOAD_BALANCING_V2' }),
  elb: makeClient(ElasticLoadBalancingClient, { service: 'ELASTIC_LOAD_BALANCING' }),
  recorder,
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: 'ec2-release', logger }))
  .handler(async (event) => releaseInstance(deps, event));
