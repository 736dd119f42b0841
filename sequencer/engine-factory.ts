/**
 * The real engine's factory, as a module the background snapshot process can import
 * (`snapshotProcess: { module: ENGINE_FACTORY_MODULE, argument: engineConfig }`). The sequencer
 * itself never constructs an Engine: callers inject the factory.
 */
import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/index.ts';
import type { EngineConfig, EngineSnapshot } from '../engine/types.ts';
import type { EngineFactory } from './types.ts';

export function createEngineFactory(config: EngineConfig): EngineFactory<Engine> {
  return {
    createEngine: () => new Engine(config),
    restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(config, snapshot),
  };
}

/** path of this module, for `snapshotProcess.module` */
export const ENGINE_FACTORY_MODULE = fileURLToPath(import.meta.url);
