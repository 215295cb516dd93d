import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type FieldError, ValidationError } from '../../shared/core/errors';
import {
  cpuUnitsOf,
  FARGATE_TASK_SIZES,
  isFargateSize,
  MAX_YAML_ALIASES,
  memoryMiBOf,
  parseTaskDefinitionBody,
  registerTaskDefinitionSchema,
  validateTaskDefinition,
} from '../../shared/core/task-definition';

type Json = Record<string, unknown>;

const IMAGE = 'public.ecr.aws/docker/library/httpd:2.4';
const container = (over: Json = {}): Json => ({ name: 'app', image: IMAGE, ...over });
/** A minimal valid Fargate definition; `over` replaces task-level members. */
const fargate = (over: Json = {}, containers: Json[] = [container()]): Json => ({
  family: 'web',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: containers,
  ...over,
});
/** A minimal valid EC2 definition (bridge network mode by default). */
const ec2 = (over: Json = {}, containers: Json[] = [container({ memory: 256 })]): Json => ({
  family: 'web',
  containerDefinitions: containers,
  ...over,
});
/** `body` without the named members. */
const omit = (body: Json, ...keys: string[]): Json =>
  Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)));

/** The errors `fn` throws as a ValidationError, or a failure if it does not throw one. */
function errorsOf(fn: () => unknown): FieldError[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}
const validate = (input: unknown) => () => validateTaskDefinition(input);
const yaml = (body: string) => () => parseTaskDefinitionBody({ body, contentType: 'yaml' });
const json = (body: string) => () => parseTaskDefinitionBody({ body, contentType: 'json' });

// Modelled on the "Webserver" example of the ECS developer guide (example_task_definitions).
const AWS_DOCS_WEBSERVER = `{
  "containerDefinitions": [
    {
      "command": [
        "/bin/sh -c \\"echo '<html><body><h1>Amazon ECS Sample App</h1></body></html>' > /usr/local/apache2/htdocs/index.html && httpd-foreground\\""
      ],
      "entryPoint": ["sh", "-c"],
      "essential": true,
      "image": "public.ecr.aws/docker/library/httpd:2.4",
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
          "awslogs-group": "/ecs/fargate-task-definition",
          "awslogs-region": "us-east-1",
          "awslogs-stream-prefix": "ecs"
        }
      },
      "name": "sample-fargate-app",
      "portMappings": [{ "containerPort": 80, "hostPort": 80, "protocol": "tcp" }]
    }
  ],
  "cpu": "256",
  "executionRoleArn": "arn:aws:iam::012345678910:role/ecsTaskExecutionRole",
  "family": "fargate-task-definition",
  "memory": "512",
  "networkMode": "awsvpc",
  "runtimePlatform": { "operatingSystemFamily": "LINUX" },
  "requiresCompatibilities": ["FARGATE"]
}`;

