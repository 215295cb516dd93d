/**
 * A parsed JSON response as tests read it: any property may be read and compared. Tests assert the
 * values with expect(), so the loose type only spares casts, it does not skip a check.
 */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON from the API or the AWS CLI, checked by expect().
export type JsonObject = Record<string, any>;
