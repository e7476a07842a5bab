import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { InitializeMiddleware } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { endpointFor, makeClient, registerClientPlugin } from '#shared/clients';

describe('the client factory', () => {
  it('takes the service endpoint before the global one, as the SDK settings define', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    };
    expect(endpointFor('DYNAMODB', env)).toBe('http://127.0.0.1:8000');
    expect(endpointFor('EC2', env)).toBe('http://127.0.0.1:4566');
    expect(endpointFor('EC2', {})).toBeUndefined();
    expect(
      endpointFor('elastic load balancing', { AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING: 'http://x' }),
    ).toBe('http://x');
  });

  it('makes clients with the region, endpoint and adaptive retries', async () => {
    const client = makeClient(EC2Client, {
      service: 'EC2',
      env: { AWS_REGION: 'eu-west-3', AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:9999' },
    });
    expect(await client.config.region()).toBe('eu-west-3');
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(9999);
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await client.config.maxAttempts()).toBe(3);
  });

  it('gives every new client the registered plugins, until they are removed', async () => {
    const seen: string[] = [];
    const intercept: InitializeMiddleware<object, object> = () => async () => {
      seen.push('intercepted');
      return { output: { TableNames: ['from-plugin'], $metadata: {} }, response: undefined };
    };
    const remove = registerClientPlugin({
      applyToStack: (stack) => stack.add(intercept, { step: 'initialize', name: 'testPlugin' }),
    });
    const client = makeClient(DynamoDBClient, {
      service: 'DYNAMODB',
      env: { AWS_REGION: 'us-east-1' },
    });
    remove();
    const out = await client.send(new ListTablesCommand({}));
    expect(out.TableNames).toEqual(['from-plugin']);
    expect(seen).toEqual(['intercepted']);
    const later = makeClient(DynamoDBClient, { service: 'DYNAMODB', env: { AWS_REGION: 'us-east-1' } });
    expect(later.middlewareStack.identify().some((m) => m.startsWith('testPlugin'))).toBe(false);
  });
});