/** A fuller Fargate definition: sidecars, dependencies, secrets, EFS, FireLens, Service Connect. */
const fullDefinition = (): Json => ({
  family: 'shop-api',
  taskRoleArn: 'arn:aws:iam::123456789012:role/shop/api-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '1024',
  memory: '3072',
  runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
  ephemeralStorage: { sizeInGiB: 30 },
  enableFaultInjection: false,
  pidMode: 'task',
  volumes: [
    {
      name: 'assets',
      efsVolumeConfiguration: {
        fileSystemId: 'fs-0123456789abcdef0',
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0', iam: 'ENABLED' },
      },
    },
    { name: 'scratch', host: {} },
  ],
  containerDefinitions: [
    {
      name: 'migrate',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop-api:1.4.2',
      essential: false,
      command: ['bin/migrate'],
      secrets: [
        {
          name: 'DATABASE_URL',
          valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf',
        },
      ],
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': '/ecs/shop', 'awslogs-stream-prefix': 'migrate' },
      },
    },
    {
      name: 'api',
      image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop-api@sha256:${'a1'.repeat(32)}`,
      cpu: 512,
      memory: 2048,
      memoryReservation: 1024,
      portMappings: [
        { name: 'http', containerPort: 8080, protocol: 'tcp', appProtocol: 'http' },
        { containerPortRange: '9000-9010', protocol: 'udp' },
      ],
      environment: [{ name: 'PORT', value: '8080' }],
      environmentFiles: [{ type: 's3', value: 'arn:aws:s3:::shop-config/api.env' }],
      mountPoints: [
        { sourceVolume: 'assets', containerPath: '/srv/assets', readOnly: true },
        { sourceVolume: 'scratch', containerPath: '/tmp/scratch' },
      ],
      dependsOn: [
        { containerName: 'migrate', condition: 'SUCCESS' },
        { containerName: 'log-router', condition: 'START' },
      ],
      healthCheck: {
        command: ['CMD-SHELL', 'curl -f http://localhost:8080/health || exit 1'],
        interval: 30,
        timeout: 5,
        retries: 3,
        startPeriod: 60,
      },
      ulimits: [{ name: 'nofile', softLimit: 65_535, hardLimit: 65_535 }],
      linuxParameters: {
        initProcessEnabled: true,
        capabilities: { add: ['SYS_PTRACE'], drop: ['NET_RAW'] },
      },
      readonlyRootFilesystem: true,
      user: '1000:1000',
      stopTimeout: 60,
      restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 300 },
      dockerLabels: { team: 'shop' },
      versionConsistency: 'enabled',
      logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch' } },
    },
    {
      name: 'log-router',
      image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
      essential: true,
      memoryReservation: 50,
      firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
    },
  ],
  tags: [
    { key: 'team', value: 'shop' },
    { key: 'cost-center', value: '' },
  ],
});

describe('validateTaskDefinition: realistic definitions', () => {
  it('accepts the AWS docs webserver example, unchanged', () => {
    const parsed = parseTaskDefinitionBody({ body: AWS_DOCS_WEBSERVER, contentType: 'json' });
    expect(validateTaskDefinition(parsed)).toEqual(JSON.parse(AWS_DOCS_WEBSERVER));
  });

  it('accepts a full multi-container Fargate definition, unchanged', () => {
    expect(validateTaskDefinition(fullDefinition())).toEqual(fullDefinition());
  });

  it('gives a value the ECS SDK takes as RegisterTaskDefinition input as it is', () => {
    // A compile-time check as much as a run-time one: tsc fails if the types drift apart.
    const input: RegisterTaskDefinitionCommandInput = validateTaskDefinition(fullDefinition());
    expect(input.containerDefinitions?.map((c) => c.name)).toEqual([
      'migrate',
      'api',
      'log-router',
    ]);
  });

  it.each<[given: Json, cpu: string, memory: string]>([
    [{ cpu: '1 vCPU', memory: '2 GB' }, '1024', '2048'],
    [{ cpu: '0.25 vcpu', memory: '0.5GB' }, '256', '512'],
    [{ cpu: '.5 VCPU', memory: '1gb' }, '512', '1024'],
    [{ cpu: 2048, memory: 4096 }, '2048', '4096'],
    [{ cpu: ' 4096 ', memory: '30 GB' }, '4096', '30720'],
  ])('normalises task cpu and memory %j as ECS stores them', (given, cpu, memory) => {
    const out = validateTaskDefinition(fargate(given));
    expect([out.cpu, out.memory]).toEqual([cpu, memory]);
  });

  it('treats members set to null as absent, as ECS does', () => {
    const body = fargate({ volumes: null, taskRoleArn: null }, [
      container({ command: null, environment: [{ name: 'A', value: null }] }),
    ]);
    expect(validateTaskDefinition(body)).toEqual(
      fargate({}, [container({ environment: [{ name: 'A' }] })]),
    );
  });

  it('refuses an own __proto__ member instead of treating it as a prototype', () => {
    const body = JSON.parse('{"family":"web","__proto__":{"cpu":"256"},"containerDefinitions":[]}');
    expect(errorsOf(validate(body))).toEqual([
      { path: 'containerDefinitions', message: 'must hold at least one container' },
      { path: '__proto__', message: 'is not a known field' },
    ]);
  });

  it('lists every bad field at once, structural and cross-field, in one ValidationError', () => {
    let thrown: unknown;
    try {
      validateTaskDefinition(
        ec2({ surprise: 1 }, [container(), container({ memory: 128, colour: 'blue' })]),
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    const error = thrown as ValidationError;
    expect(error.errors).toEqual([
      { path: 'containerDefinitions[1].colour', message: 'is not a known field' },
      { path: 'surprise', message: 'is not a known field' },
      {
        path: 'containerDefinitions[0].memory',
        message: 'is required, or memoryReservation, when the task sets no memory',
      },
      {
        path: 'containerDefinitions[1].name',
        message: 'must be unique: containerDefinitions[0] is also named "app"',
      },
    ]);
    expect(error.message).toBe(
      `Invalid task definition: ${error.errors.map((e) => e.path).join(', ')}`,
    );
  });

  it('reports a failed format check and a cross-field problem together', () => {
    const body = fargate({}, [
      container({ portMappings: [{ containerPortRange: '9000-8000' }] }),
      container(),
    ]);
    expect(errorsOf(validate(body))).toEqual([
      {
        path: 'containerDefinitions[0].portMappings[0].containerPortRange',
        message: 'must be "first-last" with 1 <= first < last <= 65535',
      },
      {
        path: 'containerDefinitions[1].name',
        message: 'must be unique: containerDefinitions[0] is also named "app"',
      },
    ]);
  });

  it('skips the cross-field rules while a member has the wrong type', () => {
    // Two containers named alike, but a member of the wrong type: only the type is reported.
    expect(errorsOf(validate(ec2({}, [container({ memory: '256' }), container()])))).toEqual([
      {
        path: 'containerDefinitions[0].memory',
        message: 'Invalid input: expected number, received string',
      },
    ]);
  });

  it('is what registerTaskDefinitionSchema decides', () => {
    expect(registerTaskDefinitionSchema.safeParse(fargate()).success).toBe(true);
    expect(registerTaskDefinitionSchema.safeParse(fargate({ networkMode: 'bridge' })).success).toBe(
      false,
    );
  });
});

describe('YAML bodies', () => {
  const yamlDefinition = (count: number): string =>
    [
      'family: many',
      'containerDefinitions:',
      ...Array.from({ length: count }, (_, i) =>
        [
          `  - name: c${i}`,
          `    image: ${IMAGE}`,
          '    memory: 64',
          `    essential: ${i === 0 ? 'true' : 'false'}`,
        ].join('\n'),
      ),
    ].join('\n');

  it('accepts a definition with 10 containers', () => {
    const out = validateTaskDefinition(
      parseTaskDefinitionBody({ body: yamlDefinition(10), contentType: 'yaml' }),
    );
    expect(out.containerDefinitions.map((c) => c.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `c${i}`),
    );
  });

  it('rejects 11 containers at containerDefinitions, saying the limit', () => {
    const body = parseTaskDefinitionBody({ body: yamlDefinition(11), contentType: 'yaml' });
    expect(errorsOf(validate(body))).toEqual([
      {
        path: 'containerDefinitions',
        message: "must hold at most 10 containers (ECS's limit per task definition)",
      },
    ]);
  });

  it('reads the AWS docs example as YAML too (JSON is YAML)', () => {
    expect(yaml(AWS_DOCS_WEBSERVER)()).toEqual(JSON.parse(AWS_DOCS_WEBSERVER));
  });

  it('reads YAML 1.2: yes, on, dates and octal-looking numbers keep their JSON meaning', () => {
    expect(yaml('a: yes\nb: on\nc: 2024-01-01\nd: 012\ne: "80"\nf: 1e3\ng: ~\n')()).toEqual({
      a: 'yes',
      b: 'on',
      c: '2024-01-01',
      d: 12,
      e: '80',
      f: 1000,
      g: null,
    });
  });

  it('expands anchors, aliases and merge keys within the limit', () => {
    const body = [
      'family: web',
      'x-defaults: &defaults',
      '  image: nginx:1.27',
      '  memory: 128',
      'containerDefinitions:',
      '  - <<: *defaults',
      '    name: a',
      '  - <<: *defaults',
      '    name: b',
      '    essential: false',
    ].join('\n');
    expect(yaml(body)()).toEqual({
      family: 'web',
      'x-defaults': { image: 'nginx:1.27', memory: 128 },
      containerDefinitions: [
        { image: 'nginx:1.27', memory: 128, name: 'a' },
        { image: 'nginx:1.27', memory: 128, name: 'b', essential: false },
      ],
    });
  });

  it('ignores a leading byte-order mark', () => {
    expect(yaml('\uFEFFfamily: web\n')()).toEqual({ family: 'web' });
  });

  it.each<[name: string, body: string, message: string]>([
    [
      'a syntax error, with its line and column',
      'family: web\ncontainerDefinitions:\n  - name: a\n   image: b\n',
      'is not valid YAML: Sequence item without - indicator at line 4, column 1',
    ],
    [
      'an unclosed quote',
      'family: "web\n',
      'is not valid YAML: Missing closing "quote at line 2, column 1',
    ],
    [
      'a duplicate key',
      'family: a\nfamily: b\n',
      'is not valid YAML: Map keys must be unique at line 2, column 1',
    ],
    [
      'tabs as indentation',
      'containerDefinitions:\n\t- name: a\n',
      'is not valid YAML: Tabs are not allowed as indentation at line 2, column 1',
    ],
    [
      'several documents',
      'family: a\n---\nfamily: b\n',
      'is not valid YAML: Source contains multiple documents; please use YAML.parseAllDocuments() at line 2, column 1',
    ],
    [
      'a custom tag',
      'family: !Ref Family\n',
      'is not valid YAML: Unresolved tag: !Ref at line 1, column 9',
    ],
    [
      'binary data',
      'family: web\nimage: !!binary aGVsbG8=\n',
      'is not accepted: it uses the YAML tag !!binary, which is not a JSON value at line 2, column 17',
    ],
    [
      'a timestamp',
      'family: web\nstarted: !!timestamp 2024-01-01\n',
      'is not accepted: it uses the YAML tag !!timestamp, which is not a JSON value at line 2, column 22',
    ],
    [
      'a set',
      'family: web\nnames: !!set {a, b}\n',
      'is not accepted: it uses the YAML tag !!set, which is not a JSON value at line 2, column 14',
    ],
    [
      'infinity',
      'family: web\nmemory: .inf\n',
      'is not accepted: it holds .inf, which is not a JSON number at line 2, column 9',
    ],
    [
      'not-a-number',
      'memory: .NaN\n',
      'is not accepted: it holds .NaN, which is not a JSON number at line 1, column 9',
    ],
    [
      'a list as a key',
      'family: web\n? [a, b]\n: c\n',
      'is not accepted: it uses a list or mapping as a key at line 2, column 3',
    ],
    [
      'an alias bomb',
      [
        'a: &a [x, x, x, x, x, x, x, x, x]',
        'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
        'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      ].join('\n'),
      `is not accepted: its aliases expand to too much data (more than ${MAX_YAML_ALIASES} alias uses)`,
    ],
    ['a list document', '- family: web\n', 'must be a YAML mapping at the top level, not a list'],
    ['a scalar document', 'web\n', 'must be a YAML mapping at the top level, not a string'],
    ['an empty document', '# nothing here\n', 'must be a YAML mapping at the top level, not empty'],
  ])('rejects %s at (body)', (_name, body, message) => {
    let thrown: unknown;
    try {
      yaml(body)();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).errors).toEqual([{ path: '(body)', message }]);
    expect((thrown as ValidationError).message).toBe(
      `Invalid task definition: the body ${message}`,
    );
  });
});

describe('JSON bodies', () => {
  it('parses an object and ignores a leading byte-order mark', () => {
    expect(json('\uFEFF{"family": "web"}')()).toEqual({ family: 'web' });
  });

  it.each<[name: string, body: string, message: string]>([
    [
      'a missing value',
      '{\n  "family": "web",\n  "cpu": }',
      'is not valid JSON: expected a value, found "}" at line 3, column 10',
    ],
    [
      'a missing comma',
      '{\n  "family": "web"\n  "cpu": "256"\n}',
      `is not valid JSON: expected ',' or '}' after a property value, found "\\"" at line 3, column 3`,
    ],
    [
      'a trailing comma',
      '{"containerDefinitions": [{"name": "a"},]}',
      'is not valid JSON: expected a value, found "]" at line 1, column 41',
    ],
    [
      'a trailing comma in an object',
      '{"family": "web",\n}',
      'is not valid JSON: expected a property name in double quotes, found "}" at line 2, column 1',
    ],
    [
      'single quotes',
      "{'family': 'web'}",
      `is not valid JSON: expected a property name in double quotes, found "'" at line 1, column 2`,
    ],
    [
      'an unterminated string',
      '{"family": "web',
      'is not valid JSON: unterminated string at line 1, column 16',
    ],
    [
      'a bad escape',
      '{"family": "w\\eb"}',
      'is not valid JSON: bad escape \\e at line 1, column 15',
    ],
    [
      'a raw newline in a string',
      '{"family": "w\neb"}',
      'is not valid JSON: control character in a string (escape it) at line 1, column 14',
    ],
    [
      'YAML sent as JSON',
      'family: web\n',
      'is not valid JSON: expected a value, found "f" at line 1, column 1',
    ],
    [
      'text after the value',
      '{"family": "web"} x',
      'is not valid JSON: unexpected "x" after the value at line 1, column 19',
    ],
    [
      'an empty body',
      '',
      'is not valid JSON: expected a value, found the end of the input at line 1, column 1',
    ],
    ['a list', '[{"family": "web"}]', 'must be a JSON object at the top level, not a list'],
    ['a string', '"web"', 'must be a JSON object at the top level, not a string'],
    ['null', 'null', 'must be a JSON object at the top level, not empty'],
  ])('rejects %s at (body)', (_name, body, message) => {
    expect(errorsOf(json(body))).toEqual([{ path: '(body)', message }]);
  });
});

