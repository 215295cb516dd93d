// ECS error types as they appear in `__type` of a JSON 1.1 error body (botocore ecs/2014-11-13).
export const EcsErrorType = {
  Client: 'ClientException',
  InvalidParameter: 'InvalidParameterException',
  ClusterNotFound: 'ClusterNotFoundException',
  ServiceNotFound: 'ServiceNotFoundException',
  Conflict: 'ConflictException',
  ResourceNotFound: 'ResourceNotFoundException',
  PlatformUnknown: 'PlatformUnknownException',
  Serialization: 'SerializationException',
  UnknownOperation: 'UnknownOperationException',
  Server: 'ServerException',
  Throttling: 'ThrottlingException',
} as const;
export type EcsErrorType = (typeof EcsErrorType)[keyof typeof EcsErrorType];

export type EcsApiErrorOptions = {
  type: EcsErrorType;
  message: string;
  /** Extra members of the error shape, e.g. ConflictException.resourceIds. */
  fields?: Record<string, unknown>;
  cause?: unknown;
};

/** An error the ECS API reports to the caller; anything else thrown inside the emulator is a 500. */
export class EcsApiError extends Error {
  readonly type: EcsErrorType;
  readonly status: number;
  readonly fields: Record<string, unknown>;

  constructor(options: EcsApiErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EcsApiError';
    this.type = options.type;
    this.status = options.type === EcsErrorType.Server ? 500 : 400;
    this.fields = options.fields ?? {};
  }

  /** The JSON 1.1 error body: `{"__type": ..., "message": ...}` plus shape members. */
  toBody(): Record<string, unknown> {
    return { __type: this.type, message: this.message, ...this.fields };
  }
}

/** ClientException: a request ECS understood but refuses (unknown task definition, bad definition). */
export const clientError = (message: string): EcsApiError =>
  new EcsApiError({ type: EcsErrorType.Client, message });

/** InvalidParameterException: a parameter value outside what the API accepts. */
export const invalidParameter = (message: string): EcsApiError =>
  new EcsApiError({ type: EcsErrorType.InvalidParameter, message });

/** ClusterNotFoundException with AWS's wording. */
export const clusterNotFound = (): EcsApiError =>
  new EcsApiError({ type: EcsErrorType.ClusterNotFound, message: 'Cluster not found.' });

/** SerializationException: a member of the wrong JSON type, as the AWS JSON protocol reports it. */
export const serializationError = (message: string): EcsApiError =>
  new EcsApiError({ type: EcsErrorType.Serialization, message });
