// Interoperability with a standard mDNS implementation (DESIGN §7): python-zeroconf (Debian's python3-zeroconf) finds
// what netref announces, and netref's discover finds what python-zeroconf announces, each side in its own network
// namespace. Run by `npm run test:interop` (after `apt-get install -y python3-zeroconf`), not by `npm test`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/index.js';
import { NetnsPair, netnsMissing, type NsChild } from '../support/netns.js';

const PYTHON = process.env.NETREF_PYTHON ?? '/usr/bin/python3';
const PEER = 'test/interop/zeroconf_peer.py';

function zeroconfMissing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import zeroconf'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return `${PYTHON} does not exist: apt-get install -y python3-zeroconf`;
    return `${PYTHON} cannot import zeroconf (${e.stderr?.toString().trim().split('\n').at(-1)}): apt-get install -y python3-zeroconf`;
  }
}

const missing = netnsMissing() ?? zeroconfMissing();
const pairs: NetnsPair[] = [];
after(async () => {
  await Promise.all(pairs.map((p) => p.close()));
});

function lan(): NetnsPair {
  assert.equal(missing, undefined, `this interop test cannot run: ${missing}`);
  const pair = new NetnsPair();
  pairs.push(pair);
  return pair;
}

async function json(child: NsChild, key: string, ms?: number): Promise<any> {
  return JSON.parse(await child.line(new RegExp(`^\\{"${key}"`), ms));
}

describe('interop with python-zeroconf', { timeout: 90_000 }, () => {
  it('python-zeroconf finds and resolves a netref announcement', async () => {
    const pair = lan();
    const announcer = pair.run(pair.a, 'test/fixtures/discovery-announcer.ts');
    const up = await json(announcer, 'announced');
    const browser = pair.spawn(pair.b, PYTHON, [PEER, 'browse', '4']);
    const found = await json(browser, 'found', 20_000);
    assert.equal(found.found, `${up.announced}._netref._tcp.local.`);
    assert.equal(found.server, `${up.host}.`);
    assert.equal(found.port, up.port);
    assert.ok(found.addresses.includes(pair.a.address), JSON.stringify(found));
    assert.deepEqual(found.txt, { names: 'ECHO,PARROT', v: String(PROTOCOL_VERSION.major), auth: 'none' });
    await json(browser, 'done', 20_000);
  });

  it('netref discover finds a service python-zeroconf announced', async () => {
    const pair = lan();
    const v = String(PROTOCOL_VERSION.major);
    const peer = pair.spawn(pair.a, PYTHON, [PEER, 'register', 'py calc', '4567', 'PYCALC,PC', v, pair.a.address]);
    await json(peer, 'registered', 20_000);
    const seeker = pair.run(pair.b, 'test/fixtures/discovery-seeker.ts', ['discover', 'pc', '2000']);
    const { first, found } = await json(seeker, 'first', 20_000);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.deepEqual(
      { ...found[0], first: typeof first },
      {
        name: 'py calc',
        names: ['PYCALC', 'PC'],
        host: 'pyhost.local',
        port: 4567,
        addresses: [pair.a.address],
        txt: { names: 'PYCALC,PC', v, auth: 'none' },
        first: 'number',
      },
    );
  });
});
