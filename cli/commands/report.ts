/** `cordon report <id>`: the post-incident report, in Markdown (default) or HTML, to stdout or a file. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { IncidentNotFoundError } from '#shared/errors';
import { type Connection, withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  parseIncidentId,
  withCommonOptions,
} from '../context.ts';
import { renderHtml } from '../report/html.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { buildReport, type ReportVerification } from '../report/model.ts';

/** Reads an incident and its steps, verifies its record, and renders its report. */
export async function incidentReport(
  connection: Pick<Connection, 'recorder' | 'queries' | 'where'>,
  incidentId: string,
  format: 'md' | 'html' = 'md',
): Promise<string> {
  const incident = await connection.recorder.findIncident(incidentId);
  if (!incident)
    throw new IncidentNotFoundError(`incident ${incidentId} does not exist in ${connection.where}`);
  const steps = await connection.queries.steps(incidentId);
  const model = buildReport(incident, steps, await verification(connection, incidentId));
  return format === 'html' ? renderHtml(model) : renderMarkdown(model);
}

/**
 * What `cordon verify` says of the record, for the report to state. A record that cannot be checked (no
 * record key or anchor bucket known, no access to them) still gets its report, which says so.
 */
async function verification(
  connection: Pick<Connection, 'recorder'>,
  incidentId: string,
): Promise<ReportVerification> {
  try {
    return await connection.recorder.verify(incidentId);
  } catch (error) {
    return { unchecked: error instanceof Error ? error.message : String(error) };
  }
}

interface ReportFlags extends CommonFlags {
  format: 'md' | 'html';
  out?: string;
}

/** Adds `report` to the console. */
export function registerReportCommand(cli: Command, ctx: ConsoleContext): Command {
  return withCommonOptions(
    cli
      .command('report <id>')
      .description(
        'The post-incident report: summary, timeline, time to detect/contain/recover, actions with the state before and after, approvals, evidence, failures and the questions for the review',
      ),
  )
    .addOption(
      new Option('--format <format>', 'md or html (with an SVG timeline)')
        .choices(['md', 'html'])
        .default('md'),
    )
    .option('--out <file>', 'write the report to this file (default: stdout)')
    .action(async (id: string, flags: ReportFlags) => {
      const incidentId = parseIncidentId(id);
      await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const text = await incidentReport(c, incidentId, flags.format);
        if (flags.out) {
          writeFileSync(flags.out, text);
          ctx.io.err(`Report written to ${flags.out}`);
        } else ctx.io.out(text);
      });
    });
}
