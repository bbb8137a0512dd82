/**
 * The SQS endpoint in the AWS JSON 1.0 protocol that `@aws-sdk/client-sqs` v3 speaks:
 * `POST /` with `X-Amz-Target: AmazonSQS.<Action>` and `Content-Type: application/x-amz-json-1.0`,
 * SigV4-verified against the seeded AWS credentials. Errors carry the JSON `__type` and the
 * `x-amzn-query-error: <Code>;Sender` header of query-compatible services.
 */
import type { IncomingMessage } from "node:http";
import { parseJson } from "../shopify/http-util";
import type { Reply } from "./http";
import type { AmazonSandbox } from "./sandbox";
import { verifySigV4 } from "./sigv4";
import {
  SqsError,
  invalidParameter,
  queueDoesNotExist,
  type MessageAttributeValue,
  type SqsQueueRec,
} from "./sqs";

const CONTENT_TYPE = "application/x-amz-json-1.0";

function ok(body: unknown, requestId: string): Reply {
  return {
    status: 200,
    contentType: CONTENT_TYPE,
    raw: JSON.stringify(body),
    headers: { "x-amzn-RequestId": requestId },
  };
}

function errorReply(error: SqsError, requestId: string): Reply {
  return {
    status: error.status,
    contentType: CONTENT_TYPE,
    raw: JSON.stringify({ __type: error.type, message: error.message }),
    headers: {
      "x-amzn-RequestId": requestId,
      "x-amzn-query-error": `${error.queryCode};${error.status >= 500 ? "Receiver" : "Sender"}`,
    },
  };
}

function str(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new SqsError(
      400,
      "MissingParameter",
      "com.amazonaws.sqs#MissingParameter",
      `The request must contain the parameter ${name}.`,
    );
  }
  return value;
}

function optInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidParameter(`Value ${String(value)} for parameter ${name} is invalid.`);
  }
  return value;
}

function stringMap(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw invalidParameter("Invalid Attributes.");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = String(v);
  return out;
}

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function messageAttributes(value: unknown): Record<string, MessageAttributeValue> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalidParameter("Invalid MessageAttributes.");
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    if (typeof raw?.DataType !== "string") {
      throw invalidParameter(
        `The message attribute '${name}' must contain a non-empty attribute type.`,
      );
    }
    out[name] = {
      DataType: raw.DataType,
      ...(typeof raw.StringValue === "string" ? { StringValue: raw.StringValue } : {}),
      ...(typeof raw.BinaryValue === "string" ? { BinaryValue: raw.BinaryValue } : {}),
    };
  }
  return out;
}

type Input = Record<string, unknown>;

/** Every AmazonSQS action this endpoint serves. */
export const SQS_ACTIONS = [
  "CreateQueue",
  "GetQueueUrl",
  "ListQueues",
  "DeleteQueue",
  "GetQueueAttributes",
  "SetQueueAttributes",
  "SendMessage",
  "SendMessageBatch",
  "ReceiveMessage",
  "DeleteMessage",
  "DeleteMessageBatch",
  "ChangeMessageVisibility",
  "ChangeMessageVisibilityBatch",
  "PurgeQueue",
];

