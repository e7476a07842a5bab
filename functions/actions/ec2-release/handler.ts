/** `ec2-release`: restores the state the containment recorded (recovery, after approval). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv, roleRefParts } from '#shared/settings';
import { matchesPattern, untouchableReason, untouchableRules } from '../iam-common/untouchable.ts';
import { type LiveRole, releaseInstance } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const rules = untouchableRules(settings);
/** `settings.instanceRoles` as `<path><name>` patterns: a name without a path is a role at the root path. */
const passable = settings.instanceRoles.map((ref) => {
  const { path, name } = roleRefParts(ref);
  return `${path ?? '/'}${name}`;
});
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-release');
const deps = {
  ec2: makeClient(EC2Client, { service: 'EC2' }),
  iam: makeClient(IAMClient, { service: 'IAM' }),
  autoScaling: makeClient(AutoScalingClient, { service: 'AUTO_SCALING' }),
  elbv2: makeClient(ElasticLoadBalancingV2Client, { service: 'ELASTIC_LOAD_BALANCING_V2' }),
  elb: makeClient(ElasticLoadBalancingClient, { service: 'ELASTIC_LOAD_BALANCING' }),
  recorder,
  roles: {
    untouchable: (role: LiveRole) => untouchableReason(role, rules),
    passable: (role: LiveRole) =>
      passable.some((pattern) => matchesPattern(pattern, `${role.path}${role.roleName}`)),
  },
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: 'ec2-release', logger }))
  .handler(async (event) => releaseInstance(deps, event));
