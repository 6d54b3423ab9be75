/** Whether a Docker host can be a Swarm target: it answers, and it is a manager of an active swarm. One line when not. */
import { DockerEngine } from './docker-engine.js';

/** Null when `dockerHost` answers and is a swarm manager; else why not, in one line. */
export async function swarmManagerProblem(dockerHost: string): Promise<string | null> {
  let engine: DockerEngine;
  try {
    engine = new DockerEngine(dockerHost, { timeoutMs: 5000 });
  } catch (err) {
    return `--docker-host ${dockerHost}: ${(err as Error).message}`;
  }
  try {
    if (!(await engine.ping())) return `the Docker host ${dockerHost} did not answer its ping with OK`;
    const { Swarm } = await engine.info();
    if (Swarm.LocalNodeState !== 'active') {
      return `the Docker daemon at ${dockerHost} is not in a swarm (state ${Swarm.LocalNodeState}); run "docker swarm init" there, or give a manager's host`;
    }
    if (!Swarm.ControlAvailable) return `the Docker daemon at ${dockerHost} is a swarm worker, not a manager; give a manager's host`;
    return null;
  } catch (err) {
    return (err as Error).message.replace(/\s*\n\s*/g, ' ');
  } finally {
    await engine.close();
  }
}