export async function handleSqs(
  sb: AmazonSandbox,
  req: IncomingMessage,
  body: Buffer,
): Promise<Reply> {
  const requestId = sb.random.uuid();
  const target = String(req.headers["x-amz-target"] ?? "");
  const action = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : "";
  const finish = (reply: Reply, credentialsOk: boolean): Reply => {
    sb.logRequest({
      api: "sqs",
      operation: action || "unknown",
      method: req.method ?? "POST",
      path: req.url ?? "/",
      status: reply.status,
      sellerId: null,
      requestId,
      outcome: reply.status < 400 ? "ok" : credentialsOk ? "error" : "denied",
      rateLimit: null,
    });
    return reply;
  };
  const auth = verifySigV4(req, body, (accessKeyId) =>
    sb.aws.credentials.find((c) => c.accessKeyId === accessKeyId),
  );
  if (!auth.ok) {
    return finish(
      errorReply(new SqsError(403, auth.queryCode, auth.type, auth.message), requestId),
      false,
    );
  }
  if (!SQS_ACTIONS.includes(action)) {
    return finish(
      errorReply(
        new SqsError(
          400,
          "InvalidAction",
          "com.amazonaws.sqs#InvalidAction",
          `The action ${action || target} is not valid for this endpoint.`,
        ),
        requestId,
      ),
      true,
    );
  }
  const parsed = parseJson(body.toString("utf8"));
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) {
    return finish(
      errorReply(
        new SqsError(
          400,
          "SerializationException",
          "com.amazon.coral.service#SerializationException",
          "Start of structure or map found where not expected.",
        ),
        requestId,
      ),
      true,
    );
  }
  try {
    const result = await run(sb, action, parsed.value as Input);
    return finish(ok(result, requestId), true);
  } catch (error) {
    if (error instanceof SqsError) return finish(errorReply(error, requestId), true);
    throw error;
  }
}

function queueOf(sb: AmazonSandbox, input: Input): SqsQueueRec {
  return sb.sqs.queueByUrl(input.QueueUrl);
}

