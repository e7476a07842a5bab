/**
 * Maps a deployed function's stack trace to Cordon's sources, offline. The functions run without
 * `--enable-source-maps` (it costs a cold start more than all of Cordon's own code:
 * infra/constructs/action-function.ts), so a trace in their logs names places in the bundle,
 * `file:///var/task/index.mjs:1:48213`; the source map kept beside the bundle says what they are.
 *
 *     npx tsx infra/map-trace.ts <map> < trace.txt
 *
 * `<map>` is the function's `index.mjs.map`: in `cdk.out/<asset>/` after `cdk synth` or a deployment
 * from the same commit (the template names the asset folder in the function's `aws:asset:path`
 * metadata), or in the zip of the deployed code (`aws lambda get-function --function-name <name>
 * --query Code.Location` gives its address). A folder holding `index.mjs.map` will do too. The map
 * holds positions and names, not the sources: read them in the repository at the deployed commit.
 */
import { readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A source as the map names it, relative to the bundle's folder, as a path from the repository's root. */
function fromRepository(source: string): string {
  const at = source.search(/(^|\/)(functions|node_modules|playbooks|infra)\//);
  return at < 0 ? source : source.slice(at).replace(/^\//, '');
}

/**
 * The trace with each `index.mjs:<line>:<column>` that the map knows replaced by its source, line and
 * column (1-based, as traces print them) and, when the map names it, the original name
 * (`functions/actions/ec2-detach/core.ts:42:7 (detachInstance)`). Places the map does not cover stay.
 */
export function mapTrace(trace: string, payload: SourceMapPayload): string {
  const map = new SourceMap(payload);
  return trace.replace(/(?:file:\/\/)?(?:[^\s()]*\/)?index\.mjs:(\d+):(\d+)/g, (frame, line, column) => {
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
      name: string;
    }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined) return frame;
    const place = `${fromRepository(entry.originalSource)}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    return entry.name ? `${place} (${entry.name})` : place;
  });
}

/** Reads a map file, or `index.mjs.map` in a folder. */
export function readMap(path: string): SourceMapPayload {
  const file = statSync(path).isDirectory() ? join(path, 'index.mjs.map') : path;
  return JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write('usage: npx tsx infra/map-trace.ts <index.mjs.map or its folder> < trace.txt\n');
    process.exit(2);
  }
  process.stdout.write(mapTrace(readFileSync(0, 'utf8'), readMap(path)));
}
