/** Starts one DynamoDB Local for the whole integration run; each test file makes its own table. */
import type { TestProject } from 'vitest/node';
import { type LocalStore, startLocalStore } from '../../local/store.ts';

let store: LocalStore | undefined;

export async function setup(project: TestProject): Promise<void> {
  store = await startLocalStore();
  project.provide('dynamoEndpoint', store.endpoint);
}

export async function teardown(): Promise<void> {
  await store?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
