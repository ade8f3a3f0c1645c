/**
 * New-voicemail notifications on the stack's SNS topic (email subscriptions from the context). The message
 * names the line, the caller, the length and where to listen; never the recording itself.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { describeError } from '../core/errors';
import type { Log, Notifier, Voicemail } from '../ports';
import { awsClientConfig } from './aws-clients';

/** The notification's subject and text (also what the local app logs). */
export function voicemailNotice(v: Voicemail, softphoneUrl?: string): { subject: string; message: string } {
  const from = v.from === '' || v.from === 'anonymous' ? 'a withheld number' : v.from;
  return {
    subject: `New voicemail on ${v.line}`,
    message: [
      `New voicemail on ${v.line} from ${from} (${v.durationSeconds} s), received ${v.receivedAt}.`,
      softphoneUrl ? `Listen in the softphone: ${softphoneUrl}` : 'Listen in the softphone.',
    ].join('\n'),
  };
}

/** The notifications' SNS client, with the handlers' timeouts and bounded retries (aws-clients.ts). */
export function createSnsClient(): SNSClient {
  return new SNSClient(awsClientConfig());
}

export class SnsNotifier implements Notifier {
  private readonly sns: SNSClient;

  constructor(
    private readonly topicArn: string,
    private readonly softphoneUrl?: string,
    client?: SNSClient,
  ) {
    this.sns = client ?? createSnsClient();
  }

  async newVoicemail(v: Voicemail, log: Log): Promise<boolean> {
    const { subject, message } = voicemailNotice(v, this.softphoneUrl);
    try {
      await this.sns.send(new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: message }));
      return true;
    } catch (err) {
      // The voicemail is kept and the page shows it: a lost e-mail is not worth failing the callback.
      log.warn('voicemail notification not sent', { error: describeError(err) });
      return false;
    }
  }
}
