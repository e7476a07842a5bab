/** Elastic Load Balancing: ELBv2 target groups and classic load balancers. */
import type {
  DescribeLoadBalancersCommandInput as ClassicDescribeInput,
  DescribeLoadBalancersCommandOutput as ClassicDescribeOutput,
  DeregisterInstancesFromLoadBalancerCommandInput,
  DeregisterInstancesFromLoadBalancerCommandOutput,
  RegisterInstancesWithLoadBalancerCommandInput,
  RegisterInstancesWithLoadBalancerCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing';
import type {
  DeregisterTargetsCommandInput,
  DescribeTargetGroupsCommandInput,
  DescribeTargetGroupsCommandOutput,
  DescribeTargetHealthCommandInput,
  DescribeTargetHealthCommandOutput,
  RegisterTargetsCommandInput,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { CallContext, HandlerMap, Out } from './context.ts';
import { fail, sortedValues } from './context.ts';
import type { PageRules } from './listing.ts';
import { list, sizeConstraint } from './listing.ts';
import type { AccountState, ClassicLoadBalancerState, TargetGroupState, TargetState } from './state.ts';

/**
 * The paging of ELBv2's and classic ELB's Describe calls: `PageSize` 1 to 400, `Marker` in, `NextMarker`
 * out (https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html:
 * "a number from 1 to 400. The default is 400"; ELBv2's DescribeTargetGroups has the same range,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html).
 * Both refuse a value out of range or a marker they did not give with `ValidationError`.
 */
export const ELB_PAGING: PageRules = {
  min: 1,
  max: 400,
  default: 400,
  badSize: (size, rules) => ['ValidationError', sizeConstraint('pageSize', size, rules)],
  badToken: () => ['ValidationError', 'Invalid value for marker'],
};

/** Drops targets whose deregistration delay has passed. */
export function refreshElbv2(state: AccountState, now: number): void {
  for (const tg of Object.values(state.elbv2.targetGroups)) {
    tg.targets = tg.targets.filter((t) => t.drainingUntil === undefined || t.drainingUntil > now);
  }
}

function targetGroupOrFail(ctx: CallContext, arn: string | undefined): TargetGroupState {
  const tg = arn === undefined ? undefined : ctx.state.elbv2.targetGroups[arn];
  if (!tg) fail(ctx, 'TargetGroupNotFound', `One or more target groups not found`);
  return tg;
}

function checkTargets(ctx: CallContext, targets: readonly { Id?: string | undefined }[] | undefined): void {
  for (const t of targets ?? []) {
    const instance = t.Id === undefined ? undefined : ctx.state.ec2.instances[t.Id];
    if (!instance || instance.state === 'terminated') {
      fail(ctx, 'InvalidTarget', `The following targets are not valid instances: '${t.Id}'`);
    }
  }
}

function health(ctx: CallContext, tg: TargetGroupState, target: TargetState): TargetHealthDescription {
  const base = { Target: { Id: target.id, Port: target.port }, HealthCheckPort: String(tg.port) };
  if (target.drainingUntil !== undefined) {
    return {
      ...base,
      TargetHealth: {
        State: 'draining',
        Reason: 'Target.DeregistrationInProgress',
        Description: 'Target deregistration is in progress',
      },
    };
  }
  const instance = ctx.state.ec2.instances[target.id];
  if (instance?.state !== 'running') {
    return {
      ...base,
      TargetHealth: {
        State: 'unused',
        Reason: 'Target.InvalidState',
        Description: 'Target is in the stopped state',
      },
    };
  }
  return { ...base, TargetHealth: { State: 'healthy' } };
}

/** ELBv2 commands the sandbox simulates. */
export const elbv2Handlers: HandlerMap = {
  /**
   * By ARN or by name (every one must exist, else `TargetGroupNotFound`), or those of a load balancer, or
   * all; `PageSize` a page ({@link ELB_PAGING}).
   */
  DescribeTargetGroups: (
    ctx,
    input: DescribeTargetGroupsCommandInput,
  ): Out<DescribeTargetGroupsCommandOutput> => {
    const { Marker, PageSize, ...scope } = input;
    const groups = sortedValues(ctx.state.elbv2.targetGroups);
    const byName = !input.TargetGroupArns?.length && Boolean(input.Names?.length);
    const { items, next } = list(ctx, {
      ids: byName ? input.Names : input.TargetGroupArns,
      lookup: (id) => (byName ? groups.find((tg) => tg.name === id) : ctx.state.elbv2.targetGroups[id]),
      all: () => groups,
      notFound: () => ['TargetGroupNotFound', 'One or more target groups not found'],
      where: (tg) =>
        (byName || !input.Names?.length || input.Names.includes(tg.name)) &&
        (input.LoadBalancerArn === undefined || tg.loadBalancerArns.includes(input.LoadBalancerArn)),
      paging: ELB_PAGING,
      request: { size: PageSize, token: Marker, scope },
    });
    return {
      TargetGroups: items.map((tg) => ({
        TargetGroupArn: tg.arn,
        TargetGroupName: tg.name,
        Protocol: tg.protocol as 'HTTP',
        Port: tg.port,
        VpcId: tg.vpcId,
        TargetType: tg.targetType,
        LoadBalancerArns: tg.loadBalancerArns,
        HealthCheckEnabled: true,
        HealthCheckPath: '/',
        HealthCheckProtocol: tg.protocol as 'HTTP',
      })),
      ...(next === undefined ? {} : { NextMarker: next }),
    };
  },

  DescribeTargetHealth: (
    ctx,
    input: DescribeTargetHealthCommandInput,
  ): Out<DescribeTargetHealthCommandOutput> => {
    const tg = targetGroupOrFail(ctx, input.TargetGroupArn);
    const wanted = input.Targets?.map((t) => t.Id) ?? [];
    const targets = tg.targets.filter((t) => wanted.length === 0 || wanted.includes(t.id));
    const unknown = wanted
      .filter((id) => id !== undefined && !tg.targets.some((t) => t.id === id))
      .map(
        (id): TargetHealthDescription => ({
          Target: { Id: id, Port: tg.port },
          TargetHealth: {
            State: 'unused',
            Reason: 'Target.NotRegistered',
            Description: 'Target is not registered to the target group',
          },
        }),
      );
    return { TargetHealthDescriptions: [...targets.map((t) => health(ctx, tg, t)), ...unknown] };
  },

  RegisterTargets: (ctx, input: RegisterTargetsCommandInput) => {
    const tg = targetGroupOrFail(ctx, input.TargetGroupArn);
    checkTargets(ctx, input.Targets);
    for (const t of input.Targets ?? []) {
      const id = t.Id ?? '';
      const port = t.Port ?? tg.port;
      const existing = tg.targets.find((x) => x.id === id && x.port === port);
      if (existing) delete existing.drainingUntil;
      else tg.targets.push({ id, port });
    }
    return {};
  },

  /** Deregistered targets drain for the deregistration delay, then disappear. */
  DeregisterTargets: (ctx, input: DeregisterTargetsCommandInput) => {
    const tg = targetGroupOrFail(ctx, input.TargetGroupArn);
    checkTargets(ctx, input.Targets);
    for (const t of input.Targets ?? []) {
      for (const target of tg.targets) {
        if (
          target.id === t.Id &&
          (t.Port === undefined || t.Port === target.port) &&
          target.drainingUntil === undefined
        ) {
          target.drainingUntil = ctx.now + ctx.state.timings.deregistrationDelayMs;
        }
      }
    }
    return {};
  },
};

function loadBalancerOrFail(ctx: CallContext, name: string | undefined): ClassicLoadBalancerState {
  const lb = name === undefined ? undefined : ctx.state.elb.loadBalancers[name];
  if (!lb) fail(ctx, 'LoadBalancerNotFound', `There is no ACTIVE Load Balancer named '${name}'`);
  return lb;
}

function checkInstances(
  ctx: CallContext,
  instances: readonly { InstanceId?: string | undefined }[] | undefined,
): string[] {
  const ids = (instances ?? []).map((i) => i.InstanceId ?? '');
  for (const id of ids) {
    if (!ctx.state.ec2.instances[id])
      fail(ctx, 'InvalidInstance', `The requested instance is invalid: ${id}`);
  }
  return ids;
}

/** Classic ELB commands the sandbox simulates. */
export const elbHandlers: HandlerMap = {
  /** By name (every one must exist, else `LoadBalancerNotFound`) or all; `PageSize` a page ({@link ELB_PAGING}). */
  DescribeLoadBalancers: (ctx, input: ClassicDescribeInput): Out<ClassicDescribeOutput> => {
    const { Marker, PageSize, ...scope } = input;
    const { items: lbs, next } = list(ctx, {
      ids: input.LoadBalancerNames,
      lookup: (name) => ctx.state.elb.loadBalancers[name],
      all: () => sortedValues(ctx.state.elb.loadBalancers),
      notFound: (missing) => [
        'LoadBalancerNotFound',
        `There is no ACTIVE Load Balancer named '${missing[0]}'`,
      ],
      paging: ELB_PAGING,
      request: { size: PageSize, token: Marker, scope },
    });
    return {
      LoadBalancerDescriptions: lbs.map((lb) => ({
        LoadBalancerName: lb.name,
        DNSName: lb.dnsName,
        VPCId: lb.vpcId,
        Subnets: lb.subnets,
        SecurityGroups: lb.securityGroups,
        Scheme: 'internet-facing',
        CreatedTime: new Date(lb.createdTime),
        Instances: lb.instances.map((InstanceId) => ({ InstanceId })),
        ListenerDescriptions: [
          {
            Listener: { Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 },
            PolicyNames: [],
          },
        ],
      })),
      ...(next === undefined ? {} : { NextMarker: next }),
    };
  },

  RegisterInstancesWithLoadBalancer: (
    ctx,
    input: RegisterInstancesWithLoadBalancerCommandInput,
  ): Out<RegisterInstancesWithLoadBalancerCommandOutput> => {
    const lb = loadBalancerOrFail(ctx, input.LoadBalancerName);
    for (const id of checkInstances(ctx, input.Instances))
      if (!lb.instances.includes(id)) lb.instances.push(id);
    return { Instances: lb.instances.map((InstanceId) => ({ InstanceId })) };
  },

  DeregisterInstancesFromLoadBalancer: (
    ctx,
    input: DeregisterInstancesFromLoadBalancerCommandInput,
  ): Out<DeregisterInstancesFromLoadBalancerCommandOutput> => {
    const lb = loadBalancerOrFail(ctx, input.LoadBalancerName);
    const ids = checkInstances(ctx, input.Instances);
    lb.instances = lb.instances.filter((id) => !ids.includes(id));
    return { Instances: lb.instances.map((InstanceId) => ({ InstanceId })) };
  },
};
