import { clusterNotFound, invalidParameter } from './errors';
import {
  type ArnContext,
  arns,
  type CapacityProviderStrategyItem,
  clusterNameOf,
  type StoredCluster,
} from './model';
import { paginate } from './pagination';
import { isValidName, RequestReader, readTags } from './validation';

export const DEFAULT_CLUSTER = 'default';

/** The capacity providers that exist without CreateCapacityProvider. */
export const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;

/** Reads and checks a capacityProviderStrategy member against the cluster's providers. */
export const readCapacityProviderStrategy = (o: {
  reader: RequestReader;
  member: string;
  allowed: readonly string[];
}): CapacityProviderStrategyItem[] | undefined => {
  const items = o.reader.objectList(o.member);
  if (items === undefined) return undefined;
  if (items.length > 20) throw invalidParameter(`${o.member} can have at most 20 items.`);
  const strategy = items.map((item) => ({
    capacityProvider: item.requiredString('capacityProvider'),
    weight: item.integer('weight') ?? 0,
    base: item.integer('base') ?? 0,
  }));
  for (const s of strategy) {
    if (s.weight < 0 || s.weight > 1000) {
      throw invalidParameter('Capacity provider strategy weight must be between 0 and 1000.');
    }
    if (s.base < 0 || s.base > 100000) {
      throw invalidParameter('Capacity provider strategy base must be between 0 and 100000.');
    }
    if (!o.allowed.includes(s.capacityProvider)) {
      throw invalidParameter(
        'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
      );
    }
  }
  if (new Set(strategy.map((s) => s.capacityProvider)).size !== strategy.length) {
    throw invalidParameter(
      'The capacity provider strategy contains a duplicate capacity provider.',
    );
  }
  if (strategy.filter((s) => s.base > 0).length > 1) {
    throw invalidParameter(
      'Only one capacity provider in a capacity provider strategy can have a base defined.',
    );
  }
  if (strategy.length > 0 && !strategy.some((s) => s.weight > 0)) {
    throw invalidParameter(
      'At least one capacity provider in the capacity provider strategy must have a weight greater than zero.',
    );
  }
  return strategy;
};

/**
 * Spreads `count` tasks over a strategy: `base` tasks first, the rest in proportion to `weight`
 * (weight 1:4 puts one task on A for every four on B). Returns one provider name per task.
 */
export const spreadOverStrategy = (o: {
  strategy: readonly CapacityProviderStrategyItem[];
  count: number;
}): string[] => {
  const assigned = o.strategy.map(() => 0);
  const out: string[] = [];
  for (let i = 0; i < o.count; i++) {
    let pick = o.strategy.findIndex((s, j) => (assigned[j] ?? 0) < s.base);
    if (pick < 0) {
      let best = Number.POSITIVE_INFINITY;
      o.strategy.forEach((s, j) => {
        if (s.weight <= 0) return;
        const beyondBase = (assigned[j] ?? 0) - s.base;
        const score = (beyondBase + 1) / s.weight;
        if (score < best) {
          best = score;
          pick = j;
        }
      });
    }
    const item = o.strategy[pick];
    if (!item) break;
    assigned[pick] = (assigned[pick] ?? 0) + 1;
    out.push(item.capacityProvider);
  }
  return out;
};

export type ClusterRegistryOptions = ArnContext & {
  now: () => number;
  clusters?: readonly StoredCluster[];
  /** Counts of tasks by status for DescribeClusters; supplied by the emulator. */
  taskCounts: (clusterArn: string) => { running: number; pending: number };
  /** Simulated container instances of a cluster; none when absent. */
  instanceCount?: (clusterArn: string) => number;
};

/** Clusters: CreateCluster, DescribeClusters, ListClusters. `default` always exists. */
export class ClusterRegistry {
  private readonly byName = new Map<string, StoredCluster>();
  private readonly ctx: ArnContext;
  private readonly now: () => number;
  private readonly taskCounts: ClusterRegistryOptions['taskCounts'];
  private readonly instanceCount: (clusterArn: string) => number;

  constructor(options: ClusterRegistryOptions) {
    this.ctx = { region: options.region, accountId: options.accountId };
    this.now = options.now;
    this.taskCounts = options.taskCounts;
    this.instanceCount = options.instanceCount ?? (() => 0);
    for (const c of options.clusters ?? []) this.byName.set(c.clusterName, c);
    if (!this.byName.has(DEFAULT_CLUSTER)) {
      // Fargate providers are associated so capacityProviderStrategy works without setup.
      this.add({ name: DEFAULT_CLUSTER, capacityProviders: [...FARGATE_PROVIDERS] });
    }
  }

