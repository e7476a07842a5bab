/**
 * Builds Cordon's CDK app. `infra/app.ts` runs it for `cdk synth`/`cdk deploy`; the local engine and the
 * infrastructure tests build it in-process.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CordonStack, type CordonStackProps } from './cordon-stack.ts';

export const STACK_NAME = 'Cordon';

export interface CordonAppOptions {
  readonly app?: AppProps;
  readonly stack?: CordonStackProps;
  /** Run cdk-nag's AwsSolutions checks at synth. Default true. */
  readonly nag?: boolean;
}

export function buildApp(options: CordonAppOptions = {}): { app: App; stack: CordonStack } {
  const app = new App(options.app);
  const stack = new CordonStack(app, STACK_NAME, {
    description: 'Cordon: automated incident response',
    ...options.stack,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
