/** Test helper: the real `@aws-sdk/client-sqs` SQSClient pointed at the local Amazon. */
import { SQSClient } from "@aws-sdk/client-sqs";
import { DEFAULT_AWS } from "./sandbox";
import type { LocalAmazon } from "./server";

export function sqsClient(
  local: LocalAmazon,
  credentials = DEFAULT_AWS.credentials[0] ?? { accessKeyId: "", secretAccessKey: "" },
): SQSClient {
  return new SQSClient({ endpoint: local.url, region: "us-east-1", credentials, maxAttempts: 1 });
}
