/** Where events that can never succeed go, with the reason, so nothing is lost and nothing loops. */
export type DeadLetters = {
  send(input: { source: string; reason: string; payload: unknown }): Promise<void>;
};
