/**
 * The local outbox: every email Cordon sends on the local runtime is written to
 * `<stateDir>/outbox/<time>-<to>.txt` and printed with its links. {@link outboxPlugin} attaches it to SDK
 * clients (through `registerClientPlugin`) so that SES v2 `SendEmail` lands here instead of AWS; a
 * sandbox account that keeps its own outbox can hand its emails to {@link Outbox.deliver} instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  Pluggable,
} from '@smithy/types';

/** One email as the outbox keeps it. */
export interface OutboxEmail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
}

/** An email written to the outbox. */
export interface DeliveredEmail extends OutboxEmail {
  readonly messageId: string;
  readonly file: string;
  /** The http(s) links in the text. */
  readonly links: readonly string[];
  readonly at: string;
}

export interface OutboxOptions {
  /** Where each delivered email is printed; default stdout. Pass `() => {}` for silence. */
  readonly print?: (text: string) => void;
  readonly clock?: () => Date;
}

/** The email a `SendEmail` input describes (simple content; raw content is kept as text). */
export function emailFromSendEmail(input: SendEmailCommandInput): OutboxEmail {
  const simple = input.Content?.Simple;
  const raw = input.Content?.Raw?.Data;
  return {
    from: input.FromEmailAddress ?? '',
    to: [...(input.Destination?.ToAddresses ?? [])],
    subject: simple?.Subject?.Data ?? '',
    ...(simple?.Body?.Text?.Data !== undefined ? { text: simple.Body.Text.Data } : {}),
    ...(simple?.Body?.Html?.Data !== undefined ? { html: simple.Body.Html.Data } : {}),
    ...(raw !== undefined ? { text: Buffer.from(raw).toString('utf8') } : {}),
  };
}

const safe = (value: string): string => value.replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 80);

export class Outbox {
  readonly dir: string;
  private readonly print: (text: string) => void;
  private readonly clock: () => Date;
  private readonly sent: DeliveredEmail[] = [];
  private count = 0;

  /** An outbox in `<stateDir>/outbox`. */
  constructor(stateDir: string, options: OutboxOptions = {}) {
    this.dir = join(stateDir, 'outbox');
    this.print = options.print ?? ((text) => process.stdout.write(`${text}\n`));
    this.clock = options.clock ?? (() => new Date());
  }

  /** Writes an email to the folder, prints it with its links, and returns it as delivered. */
  deliver(email: OutboxEmail): DeliveredEmail {
    mkdirSync(this.dir, { recursive: true });
    const at = this.clock().toISOString();
    this.count++;
    const messageId = `outbox-${Date.parse(at).toString(36)}-${this.count}`;
    const file = join(
      this.dir,
      `${at.replace(/[:.]/g, '-')}-${String(this.count).padStart(3, '0')}-${safe(email.to.join(','))}.txt`,
    );
    const links = [...new Set((email.text ?? email.html ?? '').match(/https?:\/\/[^\s"'<>]+/g) ?? [])];
    const content = [
      `From: ${email.from}`,
      `To: ${email.to.join(', ')}`,
      `Subject: ${email.subject}`,
      `Date: ${at}`,
      `Message-Id: ${messageId}`,
      '',
      email.text ?? '',
      ...(email.html ? ['', '--- HTML ---', email.html] : []),
    ].join('\n');
    writeFileSync(file, content, { mode: 0o600 });
    const delivered: DeliveredEmail = { ...email, messageId, file, links, at };
    this.sent.push(delivered);
    this.print(
      [
        `--- email to ${email.to.join(', ')}: ${email.subject}`,
        `    saved as ${file}`,
        ...links.map((link) => `    link: ${link}`),
      ].join('\n'),
    );
    return delivered;
  }

  /** Every email delivered through this outbox, in order. */
  get emails(): readonly DeliveredEmail[] {
    return this.sent;
  }
}

/**
 * A client plugin that answers SES v2 `SendEmail` from the outbox (and passes every other command on),
 * for `registerClientPlugin` or `client.middlewareStack.use`.
 */
export function outboxPlugin(outbox: Outbox): Pluggable<object, object> {
  const middleware =
    (next: InitializeHandler<object, object>, context: HandlerExecutionContext) =>
    async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
      if (context.clientName !== 'SESv2Client' || context.commandName !== 'SendEmailCommand')
        return next(args);
      const delivered = outbox.deliver(emailFromSendEmail(args.input as SendEmailCommandInput));
      return {
        output: { MessageId: delivered.messageId, $metadata: { httpStatusCode: 200 } },
        response: {},
      };
    };
  return {
    applyToStack: (stack) => {
      stack.add(middleware, { step: 'initialize', priority: 'high', name: 'cordonOutbox', override: true });
    },
  };
}
