// Shared by the browser tests: where the binary, output and Chromium are, the test
// tenant, a free local port and waiting for a server to answer.
import net from 'node:net';
import path from 'node:path';

export const BIN = process.env.LOCALIDP_BIN;
export const OUTPUT_DIR = path.resolve(process.env.OUTPUT_DIR ?? 'output');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const TENANT_ID = '11111111-1111-4111-8111-111111111111';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(url, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
