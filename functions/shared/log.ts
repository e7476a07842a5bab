/**
 * One JSON line per log entry, as CloudWatch Logs Insights reads best. Small on purpose: a logger that
 * adds nothing measurable to a cold start. Never log a task token, a link id or a secret: callers pass
 * ids, not credentials.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function levelFrom(value: string | undefined): LogLevel {
  return value !== undefined && value in LEVELS ? (value as LogLevel) : 'info';
}

/** A logger for one component; the level comes from `CORDON_LOG_LEVEL` (default `info`). */
export function createLogger(
  component: string,
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const threshold = LEVELS[options.level ?? levelFrom(process.env.CORDON_LOG_LEVEL)];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), component, message, ...fields }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** An error as a plain object for a log line or a record: its name and message, never its stack's secrets. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}
