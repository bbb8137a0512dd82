/**
 * The app's SQS queue(s) that SP-API notifications arrive in, read with the real
 * `@aws-sdk/client-sqs`: a short long poll of the main queue (`AMAZON_SQS_WAIT_SECONDS`, default
 * 1 s; a second queue is read without waiting) so a notification is picked up within about a
 * second, messages turned into pulled deliveries
 * (ORDER_CHANGE directly, LISTINGS_ITEM_MFN_QUANTITY_CHANGE out of its EventBridge envelope),
 * validated, and deleted only once the caller stored them (`acknowledge`). A message that is not
 * an SP-API notification for this application (unparseable, another sender, another application,
 * an unknown type, an invalid payload) is never stored: it is logged and deleted at once so it
 * cannot come back forever.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { onShutdown } from "../../lib/lifecycle.server";
import { log } from "../../logger.server";
import type { PulledDelivery, QueueBatch } from "../channel-adapter";
import { ChannelPermanentError, ChannelRetryableError } from "../errors";
import type { AmazonConfig } from "./config.server";
import { amazonInbound } from "./inbound";
import { isAmazonTopic, TOPICS, ZEventBridgeEnvelope, type AmazonTopic } from "./payloads";

/** Where the queue is and how to reach it: app configuration, or connection settings. */
export type QueueAccess = {
  queueUrls: string[];
  region: string;
  endpoint: string | undefined;
  waitSeconds: number;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  allowedSenders: string[] | null;
  applicationId: string;
};

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() ? value.trim() : undefined;

/**
 * The queue access of the app: `AMAZON_SQS_*` variables, overridden by connection settings
 * (`sqsQueueUrl`, `sqsEventBridgeQueueUrl`, `sqsRegion`, `sqsEndpoint`); AWS credentials only
 * ever come from the configuration (or the SDK's default chain).
 */
export function queueAccess(config: AmazonConfig, settings: Record<string, unknown>): QueueAccess {
  const main = str(settings.sqsQueueUrl) ?? config.AMAZON_SQS_QUEUE_URL;
  if (!main)
    throw new ChannelPermanentError(
      "the Amazon channel is not configured: AMAZON_SQS_QUEUE_URL is required (the SQS queue SP-API notifications are sent to)",
    );
  const eventBridge =
    str(settings.sqsEventBridgeQueueUrl) ?? config.AMAZON_SQS_EVENTBRIDGE_QUEUE_URL;
  const keyId = config.AMAZON_AWS_ACCESS_KEY_ID;
  const secret = config.AMAZON_AWS_SECRET_ACCESS_KEY;
  if ((keyId && !secret) || (!keyId && secret))
    throw new ChannelPermanentError(
      "the Amazon channel is not configured: AMAZON_AWS_ACCESS_KEY_ID and AMAZON_AWS_SECRET_ACCESS_KEY go together",
    );
  return {
    queueUrls: [...new Set([main, ...(eventBridge ? [eventBridge] : [])])],
    region: str(settings.sqsRegion) ?? config.AMAZON_SQS_REGION,
    endpoint: str(settings.sqsEndpoint) ?? config.AMAZON_SQS_ENDPOINT,
    waitSeconds: config.AMAZON_SQS_WAIT_SECONDS,
    credentials:
      keyId && secret
        ? {
            accessKeyId: keyId,
            secretAccessKey: secret,
            ...(config.AMAZON_AWS_SESSION_TOKEN
              ? { sessionToken: config.AMAZON_AWS_SESSION_TOKEN }
              : {}),
          }
        : undefined,
    allowedSenders: config.AMAZON_SQS_ALLOWED_SENDER_IDS,
    applicationId: config.AMAZON_APPLICATION_ID,
  };
}

export type QueueMessage = PulledDelivery & { accountRef: string; ackToken: string };

/** Why a message is not a notification to store, or the delivery it is. */
export function readMessage(
  access: Pick<QueueAccess, "allowedSenders" | "applicationId">,
  message: Message,
  ackToken: string,
): QueueMessage | string {
  const sender = message.Attributes?.SenderId;
  if (access.allowedSenders && (!sender || !access.allowedSenders.includes(sender)))
    return `sent by ${sender ?? "an unknown sender"}, not by Amazon's notification service`;
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? "");
  } catch {
    return "the body is not JSON";
  }
  if (typeof body !== "object" || body === null) return "the body is not a JSON object";
  let notification = body as Record<string, unknown>;
  if ("detail-type" in notification) {
    // EventBridge → SQS: the SP-API notification is the envelope's `detail`.
    const envelope = ZEventBridgeEnvelope.safeParse(notification);
    if (!envelope.success) return "malformed EventBridge envelope";
    if (!envelope.data.source.startsWith("aws.partner/sellingpartnerapi.amazon.com/"))
      return `EventBridge event from ${envelope.data.source.slice(0, 100)}, not SP-API`;
    if (!envelope.data.source.endsWith(`/${access.applicationId}`))
      return "EventBridge event of another SP-API application";
    notification = envelope.data.detail;
  }
  const type = notification.NotificationType;
  if (typeof type !== "string" || !isAmazonTopic(type) || type === TOPICS.orderPolled)
    return `notification type ${String(type).slice(0, 60)} is not handled`;
  const metadata = notification.NotificationMetadata as { ApplicationId?: unknown } | undefined;
  if (metadata?.ApplicationId !== undefined && metadata.ApplicationId !== access.applicationId)
    return "a notification for another SP-API application";
  const checked = amazonInbound.check(type, notification);
  if (!checked.ok) return `invalid ${type}: ${checked.reason}`;
  const payload = checked.payload as {
    EventTime: string;
    NotificationMetadata: { NotificationId: string };
    Payload: { SellerId?: string; OrderChangeNotification?: { SellerId: string } };
  };
  const sellerId = payload.Payload.OrderChangeNotification?.SellerId ?? payload.Payload.SellerId;
  if (!sellerId) return "no SellerId";
  return {
    topic: type as AmazonTopic,
    eventId: payload.NotificationMetadata.NotificationId,
    occurredAt: new Date(payload.EventTime),
    payload,
    resourceId: checked.resourceId,
    accountRef: sellerId,
    ackToken,
  };
}

