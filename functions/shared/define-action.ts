/**
 * An action is declared once, in its own folder (`functions/actions/<name>/action.ts`): its name, phase and
 * description, the SDK clients it makes, the AWS actions it calls with each, the conditions they are
 * granted under, how its core's dependencies are made, and its core. From that one declaration:
 *
 * - its handler (`handler.ts`: `export const handler = actionHandler(action)`) reads the configuration
 *   once, makes the clients once, and runs the core inside the audit middleware with the declared phase;
 * - the stack makes its function and grants it exactly the declared calls (infra/action-functions.ts);
 * - the IAM comparison test holds the calls its bundle can send to the declared ones, and those to the
 *   template's grants (test/infra/iam-grants.test.ts).
 *
 * {@link defineAction} has no effect: importing a declaration reads no environment and makes no client, so
 * the stack imports every declaration at synth time (functions/actions/index.ts), while a function's bundle
 * holds only its own.
 */
import type { ActionEvent, ActionResult } from './action.ts';
import { auditStep } from './audit-middleware.ts';
import {
  type ClientClasses,
  type FunctionContext,
  makeHandler,
  SERVICES,
  type ServiceKey,
} from './define-function.ts';
import type { Phase } from './domain.ts';

/** An IAM condition block as a statement's `Condition` holds it: operator → key → value(s). */
export type Conditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

/** What infra and the tests read of a declaration: all but how its handler is built. */
export interface ActionFacts {
  /** The action's name: its folder under `functions/actions/`, its steps' `action`, its logger's name. */
  readonly name: string;
  readonly phase: Phase;
  /** What it does, in a line: the function's description, in the console and on its role. */
  readonly description: string;
  /**
   * The AWS actions it calls, by the key of the client it calls them with: exactly what its code sends
   * (the IAM comparison test holds the bundle to it), and what its function is granted.
   */
  readonly calls: Readonly<Partial<Record<ServiceKey, readonly string[]>>>;
  /**
   * Actions granted only under conditions, by `service:Action` (each also in `calls`): one Allow statement
   * per condition block, and no grant of the action without one. A call is allowed when any block holds.
   */
  readonly conditions?: Readonly<Record<string, readonly Conditions[]>>;
  /** `iam:PassRole` on the restore role only (starting a restore job passes it to AWS Backup). */
  readonly passRestoreRole?: boolean;
  /**
   * `iam:PassRole`, to EC2 only, on exactly the settings' `instanceRoles` (re-associating an instance
   * profile passes its role); none at all when the settings list none.
   */
  readonly passInstanceRoles?: boolean;
}

export interface ActionSpec<N extends string, C extends ClientClasses, D> extends ActionFacts {
  readonly name: N;
  /** The SDK clients it makes, by service key (functions/shared/define-function.ts `SERVICES`). */
  readonly clients: C;
  /** The calls it makes with each of its clients, and none with a client it does not make. */
  readonly calls: { readonly [K in keyof C]: readonly string[] };
  /** Its core's dependencies, made once at cold start. */
  readonly deps: (context: FunctionContext<C>) => D;
  /** The core: `(deps, event) => result`, what the unit tests call. */
  readonly core: (deps: D, event: ActionEvent) => Promise<ActionResult>;
}

/** A declared action: its spec, as given. */
export type ActionDeclaration<N extends string, C extends ClientClasses, D> = ActionSpec<N, C, D>;

/** Declares an action. Checks the declaration's own consistency; makes nothing. */
export function defineAction<N extends string, C extends ClientClasses, D>(
  spec: ActionSpec<N, C, D>,
): ActionDeclaration<N, C, D> {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(spec.name)) {
    throw new Error(`defineAction: name must be kebab-case, got "${spec.name}"`);
  }
  const declared = new Set(iamCalls(spec));
  for (const action of Object.keys(spec.conditions ?? {})) {
    if (!declared.has(action)) {
      throw new Error(`defineAction ${spec.name}: conditions for ${action}, which its calls do not list`);
    }
  }
  for (const key of Object.keys(spec.calls)) {
    if (!(key in spec.clients)) {
      throw new Error(`defineAction ${spec.name}: calls for ${key}, which its clients do not name`);
    }
  }
  return spec;
}

/**
 * The IAM actions (`service:Action`) an action's declared calls need, in the order declared, without those
 * that need no permission. PassRole is apart: `passRestoreRole` and `passInstanceRoles` say on what.
 */
export function iamCalls(action: Pick<ActionFacts, 'calls'>): string[] {
  const out: string[] = [];
  for (const [key, calls] of Object.entries(action.calls) as [ServiceKey, readonly string[]][]) {
    const service: { iam: string; free?: readonly string[] } = SERVICES[key];
    for (const call of calls) {
      const iam = `${service.iam}:${call}`;
      if (!service.free?.includes(call) && !out.includes(iam)) out.push(iam);
    }
  }
  return out;
}

/** The Lambda handler of a declared action: its core inside the audit middleware, with its phase. */
export function actionHandler<N extends string, C extends ClientClasses, D>(
  action: ActionDeclaration<N, C, D>,
) {
  return makeHandler<C, FunctionContext<C>['config'], D, ActionEvent, ActionResult>({
    name: action.name,
    clients: action.clients,
    deps: action.deps,
    use: ({ recorder, logger }) => [
      auditStep({ recorder, phase: action.phase, action: action.name, logger }),
    ],
    run: (deps, event) => action.core(deps, event),
  });
}
