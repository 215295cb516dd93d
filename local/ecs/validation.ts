import {
  clientError,
  type EcsApiError,
  EcsErrorType,
  invalidParameter,
  serializationError,
} from './errors';

type MissingErrorType = typeof EcsErrorType.Client | typeof EcsErrorType.InvalidParameter;

export type RequestReaderOptions = {
  body: unknown;
  /** Prefix for field names in messages, e.g. `containerDefinitions[1]`. */
  path?: string;
  /** Which error a missing required member raises: ECS answers ClientException for definitions. */
  missing?: MissingErrorType;
};

/**
 * Typed access to one JSON object of a request. A member of the wrong JSON type is a
 * SerializationException (what the AWS JSON protocol returns); a missing required member is an
 * InvalidParameterException or ClientException naming the member.
 */
export class RequestReader {
  private readonly body: Record<string, unknown>;
  private readonly path: string;
  private readonly missing: MissingErrorType;

  constructor(options: RequestReaderOptions) {
    this.path = options.path ?? '';
    this.missing = options.missing ?? EcsErrorType.InvalidParameter;
    if (options.body === undefined || options.body === null) {
      this.body = {};
    } else if (typeof options.body === 'object' && !Array.isArray(options.body)) {
      this.body = options.body as Record<string, unknown>;
    } else {
      throw serializationError(`${this.path || 'Request body'} must be a JSON object.`);
    }
  }

  /** The member's name as shown in messages. */
  name(member: string): string {
    return this.path ? `${this.path}.${member}` : member;
  }

  /** The object itself, for echoing it back. */
  snapshot(): Record<string, unknown> {
    return this.body;
  }

  has(member: string): boolean {
    const v = this.body[member];
    return v !== undefined && v !== null;
  }

  raw(member: string): unknown {
    const v = this.body[member];
    return v === null ? undefined : v;
  }

  string(member: string): string | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw serializationError(`${this.name(member)} must be a string.`);
    return v;
  }

  requiredString(member: string): string {
    const v = this.string(member);
    if (v === undefined || v.trim() === '') throw this.missingError(member);
    return v;
  }

  integer(member: string): number | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw serializationError(`${this.name(member)} must be an integer.`);
    }
    return v;
  }

  boolean(member: string): boolean | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw serializationError(`${this.name(member)} must be a boolean.`);
    return v;
  }

  stringList(member: string): string[] | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      throw serializationError(`${this.name(member)} must be a list of strings.`);
    }
    return v as string[];
  }

  /** A member that must be one of the model's enum values. */
  enumString<T extends string>(options: { member: string; values: readonly T[] }): T | undefined {
    const v = this.string(options.member);
    if (v === undefined) return undefined;
    if (!(options.values as readonly string[]).includes(v)) {
      throw invalidParameter(
        `${this.name(options.member)} must be one of ${options.values.join(', ')}; got '${v}'.`,
      );
    }
    return v as T;
  }

  object(member: string): RequestReader | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    return new RequestReader({ body: v, path: this.name(member), missing: this.missing });
  }

  objectList(member: string): RequestReader[] | undefined {
    const v = this.raw(member);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw serializationError(`${this.name(member)} must be a list.`);
    return v.map(
      (item, i) =>
        new RequestReader({
          body: item,
          path: `${this.name(member)}[${i}]`,
          missing: this.missing,
        }),
    );
  }

  private missingError(member: string): EcsApiError {
    const message = `${this.name(member)} can not be blank.`;
    return this.missing === EcsErrorType.Client ? clientError(message) : invalidParameter(message);
  }
}

export type Tag = { key: string; value: string };
export type KeyValuePair = { name: string; value: string };

/** Parses and checks a `tags` member: at most 50, key 1–128, value 0–256, no `aws:` keys. */
export const readTags = (reader: RequestReader): Tag[] | undefined => {
  const items = reader.objectList('tags');
  if (items === undefined) return undefined;
  if (items.length > 50) throw invalidParameter('tags can have at most 50 items.');
  return items.map((item) => {
    const key = item.requiredString('key');
    const value = item.string('value') ?? '';
    if (key.length > 128) throw invalidParameter(`Tag key '${key}' is longer than 128 characters.`);
    if (value.length > 256) {
      throw invalidParameter(`Tag value for key '${key}' is longer than 256 characters.`);
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw invalidParameter(`Tag keys with the prefix 'aws:' are reserved: '${key}'.`);
    }
    return { key, value };
  });
};

/** Parses a list of `{name, value}` pairs (environment, attachment details). */
export const readKeyValuePairs = (options: {
  reader: RequestReader;
  member: string;
}): KeyValuePair[] | undefined =>
  options.reader.objectList(options.member)?.map((item) => ({
    name: item.requiredString('name'),
    value: item.string('value') ?? '',
  }));

const STARTED_BY = /^[A-Za-z0-9_/-]{1,128}$/;

/** RunTask `startedBy`: up to 128 letters, numbers, hyphens, forward slashes and underscores. */
export const checkStartedBy = (startedBy: string): void => {
  if (!STARTED_BY.test(startedBy)) {
    throw invalidParameter(
      'startedBy must be up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_).',
    );
  }
};

/** RunTask `clientToken`: 1–64 ASCII characters in the range 33–126. */
export const checkClientToken = (token: string): void => {
  const ok =
    token.length >= 1 &&
    token.length <= 64 &&
    [...token].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126);
  if (!ok) {
    throw invalidParameter(
      'clientToken must be 1 to 64 characters in the ASCII range 33-126 (no spaces or control characters).',
    );
  }
};

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Task definition family and cluster names: up to 255 letters, numbers, hyphens and underscores. */
export const isValidName = (name: string): boolean => NAME.test(name);

/**
 * Converts task-level `cpu` ("1024", "1 vCPU", "0.25 vcpu") to CPU units, as RegisterTaskDefinition
 * stores them. Returns undefined for a value ECS would not understand.
 */
export const parseCpuUnits = (cpu: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i.exec(cpu);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  const units = m[2] ? n * 1024 : n;
  return Number.isInteger(units) && units > 0 ? units : undefined;
};

/** Converts task-level `memory` ("2048", "2 GB", "0.5GB") to MiB. */
export const parseMemoryMiB = (memory: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(gb)?\s*$/i.exec(memory);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  const mib = m[2] ? n * 1024 : n;
  return Number.isInteger(mib) && mib > 0 ? mib : undefined;
};

// Fargate task sizes (Linux): cpu units → allowed memory MiB as [min, max, step].
const FARGATE_SIZES: ReadonlyMap<number, readonly [number, number, number]> = new Map([
  [256, [512, 2048, 512]],
  [512, [1024, 4096, 1024]],
  [1024, [2048, 8192, 1024]],
  [2048, [4096, 16384, 1024]],
  [4096, [8192, 30720, 1024]],
  [8192, [16384, 61440, 4096]],
  [16384, [32768, 122880, 8192]],
]);

/** Whether a cpu/memory pair is a Fargate task size. 256 CPU allows 512, 1024 and 2048 only. */
export const isFargateSize = (size: { cpu: number; memory: number }): boolean => {
  const range = FARGATE_SIZES.get(size.cpu);
  if (!range) return false;
  const [min, max, step] = range;
  if (size.cpu === 256) return size.memory === 512 || size.memory === 1024 || size.memory === 2048;
  return size.memory >= min && size.memory <= max && (size.memory - min) % step === 0;
};