/** SQS clients per (region, endpoint, key), kept for the life of the process. */
export class AmazonQueues {
  private readonly clients = new Map<string, SQSClient>();
  /** Messages refused unstored (figures for tests). */
  refused = 0;

  client(access: QueueAccess): SQSClient {
    const key = `${access.region}|${access.endpoint ?? ""}|${access.credentials?.accessKeyId ?? ""}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new SQSClient({
        region: access.region,
        ...(access.endpoint ? { endpoint: access.endpoint } : {}),
        ...(access.credentials ? { credentials: access.credentials } : {}),
        maxAttempts: 2,
      });
      if (this.clients.size === 0) onShutdown("amazon-sqs", () => this.close());
      this.clients.set(key, client);
    }
    return client;
  }

  /** One receive from every queue (in parallel), as a batch acknowledged after storing. */
  async receive(access: QueueAccess): Promise<QueueBatch> {
    const client = this.client(access);
    const logger = log({ channel: "amazon" });
    // Only the first queue (ORDER_CHANGE) is long-polled; a second one (the EventBridge target of
    // MFN quantity changes) is read without waiting, so a message on one queue is never held
    // back by the other's long poll. (An EventBridge rule may as well target the first queue.)
    const received = await Promise.all(
      access.queueUrls.map(async (url, index) => {
        try {
          const answer = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: index === 0 ? access.waitSeconds : 0,
              VisibilityTimeout: 30,
              MessageSystemAttributeNames: ["SenderId", "SentTimestamp", "ApproximateReceiveCount"],
            }),
          );
          return (answer.Messages ?? []).map((m) => ({ index, message: m }));
        } catch (error) {
          throw new ChannelRetryableError(
            `SQS ReceiveMessage failed: ${(error as Error).name}: ${(error as Error).message}`,
          );
        }
      }),
    );
    const messages: QueueMessage[] = [];
    const junk: string[] = [];
    for (const { index, message } of received.flat()) {
      if (!message.ReceiptHandle) continue;
      const token = `${index}|${message.ReceiptHandle}`;
      const read = readMessage(access, message, token);
      if (typeof read === "string") {
        this.refused++;
        logger.warn(
          { messageId: message.MessageId, queue: access.queueUrls[index], reason: read },
          "SQS message refused (not stored)",
        );
        junk.push(token);
      } else messages.push(read);
    }
    // Refused messages are never stored: delete them now so they do not come back.
    if (junk.length > 0) await this.delete(access, junk);
    return { messages, acknowledge: (tokens) => this.delete(access, tokens) };
  }

  /** DeleteMessageBatch, ten handles at a time, per queue. */
  async delete(access: QueueAccess, tokens: string[]): Promise<void> {
    const client = this.client(access);
    const byQueue = new Map<number, string[]>();
    for (const token of tokens) {
      const bar = token.indexOf("|");
      const index = Number(token.slice(0, bar));
      byQueue.set(index, [...(byQueue.get(index) ?? []), token.slice(bar + 1)]);
    }
    for (const [index, handles] of byQueue) {
      const url = access.queueUrls[index];
      if (!url) continue;
      for (let i = 0; i < handles.length; i += 10) {
        const chunk = handles.slice(i, i + 10);
        try {
          const answer = await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: chunk.map((handle, n) => ({ Id: `m${n}`, ReceiptHandle: handle })),
            }),
          );
          if (answer.Failed && answer.Failed.length > 0)
            log({ channel: "amazon" }).warn(
              { failed: answer.Failed.map((f) => `${f.Code}: ${f.Message}`) },
              "SQS could not delete some messages (they come back and are deduplicated)",
            );
        } catch (error) {
          throw new ChannelRetryableError(
            `SQS DeleteMessageBatch failed: ${(error as Error).message}`,
          );
        }
      }
    }
  }

  /** The queue's ARN (what an SQS destination names). */
  async queueArn(access: QueueAccess, url: string): Promise<string> {
    try {
      const answer = await this.client(access).send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
      );
      const arn = answer.Attributes?.QueueArn;
      if (!arn) throw new Error("no QueueArn");
      return arn;
    } catch (error) {
      throw new ChannelRetryableError(
        `SQS GetQueueAttributes failed: ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
