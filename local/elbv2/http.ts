/**
 * The local ELBv2 over the AWS query protocol, as the SDK v3 client and the AWS CLI speak it:
 * form-encoded `Action=RegisterTargets&Version=2015-12-01&Targets.member.1.Id=…` in, XML in the
 * 2015-12-01 namespace out, errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error>`.
 * The AWS endpoint (aws-endpoint.ts) reads and routes the request; this module converts the
 * parameters to the engine's typed inputs and its answers to XML.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { nestQueryParameters } from '../cloudwatch/request-reader';
import type { LocalElbV2, Tag, TargetDescription, TargetGroupAttribute } from './engine';
import { constraintError, ElbV2Error, ElbV2ErrorCode, missingParameter } from './errors';

/** The `Version` of ELBv2's query-protocol requests. */
export const ELBV2_API_VERSION = '2015-12-01';

/** How the endpoint names ELBv2 requests in its counts: this prefix plus the Action. */
export const ELBV2_TARGET_PREFIX = 'ElasticLoadBalancing_v10.';

const XML_NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** Reads members of one structure of a nested query-protocol request, with ELB's error wording. */
class QueryReader {
  private readonly body: Record<string, unknown>;
  /** Where the structure is in the request (`Targets.member.2`), for messages; '' at the top. */
  private readonly path: string;

  constructor(o: { body: Record<string, unknown>; path?: string }) {
    this.body = o.body;
    this.path = o.path ?? '';
  }

  private name(member: string): string {
    return this.path === '' ? member : `${this.path}.${member}`;
  }

  optionalString(member: string): string | undefined {
    const v = this.body[member];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      throw constraintError({
        member: this.name(member),
        value: '…',
        constraint: 'must be a string',
      });
    }
    return v;
  }

  string(member: string): string {
    const v = this.optionalString(member);
    if (v === undefined) throw missingParameter(this.name(member));
    return v;
  }

  optionalInteger(member: string): number | undefined {
    const v = this.optionalString(member);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(v.trim())) {
      throw constraintError({
        member: this.name(member),
        value: v,
        constraint: 'must be an integer',
      });
    }
    return Number(v);
  }

  optionalBoolean(member: string): boolean | undefined {
    const v = this.optionalString(member);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') {
      throw constraintError({
        member: this.name(member),
        value: v,
        constraint: 'must be a boolean',
      });
    }
    return v === 'true';
  }

  /** A list member: undefined when absent, [] when sent empty (`Targets=`). */
  private list(member: string): { value: unknown; name: string }[] | undefined {
    const v = this.body[member];
    if (v === undefined) return undefined;
    if (v === '') return [];
    if (!Array.isArray(v)) {
      throw constraintError({ member: this.name(member), value: v, constraint: 'must be a list' });
    }
    return Array.from(v, (value, i) => ({ value, name: `${this.name(member)}.member.${i + 1}` }));
  }

  strings(member: string): string[] | undefined {
    return this.list(member)?.map(({ value, name }) => {
      if (typeof value !== 'string') throw missingParameter(name);
      return value;
    });
  }

  structs(member: string): QueryReader[] | undefined {
    return this.list(member)?.map(({ value, name }) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw missingParameter(name);
      }
      return new QueryReader({ body: value as Record<string, unknown>, path: name });
    });
  }

  optionalStruct(member: string): QueryReader | undefined {
    const v = this.body[member];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw constraintError({
        member: this.name(member),
        value: v,
        constraint: 'must be a structure',
      });
    }
    return new QueryReader({ body: v as Record<string, unknown>, path: this.name(member) });
  }
}

/** Copies the members that are present, so absent ones stay absent (exactOptionalPropertyTypes). */
const present = <T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };

const readTargets = (r: QueryReader, member: string): TargetDescription[] | undefined =>
  r.structs(member)?.map((t) => ({
    Id: t.string('Id'),
    ...present({
      Port: t.optionalInteger('Port'),
      AvailabilityZone: t.optionalString('AvailabilityZone'),
    }),
  }));

const requiredTargets = (r: QueryReader): TargetDescription[] => {
  const targets = readTargets(r, 'Targets');
  if (targets === undefined) throw missingParameter('Targets');
  return targets;
};

type Operation = (o: { engine: LocalElbV2; r: QueryReader }) => unknown;