async function run(sb: AmazonSandbox, action: string, input: Input): Promise<unknown> {
  const account = sb.aws.accountId;
  switch (action) {
    case "CreateQueue": {
      const queue = sb.sqs.createQueue(
        account,
        sb.aws.region,
        str(input.QueueName, "QueueName"),
        stringMap(input.Attributes),
      );
      return { QueueUrl: sb.queueUrl(queue.accountId, queue.name) };
    }
    case "GetQueueUrl": {
      const owner =
        typeof input.QueueOwnerAWSAccountId === "string" ? input.QueueOwnerAWSAccountId : account;
      const queue = sb.sqs.queue(owner, str(input.QueueName, "QueueName"));
      if (!queue) throw queueDoesNotExist();
      return { QueueUrl: sb.queueUrl(queue.accountId, queue.name) };
    }
    case "ListQueues": {
      const prefix = typeof input.QueueNamePrefix === "string" ? input.QueueNamePrefix : "";
      const urls = [...sb.sqs.queues.values()]
        .filter((q) => q.accountId === account && q.name.startsWith(prefix))
        .map((q) => sb.queueUrl(q.accountId, q.name));
      return urls.length > 0 ? { QueueUrls: urls } : {};
    }
    case "DeleteQueue":
      sb.sqs.deleteQueue(queueOf(sb, input));
      return {};
    case "GetQueueAttributes": {
      const requested = names(input.AttributeNames);
      const attributes = sb.sqs.attributes(
        queueOf(sb, input),
        requested.length > 0 ? requested : [],
      );
      return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
    }
    case "SetQueueAttributes":
      sb.sqs.setAttributes(queueOf(sb, input), stringMap(input.Attributes));
      return {};
    case "SendMessage": {
      const queue = queueOf(sb, input);
      const delaySeconds = optInt(input.DelaySeconds, "DelaySeconds");
      const attributes = messageAttributes(input.MessageAttributes);
      const message = sb.sqs.send(queue, str(input.MessageBody, "MessageBody"), {
        senderId: sb.aws.credentials[0]?.accessKeyId ?? account,
        ...(delaySeconds === undefined ? {} : { delaySeconds }),
        ...(attributes ? { messageAttributes: attributes } : {}),
      });
      return {
        MessageId: message.messageId,
        MD5OfMessageBody: message.md5OfBody,
        ...(message.md5OfMessageAttributes
          ? { MD5OfMessageAttributes: message.md5OfMessageAttributes }
          : {}),
      };
    }
    case "SendMessageBatch": {
      const queue = queueOf(sb, input);
      const entries = batchEntries(input.Entries);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          const delaySeconds = optInt(entry.DelaySeconds, "DelaySeconds");
          const attributes = messageAttributes(entry.MessageAttributes);
          const message = sb.sqs.send(queue, str(entry.MessageBody, "MessageBody"), {
            senderId: sb.aws.credentials[0]?.accessKeyId ?? account,
            ...(delaySeconds === undefined ? {} : { delaySeconds }),
            ...(attributes ? { messageAttributes: attributes } : {}),
          });
          Successful.push({
            Id: entry.Id,
            MessageId: message.messageId,
            MD5OfMessageBody: message.md5OfBody,
            ...(message.md5OfMessageAttributes
              ? { MD5OfMessageAttributes: message.md5OfMessageAttributes }
              : {}),
          });
        } catch (error) {
          if (!(error instanceof SqsError)) throw error;
          Failed.push({
            Id: entry.Id,
            SenderFault: true,
            Code: error.queryCode,
            Message: error.message,
          });
        }
      }
      return { Successful, Failed };
    }
    case "ReceiveMessage": {
      const queue = queueOf(sb, input);
      const attributeNames = [
        ...names(input.AttributeNames),
        ...names(input.MessageSystemAttributeNames),
      ];
      const maxNumberOfMessages = optInt(input.MaxNumberOfMessages, "MaxNumberOfMessages");
      const visibilityTimeout = optInt(input.VisibilityTimeout, "VisibilityTimeout");
      const waitTimeSeconds = optInt(input.WaitTimeSeconds, "WaitTimeSeconds");
      const messages = await sb.sqs.receive(queue, {
        attributeNames,
        messageAttributeNames: names(input.MessageAttributeNames),
        ...(maxNumberOfMessages === undefined ? {} : { maxNumberOfMessages }),
        ...(visibilityTimeout === undefined ? {} : { visibilityTimeout }),
        ...(waitTimeSeconds === undefined ? {} : { waitTimeSeconds }),
      });
      return messages.length > 0 ? { Messages: messages } : {};
    }
    case "DeleteMessage":
      sb.sqs.deleteMessage(queueOf(sb, input), input.ReceiptHandle);
      return {};
    case "DeleteMessageBatch": {
      const queue = queueOf(sb, input);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of batchEntries(input.Entries)) {
        try {
          sb.sqs.deleteMessage(queue, entry.ReceiptHandle);
          Successful.push({ Id: entry.Id });
        } catch (error) {
          if (!(error instanceof SqsError)) throw error;
          Failed.push({
            Id: entry.Id,
            SenderFault: true,
            Code: error.queryCode,
            Message: error.message,
          });
        }
      }
      return { Successful, Failed };
    }
    case "ChangeMessageVisibility":
      sb.sqs.changeVisibility(queueOf(sb, input), input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    case "ChangeMessageVisibilityBatch": {
      const queue = queueOf(sb, input);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of batchEntries(input.Entries)) {
        try {
          sb.sqs.changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout);
          Successful.push({ Id: entry.Id });
        } catch (error) {
          if (!(error instanceof SqsError)) throw error;
          Failed.push({
            Id: entry.Id,
            SenderFault: true,
            Code: error.queryCode,
            Message: error.message,
          });
        }
      }
      return { Successful, Failed };
    }
    case "PurgeQueue":
      sb.sqs.purge(queueOf(sb, input));
      return {};
    default:
      throw new SqsError(
        400,
        "InvalidAction",
        "com.amazonaws.sqs#InvalidAction",
        `Unknown action ${action}.`,
      );
  }
}

function batchEntries(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new SqsError(
      400,
      "AWS.SimpleQueueService.EmptyBatchRequest",
      "com.amazonaws.sqs#EmptyBatchRequest",
      "There should be at least one SendMessageBatchRequestEntry in the request.",
    );
  }
  if (value.length > 10) {
    throw new SqsError(
      400,
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are 10. You have sent ${value.length}.`,
    );
  }
  const entries = value as Record<string, unknown>[];
  const idsSeen = new Set<unknown>();
  for (const entry of entries) {
    if (typeof entry?.Id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(entry.Id)) {
      throw new SqsError(
        400,
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "com.amazonaws.sqs#InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
      );
    }
    if (idsSeen.has(entry.Id)) {
      throw new SqsError(
        400,
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
        `Id ${entry.Id} repeated.`,
      );
    }
    idsSeen.add(entry.Id);
  }
  return entries;
}
