import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../shared/core/errors';
import {
  createServiceSchema,
  parseOrThrow,
  serviceNameSchema,
  updateServiceSchema,
} from '../../shared/core/schemas';

const validBody = () => ({
  serviceName: 'web',
  cluster: 'default',
  taskDefinition: 'web:3',
  desiredCount: 3,
  launchType: 'FARGATE',
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-0a1b2c3d4e5f67890', 'subnet-0f9e8d7c6b5a43210'],
      securityGroups: ['sg-0123456789abcdef0'],
      assignPublicIp: 'DISABLED',
    },
  },
  deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 },
});

const create = (input: unknown) =>
  parseOrThrow({ schema: createServiceSchema, input, what: 'service' });
const update = (input: unknown) =>
  parseOrThrow({ schema: updateServiceSchema, input, what: 'update' });

/** The errors `fn` throws as a ValidationError, or a failure if it does not throw one. */
function errorsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}
/** Any non-empty message. */
const ANY = /\S/;
const pathsOf = (fn: () => unknown) => errorsOf(fn).map((e) => e.path);

describe('createServiceSchema', () => {
  it('accepts a full valid body unchanged', () => {
    expect(create(validBody())).toEqual(validBody());
  });

  it('accepts the minimal body and leaves defaults to the use case', () => {
    const minimal = { serviceName: 'web', taskDefinition: 'web', desiredCount: 0 };
    const parsed = create(minimal);
    expect(parsed).toEqual(minimal);
    expect(Object.keys(parsed).sort()).toEqual(['desiredCount', 'serviceName', 'taskDefinition']);
  });

  it('accepts a cluster ARN and a partial deployment configuration', () => {
    const body = {
      ...validBody(),
      cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      deploymentConfiguration: { maximumPercent: 150 },
    };
    expect(create(body)).toEqual(body);
  });

  type Bad = [name: string, change: Record<string, unknown>, path: string, message: RegExp];
  it.each<Bad>([
    ['serviceName missing', { serviceName: undefined }, 'serviceName', ANY],
    [
      'serviceName with a space',
      { serviceName: 'my web' },
      'serviceName',
      /1-120 letters, digits, hyphens/,
    ],
    ['serviceName not a string', { serviceName: 42 }, 'serviceName', ANY],
    ['taskDefinition missing', { taskDefinition: undefined }, 'taskDefinition', ANY],
    ['desiredCount missing', { desiredCount: undefined }, 'desiredCount', ANY],
    ['desiredCount negative', { desiredCount: -1 }, 'desiredCount', ANY],
    ['desiredCount fractional', { desiredCount: 1.5 }, 'desiredCount', ANY],
    ['desiredCount as a string', { desiredCount: '3' }, 'desiredCount', ANY],
    ['desiredCount above 10000', { desiredCount: 10_001 }, 'desiredCount', ANY],
    ['cluster with a slash', { cluster: 'a/b' }, 'cluster', ANY],
    ['launchType unknown', { launchType: 'LAMBDA' }, 'launchType', ANY],
    [
      'no subnets',
      { networkConfiguration: { awsvpcConfiguration: { subnets: [] } } },
      'networkConfiguration.awsvpcConfiguration.subnets',
      /at least one subnet/,
    ],
    [
      'an empty subnet id',
      { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', ''] } } },
      'networkConfiguration.awsvpcConfiguration.subnets[1]',
      ANY,
    ],
    [
      'subnets missing',
      { networkConfiguration: { awsvpcConfiguration: {} } },
      'networkConfiguration.awsvpcConfiguration.subnets',
      ANY,
    ],
    [
      'assignPublicIp unknown',
      { networkConfiguration: { awsvpcConfiguration: { subnets: ['s'], assignPublicIp: 'YES' } } },
      'networkConfiguration.awsvpcConfiguration.assignPublicIp',
      ANY,
    ],
    [
      'maximumPercent below 100',
      { deploymentConfiguration: { maximumPercent: 99 } },
      'deploymentConfiguration.maximumPercent',
      ANY,
    ],
    [
      'maximumPercent 100 with the default minimum of 100 (a deployment could never proceed)',
      { deploymentConfiguration: { maximumPercent: 100 } },
      'deploymentConfiguration.maximumPercent',
      /could never replace a task/,
    ],
    [
      'maximumPercent fractional',
      { deploymentConfiguration: { maximumPercent: 150.5 } },
      'deploymentConfiguration.maximumPercent',
      ANY,
    ],
    [
      'minimumHealthyPercent above 100',
      { deploymentConfiguration: { minimumHealthyPercent: 101 } },
      'deploymentConfiguration.minimumHealthyPercent',
      ANY,
    ],
    [
      'an unknown top-level field',
      { serviceRegistries: [{ registryArn: 'arn:aws:servicediscovery:x' }] },
      'serviceRegistries',
      /^is not a known field$/,
    ],
    [
      'an unknown nested field',
      { networkConfiguration: { awsvpcConfiguration: { subnets: ['s'], vpcId: 'vpc-1' } } },
      'networkConfiguration.awsvpcConfiguration.vpcId',
      /^is not a known field$/,
    ],
    [
      'an unknown field in deploymentConfiguration',
      { deploymentConfiguration: { maximumPercent: 200, alarms: {} } },
      'deploymentConfiguration.alarms',
      /^is not a known field$/,
    ],
  ])('rejects %s, reported at its path', (_name, change, path, message) => {
    const body: Record<string, unknown> = { ...validBody(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const errors = errorsOf(() => create(body));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe(path);
    expect(errors[0]?.message).toMatch(message);
  });

  it('lists every bad field at once, in field order, and names them in the message', () => {
    let thrown: unknown;
    try {
      create({
        serviceName: 'a b',
        taskDefinition: 'web:0',
        desiredCount: 1.5,
        capacityProviderStrategy: [],
        networkConfiguration: { awsvpcConfiguration: { subnets: [] } },
        deploymentConfiguration: { maximumPercent: 50 },
        tags: [{ key: 'aws:owner' }],
        schedulingStrategy: 'DAEMON',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    const error = thrown as ValidationError;
    const paths = [
      'serviceName',
      'taskDefinition',
      'desiredCount',
      'capacityProviderStrategy',
      'networkConfiguration.awsvpcConfiguration.subnets',
      'deploymentConfiguration.maximumPercent',
      'tags[0].key',
      'schedulingStrategy',
    ];
    expect(error.errors.map((e) => e.path)).toEqual(paths);
    expect(error.message).toBe(`Invalid service: ${paths.join(', ')}`);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [validBody()]],
    ['a string', JSON.stringify(validBody())],
  ])('rejects %s as a body, reported at (body)', (_name, input) => {
    expect(pathsOf(() => create(input))).toEqual(['(body)']);
  });
});

describe('service names (ECS: 1-255 letters, digits, hyphens, underscores; new ones at most 120)', () => {
  it('a name of 121 to 255 characters is a name, but not one a new service may take', () => {
    for (const serviceName of ['x'.repeat(121), 'x'.repeat(255)]) {
      expect(serviceNameSchema.safeParse(serviceName).success).toBe(true);
      expect(errorsOf(() => create({ ...validBody(), serviceName }))).toEqual([
        { path: 'serviceName', message: expect.stringMatching(/at most 120 characters/) },
      ]);
    }
  });

  it.each<[string, string]>([
    ['one letter', 'a'],
    ['one digit', '7'],
    ['hyphen and underscore', 'my-web_api-2'],
    ['upper case', 'WebAPI'],
    ['120 characters', 'x'.repeat(120)],
    ['leading hyphen (ECS allows it)', '-web'],
  ])('accepts %s', (_name, serviceName) => {
    expect(serviceNameSchema.safeParse(serviceName).success).toBe(true);
    expect(create({ ...validBody(), serviceName }).serviceName).toBe(serviceName);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['256 characters', 'x'.repeat(256)],
    ['a space', 'my web'],
    ['a slash', 'steward/web'],
    ['a dot', 'web.v2'],
    ['a colon', 'web:1'],
    ['non-ASCII letters', 'wéb'],
    ['a trailing newline', 'web\n'],
  ])('rejects %s', (_name, serviceName) => {
    expect(serviceNameSchema.safeParse(serviceName).success).toBe(false);
    expect(pathsOf(() => create({ ...validBody(), serviceName }))).toEqual(['serviceName']);
  });
});

describe('task definition forms', () => {
  it.each<[string, string]>([
    ['family', 'web'],
    ['family:revision', 'web:3'],
    ['family with - and _', 'my-web_app:12'],
    ['large revision', 'web:999999999'],
    ['ARN', 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3'],
    [
      'ARN in another partition',
      'arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/web:1',
    ],
  ])('accepts %s', (_name, taskDefinition) => {
    expect(create({ ...validBody(), taskDefinition }).taskDefinition).toBe(taskDefinition);
  });

  it.each<[string, string]>([
    ['revision 0', 'family:0'],
    ['a leading zero in the revision', 'web:03'],
    ['a negative revision', 'web:-1'],
    ['an empty revision', 'web:'],
    ['a space in the family', 'fam ily'],
    ['empty', ''],
    ['a family over 255 characters', 'x'.repeat(256)],
    ['an ARN of another resource', 'arn:aws:ecs:eu-west-1:123456789012:service/default/web'],
    ['an ARN with a short account id', 'arn:aws:ecs:eu-west-1:1234:task-definition/web:3'],
  ])('rejects %s', (_name, taskDefinition) => {
    const errors = errorsOf(() => create({ ...validBody(), taskDefinition }));
    expect(errors).toEqual([
      {
        path: 'taskDefinition',
        message: 'must be family, family:revision or a task definition ARN',
      },
    ]);
  });
});

describe('updateServiceSchema', () => {
  it.each<[string, unknown]>([
    ['a new desiredCount', { desiredCount: 5 }],
    ['desiredCount 0 (pause)', { desiredCount: 0 }],
  ])('accepts %s', (_name, body) => {
    expect(update(body)).toEqual(body);
  });

  it.each<[string, unknown, { path: string; message?: string }[]]>([
    ['a negative desiredCount', { desiredCount: -1 }, [{ path: 'desiredCount' }]],
    ['a string desiredCount', { desiredCount: '5' }, [{ path: 'desiredCount' }]],
    [
      'a field that cannot be changed with an invalid one',
      { desiredCount: -1, serviceName: 'other' },
      [{ path: 'desiredCount' }, { path: 'serviceName', message: 'is not a known field' }],
    ],
    ['null', null, [{ path: '(body)' }]],
  ])('rejects %s', (_name, body, expected) => {
    const errors = errorsOf(() => update(body));
    expect(errors).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(errors[i]).toMatchObject(e);
    });
  });

  it('an unknown field alone is reported at its path, and only there', () => {
    expect(errorsOf(() => update({ serviceName: 'other' }))).toEqual([
      { path: 'serviceName', message: 'is not a known field' },
    ]);
  });
});
