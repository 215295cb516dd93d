// Elastic Load Balancing v2's errors as the query protocol reports them: `<Error><Type>` (Sender or
// Receiver), `<Code>` (the botocore model's error code, which the SDK maps to its exception class,
// e.g. TargetGroupNotFound → TargetGroupNotFoundException) and `<Message>`.

/** Error codes of the operations served here (botocore elbv2/2015-12-01), plus the protocol's own. */
export const ElbV2ErrorCode = {
  /** Not in the model: the service's generic answer to a parameter that breaks a constraint. */
  Validation: 'ValidationError',
  TargetGroupNotFound: 'TargetGroupNotFound',
  DuplicateTargetGroupName: 'DuplicateTargetGroupName',
  InvalidTarget: 'InvalidTarget',
  InvalidConfigurationRequest: 'InvalidConfigurationRequest',
  TooManyTargets: 'TooManyTargets',
  TooManyTargetGroups: 'TooManyTargetGroups',
  TooManyTags: 'TooManyTags',
  LoadBalancerNotFound: 'LoadBalancerNotFound',
  /** The query protocol's answer to an Action the service (here: the emulation) does not have. */
  InvalidAction: 'InvalidAction',
  InternalFailure: 'InternalFailure',
} as const;
export type ElbV2ErrorCode = (typeof ElbV2ErrorCode)[keyof typeof ElbV2ErrorCode];

/** An error the local ELBv2 reports to the caller; anything else thrown is a 500. */
export class ElbV2Error extends Error {
  readonly code: ElbV2ErrorCode;

  constructor(o: { code: ElbV2ErrorCode; message: string; cause?: unknown }) {
    super(o.message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'ElbV2Error';
    this.code = o.code;
  }

  get status(): number {
    return this.code === ElbV2ErrorCode.InternalFailure ? 500 : 400;
  }

  /** `Sender` (the request is wrong) or `Receiver` (the service failed). */
  get faultType(): 'Sender' | 'Receiver' {
    return this.code === ElbV2ErrorCode.InternalFailure ? 'Receiver' : 'Sender';
  }
}

/** ValidationError with a message of its own. */
export const validationError = (message: string): ElbV2Error =>
  new ElbV2Error({ code: ElbV2ErrorCode.Validation, message });

/**
 * ValidationError in the wording AWS uses for a model constraint: "1 validation error detected:
 * Value 'x' at 'port' failed to satisfy constraint: Member must …". `member` is the parameter's
 * name as sent (`Port`, `Targets.member.1.Port`); AWS names it in camel case.
 */
export const constraintError = (o: {
  member: string;
  value: unknown;
  constraint: string;
}): ElbV2Error => {
  const at = o.member
    .split('.')
    .map((part) => part.charAt(0).toLowerCase() + part.slice(1))
    .join('.');
  const value = o.value === undefined || o.value === null ? 'null' : `'${String(o.value)}'`;
  return validationError(
    `1 validation error detected: Value ${value} at '${at}' failed to satisfy constraint: Member ${o.constraint}`,
  );
};

/** The "must not be null" constraint error for a missing required parameter. */
export const missingParameter = (member: string): ElbV2Error =>
  constraintError({ member, value: undefined, constraint: 'must not be null' });

/** TargetGroupNotFound for one target group ARN. */
export const targetGroupNotFound = (arn: string): ElbV2Error =>
  new ElbV2Error({
    code: ElbV2ErrorCode.TargetGroupNotFound,
    message: `Target groups '${arn}' not found`,
  });

/** InvalidTarget with a message of its own. */
export const invalidTarget = (message: string): ElbV2Error =>
  new ElbV2Error({ code: ElbV2ErrorCode.InvalidTarget, message });
