/**
 * An action is declared once, in its own folder (`functions/actions/<name>/action.ts`): its name, phase and
 * description, the SDK clients it makes, the AWS actions it calls with each, the conditions they are
 * granted under, how its core's dependencies are made, and its core. From that one declaration:
 *
 * - its handler (`handler.ts`: `export const handler = actionHandler(action)`) reads the configuration
 *   once, makes the hub's clients once, and runs the core inside the audit middleware with the declared
 *   phase, with the dependencies of the place its event names (./responder.ts: in a member account, the
 *   responder role's clients in the finding's region);
 * - the stack makes its function and grants it exactly the declared calls (infra/action-functions.ts);
 * - the IAM comparison test holds the calls its bundle can send to the declared ones, and those to the
 *   template's grants (test/infra/iam-grants.test.ts).
 *
 * {@link defineAction} has no effect: importing a declaration reads no environment and makes no client, so
 * the stack imports every declaration at synth time (functions/actions/index.ts), while a function's bundle
 * holds only its own.
 */
import type { Context as LambdaContext } from 'aws-lambda';
import type { ActionEvent, ActionResult } from './action.ts';
import { auditStep } from './audit-middleware.ts';
import type { Place } from './audit-table.ts';
import {
  type ClientClasses,
  type FunctionContext,
  makeHandler,
  SERVICES,
  type ServiceKey,
} from './define-function.ts';
import type { Phase } from './domain.ts';
import { accountOfArn, BoundedCache, hubOf, placeOfEvent, Responders } from './responder.ts';

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
  /**
   * Acts in the hub whatever the incident's place: its clients are always its function's own (`notify`: the
   * emails go from the hub's SES identity). Default false: the action acts where the finding is, with the
   * member's responder role there, which holds its calls. An action without clients never assumes a role.
   */
  readonly inHub?: boolean;
}

/** What an action's dependencies are made from: its function's context, with the clients of one place. */
export interface ActionContext<C extends ClientClasses> extends FunctionContext<C> {
  /** Where the action acts: the event's account and region, the hub's for what it does not name. */
  readonly place: Partial<Place>;
  /** True when the place is a member account's: the clients carry its responder role's credentials. */
  readonly member: boolean;
}

export interface ActionSpec<N extends string, C extends ClientClasses, D> extends ActionFacts {
  readonly name: N;
  /** The SDK clients it makes, by service key (functions/shared/define-function.ts `SERVICES`). */
  readonly clients: C;
  /** The calls it makes with each of its clients, and none with a client it does not make. */
  readonly calls: { readonly [K in keyof C]: readonly string[] };
  /**
   * Its core's dependencies, from the clients of a place: made on the first invocation in the hub, once, and
   * for each (member place, incident) on its first invocation there (cached, at most 64 at a time).
   */
  readonly deps: (context: ActionContext<C>) => D;
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
  /** The hub's place: the environment's, else the account of the function's own ARN. */
  const home = (lambda: LambdaContext | undefined): Partial<Place> =>
    hubOf(process.env, accountOfArn(lambda?.invokedFunctionArn));
  return makeHandler<C, FunctionContext<C>['config'], PlacedDeps<C, D>, ActionEvent, ActionResult>({
    name: action.name,
    clients: action.clients,
    deps: (context) => new PlacedDeps(action, context),
    use: ({ recorder, logger }) => [
      auditStep({ recorder, phase: action.phase, action: action.name, logger, home }),
    ],
    run: async (placed, event, _context, lambda) => action.core(await placed.of(event, home(lambda)), event),
  });
}

/**
 * An action's dependencies by place: the hub's made once; a member's (and another region's) made from the
 * clients {@link Responders} gives for the place and incident, cached per place and incident. For a member,
 * the responder role is assumed before the core runs, so that a refusal fails the step by its own name
 * (`ResponderUnavailableError`) and never as a failed call inside the core.
 */
class PlacedDeps<C extends ClientClasses, D> {
  readonly #action: ActionDeclaration<string, C, D>;
  readonly #context: FunctionContext<C>;
  readonly #byPlace = new BoundedCache<D>();
  #hub: D | undefined;
  #responders: Responders<C> | undefined;

  constructor(action: ActionDeclaration<string, C, D>, context: FunctionContext<C>) {
    this.#action = action;
    this.#context = context;
  }

  async of(event: ActionEvent, hub: Partial<Place>): Promise<D> {
    const action = this.#action;
    const actsInPlace = action.inHub !== true && Object.keys(action.clients).length > 0;
    this.#responders ??= new Responders(action.clients, this.#context.clients, {
      ...(hub.account === undefined ? {} : { hubAccount: hub.account }),
    });
    const responders = this.#responders;
    const place = placeOfEvent(event, responders.hub);
    if (!actsInPlace || responders.isHub(place)) {
      this.#hub ??= action.deps(this.#placed(this.#context.clients, responders.hub, false));
      return this.#hub;
    }
    const member = !responders.inHubAccount(place);
    if (member) await responders.credentials(place.account ?? '', event.incidentId);
    const key = `${place.account ?? ''}#${place.region ?? ''}#${member ? event.incidentId : ''}`;
    const cached = this.#byPlace.get(key);
    if (cached !== undefined) return cached;
    const deps = action.deps(this.#placed(responders.clientsFor(place, event.incidentId), place, member));
    this.#byPlace.set(key, deps);
    return deps;
  }

  /** The function's context with the clients of a place; its settings still read on first use. */
  #placed(clients: FunctionContext<C>['clients'], place: Partial<Place>, member: boolean): ActionContext<C> {
    const context = this.#context;
    return {
      config: context.config,
      documents: context.documents,
      recorder: context.recorder,
      logger: context.logger,
      clients,
      place,
      member,
      get settings() {
        return context.settings;
      },
    };
  }
}
