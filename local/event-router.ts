/**
 * Local EventBridge (default bus): PutEvents entries and emulator events are matched against the
 * `eventBridge` patterns declared in serverless.yml and delivered to those functions asynchronously.
 * Unlike AWS, sources starting with `aws.` are accepted, so recorded ECS events can be replayed.
 */
import { randomUUID } from 'node:crypto';
import { type CompiledEventPattern, compileEventPattern } from './event-pattern';
import type { EventBridgeEvent } from './eventbridge-event';
import type { LocalFunction } from './lambda-runtime';

/** What local EventBridge delivers: the same envelope ECS emits. */
export type RoutedEvent = EventBridgeEvent;

type PutEventsEntry = {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
  EventBusName?: unknown;
};

export type PutEventsResult = {
  Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
  FailedEntryCount: number;
};

/** EventBridge's limit on one entry (and on a whole PutEvents request). */
const MAX_ENTRY_BYTES = 256 * 1024;

export type EventRouter = {
  /** Delivers an already-formed event (from the ECS emulator) to every matching function. */
  deliver(event: RoutedEvent): number;
  /** PutEvents with EventBridge's per-entry validation and answer shape. */
  putEvents(entries: unknown): PutEventsResult;
  /** Events delivered so far, for tests and the banner. */
  readonly delivered: number;
};

/** Builds the router from the loaded functions; invalid patterns fail here, at start. */
export function makeEventRouter(options: {
  functions: Iterable<LocalFunction>;
  region: string;
  accountId: string;
  /** Called for each delivered event, e.g. to inject delivery faults; default delivers at once. */
  transport?: (deliver: () => void, event: RoutedEvent) => void;
}): EventRouter {
  const rules: { fn: LocalFunction; pattern: CompiledEventPattern }[] = [];
  for (const fn of options.functions) {
    for (const pattern of fn.config.eventPatterns)
      rules.push({ fn, pattern: compileEventPattern(pattern) });
  }
  const transport = options.transport ?? ((deliver) => deliver());
  let delivered = 0;

  const deliver = (event: RoutedEvent): number => {
    const targets = rules.filter((r) => r.pattern.matches(event));
    for (const { fn } of targets) {
      delivered += 1;
      transport(() => fn.invokeAsync(event), event);
    }
    return targets.length;
  };

  return {
    deliver,
    get delivered() {
      return delivered;
    },
    putEvents(entries) {
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
        throw new Error('Entries must be a list of 1 to 10 entries');
      }
      const out: PutEventsResult = { Entries: [], FailedEntryCount: 0 };
      for (const entry of entries as PutEventsEntry[]) {
        const problem = validateEntry(entry);
        if (problem) {
          out.Entries.push({ ErrorCode: problem.code, ErrorMessage: problem.message });
          out.FailedEntryCount += 1;
          continue;
        }
        const event: RoutedEvent = {
          version: '0',
          id: randomUUID(),
          'detail-type': entry.DetailType as string,
          source: entry.Source as string,
          account: options.accountId,
          time: toIso(entry.Time),
          region: options.region,
          resources: (entry.Resources as string[] | undefined) ?? [],
          detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
        };
        deliver(event);
        out.Entries.push({ EventId: event.id });
      }
      return out;
    },
  };
}

function validateEntry(entry: PutEventsEntry): { code: string; message: string } | undefined {
  if (typeof entry.Source !== 'string' || entry.Source === '')
    return {
      code: 'InvalidArgument',
      message: 'Parameter Source is not valid. Reason: Source is a required argument.',
    };
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '')
    return {
      code: 'InvalidArgument',
      message: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    };
  if (typeof entry.Detail !== 'string')
    return {
      code: 'InvalidArgument',
      message: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
    };
  if (
    entry.EventBusName !== undefined &&
    entry.EventBusName !== 'default' &&
    !String(entry.EventBusName).endsWith(':event-bus/default')
  ) {
    return {
      code: 'InvalidArgument',
      message: `Event bus ${String(entry.EventBusName)} does not exist locally; only the default bus does.`,
    };
  }
  if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES)
    return { code: 'InvalidArgument', message: 'Entry is larger than 256 KB.' };
  try {
    const detail: unknown = JSON.parse(entry.Detail);
    if (!detail || typeof detail !== 'object' || Array.isArray(detail))
      throw new Error('not an object');
  } catch {
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  }
  return undefined;
}

function toIso(time: unknown): string {
  if (typeof time === 'number') return new Date(time * 1000).toISOString();
  if (typeof time === 'string' && !Number.isNaN(Date.parse(time)))
    return new Date(time).toISOString();
  return new Date().toISOString();
}
