// For test files: the fleet started (or reused) by global-setup.ts.
//   import { useFleet } from '../fleet/use-fleet.js';
//   const fleet = useFleet(); // FleetState: hosts, keys, known_hosts, users
// Falls back to $DEPLOYR_FLEET_STATE and then the configured dir, so a test run
// without the global setup still works against a fleet started by hand.
import { inject } from 'vitest';
import { readFleetState, type FleetState } from './fleet.js';
import './provided-context.js';

export function useFleet(): FleetState {
  const provided = inject('fleetStatePath') as string | undefined;
  return readFleetState(provided || process.env.DEPLOYR_FLEET_STATE || undefined);
}
