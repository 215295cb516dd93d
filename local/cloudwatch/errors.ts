// CloudWatch's errors as both of its protocols report them: the query protocol's `Code` (XML
// `<Error><Code>`), and the JSON 1.0 protocol's shape name in `__type`, with the query code in the
// `x-amzn-query-error` header (CloudWatch is "awsQueryCompatible": the SDK maps the error back through it).

/** Query-protocol error codes, with the JSON shape, HTTP status and fault side of each. */
export const CloudWatchErrorCode = {
  InvalidParameterValue: 'InvalidParameterValue',
  MissingParameter: 'MissingParameter',
  InvalidParameterCombination: 'InvalidParameterCombination',
  InvalidNextToken: 'InvalidNextToken',
  InvalidAction: 'InvalidAction',
  InternalServiceError: 'InternalServiceError',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
} as const;
export type CloudWatchErrorCode = (typeof CloudWatchErrorCode)[keyof typeof CloudWatchErrorCode];

const SHAPES: Record<CloudWatchErrorCode, { shape: string; status: number; sender: boolean }> = {
  InvalidParameterValue: { shape: 'InvalidParameterValueException', status: 400, sender: true },
  MissingParameter: { shape: 'MissingRequiredParameterException', status: 400, sender: true },
  InvalidParameterCombination: {
    shape: 'InvalidParameterCombinationException',
    status: 400,
    sender: true,
  },
  InvalidNextToken: { shape: 'InvalidNextToken', status: 400, sender: true },
  // Not in CloudWatch's model: answered for an operation the local endpoint does not implement.
  InvalidAction: { shape: 'UnknownOperationException', status: 400, sender: true },
  InternalServiceError: { shape: 'InternalServiceFault', status: 500, sender: false },
  RequestEntityTooLarge: { shape: 'RequestEntityTooLarge', status: 413, sender: true },
};

/** An error the local CloudWatch reports to the caller; anything else thrown is a 500. */
export class CloudWatchError extends Error {
  readonly code: CloudWatchErrorCode;

  constructor(o: { code: CloudWatchErrorCode; message: string }) {
    super(o.message);
    this.name = 'CloudWatchError';
    this.code = o.code;
  }

  get status(): number {
    return SHAPES[this.code].status;
  }

  /** `Sender` (the request is wrong) or `Receiver` (the service failed). */
  get faultType(): 'Sender' | 'Receiver' {
    return SHAPES[this.code].sender ? 'Sender' : 'Receiver';
  }

  /** The JSON 1.0 `__type`. */
  get jsonType(): string {
    return `com.amazonaws.cloudwatch#${SHAPES[this.code].shape}`;
  }
}

/** InvalidParameterValue: "The value X for parameter P is invalid." plus why. */
export const invalidValue = (o: { parameter: string; value?: unknown; why?: string }) =>
  new CloudWatchError({
    code: CloudWatchErrorCode.InvalidParameterValue,
    message: `The value ${o.value === undefined ? '' : `${String(o.value)} `}for parameter ${o.parameter} is invalid.${o.why ? ` ${o.why}` : ''}`,
  });

/** InvalidParameterValue with a message of its own. */
export const invalidParameter = (message: string) =>
  new CloudWatchError({ code: CloudWatchErrorCode.InvalidParameterValue, message });

/** MissingParameter: "The parameter P is required." */
export const missingParameter = (parameter: string) =>
  new CloudWatchError({
    code: CloudWatchErrorCode.MissingParameter,
    message: `The parameter ${parameter} is required.`,
  });

/** InvalidParameterCombination with a message of its own. */
export const invalidCombination = (message: string) =>
  new CloudWatchError({ code: CloudWatchErrorCode.InvalidParameterCombination, message });
