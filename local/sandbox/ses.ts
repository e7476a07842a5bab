/** SES v2: SendEmail, kept in the state's outbox. */
import type { SendEmailCommandInput, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { HandlerMap, Out } from './context.ts';
import { fail } from './context.ts';
import type { SentEmail } from './state.ts';
import { newId } from './state.ts';

function header(raw: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(raw);
  return match?.[1]?.trim();
}

const addresses = (value: string | undefined): string[] =>
  value
    ? value
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== '')
    : [];

/** The address in `Name <address>`, lower-cased. */
const bare = (address: string): string => (/<([^>]+)>/.exec(address)?.[1] ?? address).trim().toLowerCase();

/** SES v2 commands the sandbox simulates. */
export const sesHandlers: HandlerMap = {
  SendEmail: (ctx, input: SendEmailCommandInput): Out<SendEmailCommandOutput> => {
    const content = input.Content;
    if (!content || (!content.Simple && !content.Raw && !content.Template)) {
      fail(ctx, 'BadRequestException', 'Content is required');
    }
    let email: Omit<SentEmail, 'messageId' | 'at'>;
    if (content.Raw) {
      const data = content.Raw.Data;
      const raw = typeof data === 'string' ? data : Buffer.from(data ?? new Uint8Array()).toString('utf8');
      const from = input.FromEmailAddress ?? header(raw, 'From') ?? '';
      email = {
        from,
        to: [...(input.Destination?.ToAddresses ?? addresses(header(raw, 'To')))],
        cc: [...(input.Destination?.CcAddresses ?? addresses(header(raw, 'Cc')))],
        bcc: [...(input.Destination?.BccAddresses ?? [])],
        replyTo: [...(input.ReplyToAddresses ?? [])],
        subject: header(raw, 'Subject') ?? '',
        raw,
      };
    } else {
      const simple = content.Simple;
      email = {
        from: input.FromEmailAddress ?? '',
        to: [...(input.Destination?.ToAddresses ?? [])],
        cc: [...(input.Destination?.CcAddresses ?? [])],
        bcc: [...(input.Destination?.BccAddresses ?? [])],
        replyTo: [...(input.ReplyToAddresses ?? [])],
        subject: simple?.Subject?.Data ?? content.Template?.TemplateName ?? '',
        ...(simple?.Body?.Text?.Data !== undefined ? { text: simple.Body.Text.Data } : {}),
        ...(simple?.Body?.Html?.Data !== undefined ? { html: simple.Body.Html.Data } : {}),
        ...(content.Template?.TemplateData !== undefined ? { text: content.Template.TemplateData } : {}),
      };
    }
    if (email.from === '') fail(ctx, 'BadRequestException', 'Missing required field FromEmailAddress');
    if (email.to.length + email.cc.length + email.bcc.length === 0) {
      fail(ctx, 'BadRequestException', 'Missing final destination');
    }
    const verified = ctx.state.verifiedIdentities.map((v) => v.toLowerCase());
    const sender = bare(email.from);
    if (verified.length > 0 && !verified.includes(sender) && !verified.includes(sender.split('@')[1] ?? '')) {
      fail(
        ctx,
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${ctx.state.region.toUpperCase()}: ${email.from}`,
      );
    }
    const messageId = `${newId(ctx.state, 'msg', 16).slice(4)}-sandbox-000000`;
    ctx.state.ses.sent.push({ messageId, ...email, at: ctx.now });
    return { MessageId: messageId };
  },
};
