/**
 * One of two processes writing to one persisted sandbox at once (see persist.test.ts): after both are
 * ready, it races the other for `race/<i>` with conditional puts and writes `own/<name>/<i>` of its own.
 * Prints how many conditional puts it won and lost, as JSON.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Sandbox } from '#local/sandbox/index';

const [dir = '', name = '', other = '', countText = '0'] = process.argv.slice(2);
const count = Number(countText);
const sandbox = Sandbox.create({}, { persist: { dir, services: ['S3'] } });
const s3 = sandbox.attach(
  new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
);

writeFileSync(join(dir, `ready-${name}`), '');
for (let waited = 0; !existsSync(join(dir, `ready-${other}`)); waited += 1) {
  if (waited > 4000) throw new Error(`${other} never got ready`);
  await sleep(5);
}

let won = 0;
let lost = 0;
for (let i = 0; i < count; i += 1) {
  try {
    await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: `race/${i}`, Body: name, IfNoneMatch: '*' }));
    won += 1;
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'PreconditionFailed') throw error;
    lost += 1;
  }
  await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: `own/${name}/${i}`, Body: name }));
}
process.stdout.write(JSON.stringify({ won, lost }));
