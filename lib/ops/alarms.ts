/**
 * The operations side of a deployment as `doctor` reads it: the alarm topic's subscriptions (SNS
 * ListSubscriptionsByTopic) and the alarms that notify it (CloudWatch DescribeAlarms with `ActionPrefix` = the
 * topic's ARN: "only those alarms that use a certain alarm action. For example, you could specify the ARN of an SNS
 * topic to find all alarms that send notifications to that topic"). The topic is the stack's `AlarmTopicArn` output
 * (lib/constructs/operations.ts); every alarm the stack makes sends to it, so this finds exactly the stack's
 * alarms, whatever they are named. Both lists are paged (NextToken) and read to the end. Clients are passed in.
 */
import { paginateDescribeAlarms, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { paginateListSubscriptionsByTopic, type SNSClient } from '@aws-sdk/client-sns';

export interface TopicSubscription {
  protocol: string;
  endpoint: string;
  /**
   * false while the endpoint has not confirmed: SNS lists such a subscription with the SubscriptionArn
   * `PendingConfirmation` (an e-mail subscription waits for the link in AWS's confirmation message)
   */
  confirmed: boolean;
}

/** A subscription is confirmed once it has an ARN; `PendingConfirmation` (and anything else) is not. */
function isConfirmedArn(subscriptionArn: string | undefined): boolean {
  return /^arn:aws[\w-]*:sns:/.test(subscriptionArn ?? '');
}

/**
 * Every subscription of the topic. Throws the SDK's error: `NotFoundException` (HTTP 404, code NotFound) when the
 * topic does not exist, `AuthorizationErrorException` without sns:ListSubscriptionsByTopic.
 */
export async function listTopicSubscriptions(sns: SNSClient, topicArn: string): Promise<TopicSubscription[]> {
  const subscriptions: TopicSubscription[] = [];
  for await (const page of paginateListSubscriptionsByTopic({ client: sns }, { TopicArn: topicArn })) {
    for (const s of page.Subscriptions ?? []) {
      subscriptions.push({ protocol: s.Protocol ?? '', endpoint: s.Endpoint ?? '', confirmed: isConfirmedArn(s.SubscriptionArn) });
    }
  }
  return subscriptions;
}

export interface StackAlarm {
  name: string;
  type: 'MetricAlarm' | 'CompositeAlarm';
  state: string;
  reason: string;
}

/** DescribeAlarms' largest page ("MaxRecords", 1–100). */
const ALARMS_PAGE_SIZE = 100;

/**
 * Every metric and composite alarm whose alarm actions include the topic, in the order CloudWatch lists them.
 * Throws the SDK's error (e.g. AccessDenied without cloudwatch:DescribeAlarms).
 */
export async function listTopicAlarms(cloudwatch: CloudWatchClient, topicArn: string): Promise<StackAlarm[]> {
  const alarms: StackAlarm[] = [];
  const paginator = paginateDescribeAlarms(
    { client: cloudwatch, pageSize: ALARMS_PAGE_SIZE },
    { ActionPrefix: topicArn, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
  );
  for await (const page of paginator) {
    for (const a of page.MetricAlarms ?? []) {
      alarms.push({ name: a.AlarmName ?? '', type: 'MetricAlarm', state: a.StateValue ?? '', reason: a.StateReason ?? '' });
    }
    for (const a of page.CompositeAlarms ?? []) {
      alarms.push({ name: a.AlarmName ?? '', type: 'CompositeAlarm', state: a.StateValue ?? '', reason: a.StateReason ?? '' });
    }
  }
  return alarms;
}
