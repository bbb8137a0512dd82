/**
 * The SQS endpoint driven by the real `@aws-sdk/client-sqs` SQSClient: queues, MD5-checked
 * send/receive, long polling, visibility timeouts and redelivery, receipt handles, batches,
 * purge, attributes, standard-queue duplicates, SigV4 and SQS's error shapes.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { seed } from "./fixtures";
import { sqsClient } from "./sqs-client";
import { DEFAULT_AWS } from "./sandbox";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({
  seed: seed({ sellers: [] }),
  timeScale: 0.001,
  rngSeed: 17,
});
const client: SQSClient = sqsClient(local);
afterAll(async () => {
  client.destroy();
  await local.close();
});
const sb = local.sandbox;

let queueUrl: string;
beforeEach(async () => {
  sb.reset();
  const created = await client.send(
    new CreateQueueCommand({ QueueName: "work", Attributes: { VisibilityTimeout: "1" } }),
  );
  queueUrl = created.QueueUrl ?? "";
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return {
      name: e.name,
      message: e.message,
      ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}),
    };
  }
  throw new Error("expected an error");
}

describe("queues", () => {
  it("creates, finds and lists queues; unknown queues are QueueDoesNotExist", async () => {
    expect(queueUrl).toBe(`${local.url}/${DEFAULT_AWS.accountId}/work`);
    const url = await client.send(new GetQueueUrlCommand({ QueueName: "work" }));
    expect(url.QueueUrl).toBe(queueUrl);
    const list = await client.send(new ListQueuesCommand({ QueueNamePrefix: "w" }));
    expect(list.QueueUrls).toEqual([queueUrl]);
    const missing = await errorOf(client.send(new GetQueueUrlCommand({ QueueName: "nope" })));
    expect(missing).toEqual({
      name: "QueueDoesNotExist",
      message: "The specified queue does not exist.",
      status: 400,
    });
    const attrs = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["QueueArn", "VisibilityTimeout"],
      }),
    );
    expect(attrs.Attributes).toEqual({
      QueueArn: `arn:aws:sqs:us-east-1:${DEFAULT_AWS.accountId}:work`,
      VisibilityTimeout: "1",
    });
  });

  it("verifies SigV4: an unknown key and a wrong secret are refused", async () => {
    const unknown = sqsClient(local, { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" });
    expect(
      await errorOf(unknown.send(new GetQueueUrlCommand({ QueueName: "work" }))),
    ).toMatchObject({
      name: "InvalidClientTokenId",
      message: "The security token included in the request is invalid.",
      status: 403,
    });
    const wrongSecret = sqsClient(local, {
      accessKeyId: DEFAULT_AWS.credentials[0]?.accessKeyId ?? "",
      secretAccessKey: "wrong",
    });
    expect(
      await errorOf(wrongSecret.send(new GetQueueUrlCommand({ QueueName: "work" }))),
    ).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
    unknown.destroy();
    wrongSecret.destroy();
  });
});

describe("messages", () => {
  it("long-polls until a message arrives (or answers empty after WaitTimeSeconds), hides it for the visibility timeout and redelivers it", async () => {
    // An empty long poll on another queue, in parallel: it answers after WaitTimeSeconds.
    const idleUrl = (await client.send(new CreateQueueCommand({ QueueName: "idle" }))).QueueUrl;
    const idleStarted = Date.now();
    const idlePoll = client.send(
      new ReceiveMessageCommand({ QueueUrl: idleUrl, WaitTimeSeconds: 1 }),
    );
    const started = Date.now();
    const poll = client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
    );
    await sleep(200);
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "hello" }),
    );
    const first = await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(first.Messages).toHaveLength(1);
    const message = first.Messages?.[0];
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: "hello",
      Attributes: { ApproximateReceiveCount: "1" },
    });

    // Invisible while in flight; visible again after VisibilityTimeout (1 s) with a new handle.
    const hidden = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(hidden.Messages).toBeUndefined();
    const again = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 3,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const redelivered = again.Messages?.[0];
    expect(redelivered?.MessageId).toBe(sent.MessageId);
    expect(redelivered?.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(redelivered?.ReceiptHandle).not.toBe(message?.ReceiptHandle);

    // The stale handle succeeds without deleting; the latest handle deletes.
    await client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(sb.queueContents("work").messages).toHaveLength(1);
    await client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: redelivered?.ReceiptHandle }),
    );
    expect(sb.queueContents("work").messages).toHaveLength(0);

    expect(
      await errorOf(
        client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "garbage" })),
      ),
    ).toMatchObject({ name: "ReceiptHandleIsInvalid" });

    expect((await idlePoll).Messages).toBeUndefined();
    expect(Date.now() - idleStarted).toBeGreaterThanOrEqual(950);
  });

  it("receives up to 10 at once, changes visibility, deletes in batches and purges", async () => {
    for (let i = 0; i < 12; i++) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}` }));
    }
    expect(
      await errorOf(
        client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 })),
      ),
    ).toMatchObject({ name: "InvalidParameterValue", status: 400 });
    const batch = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
      }),
    );
    expect(batch.Messages?.map((m) => m.Body)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    const [a, b, ...rest] = batch.Messages ?? [];
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: a?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "b", ReceiptHandle: b?.ReceiptHandle },
          ...rest.map((m, i) => ({ Id: `r${i}`, ReceiptHandle: m.ReceiptHandle })),
          { Id: "bad", ReceiptHandle: "nope" },
        ].slice(0, 10),
      }),
    );
    expect(deleted.Successful).toHaveLength(9);
    expect(deleted.Failed).toMatchObject([
      { Id: "bad", Code: "ReceiptHandleIsInvalid", SenderFault: true },
    ]);
    const attrs = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe("3");
    await client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(sb.queueContents("work").messages).toHaveLength(0);
    expect(await errorOf(client.send(new PurgeQueueCommand({ QueueUrl: queueUrl })))).toMatchObject(
      {
        name: "PurgeQueueInProgress",
      },
    );
  });

  it("delivers a standard-queue duplicate when configured (same MessageId, twice)", async () => {
    sb.configureSqs({ duplicateProbability: 1, duplicateDelayMs: [0, 0] });
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "once" }),
    );
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(received.Messages?.map((m) => m.MessageId)).toEqual([sent.MessageId, sent.MessageId]);
    expect(new Set(received.Messages?.map((m) => m.ReceiptHandle)).size).toBe(2);
  });
});
