import type { LoadBalancing } from '../../shared/ports/load-balancing';

/**
 * For harnesses whose services have no load balancers: reconcile never reads target groups for
 * them, so any call is a bug in the test or the code, and says so.
 */
export const noLoadBalancing: LoadBalancing = {
  describeTargetGroup: unexpected('describeTargetGroup'),
  targetHealth: unexpected('targetHealth'),
  register: unexpected('register'),
  deregister: unexpected('deregister'),
};

function unexpected(name: string) {
  return async (): Promise<never> => {
    throw new Error(`LoadBalancing.${name} called for a service without load balancers`);
  };
}
