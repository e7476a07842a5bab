/**
 * The approval API: the functions of the approval gate and the HTTP API that approvers' links open.
 *
 * - the request function (the gate's `.waitForTaskToken` task): records to the table, sends email
 *   from the sender identity only, and knows the API's URL to build links;
 * - the timeout function (the gate's `Catch` on `States.Timeout`): records, and emails the approvers;
 * - the check function (the gate's state after an approval): confirms it from the verified record;
 * - the decision function behind `GET|POST /approvals/{id}` (the links) and `POST
 *   /console/approvals/{requestId}` (IAM-authorized: the console's decisions, as the caller's principal,
 *   taken only from the principals of `consolePrincipals`) (HTTP API, payload 2.0);
 * - the lifecycle function behind `POST /console/incidents/{id}/close|note|assign` (IAM-authorized, the
 *   same principals): records the step as the caller and, on a close, deletes the incident's open markers.
 * The decision function: records, reads the task tokens, emails the approvers when it refuses a
 *   decision on a record that does not verify, and may call exactly `states:SendTaskSuccess` and
 *   `states:SendTaskFailure` on the playbooks' state machines, named by fixed names through
 *   `Stack.formatArn`. It never references a state machine construct, so that the state machine's grant
 *   to the request function, the request function's environment holding the API's URL, and the API
 *   pointing at the decision function make no dependency cycle.
 *
 * The default stage is throttled and access-logged; the access log leaves out the path, because the
 * link id in it is the approver's credential.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { ConsolePrincipalSchema } from '#shared/settings';
import { APPROVAL_ENV } from '../../functions/approval/config.ts';
import type { ApprovalFunctions } from '../../playbooks/parts/approval-functions.ts';
import { acknowledge } from '../nag.ts';
import { ActionFunction } from './action-function.ts';
import type { AuditTable } from './audit-table.ts';

export interface ApprovalApiProps {
  readonly table: AuditTable;
  /** Who decides: each gets a link of their own. At least one. */
  readonly approvers: readonly string[];
  /** The SES-verified address the emails come from. */
  readonly sender: string;
  /**
   * Who may decide from the console (the IAM-authorized route): IAM principal ARN patterns of the people's
   * roles (`settings.approval.consolePrincipals`). Default none: console decisions are refused.
   */
  readonly consolePrincipals?: readonly string[];
  /** The SES identity the sender belongs to: the address itself or its domain. Default the sender address. */
  readonly senderIdentity?: string;
  /**
   * The fixed names of the state machines whose approval tasks the decisions complete (the playbooks'
   * `stateMachineName`s). At least one.
   */
  readonly stateMachineNames: readonly string[];
  /** Requests per second across the API. Default 5. */
  readonly rateLimit?: number;
  /** Burst across the API. Default 10. */
  readonly burstLimit?: number;
  /** Retention of the access log. Default one year. */
  readonly accessLogRetention?: logs.RetentionDays;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** The access log: who called what route with what result. Never the path: it holds the link id. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
};

