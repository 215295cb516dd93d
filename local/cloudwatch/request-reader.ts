import { invalidValue, missingParameter } from './errors';

// One reader for both protocols. JSON 1.0 bodies arrive nested and typed (`{"MetricData":[{"Value":1}]}`,
// timestamps in epoch seconds); query-protocol forms arrive flat and as strings
// (`MetricData.member.1.Value=1`, ISO 8601 timestamps) and are nested by `nestQueryParameters` first.
// Errors name parameters the way CloudWatch does, in the query protocol's spelling, whichever
// protocol the request used.

/** Nests query-protocol parameters (`A.member.2.B=x`) into the shape JSON requests have. */
export function nestQueryParameters(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    // `member.N` is the N-th (1-based) element of the list named by the part before it.
    const path: (string | number)[] = [];
    const parts = key.split('.');
    // No member of any served operation is named so; as keys they would reach Object.prototype.
    if (parts.some((p) => FORBIDDEN_PARTS.has(p))) continue;
    for (let i = 0; i < parts.length; i++) {
      const index = parts[i] === 'member' ? Number(parts[i + 1]) : Number.NaN;
      // Beyond MAX_MEMBER_INDEX `member.N` stays a name (the reader refuses it as no list): a
      // huge N would otherwise make a sparse array that costs its length to walk.
      if (Number.isSafeInteger(index) && index >= 1 && index <= MAX_MEMBER_INDEX) {
        path.push(index - 1);
        i++;
      } else {
        path.push(parts[i] as string);
      }
    }
    let node: Record<string | number, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const part = path[i] as string | number;
      const wantsList = typeof path[i + 1] === 'number';
      const child = node[part];
      const fits = wantsList ? Array.isArray(child) : isPlainObject(child);
      if (!fits) node[part] = wantsList ? [] : {};
      node = node[part] as Record<string | number, unknown>;
    }
    node[path[path.length - 1] as string | number] = value;
  }
  return root;
}

/** The largest list index a request may use: every served list holds at most 1,000 members. */
export const MAX_MEMBER_INDEX = 1000;
const FORBIDDEN_PARTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads members of one structure; `path` is its name in error messages (`MetricData.member.2`). */
export class RequestReader {
  private readonly body: Record<string, unknown>;
  private readonly path: string;

  constructor(o: { body: Record<string, unknown>; path?: string }) {
    this.body = o.body;
    this.path = o.path ?? '';
  }

  private name(member: string): string {
    return this.path === '' ? member : `${this.path}.${member}`;
  }

  has(member: string): boolean {
    const v = this.body[member];
    return v !== undefined && v !== null;
  }

  optionalString(member: string, o: { min?: number; max?: number } = {}): string | undefined {
    const v = this.body[member];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalidValue({ parameter: this.name(member), value: v });
    if (v.length < (o.min ?? 1) || (o.max !== undefined && v.length > o.max)) {
      throw invalidValue({
        parameter: this.name(member),
        value: v,
        why: `Its length must be from ${o.min ?? 1} to ${o.max ?? 'any'} characters.`,
      });
    }
    return v;
  }

  string(member: string, o: { min?: number; max?: number } = {}): string {
    const v = this.optionalString(member, o);
    if (v === undefined) throw missingParameter(this.name(member));
    return v;
  }

  optionalNumber(member: string): number | undefined {
    const v = this.body[member];
    if (v === undefined || v === null) return undefined;
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw invalidValue({ parameter: this.name(member), value: v });
    return n;
  }

  number(member: string): number {
    const v = this.optionalNumber(member);
    if (v === undefined) throw missingParameter(this.name(member));
    return v;
  }

  optionalInteger(member: string): number | undefined {
    const v = this.optionalNumber(member);
    if (v !== undefined && !Number.isSafeInteger(v)) {
      throw invalidValue({ parameter: this.name(member), value: v, why: 'It must be an integer.' });
    }
    return v;
  }

  optionalBoolean(member: string): boolean | undefined {
    const v = this.body[member];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw invalidValue({ parameter: this.name(member), value: v });
  }

  /** Epoch milliseconds from epoch seconds (JSON), an ISO 8601 string (query), or digits. */
  optionalTimestamp(member: string): number | undefined {
    const v = this.body[member];
    if (v === undefined || v === null) return undefined;
    let ms = NaN;
    if (typeof v === 'number') ms = v * 1000;
    else if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) ms = Number(v) * 1000;
    else if (typeof v === 'string') ms = Date.parse(v);
    if (!Number.isFinite(ms)) throw invalidValue({ parameter: this.name(member), value: v });
    return ms;
  }

  timestamp(member: string): number {
    const v = this.optionalTimestamp(member);
    if (v === undefined) throw missingParameter(this.name(member));
    return v;
  }

  optionalStruct(member: string): RequestReader | undefined {
    const v = this.body[member];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      throw invalidValue({ parameter: this.name(member), value: JSON.stringify(v) });
    }
    return new RequestReader({ body: v as Record<string, unknown>, path: this.name(member) });
  }

  struct(member: string): RequestReader {
    const v = this.optionalStruct(member);
    if (v === undefined) throw missingParameter(this.name(member));
    return v;
  }

  /** Raw elements of a list member (empty when absent), each with its name for messages. */
  private elements(member: string, max?: number): { value: unknown; name: string }[] {
    const v = this.body[member];
    if (v === undefined || v === null || v === '') return [];
    if (!Array.isArray(v)) throw invalidValue({ parameter: this.name(member), value: String(v) });
    if (max !== undefined && v.length > max) {
      throw invalidValue({
        parameter: this.name(member),
        why: `The collection ${this.name(member)} must not have a size greater than ${max}.`,
      });
    }
    return Array.from(v, (value, i) => ({ value, name: `${this.name(member)}.member.${i + 1}` }));
  }

  structs(member: string, o: { max?: number } = {}): RequestReader[] {
    return this.elements(member, o.max).map(({ value, name }) => {
      if (
        value === undefined ||
        value === null ||
        typeof value !== 'object' ||
        Array.isArray(value)
      )
        throw missingParameter(name);
      return new RequestReader({ body: value as Record<string, unknown>, path: name });
    });
  }

  numbers(member: string, o: { max?: number } = {}): number[] {
    return this.elements(member, o.max).map(({ value, name }) => {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(n)) throw invalidValue({ parameter: name, value });
      return n;
    });
  }

  /** The reader's own name in messages. */
  get where(): string {
    return this.path;
  }

  /** The name of one of its members in messages. */
  nameOf(member: string): string {
    return this.name(member);
  }
}
