import type { ScenarioName } from '../../contract/schemas/reliability.js';
import type { Scenario } from '../scenario.js';
import { agentBadOutput, agentHang, restartStorm, staleSession } from './agent-faults.js';
import { agentKillAwaitingApproval, agentKillMidStream, agentKillMidTool } from './agent-kill.js';
import { fullDisk } from './full-disk.js';
import { hostKill } from './host-kill.js';
import { midFileDamage, tornTail } from './log-damage.js';

/** Every scenario, in the order the harness runs them. */
export const SCENARIOS: readonly Scenario[] = [
  agentKillMidStream,
  agentKillMidTool,
  agentKillAwaitingApproval,
  agentHang,
  agentBadOutput,
  staleSession,
  restartStorm,
  hostKill,
  tornTail,
  midFileDamage,
  fullDisk,
];

export function scenarioByName(name: ScenarioName): Scenario {
  const found = SCENARIOS.find((scenario) => scenario.name === name);
  if (!found) throw new Error(`No scenario named ${name}.`);
  return found;
}
