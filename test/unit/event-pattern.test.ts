import { describe, expect, it } from '@jest/globals';
import { compileEventPattern } from '../../local/event-pattern';

type Case = [name: string, pattern: unknown, event: unknown, expected: boolean];

const ecsTask = (startedBy?: string) => ({
  version: '0',
  id: 'e1',
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  account: '000000000000',
  region: 'us-east-1',
  resources: ['arn:aws:ecs:us-east-1:000000000000:task/c/abc'],
  detail: {
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    containers: [
      { name: 'web', lastStatus: 'RUNNING', exitCode: 0 },
      { name: 'sidecar', lastStatus: 'STOPPED', exitCode: 137 },
    ],
    ...(startedBy === undefined ? {} : { startedBy }),
  },
});

const ecsPattern = {
  source: ['aws.ecs'],
  'detail-type': ['ECS Task State Change'],
  detail: { startedBy: [{ prefix: 'steward/' }] },
};

describe('compileEventPattern: real routing', () => {
  it.each<Case>([
    ['steward task', ecsPattern, ecsTask('steward/web'), true],
    ['ECS service task', ecsPattern, ecsTask('ecs-svc/123'), false],
    ['task without startedBy', ecsPattern, ecsTask(), false],
    ['other source', ecsPattern, { ...ecsTask('steward/web'), source: 'aws.ec2' }, false],
    [
      'PutEvents entry',
      { source: ['steward'], 'detail-type': ['Deploy'] },
      { source: 'steward', 'detail-type': 'Deploy', detail: {} },
      true,
    ],
  ])('%s', (_name, pattern, event, expected) => {
    expect(compileEventPattern(pattern).matches(event)).toBe(expected);
  });
});

