import type { Page } from './service-store';

/** A registered task definition, as the API shows it (ECS TaskDefinition, the fields that matter). */
export type TaskDefinitionView = {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: string;
  taskRoleArn?: string;
  executionRoleArn?: string;
  networkMode?: string;
  requiresCompatibilities?: string[];
  cpu?: string;
  memory?: string;
  /** `ports`: the container ports its port mappings expose. */
  containers: { name: string; image: string; ports?: number[] }[];
  registeredAt?: string;
};

/** ECS task definitions, in domain terms. */
export type TaskDefinitions = {
  /** Registers a validated RegisterTaskDefinition body; a refusal by ECS is a ValidationError. */
  register(input: Record<string, unknown>): Promise<TaskDefinitionView>;
  /** One task definition by family, family:revision or ARN; undefined when ECS has none. */
  describe(reference: string): Promise<TaskDefinitionView | undefined>;
  /** The family's revisions, newest first. */
  listRevisions(input: {
    family: string;
    maxResults?: number;
    nextToken?: string;
  }): Promise<Page<{ taskDefinitionArn: string; revision: number }>>;
};
