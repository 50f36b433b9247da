/** One SIP request over UDP from a chosen loopback address, for edge cases SIPp cannot write. */
import dgram from 'node:dgram';

/**
 * Binds a UDP socket on `ip`, sends what `build` makes (it gets the socket's address for Via and
 * Contact) to 127.0.0.1:`port`, and resolves with the status line of the first final response.
 */
export async function sendRawSip(ip: string, port: number, build: (local: { ip: string; port: number }) => string, timeoutMs = 5_000): Promise<string> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no final response')), timeoutMs);
      socket.on('message', (datagram) => {
        const line = datagram.toString('utf8').split('\r\n')[0] ?? '';
        if (Number(/^SIP\/2\.0 (\d{3})/.exec(line)?.[1] ?? 0) >= 200) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      socket.send(build({ ip, port: socket.address().port }), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}