describe('compileEventPattern: operators', () => {
  it.each<Case>([
    // exact values, OR within the array, AND across fields
    ['string equal', { a: ['x'] }, { a: 'x' }, true],
    ['string differs', { a: ['x'] }, { a: 'y' }, false],
    ['OR within array', { a: ['x', 'y'] }, { a: 'y' }, true],
    ['AND across fields', { a: ['x'], b: ['y'] }, { a: 'x', b: 'z' }, false],
    ['AND across fields, all match', { a: ['x'], b: ['y'] }, { a: 'x', b: 'y' }, true],
    ['string is case sensitive', { a: ['x'] }, { a: 'X' }, false],
    ['number equal', { a: [300] }, { a: 300 }, true],
    ['number numeric equality', { a: [3.0e2] }, { a: 300.0 }, true],
    ['number vs string', { a: [300] }, { a: '300' }, false],
    ['string vs number', { a: ['300'] }, { a: 300 }, false],
    ['boolean', { a: [true] }, { a: true }, true],
    ['boolean vs string', { a: [true] }, { a: 'true' }, false],
    ['null', { a: [null] }, { a: null }, true],
    ['null vs absent', { a: [null] }, {}, false],
    ['absent field', { a: ['x'] }, { b: 'x' }, false],
    ['event array, any element', { a: ['x'] }, { a: ['w', 'x'] }, true],
    ['event array, no element', { a: ['x'] }, { a: ['w', 'v'] }, false],
    ['nested object', { d: { s: ['x'] } }, { d: { s: 'x' } }, true],
    ['nested object mismatch', { d: { s: ['x'] } }, { d: { s: 'y' } }, false],
    ['nested path absent', { d: { s: ['x'] } }, { d: 'flat' }, false],
    ['object where leaf expected', { d: ['x'] }, { d: { s: 'x' } }, false],
    // prefix / suffix
    ['prefix', { a: [{ prefix: 'pre' }] }, { a: 'prefix' }, true],
    ['prefix miss', { a: [{ prefix: 'pre' }] }, { a: 'xpre' }, false],
    ['prefix non-string', { a: [{ prefix: '1' }] }, { a: 12 }, false],
    [
      'prefix ignore case',
      { a: [{ prefix: { 'equals-ignore-case': 'PRE' } }] },
      { a: 'pRefix' },
      true,
    ],
    [
      'prefix ignore case miss',
      { a: [{ prefix: { 'equals-ignore-case': 'pre' } }] },
      { a: 'xp' },
      false,
    ],
    ['suffix', { a: [{ suffix: '.png' }] }, { a: 'img.png' }, true],
    ['suffix miss', { a: [{ suffix: '.png' }] }, { a: 'img.jpg' }, false],
    [
      'suffix ignore case',
      { a: [{ suffix: { 'equals-ignore-case': '.PNG' } }] },
      { a: 'x.png' },
      true,
    ],
    // equals-ignore-case
    ['equals-ignore-case', { a: [{ 'equals-ignore-case': 'AlIcE' }] }, { a: 'alice' }, true],
    ['equals-ignore-case miss', { a: [{ 'equals-ignore-case': 'alice' }] }, { a: 'alicia' }, false],
    // anything-but
    ['anything-but value', { a: [{ 'anything-but': 'x' }] }, { a: 'y' }, true],
    ['anything-but value hit', { a: [{ 'anything-but': 'x' }] }, { a: 'x' }, false],
    ['anything-but list', { a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'y' }, false],
    ['anything-but list pass', { a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'z' }, true],
    ['anything-but number', { a: [{ 'anything-but': [1, 2] }] }, { a: 3 }, true],
    ['anything-but number hit', { a: [{ 'anything-but': [1, 2] }] }, { a: 2.0 }, false],
    ['anything-but absent', { a: [{ 'anything-but': 'x' }] }, {}, false],
    ['anything-but prefix', { a: [{ 'anything-but': { prefix: 'init' } }] }, { a: 'run' }, true],
    [
      'anything-but prefix hit',
      { a: [{ 'anything-but': { prefix: 'init' } }] },
      { a: 'initx' },
      false,
    ],
    ['anything-but suffix', { a: [{ 'anything-but': { suffix: '.tmp' } }] }, { a: 'a.txt' }, true],
    [
      'anything-but suffix hit',
      { a: [{ 'anything-but': { suffix: '.tmp' } }] },
      { a: 'a.tmp' },
      false,
    ],
    [
      'anything-but equals-ignore-case hit',
      { a: [{ 'anything-but': { 'equals-ignore-case': ['x', 'Y'] } }] },
      { a: 'y' },
      false,
    ],
    [
      'anything-but wildcard hit',
      { a: [{ 'anything-but': { wildcard: 'a*' } }] },
      { a: 'ab' },
      false,
    ],
    ['anything-but any array element', { a: [{ 'anything-but': 'x' }] }, { a: ['x', 'y'] }, true],
    // numeric
    ['numeric range inside', { a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 5 }, true],
    ['numeric range lower edge', { a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 0 }, false],
    ['numeric range above', { a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 5.01 }, false],
    ['numeric equal', { a: [{ numeric: ['=', 3.0e2] }] }, { a: 300 }, true],
    ['numeric >=', { a: [{ numeric: ['>=', 10] }] }, { a: 10 }, true],
    ['numeric <', { a: [{ numeric: ['<', 10] }] }, { a: 10 }, false],
    ['numeric on string', { a: [{ numeric: ['>', 0] }] }, { a: '5' }, false],
    ['numeric absent', { a: [{ numeric: ['>', 0] }] }, {}, false],
    // exists
    ['exists true present', { a: [{ exists: true }] }, { a: 'x' }, true],
    ['exists true null', { a: [{ exists: true }] }, { a: null }, true],
    ['exists true absent', { a: [{ exists: true }] }, {}, false],
    ['exists true on object', { a: [{ exists: true }] }, { a: { b: 1 } }, false],
    ['exists false absent', { a: [{ exists: false }] }, {}, true],
    ['exists false present', { a: [{ exists: false }] }, { a: 'x' }, false],
    ['exists false nested absent', { d: { s: [{ exists: false }] } }, { x: 1 }, true],
    ['exists false nested present', { d: { s: [{ exists: false }] } }, { d: { s: 1 } }, false],
    // cidr
    ['cidr inside', { ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.255' }, true],
    ['cidr outside', { ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.0' }, false],
    ['cidr /32', { ip: [{ cidr: '192.168.1.7/32' }] }, { ip: '192.168.1.7' }, true],
    ['cidr /0', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '255.255.255.255' }, true],
    ['cidr not an ip', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0' }, false],
    // wildcard
    ['wildcard', { a: [{ wildcard: 'a*b' }] }, { a: 'axxb' }, true],
    ['wildcard empty run', { a: [{ wildcard: 'a*b' }] }, { a: 'ab' }, true],
    ['wildcard miss', { a: [{ wildcard: 'a*b' }] }, { a: 'axxbc' }, false],
    ['wildcard dots are literal', { a: [{ wildcard: '*.png' }] }, { a: 'xpng' }, false],
    ['wildcard escaped star', { a: [{ wildcard: 'a\\*' }] }, { a: 'a*' }, true],
    ['wildcard escaped star miss', { a: [{ wildcard: 'a\\*' }] }, { a: 'ab' }, false],
    // $or
    ['$or first', { $or: [{ a: ['x'] }, { b: ['y'] }] }, { a: 'x' }, true],
    ['$or second', { $or: [{ a: ['x'] }, { b: ['y'] }] }, { b: 'y' }, true],
    ['$or neither', { $or: [{ a: ['x'] }, { b: ['y'] }] }, { a: 'y', b: 'x' }, false],
    ['$or AND sibling', { c: ['z'], $or: [{ a: ['x'] }, { b: ['y'] }] }, { a: 'x' }, false],
    ['$or nested', { d: { $or: [{ a: ['x'] }, { b: ['y'] }] } }, { d: { b: 'y' } }, true],
    // arrays of objects must match within one element
    [
      'same array element',
      { c: { name: ['web'], exitCode: [0] } },
      {
        c: [
          { name: 'web', exitCode: 1 },
          { name: 'db', exitCode: 0 },
        ],
      },
      false,
    ],
    [
      'one element matches',
      { c: { name: ['web'], exitCode: [0] } },
      {
        c: [
          { name: 'db', exitCode: 0 },
          { name: 'web', exitCode: 0 },
        ],
      },
      true,
    ],
    ['non-object event', { a: ['x'] }, 'x', false],
  ])('%s', (_name, pattern, event, expected) => {
    expect(compileEventPattern(pattern).matches(event)).toBe(expected);
  });
});

describe('compileEventPattern: invalid patterns', () => {
  it.each<[name: string, pattern: unknown, path: string]>([
    ['not an object', ['x'], '<root>'],
    ['empty pattern', {}, '<root>'],
    ['leaf not an array', { source: 'aws.ecs' }, 'source'],
    ['nested leaf not an array', { detail: { s: 5 } }, 'detail.s'],
    ['empty array', { a: [] }, 'a'],
    ['unknown operator', { a: [{ startsWith: 'x' }] }, 'a[0].startsWith'],
    ['two operators in one object', { a: [{ prefix: 'x', suffix: 'y' }] }, 'a[0]'],
    ['nested array value', { a: [['x']] }, 'a[0]'],
    ['prefix not a string', { a: [{ prefix: 1 }] }, 'a[0].prefix'],
    ['numeric wrong arity', { a: [{ numeric: ['>', 0, '<'] }] }, 'a[0].numeric'],
    ['numeric too many', { a: [{ numeric: ['>', 0, '<', 5, '=', 3] }] }, 'a[0].numeric'],
    ['numeric non-number', { a: [{ numeric: ['>', '0'] }] }, 'a[0].numeric[1]'],
    ['numeric bad operator', { a: [{ numeric: ['!=', 0] }] }, 'a[0].numeric[0]'],
    ['numeric reversed range', { a: [{ numeric: ['<', 5, '>', 0] }] }, 'a[0].numeric[0]'],
    ['numeric empty range', { a: [{ numeric: ['>', 5, '<', 1] }] }, 'a[0].numeric'],
    ['exists not boolean', { a: [{ exists: 'yes' }] }, 'a[0].exists'],
    ['cidr malformed', { a: [{ cidr: '10.0.0.0/33' }] }, 'a[0].cidr'],
    ['wildcard double star', { a: [{ wildcard: 'a**' }] }, 'a[0].wildcard'],
    ['anything-but empty', { a: [{ 'anything-but': [] }] }, 'a[0].anything-but'],
    ['anything-but numeric', { a: [{ 'anything-but': { numeric: ['>', 1] } }] }, 'numeric'],
    ['$or single', { $or: [{ a: ['x'] }] }, '$or'],
    ['$or bad branch', { $or: [{ a: ['x'] }, { b: 'y' }] }, '$or[1].b'],
  ])('%s', (_name, pattern, path) => {
    const compile = () => compileEventPattern(pattern);
    expect(compile).toThrow(expect.objectContaining({ name: 'EventPatternError' }) as never);
    expect(compile).toThrow(path);
  });
});
