import { readStateFile } from '../state-file';
import type { PersistedState } from './model';

/** Reads the emulator's state file (written by StateFile); undefined if it does not exist yet. */
export const loadStateFile = (path: string): PersistedState | undefined => {
  const parsed = readStateFile(path, 'ECS emulator');
  if (parsed === undefined) return undefined;
  const state = parsed as Partial<PersistedState> | null;
  if (state?.format !== 1) {
    throw new Error(`ECS emulator state file ${path} has an unknown format`);
  }
  return {
    format: 1,
    clusters: state.clusters ?? [],
    taskDefinitions: state.taskDefinitions ?? [],
    tasks: state.tasks ?? [],
    clientTokens: state.clientTokens ?? [],
    containerInstances: state.containerInstances ?? [],
    spotUnavailable: state.spotUnavailable ?? [],
  };
};
