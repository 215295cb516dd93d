import { invalidParameter } from './errors';
import type { RequestReader } from './validation';

export type Page<T> = { items: T[]; nextToken?: string };

// Tokens carry the sort key of the last item returned, not an offset, so items added or removed
// between calls do not shift later pages. They are opaque to callers (base64url JSON).
const encodeToken = (lastKey: string): string =>
  Buffer.from(JSON.stringify({ v: 1, after: lastKey }), 'utf8').toString('base64url');

const decodeToken = (token: string): string => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { v?: unknown }).v === 1 &&
      typeof (parsed as { after?: unknown }).after === 'string'
    ) {
      return (parsed as { after: string }).after;
    }
  } catch {
    // fall through: any undecodable token is the caller's mistake
  }
  throw invalidParameter(
    'Invalid nextToken. Use the nextToken value returned by the previous call.',
  );
};

/**
 * One page of `items`, which must already be sorted by `keyOf` in `descending` or ascending order.
 * Reads `maxResults` (1–100, default 100) and `nextToken` from the request.
 */
export const paginate = <T>(o: {
  items: readonly T[];
  keyOf: (item: T) => string;
  request: RequestReader;
  descending?: boolean;
}): Page<T> => {
  const maxResults = o.request.integer('maxResults') ?? 100;
  if (maxResults < 1 || maxResults > 100) {
    throw invalidParameter('maxResults must be between 1 and 100.');
  }
  const token = o.request.string('nextToken');
  let rest = o.items;
  if (token !== undefined && token !== '') {
    const after = decodeToken(token);
    rest = o.items.filter((item) => (o.descending ? o.keyOf(item) < after : o.keyOf(item) > after));
  }
  const items = rest.slice(0, maxResults);
  const last = items[items.length - 1];
  return rest.length > maxResults && last !== undefined
    ? { items, nextToken: encodeToken(o.keyOf(last)) }
    : { items };
};