export class ApprovalApi extends Construct implements ApprovalFunctions {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The base URL links start with: `https://<api id>.execute-api.<region>.amazonaws.com`. */
  readonly url: string;
  readonly requestFunction: ActionFunction;
  readonly timeoutFunction: ActionFunction;
  readonly checkFunction: ActionFunction;
  readonly decideFunction: ActionFunction;
  /** `POST /console/incidents/{id}/close|note|assign` (IAM-authorized): functions/lifecycle. */
  readonly lifecycleFunction: ActionFunction;
  readonly accessLog: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApprovalApiProps) {
    super(scope, id);
    if (props.approvers.length === 0 || props.approvers.some((a) => !EMAIL.test(a))) {
      throw new Error(
        `ApprovalApi ${id}: approvers must be one or more email addresses, got ${JSON.stringify(props.approvers)}`,
      );
    }
    if (!EMAIL.test(props.sender)) {
      throw new Error(`ApprovalApi ${id}: sender must be an email address, got "${props.sender}"`);
    }
    if (
      props.stateMachineNames.length === 0 ||
      props.stateMachineNames.some((n) => !STATE_MACHINE_NAME.test(n))
    ) {
      throw new Error(
        `ApprovalApi ${id}: stateMachineNames must be one or more names of 1-80 of A-Z a-z 0-9 _ -, got ${JSON.stringify(props.stateMachineNames)}`,
      );
    }
    const rateLimit = props.rateLimit ?? 5;
    const burstLimit = props.burstLimit ?? 10;
    if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit < 1) {
      throw new Error(
        `ApprovalApi ${id}: rateLimit must be > 0 and burstLimit an integer >= 1, got ${rateLimit} and ${burstLimit}`,
      );
    }
    const consolePrincipals = props.consolePrincipals ?? [];
    const badPrincipals = consolePrincipals.filter((p) => !z.safeParse(ConsolePrincipalSchema, p).success);
    if (badPrincipals.length > 0) {
      throw new Error(
        `ApprovalApi ${id}: consolePrincipals must be IAM user, role or assumed-role ARN patterns that name people's roles, got ${JSON.stringify(badPrincipals)}`,
      );
    }
    const stack = Stack.of(this);
    const settings = JSON.stringify({ approvers: props.approvers, sender: props.sender, consolePrincipals });

    this.decideFunction = new ActionFunction(this, 'Decide', {
      entry: 'functions/approval/decide/handler.ts',
      description: 'Serves approval links: GET shows the decision page, POST decides once',
      timeout: Duration.seconds(15),
    }).recordsTo(props.table);
    this.decideFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: props.stateMachineNames.map((name) =>
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: name,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );

    this.accessLog = new logs.LogGroup(this, 'AccessLog', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Cordon approval links',
      createDefaultStage: false,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLog),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const integration = new HttpLambdaIntegration('Decide', this.decideFunction, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    this.api.addRoutes({
      path: '/approvals/{id}',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
      integration,
    });
    // The console's decisions: API Gateway verifies the caller's SigV4 signature and names the principal.
    this.api.addRoutes({
      path: '/console/approvals/{requestId}',
      methods: [apigw.HttpMethod.POST],
      integration,
      authorizer: new HttpIamAuthorizer(),
    });
    // The console's lifecycle (close, note, assign), recorded by a function of its own as the caller.
    this.lifecycleFunction = new ActionFunction(this, 'Lifecycle', {
      entry: 'functions/lifecycle/handler.ts',
      description:
        "Closes, notes or assigns an incident from the console, recorded as the caller's IAM principal",
      timeout: Duration.seconds(15),
    }).recordsTo(props.table);
    this.lifecycleFunction.addEnvironment(APPROVAL_ENV.settings, settings);
    const lifecycle = new HttpLambdaIntegration('Lifecycle', this.lifecycleFunction, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    for (const verb of ['close', 'note', 'assign']) {
      this.api.addRoutes({
        path: `/console/incidents/{id}/${verb}`,
        methods: [apigw.HttpMethod.POST],
        integration: lifecycle,
        authorizer: new HttpIamAuthorizer(),
      });
    }
    this.url = this.api.apiEndpoint;

    const identity = props.senderIdentity ?? props.sender;
    const sendEmail = new iam.PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })],
    });
    this.decideFunction.addEnvironment(APPROVAL_ENV.settings, settings);
    this.decideFunction.addToRolePolicy(sendEmail);
    this.requestFunction = new ActionFunction(this, 'Request', {
      entry: 'functions/approval/request/handler.ts',
      description: 'Stores an approval request and emails each approver a link of their own',
      timeout: Duration.seconds(60),
    }).recordsTo(props.table);
    this.requestFunction.addEnvironment(APPROVAL_ENV.settings, settings);
    this.requestFunction.addEnvironment(APPROVAL_ENV.baseUrl, this.url);
    this.requestFunction.addToRolePolicy(sendEmail);

    this.timeoutFunction = new ActionFunction(this, 'Timeout', {
      entry: 'functions/approval/timeout/handler.ts',
      description: "Applies an approval's default decision when nobody decided in time",
      timeout: Duration.seconds(60),
    }).recordsTo(props.table);
    this.timeoutFunction.addEnvironment(APPROVAL_ENV.settings, settings);
    this.timeoutFunction.addToRolePolicy(sendEmail);

    this.checkFunction = new ActionFunction(this, 'Check', {
      entry: 'functions/approval/check/handler.ts',
      description: 'Confirms from the verified record that an approval was made by an approver in time',
      timeout: Duration.seconds(30),
    }).recordsTo(props.table);
    // Whose console decisions count.
    this.checkFunction.addEnvironment(APPROVAL_ENV.settings, settings);

    const linksAreTheAuthorization =
      'Approval links are the authorization: each is an unguessable 256-bit id, bound to one approver, single use and expiring with the request, stored only as its SHA-256; approvers are outside AWS and have no IAM or Cognito identity. GET never decides; the route is throttled.';
    for (const route of this.api.node.findAll()) {
      if (route instanceof apigw.CfnRoute && route.authorizationType !== 'AWS_IAM') {
        acknowledge(route, 'AwsSolutions-APIG4', linksAreTheAuthorization);
        acknowledge(route, 'AwsSolutions-COG4', linksAreTheAuthorization);
      }
    }
  }
}
