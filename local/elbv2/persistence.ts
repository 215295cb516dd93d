import { readStateFile } from '../state-file';
import type { ElbV2State } from './engine';

/** Reads the local ELBv2's state file (written by StateFile); undefined if it does not exist yet. */
export const loadElbV2State = (path: string): ElbV2State | undefined => {
  const parsed = readStateFile(path, 'ELBv2');
  if (parsed === undefined) return undefined;
  const state = parsed as Partial<ElbV2State> | null;
  if (state?.format !== 1 || !Array.isArray(state.targetGroups)) {
    throw new Error(`ELBv2 state file ${path} has an unknown format`);
  }
  return { format: 1, targetGroups: state.targetGroups };
};
