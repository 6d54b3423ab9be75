import { createServer } from 'node:net';

/** A TCP port that is free on host now and not in `taken`. */
export async function freePort(host: string, taken: ReadonlySet<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    if (!taken.has(port)) return port;
  }
  throw new Error('no free TCP port found');
}