const OPERATIONS: Record<string, Operation> = {
  CreateTargetGroup: ({ engine, r }) => {
    const matcher = r.optionalStruct('Matcher');
    const tags: Tag[] | undefined = r.structs('Tags')?.map((t) => ({
      Key: t.string('Key'),
      ...present({ Value: t.optionalString('Value') }),
    }));
    return engine.createTargetGroup({
      Name: r.string('Name'),
      ...present({
        Protocol: r.optionalString('Protocol'),
        ProtocolVersion: r.optionalString('ProtocolVersion'),
        Port: r.optionalInteger('Port'),
        VpcId: r.optionalString('VpcId'),
        HealthCheckProtocol: r.optionalString('HealthCheckProtocol'),
        HealthCheckPort: r.optionalString('HealthCheckPort'),
        HealthCheckEnabled: r.optionalBoolean('HealthCheckEnabled'),
        HealthCheckPath: r.optionalString('HealthCheckPath'),
        HealthCheckIntervalSeconds: r.optionalInteger('HealthCheckIntervalSeconds'),
        HealthCheckTimeoutSeconds: r.optionalInteger('HealthCheckTimeoutSeconds'),
        HealthyThresholdCount: r.optionalInteger('HealthyThresholdCount'),
        UnhealthyThresholdCount: r.optionalInteger('UnhealthyThresholdCount'),
        Matcher:
          matcher === undefined
            ? undefined
            : present({
                HttpCode: matcher.optionalString('HttpCode'),
                GrpcCode: matcher.optionalString('GrpcCode'),
              }),
        TargetType: r.optionalString('TargetType'),
        Tags: tags,
        IpAddressType: r.optionalString('IpAddressType'),
        TargetControlPort: r.optionalInteger('TargetControlPort'),
      }),
    });
  },
  DescribeTargetGroups: ({ engine, r }) =>
    engine.describeTargetGroups(
      present({
        LoadBalancerArn: r.optionalString('LoadBalancerArn'),
        TargetGroupArns: r.strings('TargetGroupArns'),
        Names: r.strings('Names'),
        Marker: r.optionalString('Marker'),
        PageSize: r.optionalInteger('PageSize'),
      }),
    ),
  DeleteTargetGroup: ({ engine, r }) =>
    engine.deleteTargetGroup({ TargetGroupArn: r.string('TargetGroupArn') }),
  DescribeTargetGroupAttributes: ({ engine, r }) =>
    engine.describeTargetGroupAttributes({ TargetGroupArn: r.string('TargetGroupArn') }),
  ModifyTargetGroupAttributes: ({ engine, r }) => {
    const attributes: TargetGroupAttribute[] | undefined = r.structs('Attributes')?.map((a) => ({
      Key: a.string('Key'),
      Value: a.optionalString('Value') ?? '',
    }));
    if (attributes === undefined) throw missingParameter('Attributes');
    return engine.modifyTargetGroupAttributes({
      TargetGroupArn: r.string('TargetGroupArn'),
      Attributes: attributes,
    });
  },
  RegisterTargets: ({ engine, r }) =>
    engine.registerTargets({
      TargetGroupArn: r.string('TargetGroupArn'),
      Targets: requiredTargets(r),
    }),
  DeregisterTargets: ({ engine, r }) =>
    engine.deregisterTargets({
      TargetGroupArn: r.string('TargetGroupArn'),
      Targets: requiredTargets(r),
    }),
  DescribeTargetHealth: ({ engine, r }) =>
    engine.describeTargetHealth({
      TargetGroupArn: r.string('TargetGroupArn'),
      ...present({ Targets: readTargets(r, 'Targets'), Include: r.strings('Include') }),
    }),
};

/** The operations served, in the order the endpoint lists them. */
export const ELBV2_OPERATIONS: readonly string[] = Object.keys(OPERATIONS);

/**
 * Answers one ELBv2 request from its parameters (the form body and the URL's query, merged).
 * Never throws: a client mistake is a 400 ErrorResponse, anything else a 500 with a generic message.
 */
export const createElbV2QueryHandler =
  (engine: LocalElbV2) =>
  (o: { params: URLSearchParams; res: ServerResponse }): void => {
    const action = o.params.get('Action') ?? '';
    const requestId = randomUUID();
    try {
      const operation = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
      if (!operation) {
        throw new ElbV2Error({
          code: ElbV2ErrorCode.InvalidAction,
          message: `The action ${action || '(none)'} is not valid for this web service (the local ELBv2 serves ${ELBV2_OPERATIONS.join(', ')}).`,
        });
      }
      const result = operation({
        engine,
        r: new QueryReader({ body: nestQueryParameters(o.params) }),
      });
      send({
        res: o.res,
        status: 200,
        requestId,
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XML_NAMESPACE}">${el(
          `${action}Result`,
          toXml(result),
        )}${el('ResponseMetadata', el('RequestId', requestId))}</${action}Response>`,
      });
    } catch (error) {
      const known =
        error instanceof ElbV2Error
          ? error
          : new ElbV2Error({
              code: ElbV2ErrorCode.InternalFailure,
              message: 'The local ELBv2 failed to process the request.',
              cause: error,
            });
      send({
        res: o.res,
        status: known.status,
        requestId,
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XML_NAMESPACE}">${el(
          'Error',
          el('Type', known.faultType),
          el('Code', known.code),
          el('Message', escapeXml(known.message)),
        )}${el('RequestId', requestId)}</ErrorResponse>`,
      });
    }
  };

/** A result shape as query-protocol XML: lists as `<member>`s, absent members left out. */
const toXml = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => el('member', toXml(v))).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => el(k, toXml(v)))
      .join('');
  }
  return escapeXml(String(value));
};

/** `<name>inner</name>`; `inner` is already XML. */
const el = (name: string, ...inner: string[]): string => `<${name}>${inner.join('')}</${name}>`;

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

function send(o: { res: ServerResponse; status: number; requestId: string; body: string }): void {
  o.res.writeHead(o.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(o.body),
    'x-amzn-requestid': o.requestId,
  });
  o.res.end(o.body);
}
