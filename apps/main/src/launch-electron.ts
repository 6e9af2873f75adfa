import { spawn } from 'node:child_process';

/**
 * Runs Electron on the app directory with inherited stdio and mirrors its fate: same exit
 * code, same terminating signal. Ctrl-C reaches Electron through the shared process group;
 * SIGTERM sent to this process alone is forwarded.
 */
export function launchElectron(binary: string, appDir: string, args: string[]): void {
  const env = { ...process.env };
  // Set by some tools; it would make Electron behave as plain Node and ignore the app.
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(binary, [appDir, ...args], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const waitForChild = () => {}; // Ctrl-C reaches Electron itself; wait for it to exit.
  process.on('SIGTERM', forward);
  process.on('SIGINT', waitForChild);
  child.on('error', (error) => {
    console.error(`Could not start Electron (${binary}): ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, with our own handlers out of the way.
      process.off('SIGTERM', forward);
      process.off('SIGINT', waitForChild);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
