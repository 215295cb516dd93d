/**
 * Task definitions through the ECS API: RegisterTaskDefinition, DescribeTaskDefinition and
 * ListTaskDefinitions. What ECS refuses for the request's own sake becomes a ValidationError (400),
 * so the API never answers 5xx for a definition ECS would not take.
 */
import {
  DescribeTaskDefinitionCommand,
  type ECSClient,
  ECSServiceException,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ValidationError } from '../core/errors';
import type { TaskDefinitions, TaskDefinitionView } from '../ports/task-definitions';

/** ECS's answers that mean "this request is wrong", not "ECS is unwell". */
const REFUSALS = new Set(['ClientException', 'InvalidParameterException']);

export function makeEcsTaskDefinitions(options: { client: ECSClient }): TaskDefinitions {
  const { client } = options;
  return {
    async register(input) {
      try {
        const out = await client.send(
          new RegisterTaskDefinitionCommand(input as unknown as RegisterTaskDefinitionCommandInput),
        );
        if (!out.taskDefinition) throw new Error('RegisterTaskDefinition returned no definition');
        return toView(out.taskDefinition);
      } catch (error) {
        if (error instanceof ECSServiceException && REFUSALS.has(error.name)) {
          throw new ValidationError(`ECS refused the task definition: ${error.message}`, [
            { path: '(body)', message: `${error.name}: ${error.message}` },
          ]);
        }
        throw error;
      }
    },

    async describe(reference) {
      try {
        const out = await client.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: reference }),
        );
        return out.taskDefinition ? toView(out.taskDefinition) : undefined;
      } catch (error) {
        // ECS answers an unknown definition with ClientException ("Unable to describe task definition").
        if (error instanceof ECSServiceException && REFUSALS.has(error.name)) return undefined;
        throw error;
      }
    },

    async listRevisions({ family, maxResults, nextToken }) {
      const out = await client
        .send(
          new ListTaskDefinitionsCommand({
            familyPrefix: family,
            sort: 'DESC',
            status: 'ACTIVE',
            maxResults: maxResults ?? 100,
            nextToken,
          }),
        )
        .catch((error: unknown) => {
          // The only input ECS can refuse here is a token it did not issue.
          if (error instanceof ECSServiceException && REFUSALS.has(error.name)) {
            throw new ValidationError('Invalid nextToken', [
              { path: 'nextToken', message: 'is not a token this listing issued' },
            ]);
          }
          throw error;
        });
      // familyPrefix is a prefix: `web` also lists `web-api`.
      const items = (out.taskDefinitionArns ?? []).flatMap((arn) => {
        const m = /task-definition\/([^:/]+):(\d+)$/.exec(arn);
        return m && m[1] === family ? [{ taskDefinitionArn: arn, revision: Number(m[2]) }] : [];
      });
      return out.nextToken ? { items, nextToken: out.nextToken } : { items };
    },
  };
}

function toView(td: TaskDefinition): TaskDefinitionView {
  const view: TaskDefinitionView = {
    taskDefinitionArn: td.taskDefinitionArn ?? '',
    family: td.family ?? '',
    revision: td.revision ?? 0,
    status: td.status ?? 'ACTIVE',
    containers: (td.containerDefinitions ?? []).map((c) => {
      const ports = (c.portMappings ?? []).flatMap((m) =>
        m.containerPort === undefined ? [] : [m.containerPort],
      );
      return { name: c.name ?? '', image: c.image ?? '', ...(ports.length > 0 ? { ports } : {}) };
    }),
  };
  if (td.taskRoleArn) view.taskRoleArn = td.taskRoleArn;
  if (td.executionRoleArn) view.executionRoleArn = td.executionRoleArn;
  if (td.networkMode) view.networkMode = td.networkMode;
  if (td.requiresCompatibilities) view.requiresCompatibilities = td.requiresCompatibilities;
  if (td.cpu) view.cpu = td.cpu;
  if (td.memory) view.memory = td.memory;
  if (td.registeredAt) view.registeredAt = td.registeredAt.toISOString();
  return view;
}
