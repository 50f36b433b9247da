import dgram from 'node:dgram';
import net from 'node:net';

const udpFree = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });

const tcpFree = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });

/** A port free for both UDP and TCP on `host` right now (SIP listens on both). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 9_000);
    if ((await udpFree(port, host)) && (await tcpFree(port, host))) return port;
  }
  throw new Error('no free port found');
}

/**
 * The first of `count` consecutive UDP ports free on `host` (SIPp's media takes four: audio RTP and
 * RTCP, video RTP and RTCP, from its -mp port up).
 */
export async function freeUdpPorts(host: string, count: number): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const first = 20_000 + 2 * Math.floor(Math.random() * 4_500);
    let ok = true;
    for (let offset = 0; offset < count && ok; offset++) ok = await udpFree(first + offset, host);
    if (ok) return first;
  }
  throw new Error(`no ${count} free consecutive UDP ports found`);
}
