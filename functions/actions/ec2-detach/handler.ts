/** `ec2-detach`: out of its Auto Scaling group, target groups and classic load balancers (containment). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv } from '#shared/settings';
import { detachInstance } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-detach');
const deps = {
  ec2: makeClient(EC2Client, { service: 'EC2' }),
  autoScaling: makeClient(AutoScalingClient, { service: 'AUTO_SCALING' }),
  elbv2: makeClient(ElasticLoadBalancingV2Client, { service: 'ELASTIC_LOAD_BALANCING_V2' }),
  elb: makeClient(ElasticLoadBalancingClient, { service: 'ELASTIC_LOAD_BALANCING' }),
  protectedTag: settings.protectedTag,
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: 'ec2-detach', logger }))
  .handler(async (event) => detachInstance(deps, event));
