import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetters } from '../ports/dead-letters';

/** SQS's message size limit is 256 KiB; a larger payload is cut, keeping the reason. */
const MAX_BODY = 250_000;

/** DeadLetters on an SQS queue (the same queue Lambda's on-failure destination uses). */
export function makeSqsDeadLetters(options: { client: SQSClient; queueUrl: string }): DeadLetters {
  return {
    async send({ source, reason, payload }) {
      let body = JSON.stringify({ source, reason, payload });
      if (body.length > MAX_BODY)
        body = JSON.stringify({ source, reason, truncated: body.slice(0, MAX_BODY) });
      await options.client.send(
        new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: body }),
      );
    },
  };
}