  all(): StoredCluster[] {
    return [...this.byName.values()];
  }

  /** The cluster a request names (name or ARN; absent = default), or ClusterNotFoundException. */
  get(ref: string | undefined): StoredCluster {
    const cluster = this.byName.get(clusterNameOf(ref ?? DEFAULT_CLUSTER));
    if (!cluster) throw clusterNotFound();
    return cluster;
  }

  find(ref: string): StoredCluster | undefined {
    return this.byName.get(clusterNameOf(ref));
  }

  create(body: unknown): { cluster: Record<string, unknown> } {
    const req = new RequestReader({ body });
    const name = req.string('clusterName') ?? DEFAULT_CLUSTER;
    if (!isValidName(name)) {
      throw invalidParameter(
        'clusterName must be up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
      );
    }
    const capacityProviders = req.stringList('capacityProviders') ?? [];
    for (const p of capacityProviders) {
      if (!(FARGATE_PROVIDERS as readonly string[]).includes(p)) {
        throw invalidParameter(
          `The specified capacity provider '${p}' does not exist. Specify a valid capacity provider and try again.`,
        );
      }
    }
    const strategy = readCapacityProviderStrategy({
      reader: req,
      member: 'defaultCapacityProviderStrategy',
      allowed: capacityProviders,
    });
    const tags = readTags(req) ?? [];
    const settings = (req.objectList('settings') ?? []).map((s) => ({
      name: s.requiredString('name'),
      value: s.requiredString('value'),
    }));
    // CreateCluster on an existing cluster returns it unchanged, as ECS does.
    const existing = this.byName.get(name);
    const cluster =
      existing ??
      this.add({
        name,
        capacityProviders,
        strategy: strategy ?? [],
        tags,
        ...(settings.length > 0 ? { settings } : {}),
      });
    return { cluster: this.render({ cluster, includeTags: true }) };
  }

  describe(body: unknown): { clusters: Record<string, unknown>[]; failures: unknown[] } {
    const req = new RequestReader({ body });
    const refs = req.stringList('clusters') ?? [DEFAULT_CLUSTER];
    if (refs.length > 100) throw invalidParameter('clusters can have at most 100 items.');
    const includeTags = (req.stringList('include') ?? []).includes('TAGS');
    const clusters: Record<string, unknown>[] = [];
    const failures: unknown[] = [];
    for (const ref of refs) {
      const cluster = this.find(ref);
      if (cluster) clusters.push(this.render({ cluster, includeTags }));
      else
        failures.push({
          arn: arns.cluster({ ...this.ctx, name: clusterNameOf(ref) }),
          reason: 'MISSING',
        });
    }
    return { clusters, failures };
  }

  list(body: unknown): { clusterArns: string[]; nextToken?: string } {
    const req = new RequestReader({ body });
    const items = this.all().sort((a, b) => (a.clusterName < b.clusterName ? -1 : 1));
    const page = paginate({ items, keyOf: (c) => c.clusterName, request: req });
    const clusterArns = page.items.map((c) => c.clusterArn);
    return page.nextToken ? { clusterArns, nextToken: page.nextToken } : { clusterArns };
  }

  render(o: { cluster: StoredCluster; includeTags: boolean }): Record<string, unknown> {
    const c = o.cluster;
    const counts = this.taskCounts(c.clusterArn);
    return {
      clusterArn: c.clusterArn,
      clusterName: c.clusterName,
      status: 'ACTIVE',
      registeredContainerInstancesCount: this.instanceCount(c.clusterArn),
      runningTasksCount: counts.running,
      pendingTasksCount: counts.pending,
      activeServicesCount: 0,
      statistics: [],
      ...(o.includeTags ? { tags: c.tags.map((t) => ({ ...t })) } : {}),
      settings: c.settings.map((s) => ({ ...s })),
      capacityProviders: [...c.capacityProviders],
      defaultCapacityProviderStrategy: c.defaultCapacityProviderStrategy.map((s) => ({ ...s })),
    };
  }

  private add(o: {
    name: string;
    capacityProviders: string[];
    strategy?: CapacityProviderStrategyItem[];
    tags?: StoredCluster['tags'];
    settings?: StoredCluster['settings'];
  }): StoredCluster {
    const cluster: StoredCluster = {
      clusterArn: arns.cluster({ ...this.ctx, name: o.name }),
      clusterName: o.name,
      createdAt: this.now(),
      tags: o.tags ?? [],
      capacityProviders: o.capacityProviders,
      defaultCapacityProviderStrategy: o.strategy ?? [],
      settings: o.settings ?? [{ name: 'containerInsights', value: 'disabled' }],
    };
    this.byName.set(o.name, cluster);
    return cluster;
  }
}
