/**
 * An e2e case waits for tasks to start and ticks to run on a whole stack; on a loaded CI machine that
 * takes more than jest's 5 s default (testTimeout is not a per-project option, hence this file).
 * Speed is measured by `npm run bench`, not by test timeouts.
 */
import { jest } from '@jest/globals';

jest.setTimeout(30_000);
