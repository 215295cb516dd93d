/** One entry of a validation failure: where (a JSON path such as `desiredCount` or `tags[2].key`) and what. */
export type FieldError = { path: string; message: string };

/** Base of every error the domain raises on purpose; anything else is a bug or an outage. */
export class DomainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/** The input is wrong; `errors` names each bad field. Maps to 400. */
export class ValidationError extends DomainError {
  readonly errors: FieldError[];
  constructor(message: string, errors: FieldError[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValidationError';
    this.errors = errors;
  }
}

/** The named thing does not exist. Maps to 404. */
export class NotFoundError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** The write lost to another writer or clashes with existing state. Maps to 409. */
export class ConflictError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The caller's If-Match names a generation the service is no longer at. Maps to 412. */
export class PreconditionFailedError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PreconditionFailedError';
  }
}

/** The caller may not do this here: a cluster or an IAM role outside the allow-lists. Maps to 403. */
export class ForbiddenError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForbiddenError';
  }
}
