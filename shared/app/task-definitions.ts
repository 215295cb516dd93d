/**
 * Task definition use cases: register one from JSON or YAML after validating it as ECS would (and
 * checking its roles against the allow-list), and list a family's revisions.
 */
import { checkRoles } from '../core/access';
import { NotFoundError, ValidationError } from '../core/errors';
import { parseTaskDefinitionBody, validateTaskDefinition } from '../core/task-definition';
import type { Page } from '../ports/service-store';
import type { TaskDefinitionView } from '../ports/task-definitions';
import type { ServiceDeps } from './services';

export type TaskDefinitionDeps = Pick<ServiceDeps, 'taskDefinitions' | 'access'>;

/** Registers a task definition (RegisterTaskDefinition's body, JSON or YAML). */
export async function registerTaskDefinition(
  deps: TaskDefinitionDeps,
  input: { body: string; contentType: 'json' | 'yaml' },
): Promise<TaskDefinitionView> {
  const definition = validateTaskDefinition(parseTaskDefinitionBody(input));
  checkRoles(deps.access, definition);
  return deps.taskDefinitions.register(definition as Record<string, unknown>);
}

/** ECS: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens". */
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;

/** A family's revisions, newest first. */
export async function listTaskDefinitionRevisions(
  deps: TaskDefinitionDeps,
  input: { family: string; nextToken?: string },
): Promise<Page<{ taskDefinitionArn: string; revision: number }>> {
  if (!FAMILY.test(input.family)) {
    throw new ValidationError('Invalid family', [
      { path: 'family', message: 'must be 1-255 letters, digits, hyphens (-) or underscores (_)' },
    ]);
  }
  const page = await deps.taskDefinitions.listRevisions({
    family: input.family,
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
  if (page.items.length === 0 && input.nextToken === undefined && !page.nextToken) {
    throw new NotFoundError(`Task definition family ${input.family} has no active revisions`);
  }
  return page;
}
