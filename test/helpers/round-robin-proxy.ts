// A load balancer in miniature for the replica tests: a loopback TCP proxy that hands each new client
// connection to the next backend in turn (HTTP keep-alive and WebSocket connections included), as any
// layer-4 balancer in front of the API replicas would.
import net from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** How many connections each backend received. */
  connections: number[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  const targets = backends.map((b) => new URL(b));
  const connections = targets.map(() => 0);
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    const i = next++ % targets.length;
    connections[i]++;
    const upstream = net.connect(Number(targets[i].port), targets[i].hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
