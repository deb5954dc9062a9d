import net from 'node:net';
import { type FakePlugBehaviour, FakeRelay, listenOnLoopback } from './fake-plug-server.ts';

/*
 * A fake TP-Link Kasa plug (HS103-like) speaking the local protocol on TCP: 4-byte big-endian
 * length, XOR autokey from 171. Its own cipher code, not the driver's, so a mistake in one shows
 * against the other (and both against the published vector in kasa-codec.test.ts). Modules:
 * `system` (get_sysinfo, set_relay_state) and `count_down` (get_rules, add_rule, delete_rule,
 * delete_all_rules) whose rule really fires on a timer and then stays in the table disabled, so a
 * second add_rule fails "table is full" until the rules are deleted, as on the real plugs.
 * npm's tplink-smarthome-simulator stores count_down rules but never runs them, hence this one.
 */

export interface FakeKasaPlugOptions {
  readonly on?: boolean;
  /** false: a plug without the count_down module (it answers "module not support"). */
  readonly countDown?: boolean;
  readonly behaviour?: FakePlugBehaviour | 'speaks-another-protocol';
}

export interface CountdownRule {
  readonly id: string;
  readonly name: string;
  readonly enable: 0 | 1;
  readonly delay: number;
  readonly act: 0 | 1;
}

export interface FakeKasaPlug {
  readonly port: number;
  readonly relay: FakeRelay;
  /** Every request received, decrypted, oldest first. */
  readonly requests: readonly string[];
  countdownRules(): readonly CountdownRule[];
  stop(): Promise<void>;
}

type Answer = Record<string, unknown>;

export async function startFakeKasaPlug(options: FakeKasaPlugOptions = {}): Promise<FakeKasaPlug> {
  const relay = new FakeRelay(options.on ?? false);
  const requests: string[] = [];
  let rules: CountdownRule[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  let nextId = 1;

  const countDown: Record<string, (args: Answer) => Answer> = {
    get_rules: () => ({ rule_list: rules, err_code: 0 }),
    delete_all_rules: () => {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      rules = [];
      return { err_code: 0 };
    },
    delete_rule: (args) => {
      clearTimeout(timers.get(String(args.id)));
      rules = rules.filter((rule) => rule.id !== args.id);
      return { err_code: 0 };
    },
    add_rule: (args) => {
      if (rules.length > 0) return { err_code: -10, err_msg: 'table is full' };
      const { delay, act, enable } = args;
      if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 1 || (act !== 0 && act !== 1))
        return { err_code: -3, err_msg: 'invalid argument' };
      const rule: CountdownRule = {
        id: `RULE${nextId++}`,
        name: typeof args.name === 'string' ? args.name : '',
        enable: enable === 1 ? 1 : 0,
        delay,
        act,
      };
      rules.push(rule);
      if (rule.enable === 1) {
        const fire = (): void => {
          timers.delete(rule.id);
          rules = rules.map((r) => (r.id === rule.id ? { ...r, enable: 0 } : r));
          relay.set(rule.act === 1, 'timer');
        };
        timers.set(rule.id, setTimeout(fire, delay * 1000));
      }
      return { id: rule.id, err_code: 0 };
    },
  };
  const modules: Record<string, Record<string, (args: Answer) => Answer>> = {
    system: {
      get_sysinfo: () => ({
        sw_ver: '1.0.4 Build 210409 Rel.185304',
        hw_ver: '5.0',
        model: 'HS103(EU)',
        type: 'IOT.SMARTPLUGSWITCH',
        alias: 'lab power strip',
        mac: '50:C7:BF:00:00:01',
        relay_state: relay.on ? 1 : 0,
        on_time: 0,
        led_off: 0,
        rssi: -48,
        err_code: 0,
      }),
      set_relay_state: (args) => {
        if (args.state !== 0 && args.state !== 1) return { err_code: -3, err_msg: 'invalid argument' };
        relay.set(args.state === 1, 'request');
        return { err_code: 0 };
      },
    },
    ...(options.countDown === false ? {} : { count_down: countDown }),
  };

  const answer = (request: Answer): Answer =>
    Object.fromEntries(
      Object.entries(request).map(([moduleName, methods]): [string, unknown] => {
        const module = modules[moduleName];
        if (!module) return [moduleName, { err_code: -1, err_msg: 'module not support' }];
        return [
          moduleName,
          Object.fromEntries(
            Object.entries(methods as Answer).map(([methodName, args]): [string, unknown] => {
              const method = module[methodName];
              return [
                methodName,
                method ? method(args as Answer) : { err_code: -2, err_msg: 'member not support' },
              ];
            }),
          ),
        ];
      }),
    );

  const serve = (socket: net.Socket): void => {
    let buffer = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (options.behaviour === 'speaks-another-protocol') {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const length = buffer.readUInt32BE(0);
        const text = decrypt(buffer.subarray(4, 4 + length));
        buffer = buffer.subarray(4 + length);
        requests.push(text);
        socket.write(encrypt(JSON.stringify(answer(JSON.parse(text) as Answer))));
      }
    });
  };

  const behaviour = options.behaviour === 'speaks-another-protocol' ? 'answers' : options.behaviour;
  const listener = await listenOnLoopback(behaviour ?? 'answers', () => net.createServer(serve));
  return {
    port: listener.port,
    relay,
    requests,
    countdownRules: () => rules,
    async stop() {
      for (const timer of timers.values()) clearTimeout(timer);
      await listener.close();
    },
  };
}

function encrypt(text: string): Buffer {
  const plain = Buffer.from(text);
  const out = Buffer.alloc(4 + plain.length);
  out.writeUInt32BE(plain.length, 0);
  plain.reduce((key, byte, i) => {
    out[4 + i] = key ^ byte;
    return key ^ byte;
  }, 171);
  return out;
}

function decrypt(cipher: Buffer): string {
  const plain = Buffer.from(cipher);
  cipher.reduce((key, byte, i) => {
    plain[i] = key ^ byte;
    return byte;
  }, 171);
  return plain.toString();
}