describe('members checked on their own', () => {
  type Bad = [name: string, body: Json, path: string, message: string];
  it.each<Bad>([
    [
      'an unknown top-level field',
      ec2({ taskDefinitionArn: 'x' }),
      'taskDefinitionArn',
      'is not a known field',
    ],
    [
      'an unknown container field',
      ec2({}, [container({ memory: 128, memoryLimit: 1 })]),
      'containerDefinitions[0].memoryLimit',
      'is not a known field',
    ],
    [
      'an unknown port mapping field',
      ec2({}, [
        container({ memory: 128, portMappings: [{ containerPort: 80, hostIp: '0.0.0.0' }] }),
      ]),
      'containerDefinitions[0].portMappings[0].hostIp',
      'is not a known field',
    ],
    [
      'an unknown EFS field',
      ec2({
        volumes: [{ name: 'v', efsVolumeConfiguration: { fileSystemId: 'fs-1', readOnly: true } }],
      }),
      'volumes[0].efsVolumeConfiguration.readOnly',
      'is not a known field',
    ],
    [
      'family missing',
      omit(ec2(), 'family'),
      'family',
      'Invalid input: expected string, received undefined',
    ],
    [
      'family with a dot',
      ec2({ family: 'web.v2' }),
      'family',
      'must be 1-255 letters, digits, hyphens (-) or underscores (_)',
    ],
    [
      'family of 256 characters',
      ec2({ family: 'f'.repeat(256) }),
      'family',
      'must be 1-255 letters, digits, hyphens (-) or underscores (_)',
    ],
    ['no containers', ec2({}, []), 'containerDefinitions', 'must hold at least one container'],
    [
      'a container name with a space',
      ec2({}, [container({ name: 'my app', memory: 128 })]),
      'containerDefinitions[0].name',
      'must be 1-255 letters, digits, hyphens (-) or underscores (_)',
    ],
    [
      'a container without image',
      ec2({}, [omit(container({ memory: 128 }), 'image')]),
      'containerDefinitions[0].image',
      'Invalid input: expected string, received undefined',
    ],
    [
      'an image with a space',
      ec2({}, [container({ image: 'nginx latest', memory: 128 })]),
      'containerDefinitions[0].image',
      'must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits',
    ],
    [
      'an image with a short digest',
      ec2({}, [container({ image: 'nginx@sha256:abc', memory: 128 })]),
      'containerDefinitions[0].image',
      'must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits',
    ],
    [
      'an unknown network mode',
      ec2({ networkMode: 'nat' }),
      'networkMode',
      'Invalid option: expected one of "bridge"|"host"|"awsvpc"|"none"',
    ],
    [
      'an unknown compatibility',
      ec2({ requiresCompatibilities: ['LAMBDA'] }),
      'requiresCompatibilities[0]',
      'Invalid option: expected one of "EC2"|"FARGATE"|"EXTERNAL"|"MANAGED_INSTANCES"',
    ],
    [
      'task cpu that is not a size',
      ec2({ cpu: 'two' }),
      'cpu',
      'must be a whole number of CPU units ("1024") or vCPUs ("1 vCPU", "0.25 vcpu")',
    ],
    [
      'task cpu of a boolean',
      ec2({ cpu: true }),
      'cpu',
      'must be CPU units ("1024") or vCPUs ("1 vCPU")',
    ],
    [
      'task cpu below 128 units',
      ec2({ cpu: '64' }),
      'cpu',
      'must be between 128 and 196608 CPU units (0.125 to 192 vCPU)',
    ],
    [
      'task cpu above 192 vCPU',
      ec2({ cpu: '193 vCPU' }),
      'cpu',
      'must be between 128 and 196608 CPU units (0.125 to 192 vCPU)',
    ],
    [
      'task memory in TB',
      ec2({ memory: '2 TB' }),
      'memory',
      'must be a whole number of MiB ("2048") or GB ("2 GB", "0.5GB")',
    ],
    ['task memory below 6 MiB', ec2({ memory: '4' }), 'memory', 'must be at least 6 MiB'],
    [
      'container memory below 6 MiB',
      ec2({}, [container({ memory: 4 })]),
      'containerDefinitions[0].memory',
      "must be at least 6 MiB (Docker's minimum for a container)",
    ],
    [
      'container memory fractional',
      ec2({}, [container({ memory: 128.5 })]),
      'containerDefinitions[0].memory',
      'Invalid input: expected int, received number',
    ],
    [
      'container cpu negative',
      ec2({}, [container({ memory: 128, cpu: -1 })]),
      'containerDefinitions[0].cpu',
      'Too small: expected number to be >=0',
    ],
    [
      'essential as a string',
      ec2({}, [container({ memory: 128, essential: 'yes' })]),
      'containerDefinitions[0].essential',
      'Invalid input: expected boolean, received string',
    ],
    [
      'containerPort above 65535',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPort: 65_536 }] })]),
      'containerDefinitions[0].portMappings[0].containerPort',
      'Too big: expected number to be <=65535',
    ],
    [
      'containerPort negative',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPort: -1 }] })]),
      'containerDefinitions[0].portMappings[0].containerPort',
      'Too small: expected number to be >=0',
    ],
    [
      'protocol sctp',
      ec2({}, [
        container({ memory: 128, portMappings: [{ containerPort: 80, protocol: 'sctp' }] }),
      ]),
      'containerDefinitions[0].portMappings[0].protocol',
      'Invalid option: expected one of "tcp"|"udp"',
    ],
    [
      'a port range backwards',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPortRange: '8010-8000' }] })]),
      'containerDefinitions[0].portMappings[0].containerPortRange',
      'must be "first-last" with 1 <= first < last <= 65535',
    ],
    [
      'a port range from 0',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPortRange: '0-10' }] })]),
      'containerDefinitions[0].portMappings[0].containerPortRange',
      'must be "first-last" with 1 <= first < last <= 65535',
    ],
    [
      'a port name in upper case',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPort: 80, name: 'HTTP' }] })]),
      'containerDefinitions[0].portMappings[0].name',
      'must be 1-64 lower-case letters, digits, underscores (_) or hyphens (-), not starting with a hyphen',
    ],
    [
      'a link to name:alias:extra',
      ec2({}, [container({ memory: 128, links: ['db:database:x'] })]),
      'containerDefinitions[0].links[0]',
      'must be "name" or "name:alias"',
    ],
    [
      'a health check without CMD',
      ec2({}, [
        container({ memory: 128, healthCheck: { command: ['curl', '-f', 'http://localhost/'] } }),
      ]),
      'containerDefinitions[0].healthCheck.command[0]',
      'must start with CMD or CMD-SHELL',
    ],
    [
      'an empty health check',
      ec2({}, [container({ memory: 128, healthCheck: { command: [] } })]),
      'containerDefinitions[0].healthCheck.command',
      'must not be empty',
    ],
    [
      'a health check every 4 seconds',
      ec2({}, [container({ memory: 128, healthCheck: { command: ['CMD', 'true'], interval: 4 } })]),
      'containerDefinitions[0].healthCheck.interval',
      'Too small: expected number to be >=5',
    ],
    [
      '11 health check retries',
      ec2({}, [container({ memory: 128, healthCheck: { command: ['CMD', 'true'], retries: 11 } })]),
      'containerDefinitions[0].healthCheck.retries',
      'Too big: expected number to be <=10',
    ],
    [
      'a soft ulimit above the hard one',
      ec2({}, [
        container({ memory: 128, ulimits: [{ name: 'nofile', softLimit: 2048, hardLimit: 1024 }] }),
      ]),
      'containerDefinitions[0].ulimits[0].softLimit',
      'must be at most hardLimit',
    ],
    [
      'an unknown ulimit',
      ec2({}, [
        container({ memory: 128, ulimits: [{ name: 'files', softLimit: 1, hardLimit: 1 }] }),
      ]),
      'containerDefinitions[0].ulimits[0].name',
      'Invalid option: expected one of "core"|"cpu"|"data"|"fsize"|"locks"|"memlock"|"msgqueue"|"nice"|"nofile"|"nproc"|"rss"|"rtprio"|"rttime"|"sigpending"|"stack"',
    ],
    [
      'an unknown capability',
      ec2({}, [
        container({ memory: 128, linuxParameters: { capabilities: { add: ['SYS_FOO'] } } }),
      ]),
      'containerDefinitions[0].linuxParameters.capabilities.add[0]',
      'must be a Linux capability ECS knows, such as NET_ADMIN or SYS_PTRACE, or ALL',
    ],
    [
      'swappiness above 100',
      ec2({}, [container({ memory: 128, linuxParameters: { maxSwap: 0, swappiness: 101 } })]),
      'containerDefinitions[0].linuxParameters.swappiness',
      'Too big: expected number to be <=100',
    ],
    [
      'an environment file that is not a .env S3 object',
      ec2({}, [
        container({
          memory: 128,
          environmentFiles: [{ type: 's3', value: 'arn:aws:s3:::b/app.txt' }],
        }),
      ]),
      'containerDefinitions[0].environmentFiles[0].value',
      'must be the ARN of an S3 object whose name ends in .env',
    ],
    [
      '11 environment files',
      ec2({}, [
        container({
          memory: 128,
          environmentFiles: Array.from({ length: 11 }, (_, i) => ({
            type: 's3',
            value: `arn:aws:s3:::b/${i}.env`,
          })),
        }),
      ]),
      'containerDefinitions[0].environmentFiles',
      'Too big: expected array to have <=10 items',
    ],
    [
      'two credential specs',
      ec2({}, [
        container({ memory: 128, credentialSpecs: ['credentialspec:a', 'credentialspec:b'] }),
      ]),
      'containerDefinitions[0].credentialSpecs',
      'Too big: expected array to have <=1 items',
    ],
    [
      'a restart period under a minute',
      ec2({}, [
        container({ memory: 128, restartPolicy: { enabled: true, restartAttemptPeriod: 59 } }),
      ]),
      'containerDefinitions[0].restartPolicy.restartAttemptPeriod',
      'Too small: expected number to be >=60',
    ],
    [
      'a GPU count that is not a number',
      ec2({}, [container({ memory: 128, resourceRequirements: [{ type: 'GPU', value: 'two' }] })]),
      'containerDefinitions[0].resourceRequirements[0].value',
      'must be a whole number of GPUs, 1 or more',
    ],
    [
      'a secret without valueFrom',
      ec2({}, [container({ memory: 128, secrets: [{ name: 'TOKEN' }] })]),
      'containerDefinitions[0].secrets[0].valueFrom',
      'Invalid input: expected string, received undefined',
    ],
    [
      'a mount point without containerPath',
      ec2({ volumes: [{ name: 'v' }] }, [
        container({ memory: 128, mountPoints: [{ sourceVolume: 'v' }] }),
      ]),
      'containerDefinitions[0].mountPoints[0].containerPath',
      'Invalid input: expected string, received undefined',
    ],
    [
      'a docker label that is not a string',
      ec2({}, [container({ memory: 128, dockerLabels: { replicas: 3 } })]),
      'containerDefinitions[0].dockerLabels.replicas',
      'Invalid input: expected string, received number',
    ],
    [
      'an unknown log driver',
      ec2({}, [container({ memory: 128, logConfiguration: { logDriver: 'loki' } })]),
      'containerDefinitions[0].logConfiguration.logDriver',
      'Invalid option: expected one of "json-file"|"syslog"|"journald"|"gelf"|"fluentd"|"awslogs"|"splunk"|"awsfirelens"',
    ],
    [
      'an execution role given by name',
      ec2({ executionRoleArn: 'ecsTaskExecutionRole' }),
      'executionRoleArn',
      'must be an IAM role ARN (arn:aws:iam::123456789012:role/name)',
    ],
    [
      'a task role that is neither ARN nor name',
      ec2({ taskRoleArn: 'arn:aws:iam::123:role/x' }),
      'taskRoleArn',
      'must be an IAM role ARN (arn:aws:iam::123456789012:role/name) or a role name',
    ],
    [
      '51 tags',
      ec2({ tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}` })) }),
      'tags',
      'must hold at most 50 tags',
    ],
    [
      'a tag key of 129 characters',
      ec2({ tags: [{ key: 'k'.repeat(129) }] }),
      'tags[0].key',
      'Too big: expected string to have <=128 characters',
    ],
    [
      'an empty tag key',
      ec2({ tags: [{ key: '', value: 'v' }] }),
      'tags[0].key',
      'Too small: expected string to have >=1 characters',
    ],
    [
      'a tag value of 257 characters',
      ec2({ tags: [{ key: 'k', value: 'v'.repeat(257) }] }),
      'tags[0].value',
      'Too big: expected string to have <=256 characters',
    ],
    [
      'a tag value with a comma',
      ec2({ tags: [{ key: 'k', value: 'a,b' }] }),
      'tags[0].value',
      'may hold only letters, digits, spaces and _ . : / = + - @',
    ],
    [
      'ephemeral storage of 20 GiB',
      fargate({ ephemeralStorage: { sizeInGiB: 20 } }),
      'ephemeralStorage.sizeInGiB',
      'Too small: expected number to be >=21',
    ],
    [
      'ephemeral storage of 201 GiB',
      fargate({ ephemeralStorage: { sizeInGiB: 201 } }),
      'ephemeralStorage.sizeInGiB',
      'Too big: expected number to be <=200',
    ],
    [
      'a distinctInstance constraint in a task definition',
      ec2({ placementConstraints: [{ type: 'distinctInstance', expression: 'x' }] }),
      'placementConstraints[0].type',
      'Invalid input: expected "memberOf"',
    ],
    [
      '11 placement constraints',
      ec2({
        placementConstraints: Array.from({ length: 11 }, () => ({
          type: 'memberOf',
          expression: 'attribute:ecs.instance-type =~ t3.*',
        })),
      }),
      'placementConstraints',
      'must hold at most 10 constraints',
    ],
    [
      'an unknown operating system',
      fargate({ runtimePlatform: { operatingSystemFamily: 'MACOS' } }),
      'runtimePlatform.operatingSystemFamily',
      'Invalid option: expected one of "WINDOWS_SERVER_2019_FULL"|"WINDOWS_SERVER_2019_CORE"|"WINDOWS_SERVER_2016_FULL"|"WINDOWS_SERVER_2004_CORE"|"WINDOWS_SERVER_2022_CORE"|"WINDOWS_SERVER_2022_FULL"|"WINDOWS_SERVER_2025_CORE"|"WINDOWS_SERVER_2025_FULL"|"WINDOWS_SERVER_20H2_CORE"|"LINUX"',
    ],
    [
      'a volume name with a slash',
      ec2({ volumes: [{ name: 'a/b' }] }),
      'volumes[0].name',
      'must be 1-255 letters, digits, hyphens (-) or underscores (_)',
    ],
  ])('rejects %s, at its path', (_name, body, path, message) => {
    expect(errorsOf(validate(body))).toEqual([{ path, message }]);
  });

  it.each<[name: string, body: Json]>([
    ['a family of 255 characters', ec2({ family: `-${'f'.repeat(254)}` })],
    ['a task role given by name', ec2({ taskRoleArn: 'app-task_role.v2@x' })],
    [
      'a role ARN with a path',
      ec2({ executionRoleArn: 'arn:aws-cn:iam::123456789012:role/a/b/exec' }),
    ],
    [
      'ports 0 and 65535',
      ec2({}, [
        container({ memory: 128, portMappings: [{ containerPort: 0 }, { containerPort: 65_535 }] }),
      ]),
    ],
    [
      'a udp port',
      ec2({}, [container({ memory: 128, portMappings: [{ containerPort: 53, protocol: 'udp' }] })]),
    ],
    [
      '50 tags, one with an empty value',
      ec2({ tags: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: '' })) }),
    ],
    [
      'a tag in another script, with spaces',
      ec2({ tags: [{ key: 'Équipe données', value: 'Zürich 2' }] }),
    ],
    [
      'an image by digest with a tag',
      ec2({}, [container({ memory: 128, image: `repo/app:1.2@sha256:${'F'.repeat(64)}` })]),
    ],
    ['ephemeral storage of 21 and 200 GiB', fargate({ ephemeralStorage: { sizeInGiB: 200 } })],
    [
      'a health check at its limits',
      ec2({}, [
        container({
          memory: 6,
          healthCheck: {
            command: ['CMD', 'true'],
            interval: 300,
            timeout: 2,
            retries: 1,
            startPeriod: 0,
          },
        }),
      ]),
    ],
  ])('accepts %s unchanged', (_name, body) => {
    expect(validateTaskDefinition(body)).toEqual(body);
  });
});

/** One rule: a body that keeps it, one that breaks it, and the errors ECS's rule gives. */
type Rule = [rule: string, good: Json, bad: Json, errors: FieldError[]];

const two = (a: Json, b: Json): Json[] => [
  container({ memory: 128, ...a }),
  container({ name: 'side', memory: 128, ...b }),
];

const RULES: Rule[] = [
  // Container set
  [
    'container names are unique',
    ec2({}, two({}, {})),
    ec2({}, two({}, { name: 'app' })),
    [
      {
        path: 'containerDefinitions[1].name',
        message: 'must be unique: containerDefinitions[0] is also named "app"',
      },
    ],
  ],
  [
    'at least one container is essential (essential defaults to true)',
    ec2({}, two({ essential: false }, {})),
    ec2({}, two({ essential: false }, { essential: false })),
    [
      {
        path: 'containerDefinitions',
        message: 'must include at least one essential container (essential defaults to true)',
      },
    ],
  ],
  // Fargate
  [
    'Fargate needs networkMode awsvpc',
    fargate(),
    fargate({ networkMode: 'bridge' }),
    [
      {
        path: 'networkMode',
        message: 'must be awsvpc when requiresCompatibilities includes FARGATE',
      },
    ],
  ],
  [
    'Fargate needs networkMode awsvpc, even when none is given',
    fargate({ requiresCompatibilities: ['EC2', 'FARGATE'] }),
    omit(fargate(), 'networkMode'),
    [
      {
        path: 'networkMode',
        message: 'must be awsvpc when requiresCompatibilities includes FARGATE',
      },
    ],
  ],
  [
    'Fargate needs task cpu',
    fargate(),
    omit(fargate(), 'cpu'),
    [{ path: 'cpu', message: 'is required when requiresCompatibilities includes FARGATE' }],
  ],
  [
    'Fargate needs task memory',
    fargate(),
    omit(fargate(), 'memory'),
    [{ path: 'memory', message: 'is required when requiresCompatibilities includes FARGATE' }],
  ],
  [
    'Fargate cpu is one of its sizes',
    fargate({ cpu: '16384', memory: '122880' }),
    fargate({ cpu: '3 vCPU', memory: '6 GB' }),
    [
      {
        path: 'cpu',
        message: 'must be 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units on Fargate',
      },
    ],
  ],
  [
    'Fargate memory fits the cpu',
    fargate({ cpu: '256', memory: '2048' }),
    fargate({ cpu: '256', memory: '1536' }),
    [{ path: 'memory', message: 'must be 512, 1024 or 2048 MiB for a Fargate task with cpu 256' }],
  ],
  [
    'Windows containers on Fargate need 1, 2 or 4 vCPU',
    fargate({
      cpu: '1024',
      memory: '2048',
      runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' },
    }),
    fargate({
      cpu: '512',
      memory: '1024',
      runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' },
    }),
    [{ path: 'cpu', message: 'must be 1024, 2048 or 4096 for Windows containers on Fargate' }],
  ],
  [
    'Fargate takes no links',
    ec2({}, two({ links: ['side:sidecar'] }, {})),
    fargate({}, two({ links: ['side'] }, {})),
    [{ path: 'containerDefinitions[0].links', message: 'is not supported on Fargate' }],
  ],
  [
    'Fargate host ports equal container ports',
    fargate({}, [container({ portMappings: [{ containerPort: 80, hostPort: 80 }] })]),
    fargate({}, [container({ portMappings: [{ containerPort: 80, hostPort: 8080 }] })]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].hostPort',
        message: 'must equal containerPort (80) in awsvpc network mode',
      },
    ],
  ],
  [
    'Fargate runs no privileged container',
    ec2({}, [container({ memory: 128, privileged: true })]),
    fargate({}, [container({ privileged: true })]),
    [{ path: 'containerDefinitions[0].privileged', message: 'is not supported on Fargate' }],
  ],
  [
    'Fargate takes no ipcMode',
    ec2({ ipcMode: 'host' }),
    fargate({ ipcMode: 'task' }),
    [{ path: 'ipcMode', message: 'is not supported on Fargate' }],
  ],
  [
    'Fargate takes pidMode task only',
    fargate({ pidMode: 'task' }),
    fargate({ pidMode: 'host' }),
    [{ path: 'pidMode', message: 'must be task on Fargate' }],
  ],
  [
    'Fargate takes no Elastic Inference accelerators',
    ec2({ inferenceAccelerators: [{ deviceName: 'eia', deviceType: 'eia2.medium' }] }, [
      container({
        memory: 128,
        resourceRequirements: [{ type: 'InferenceAccelerator', value: 'eia' }],
      }),
    ]),
    fargate({ inferenceAccelerators: [{ deviceName: 'eia', deviceType: 'eia2.medium' }] }),
    [{ path: 'inferenceAccelerators', message: 'is not supported on Fargate' }],
  ],
  [
    'Fargate exposes no host devices',
    ec2({}, [
      container({ memory: 128, linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } }),
    ]),
    fargate({}, [container({ linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } })]),
    [
      {
        path: 'containerDefinitions[0].linuxParameters.devices',
        message: 'is not supported on Fargate',
      },
    ],
  ],
  [
    'Fargate takes no sharedMemorySize',
    ec2({}, [container({ memory: 128, linuxParameters: { sharedMemorySize: 64 } })]),
    fargate({}, [container({ linuxParameters: { sharedMemorySize: 64 } })]),
    [
      {
        path: 'containerDefinitions[0].linuxParameters.sharedMemorySize',
        message: 'is not supported on Fargate',
      },
    ],
  ],
  [
    'Fargate takes no maxSwap or swappiness',
    ec2({}, [container({ memory: 128, linuxParameters: { maxSwap: 512, swappiness: 10 } })]),
    fargate({}, [container({ linuxParameters: { maxSwap: 512, swappiness: 10 } })]),
    [
      {
        path: 'containerDefinitions[0].linuxParameters.maxSwap',
        message: 'is not supported on Fargate',
      },
      {
        path: 'containerDefinitions[0].linuxParameters.swappiness',
        message: 'is not supported on Fargate',
      },
    ],
  ],
  [
    'Fargate adds no capability but SYS_PTRACE',
    fargate({}, [
      container({ linuxParameters: { capabilities: { add: ['SYS_PTRACE'], drop: ['ALL'] } } }),
    ]),
    fargate({}, [
      container({ linuxParameters: { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] } } }),
    ]),
    [
      {
        path: 'containerDefinitions[0].linuxParameters.capabilities.add[1]',
        message: 'cannot be added on Fargate, which allows only SYS_PTRACE',
      },
    ],
  ],
  [
    'Fargate takes no dockerSecurityOptions',
    ec2({}, [container({ memory: 128, dockerSecurityOptions: ['no-new-privileges'] })]),
    fargate({}, [container({ dockerSecurityOptions: ['no-new-privileges'] })]),
    [
      {
        path: 'containerDefinitions[0].dockerSecurityOptions',
        message: 'is not supported on Fargate',
      },
    ],
  ],
  [
    'Fargate logs with awslogs, splunk or awsfirelens',
    ec2({}, [container({ memory: 128, logConfiguration: { logDriver: 'json-file' } })]),
    fargate({}, [container({ logConfiguration: { logDriver: 'json-file' } })]),
    [
      {
        path: 'containerDefinitions[0].logConfiguration.logDriver',
        message: 'must be awslogs, splunk or awsfirelens on Fargate',
      },
    ],
  ],
  [
    'awslogs on Fargate needs a group and a stream prefix',
    ec2({}, [
      container({
        memory: 128,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
      }),
    ]),
    fargate({}, [
      container({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }),
    ]),
    [
      {
        path: 'containerDefinitions[0].logConfiguration.options',
        message: 'must set awslogs-stream-prefix for the awslogs log driver on Fargate',
      },
    ],
  ],
  [
    'awslogs needs a group',
    ec2({}, [
      container({
        memory: 128,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
      }),
    ]),
    ec2({}, [container({ memory: 128, logConfiguration: { logDriver: 'awslogs' } })]),
    [
      {
        path: 'containerDefinitions[0].logConfiguration.options',
        message: 'must set awslogs-group for the awslogs log driver',
      },
    ],
  ],
  [
    'awsfirelens needs a log router in the task',
    ec2(
      {},
      two(
        { logConfiguration: { logDriver: 'awsfirelens' } },
        { firelensConfiguration: { type: 'fluentd' } },
      ),
    ),
    ec2({}, two({ logConfiguration: { logDriver: 'awsfirelens' } }, {})),
    [
      {
        path: 'containerDefinitions[0].logConfiguration.logDriver',
        message:
          'needs a log router: a container with firelensConfiguration in this task definition',
      },
    ],
  ],
  [
    'Fargate has no GPUs',
    ec2({}, [container({ memory: 128, resourceRequirements: [{ type: 'GPU', value: '1' }] })]),
    fargate({}, [container({ resourceRequirements: [{ type: 'GPU', value: '1' }] })]),
    [
      {
        path: 'containerDefinitions[0].resourceRequirements[0].type',
        message: 'GPU is not supported on Fargate',
      },
    ],
  ],
  [
    'Fargate timeouts are 2 to 120 seconds',
    fargate({}, [container({ startTimeout: 2, stopTimeout: 120 })]),
    fargate({}, [container({ startTimeout: 1, stopTimeout: 121 })]),
    [
      {
        path: 'containerDefinitions[0].startTimeout',
        message: 'must be 2 to 120 seconds on Fargate',
      },
      {
        path: 'containerDefinitions[0].stopTimeout',
        message: 'must be 2 to 120 seconds on Fargate',
      },
    ],
  ],
  [
    'Fargate takes no Docker volumes',
    ec2({
      volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } }],
    }),
    fargate({
      volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } }],
    }),
    [{ path: 'volumes[0].dockerVolumeConfiguration', message: 'is not supported on Fargate' }],
  ],
  [
    'Fargate bind mounts have no host sourcePath',
    fargate({ volumes: [{ name: 'v', host: {} }] }),
    fargate({ volumes: [{ name: 'v', host: { sourcePath: '/var/data' } }] }),
    [{ path: 'volumes[0].host.sourcePath', message: 'is not supported on Fargate' }],
  ],
  // Network modes and ports
  [
    'awsvpc host ports equal container ports, on EC2 too',
    ec2({ networkMode: 'awsvpc' }, [
      container({ memory: 128, portMappings: [{ containerPort: 80 }] }),
    ]),
    ec2({ networkMode: 'awsvpc' }, [
      container({ memory: 128, portMappings: [{ containerPort: 80, hostPort: 81 }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].hostPort',
        message: 'must equal containerPort (80) in awsvpc network mode',
      },
    ],
  ],
  [
    'host-mode host ports equal container ports',
    ec2({ networkMode: 'host' }, [
      container({ memory: 128, portMappings: [{ containerPort: 80, hostPort: 80 }] }),
    ]),
    ec2({ networkMode: 'host' }, [
      container({ memory: 128, portMappings: [{ containerPort: 80, hostPort: 0 }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].hostPort',
        message: 'must equal containerPort (80) in host network mode',
      },
    ],
  ],
  [
    'networkMode none has no port mappings',
    ec2({ networkMode: 'none' }, [container({ memory: 128, portMappings: [] })]),
    ec2({ networkMode: 'none' }, [
      container({ memory: 128, portMappings: [{ containerPort: 80 }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings',
        message: 'must be empty when networkMode is none',
      },
    ],
  ],
  [
    'a port mapping has a containerPort or a containerPortRange',
    ec2({}, [container({ memory: 128, portMappings: [{ containerPortRange: '8000-8010' }] })]),
    ec2({}, [container({ memory: 128, portMappings: [{ hostPort: 8080 }] })]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].containerPort',
        message: 'is required unless containerPortRange is given',
      },
    ],
  ],
  [
    'a port mapping has not both containerPort and containerPortRange',
    ec2({}, [
      container({
        memory: 128,
        portMappings: [{ containerPort: 80 }, { containerPortRange: '81-90' }],
      }),
    ]),
    ec2({}, [
      container({
        memory: 128,
        portMappings: [{ containerPort: 80, containerPortRange: '81-90' }],
      }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].containerPortRange',
        message: 'cannot be combined with containerPort',
      },
    ],
  ],
  [
    'a port range leaves hostPort out',
    fargate({}, [container({ portMappings: [{ containerPortRange: '8000-8010' }] })]),
    fargate({}, [
      container({ portMappings: [{ containerPortRange: '8000-8010', hostPort: 8000 }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].hostPort',
        message: 'must be omitted with containerPortRange',
      },
    ],
  ],
  [
    'port ranges need bridge or awsvpc',
    ec2({ networkMode: 'bridge' }, [
      container({ memory: 128, portMappings: [{ containerPortRange: '8000-8010' }] }),
    ]),
    ec2({ networkMode: 'host' }, [
      container({ memory: 128, portMappings: [{ containerPortRange: '8000-8010' }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[0].containerPortRange',
        message: 'is only supported in bridge and awsvpc network modes',
      },
    ],
  ],
  [
    'at most 100 port ranges per container',
    ec2({}, [
      container({
        memory: 128,
        portMappings: Array.from({ length: 100 }, (_, i) => ({
          containerPortRange: `${1000 + 10 * i}-${1005 + 10 * i}`,
        })),
      }),
    ]),
    ec2({}, [
      container({
        memory: 128,
        portMappings: Array.from({ length: 101 }, (_, i) => ({
          containerPortRange: `${1000 + 10 * i}-${1005 + 10 * i}`,
        })),
      }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings',
        message: 'can hold at most 100 port ranges per container',
      },
    ],
  ],
  [
    'no two containers of an awsvpc task map the same port and protocol',
    fargate(
      {},
      two(
        { portMappings: [{ containerPort: 53, protocol: 'tcp' }] },
        { portMappings: [{ containerPort: 53, protocol: 'udp' }] },
      ),
    ),
    fargate(
      {},
      two(
        { portMappings: [{ containerPort: 80 }] },
        { portMappings: [{ containerPort: 80, protocol: 'tcp' }] },
      ),
    ),
    [
      {
        path: 'containerDefinitions[1].portMappings[0].containerPort',
        message: 'overlaps tcp port 80 of containerDefinitions[0].portMappings[0]',
      },
    ],
  ],
  [
    'a port does not fall in a range of the same awsvpc task',
    fargate(
      {},
      two(
        { portMappings: [{ containerPortRange: '8000-8010' }] },
        { portMappings: [{ containerPort: 8011 }] },
      ),
    ),
    fargate(
      {},
      two(
        { portMappings: [{ containerPortRange: '8000-8010' }] },
        { portMappings: [{ containerPort: 8005 }] },
      ),
    ),
    [
      {
        path: 'containerDefinitions[1].portMappings[0].containerPort',
        message: 'overlaps tcp ports 8000-8010 of containerDefinitions[0].portMappings[0]',
      },
    ],
  ],
  [
    'bridge containers may share a container port, not within one container',
    ec2(
      {},
      two({ portMappings: [{ containerPort: 80 }] }, { portMappings: [{ containerPort: 80 }] }),
    ),
    ec2({}, [
      container({
        memory: 128,
        portMappings: [
          { containerPort: 80, hostPort: 8080 },
          { containerPort: 80, hostPort: 8081 },
        ],
      }),
    ]),
    [
      {
        path: 'containerDefinitions[0].portMappings[1].containerPort',
        message: 'overlaps tcp port 80 of containerDefinitions[0].portMappings[0]',
      },
    ],
  ],
  [
    'bridge host ports are not taken twice (0 means dynamic)',
    ec2(
      {},
      two(
        { portMappings: [{ containerPort: 80, hostPort: 0 }] },
        { portMappings: [{ containerPort: 81, hostPort: 0 }] },
      ),
    ),
    ec2(
      {},
      two(
        { portMappings: [{ containerPort: 80, hostPort: 8080 }] },
        { portMappings: [{ containerPort: 81, hostPort: 8080 }] },
      ),
    ),
    [
      {
        path: 'containerDefinitions[1].portMappings[0].hostPort',
        message: 'overlaps tcp host port 8080 of containerDefinitions[0].portMappings[0]',
      },
    ],
  ],
  [
    'port mapping names are unique in the task',
    fargate(
      {},
      two(
        { portMappings: [{ containerPort: 80, name: 'web' }] },
        { portMappings: [{ containerPort: 81, name: 'admin' }] },
      ),
    ),
    fargate(
      {},
      two(
        { portMappings: [{ containerPort: 80, name: 'web' }] },
        { portMappings: [{ containerPort: 81, name: 'web' }] },
      ),
    ),
    [
      {
        path: 'containerDefinitions[1].portMappings[0].name',
        message:
          'must be unique in the task: containerDefinitions[0].portMappings[0] has the same name',
      },
    ],
  ],
  [
    'links need bridge network mode',
    ec2({ networkMode: 'bridge' }, two({ links: ['side'] }, {})),
    ec2({ networkMode: 'host' }, two({ links: ['side'] }, {})),
    [
      {
        path: 'containerDefinitions[0].links',
        message: 'is only supported in bridge network mode',
      },
    ],
  ],
  [
    'awsvpc containers set no hostname',
    ec2({ networkMode: 'bridge' }, [container({ memory: 128, hostname: 'app' })]),
    fargate({}, [container({ hostname: 'app' })]),
    [
      {
        path: 'containerDefinitions[0].hostname',
        message: 'is not supported in awsvpc network mode',
      },
    ],
  ],
  [
    'awsvpc containers add no extraHosts',
    ec2({}, [container({ memory: 128, extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.5' }] })]),
    ec2({ networkMode: 'awsvpc' }, [
      container({ memory: 128, extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.5' }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].extraHosts',
        message: 'is not supported in awsvpc network mode',
      },
    ],
  ],
  // References between containers and volumes
  [
    'links name another container',
    ec2({}, two({ links: ['side:alias'] }, {})),
    ec2({}, two({ links: ['db:database'] }, {})),
    [
      {
        path: 'containerDefinitions[0].links[0]',
        message: 'must name another container in this task definition; there is no container "db"',
      },
    ],
  ],
  [
    'a container does not link to itself',
    ec2({}, two({}, { links: ['app'] })),
    ec2({}, two({ links: ['app'] }, {})),
    [
      {
        path: 'containerDefinitions[0].links[0]',
        message: 'must name another container, not the container itself',
      },
    ],
  ],
  [
    'volumesFrom names another container',
    ec2({}, two({ volumesFrom: [{ sourceContainer: 'side', readOnly: true }] }, {})),
    ec2({}, two({ volumesFrom: [{ sourceContainer: 'data' }] }, {})),
    [
      {
        path: 'containerDefinitions[0].volumesFrom[0].sourceContainer',
        message:
          'must name another container in this task definition; there is no container "data"',
      },
    ],
  ],
  [
    'mountPoints name a declared volume',
    ec2({ volumes: [{ name: 'data' }] }, [
      container({ memory: 128, mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }),
    ]),
    ec2({ volumes: [{ name: 'logs' }] }, [
      container({ memory: 128, mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }),
    ]),
    [
      {
        path: 'containerDefinitions[0].mountPoints[0].sourceVolume',
        message: 'must name a volume in volumes; there is no volume "data"',
      },
    ],
  ],
  [
    'dependsOn names another container',
    ec2({}, two({ dependsOn: [{ containerName: 'side', condition: 'START' }] }, {})),
    ec2({}, two({ dependsOn: [{ containerName: 'db', condition: 'START' }] }, {})),
    [
      {
        path: 'containerDefinitions[0].dependsOn[0].containerName',
        message: 'must name another container in this task definition; there is no container "db"',
      },
    ],
  ],
  [
    'a container does not depend on itself',
    ec2({}, two({}, { dependsOn: [{ containerName: 'app', condition: 'START' }] })),
    ec2({}, two({ dependsOn: [{ containerName: 'app', condition: 'START' }] }, {})),
    [
      {
        path: 'containerDefinitions[0].dependsOn[0].containerName',
        message: 'must name another container, not the container itself',
      },
    ],
  ],
  [
    'COMPLETE and SUCCESS wait for non-essential containers only',
    ec2(
      {},
      two({ dependsOn: [{ containerName: 'side', condition: 'SUCCESS' }] }, { essential: false }),
    ),
    ec2({}, two({ dependsOn: [{ containerName: 'side', condition: 'COMPLETE' }] }, {})),
    [
      {
        path: 'containerDefinitions[0].dependsOn[0].condition',
        message:
          'cannot be COMPLETE: container "side" is essential, so its exit stops the task (set its essential to false)',
      },
    ],
  ],
  [
    'HEALTHY waits for a container with a health check',
    ec2(
      {},
      two(
        { dependsOn: [{ containerName: 'side', condition: 'HEALTHY' }] },
        { healthCheck: { command: ['CMD', 'true'] } },
      ),
    ),
    ec2({}, two({ dependsOn: [{ containerName: 'side', condition: 'HEALTHY' }] }, {})),
    [
      {
        path: 'containerDefinitions[0].dependsOn[0].condition',
        message: 'cannot be HEALTHY: container "side" has no healthCheck',
      },
    ],
  ],
  [
    'dependencies form no cycle',
    ec2({}, [
      container({ name: 'a', memory: 64, dependsOn: [{ containerName: 'b', condition: 'START' }] }),
      container({ name: 'b', memory: 64, dependsOn: [{ containerName: 'c', condition: 'START' }] }),
      container({ name: 'c', memory: 64 }),
    ]),
    ec2({}, [
      container({ name: 'a', memory: 64, dependsOn: [{ containerName: 'b', condition: 'START' }] }),
      container({ name: 'b', memory: 64, dependsOn: [{ containerName: 'c', condition: 'START' }] }),
      container({ name: 'c', memory: 64, dependsOn: [{ containerName: 'a', condition: 'START' }] }),
    ]),
    [
      {
        path: 'containerDefinitions[2].dependsOn[0].containerName',
        message: 'forms a dependency cycle: a -> b -> c -> a',
      },
    ],
  ],
  [
    'proxyConfiguration names a container',
    ec2(
      { networkMode: 'awsvpc', proxyConfiguration: { type: 'APPMESH', containerName: 'side' } },
      two({}, {}),
    ),
    ec2(
      { networkMode: 'awsvpc', proxyConfiguration: { type: 'APPMESH', containerName: 'envoy' } },
      two({}, {}),
    ),
    [
      {
        path: 'proxyConfiguration.containerName',
        message: 'must name a container in this task definition; there is no container "envoy"',
      },
    ],
  ],
  [
    'an InferenceAccelerator requirement names a task accelerator',
    ec2({ inferenceAccelerators: [{ deviceName: 'eia', deviceType: 'eia2.medium' }] }, [
      container({
        memory: 128,
        resourceRequirements: [{ type: 'InferenceAccelerator', value: 'eia' }],
      }),
    ]),
    ec2({ inferenceAccelerators: [{ deviceName: 'eia', deviceType: 'eia2.medium' }] }, [
      container({
        memory: 128,
        resourceRequirements: [{ type: 'InferenceAccelerator', value: 'gpu' }],
      }),
    ]),
    [
      {
        path: 'containerDefinitions[0].resourceRequirements[0].value',
        message: "must name a deviceName of the task definition's inferenceAccelerators",
      },
    ],
  ],
  [
    'ulimit names are unique in a container',
    ec2({}, [
      container({
        memory: 128,
        ulimits: [
          { name: 'nofile', softLimit: 1, hardLimit: 2 },
          { name: 'nproc', softLimit: 1, hardLimit: 2 },
        ],
      }),
    ]),
    ec2({}, [
      container({
        memory: 128,
        ulimits: [
          { name: 'nofile', softLimit: 1, hardLimit: 2 },
          { name: 'nofile', softLimit: 3, hardLimit: 4 },
        ],
      }),
    ]),
    [
      {
        path: 'containerDefinitions[0].ulimits[1].name',
        message: 'must be unique: ulimits[0] sets nofile too',
      },
    ],
  ],
  // Memory and cpu
  [
    'memoryReservation is at most memory',
    ec2({}, [container({ memory: 256, memoryReservation: 256 })]),
    ec2({}, [container({ memory: 256, memoryReservation: 512 })]),
    [
      {
        path: 'containerDefinitions[0].memoryReservation',
        message: 'must be at most memory (256 MiB)',
      },
    ],
  ],
  [
    "a container's memory is at most the task's",
    fargate({}, [container({ memory: 512 })]),
    fargate({}, [container({ memory: 1024 })]),
    [
      {
        path: 'containerDefinitions[0].memory',
        message: "must be at most the task's memory (512 MiB)",
      },
    ],
  ],
  [
    "the containers' memoryReservation fits in the task memory",
    fargate(
      {},
      two(
        { memory: undefined, memoryReservation: 256 },
        { memory: undefined, memoryReservation: 256 },
      ),
    ),
    fargate(
      {},
      two(
        { memory: undefined, memoryReservation: 300 },
        { memory: undefined, memoryReservation: 300 },
      ),
    ),
    [
      {
        path: 'memory',
        message: "must be at least the sum of the containers' memoryReservation (600 MiB)",
      },
    ],
  ],
  [
    "the containers' cpu fits in the task cpu",
    fargate({}, two({ cpu: 128 }, { cpu: 128 })),
    fargate({}, two({ cpu: 200 }, { cpu: 200 })),
    [{ path: 'cpu', message: "must be at least the sum of the containers' cpu (400 units)" }],
  ],
  [
    'without task memory, each container sets memory or memoryReservation',
    ec2({}, two({ memory: undefined, memoryReservation: 128 }, { memory: 64 })),
    ec2({}, two({ memory: undefined }, { memory: 64 })),
    [
      {
        path: 'containerDefinitions[0].memory',
        message: 'is required, or memoryReservation, when the task sets no memory',
      },
    ],
  ],
  [
    'with task memory, containers need not set any',
    ec2({ memory: '1024' }, [container()]),
    ec2({ memory: '1 GB' }, [container({ memory: 2048 })]),
    [
      {
        path: 'containerDefinitions[0].memory',
        message: "must be at most the task's memory (1024 MiB)",
      },
    ],
  ],
  // Volumes
  [
    'volume names are unique',
    ec2({ volumes: [{ name: 'a' }, { name: 'b' }] }),
    ec2({ volumes: [{ name: 'a' }, { name: 'a' }] }),
    [{ path: 'volumes[1].name', message: 'must be unique: volumes[0] has the same name' }],
  ],
  [
    'a volume is of one kind',
    ec2({ volumes: [{ name: 'a', host: { sourcePath: '/data' } }] }),
    ec2({
      volumes: [
        {
          name: 'a',
          host: { sourcePath: '/data' },
          efsVolumeConfiguration: { fileSystemId: 'fs-1' },
        },
      ],
    }),
    [{ path: 'volumes[0].efsVolumeConfiguration', message: 'cannot be combined with host' }],
  ],
  [
    'an EFS volume has a name',
    ec2({ volumes: [{ name: 'a', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }),
    ec2({ volumes: [{ efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] }),
    [{ path: 'volumes[0].name', message: 'is required with efsVolumeConfiguration' }],
  ],
  [
    'one volume at most is configured at launch',
    ec2({
      volumes: [
        { name: 'ebs', configuredAtLaunch: true },
        { name: 'tmp', configuredAtLaunch: false },
      ],
    }),
    ec2({
      volumes: [
        { name: 'ebs', configuredAtLaunch: true },
        { name: 'ebs2', configuredAtLaunch: true },
      ],
    }),
    [
      {
        path: 'volumes[1].configuredAtLaunch',
        message: 'can be true for one volume only; volumes[0] already is',
      },
    ],
  ],
  [
    'EFS IAM authorisation needs transit encryption',
    ec2({
      volumes: [
        {
          name: 'a',
          efsVolumeConfiguration: {
            fileSystemId: 'fs-1',
            transitEncryption: 'ENABLED',
            authorizationConfig: { iam: 'ENABLED' },
          },
        },
      ],
    }),
    ec2({
      volumes: [
        {
          name: 'a',
          efsVolumeConfiguration: { fileSystemId: 'fs-1', authorizationConfig: { iam: 'ENABLED' } },
        },
      ],
    }),
    [
      {
        path: 'volumes[0].efsVolumeConfiguration.transitEncryption',
        message: 'must be ENABLED when authorizationConfig.iam is ENABLED',
      },
    ],
  ],
  [
    'an EFS access point needs transit encryption',
    ec2({
      volumes: [
        {
          name: 'a',
          efsVolumeConfiguration: {
            fileSystemId: 'fs-1',
            rootDirectory: '/',
            transitEncryption: 'ENABLED',
            authorizationConfig: { accessPointId: 'fsap-1' },
          },
        },
      ],
    }),
    ec2({
      volumes: [
        {
          name: 'a',
          efsVolumeConfiguration: {
            fileSystemId: 'fs-1',
            transitEncryption: 'DISABLED',
            authorizationConfig: { accessPointId: 'fsap-1' },
          },
        },
      ],
    }),
    [
      {
        path: 'volumes[0].efsVolumeConfiguration.transitEncryption',
        message: 'must be ENABLED when authorizationConfig.accessPointId is given',
      },
    ],
  ],
  [
    'an EFS access point sets the root directory',
    ec2({
      volumes: [
        { name: 'a', efsVolumeConfiguration: { fileSystemId: 'fs-1', rootDirectory: '/srv' } },
      ],
    }),
    ec2({
      volumes: [
        {
          name: 'a',
          efsVolumeConfiguration: {
            fileSystemId: 'fs-1',
            rootDirectory: '/srv',
            transitEncryption: 'ENABLED',
            authorizationConfig: { accessPointId: 'fsap-1' },
          },
        },
      ],
    }),
    [
      {
        path: 'volumes[0].efsVolumeConfiguration.rootDirectory',
        message: 'must be omitted or / when authorizationConfig.accessPointId is given',
      },
    ],
  ],
  [
    'an S3 Files access point sets the root directory',
    ec2({
      volumes: [
        {
          name: 'a',
          s3filesVolumeConfiguration: {
            fileSystemArn: 'arn:aws:s3files:x',
            accessPointArn: 'arn:aws:s3files:ap',
          },
        },
      ],
    }),
    ec2({
      volumes: [
        {
          name: 'a',
          s3filesVolumeConfiguration: {
            fileSystemArn: 'arn:aws:s3files:x',
            rootDirectory: '/x',
            accessPointArn: 'arn:aws:s3files:ap',
          },
        },
      ],
    }),
    [
      {
        path: 'volumes[0].s3filesVolumeConfiguration.rootDirectory',
        message: 'must be omitted or / when accessPointArn is given',
      },
    ],
  ],
  // Tags
  [
    'tag keys are unique',
    ec2({
      tags: [
        { key: 'team', value: 'a' },
        { key: 'Team', value: 'b' },
      ],
    }),
    ec2({
      tags: [
        { key: 'team', value: 'a' },
        { key: 'team', value: 'b' },
      ],
    }),
    [{ path: 'tags[1].key', message: 'must be unique: tags[0] has the same key' }],
  ],
  [
    'tag keys stay out of the aws: namespace',
    ec2({ tags: [{ key: 'app:aws', value: 'aws:x' }] }),
    ec2({ tags: [{ key: 'AWS:team', value: 'a' }] }),
    [{ path: 'tags[0].key', message: 'must not start with aws: (reserved for AWS use)' }],
  ],
];

describe('cross-field rules', () => {
  it.each(RULES)('%s: a definition that keeps it passes unchanged', (_rule, good) => {
    expect(validateTaskDefinition(good)).toEqual(good);
  });

  it.each(RULES)('%s: one that breaks it fails at the path', (_rule, _good, bad, errors) => {
    expect(errorsOf(validate(bad))).toEqual(errors);
  });
});

describe('Fargate task sizes', () => {
  it.each(FARGATE_TASK_SIZES.map((row) => [row.cpu, row.memory] as const))(
    'cpu %i accepts exactly memory %j',
    (cpu, memory) => {
      for (const m of memory) {
        const out = validateTaskDefinition(fargate({ cpu: String(cpu), memory: String(m) }));
        expect([out.cpu, out.memory]).toEqual([String(cpu), String(m)]);
      }
      const least = memory[0] ?? 0;
      for (const m of [least - 256, (memory.at(-1) ?? 0) + 1024, least + 1]) {
        expect(isFargateSize({ cpu, memory: m })).toBe(false);
      }
    },
  );

  it.each<[cpu: string, memory: string, message: string]>([
    ['256', '512', ''],
    ['256', '1536', 'must be 512, 1024 or 2048 MiB for a Fargate task with cpu 256'],
    ['256', '3072', 'must be 512, 1024 or 2048 MiB for a Fargate task with cpu 256'],
    ['512', '512', 'must be 1024 to 4096 MiB in steps of 1024 for a Fargate task with cpu 512'],
    ['512', '5120', 'must be 1024 to 4096 MiB in steps of 1024 for a Fargate task with cpu 512'],
    [
      '1 vCPU',
      '1 GB',
      'must be 2048 to 8192 MiB in steps of 1024 for a Fargate task with cpu 1024',
    ],
    ['1024', '8 GB', ''],
    [
      '2 vCPU',
      '2560',
      'must be 4096 to 16384 MiB in steps of 1024 for a Fargate task with cpu 2048',
    ],
    ['2048', '16 GB', ''],
    ['4 vCPU', '30 GB', ''],
    [
      '4096',
      '31744',
      'must be 8192 to 30720 MiB in steps of 1024 for a Fargate task with cpu 4096',
    ],
    ['8 vCPU', '16 GB', ''],
    [
      '8192',
      '17 GB',
      'must be 16384 to 61440 MiB in steps of 4096 for a Fargate task with cpu 8192',
    ],
    [
      '8192',
      '64 GB',
      'must be 16384 to 61440 MiB in steps of 4096 for a Fargate task with cpu 8192',
    ],
    ['16 vCPU', '32 GB', ''],
    [
      '16384',
      '36 GB',
      'must be 32768 to 122880 MiB in steps of 8192 for a Fargate task with cpu 16384',
    ],
    [
      '16384',
      '128 GB',
      'must be 32768 to 122880 MiB in steps of 8192 for a Fargate task with cpu 16384',
    ],
  ])('cpu %s with memory %s', (cpu, memory, message) => {
    const body = fargate({ cpu, memory });
    if (message === '') {
      expect(validateTaskDefinition(body).containerDefinitions).toHaveLength(1);
    } else {
      expect(errorsOf(validate(body))).toEqual([{ path: 'memory', message }]);
    }
  });

  it('accepts every valid pair, however it is written', () => {
    const pair = fc
      .constantFrom(...FARGATE_TASK_SIZES)
      .chain((row) => fc.tuple(fc.constant(row.cpu), fc.constantFrom(...row.memory)));
    fc.assert(
      fc.property(pair, fc.boolean(), fc.boolean(), ([cpu, memory], cpuInVcpu, memoryInGb) => {
        const out = validateTaskDefinition(
          fargate({
            cpu: cpuInVcpu ? `${cpu / 1024} vCPU` : cpu,
            memory: memoryInGb ? `${memory / 1024} GB` : String(memory),
          }),
        );
        expect([out.cpu, out.memory]).toEqual([String(cpu), String(memory)]);
      }),
    );
  });

  it('rejects every other pair, at cpu or at memory', () => {
    const cpus = FARGATE_TASK_SIZES.map((r) => r.cpu);
    const size = fc.record({
      cpu: fc.oneof(
        fc.constantFrom(...cpus),
        fc.integer({ min: 1, max: 128 }).map((n) => n * 128),
      ),
      memory: fc.integer({ min: 1, max: 512 }).map((n) => n * 256),
    });
    fc.assert(
      fc.property(
        size.filter((s) => !isFargateSize(s)),
        ({ cpu, memory }) => {
          const errors = errorsOf(validate(fargate({ cpu: String(cpu), memory: String(memory) })));
          expect(errors).toHaveLength(1);
          expect(errors[0]?.path).toBe(cpus.includes(cpu) ? 'memory' : 'cpu');
        },
      ),
    );
  });
});

describe('cpuUnitsOf and memoryMiBOf', () => {
  it.each<[string | number, number | undefined]>([
    [1024, 1024],
    ['1024', 1024],
    ['1 vCPU', 1024],
    ['1vcpu', 1024],
    ['0.125 vCPU', 128],
    ['.25 vCPU', 256],
    ['1.5', undefined],
    ['0.1 vCPU', undefined],
    ['0', undefined],
    [0, undefined],
    [-1024, undefined],
    ['1 CPU', undefined],
    ['', undefined],
  ])('cpuUnitsOf(%j) is %j', (given, units) => {
    expect(cpuUnitsOf(given)).toBe(units);
  });

  it.each<[string | number, number | undefined]>([
    [512, 512],
    ['512', 512],
    ['2 GB', 2048],
    ['2GB', 2048],
    ['0.5 gb', 512],
    ['1.3 GB', undefined],
    ['2 GiB', undefined],
    ['512 MiB', undefined],
    ['-1', undefined],
  ])('memoryMiBOf(%j) is %j', (given, mib) => {
    expect(memoryMiBOf(given)).toBe(mib);
  });

  it('reads n vCPU as n × 1024 units and n GB as n × 1024 MiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 192 }), (n) => {
        expect(cpuUnitsOf(`${n} vCPU`)).toBe(n * 1024);
        expect(memoryMiBOf(`${n} GB`)).toBe(n * 1024);
      }),
    );
  });
});
