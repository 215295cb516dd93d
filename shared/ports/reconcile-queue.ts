/** Asks the controller to reconcile a service soon (an event, not a call: events only enqueue a key). */
export type ReconcileQueue = {
  enqueue(serviceName: string): Promise<void>;
};
