import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForwardingChannel } from './support/ForwardingChannel.js';
import { classicPair } from './support/pair.js';
import {
  channelPair,
  ConnectionClosedError,
  connectChannel,
  download,
  Service,
  upload,
  uploadModule,
  type Channel,
  type TransferProgress,
} from '../src/index.js';

/** Alters one byte in the middle of the first frame longer than `min` that passes in `direction`. */
class CorruptingChannel extends ForwardingChannel {
  #done = false;
  constructor(
    inner: Channel,
    readonly direction: 'send' | 'receive',
    readonly min = 32 * 1024,
  ) {
    super(inner);
  }
  #alter(frame: Uint8Array): Uint8Array {
    if (this.#done || frame.length < this.min) return frame;
    this.#done = true;
    const copy = Uint8Array.from(frame);
    copy[copy.length >> 1]! ^= 0xff;
    return copy;
  }
  protected override onReceive(frame: Uint8Array): Uint8Array {
    return this.direction === 'receive' ? this.#alter(frame) : frame;
  }
  protected override onSend(frame: Uint8Array): Uint8Array {
    return this.direction === 'send' ? this.#alter(frame) : frame;
  }
}

/** A ClassicService on one end of an in-memory pair, a classic connection on the other (through `wrap`). */
/** Every entry below `root`: type, mode, and content or link target. */
async function treeOf(root: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = join(rel, name);
    const st = await lstat(join(root, path));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[path] = `link -> ${await readlink(join(root, path))}`;
    else if (st.isDirectory()) {
      out[path] = `dir ${mode}`;
      Object.assign(out, await treeOf(root, path));
    } else out[path] = `file ${mode} ${(await readFile(join(root, path))).toString('base64')}`;
  }
  return out;
}

/** Temporary files a copy writes under (`.NAME.netref-RANDOM.part`) found below `root`. */
async function partFiles(root: string): Promise<string[]> {
  const all = await readdir(root, { recursive: true });
  return all.filter((p) => /\.netref-[0-9a-f]+\.part$/.test(p));
}

/** A path the remote end (this process, as root or not) cannot create a file at, and the code that says so. */
async function unwritable(dir: string): Promise<{ path: string; code: string } | undefined> {
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    await mkdir(locked, { mode: 0o555 });
    return { path: join(locked, 'file'), code: 'EACCES' };
  }
  // root passes mode checks; sysfs refuses to create files to everyone
  if (process.platform === 'linux') return { path: `/sys/netref-test-${process.pid}`, code: 'EACCES' };
  return undefined;
}

describe('upload and download', () => {
  let p: Awaited<ReturnType<typeof classicPair>>;
  let dir: string;
  before(async () => {
    p = await classicPair();
    dir = await mkdtemp(join(tmpdir(), 'netref-files-'));
  });
  after(async () => {
    await p.close();
    await chmod(join(dir, 'locked'), 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('upload copies a file in chunks, keeps its mode and reports progress up to the total', async () => {
    const data = randomBytes(1024 * 1024 + 5);
    const source = join(dir, 'one.bin');
    await writeFile(source, data);
    await chmod(source, 0o640);
    const seen: TransferProgress[] = [];
    await upload(p.c, source, join(dir, 'one.up'), { chunkSize: 64 * 1024, onProgress: (x) => seen.push({ ...x }) });
    assert.ok((await readFile(join(dir, 'one.up'))).equals(data));
    assert.equal((await lstat(join(dir, 'one.up'))).mode & 0o7777, 0o640);
    assert.equal(seen.length, Math.ceil(data.length / (64 * 1024)), 'one report per chunk');
    assert.ok(
      seen.every(
        (x, i) => x.totalBytes === data.length && x.file === source && (i === 0 || x.bytes > seen[i - 1]!.bytes),
      ),
    );
    assert.equal(seen.at(-1)!.bytes, data.length);
    assert.deepEqual(await partFiles(dir), []);
  });

  it('download copies a file back, keeping its mode, and replaces a file already there', async () => {
    const data = randomBytes(300_000);
    const source = join(dir, 'two.bin');
    await writeFile(source, data);
    await chmod(source, 0o751);
    const target = join(dir, 'two.down');
    await writeFile(target, 'old content');
    let last: TransferProgress | undefined;
    await download(p.c, source, target, { onProgress: (x) => (last = x) });
    assert.ok((await readFile(target)).equals(data));
    assert.equal((await lstat(target)).mode & 0o7777, 0o751);
    assert.deepEqual(last, { bytes: data.length, totalBytes: data.length, file: source });
    assert.deepEqual(await partFiles(dir), []);
  });

  it('copies a whole tree both ways, with the modes of files and directories, symlinks and empty files', async () => {
    const src = join(dir, 'tree');
    await mkdir(join(src, 'sub', 'ro'), { recursive: true });
    await writeFile(join(src, 'big.bin'), randomBytes(700_000));
    await writeFile(join(src, 'empty'), '');
    await writeFile(join(src, 'sub', 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(src, 'sub', 'run.sh'), 0o755);
    await writeFile(join(src, 'sub', 'ro', 'inside.txt'), 'in a read-only directory');
    await chmod(join(src, 'sub', 'ro'), 0o555);
    await symlink('sub/run.sh', join(src, 'link'));
    const expected = await treeOf(src);

    const reports: TransferProgress[] = [];
    await upload(p.c, src, join(dir, 'tree.up'), { chunkSize: 128 * 1024, onProgress: (x) => reports.push(x) });
    assert.deepEqual(await treeOf(join(dir, 'tree.up')), expected);
    const total = 700_000 + 18 + 'in a read-only directory'.length;
    assert.ok(reports.every((x) => x.totalBytes === total));
    assert.equal(reports.at(-1)!.bytes, total);

    await download(p.c, join(dir, 'tree.up'), join(dir, 'tree.down'));
    assert.deepEqual(await treeOf(join(dir, 'tree.down')), expected);
    assert.deepEqual(await partFiles(dir), []);
    for (const d of ['tree', 'tree.up', 'tree.down']) await chmod(join(dir, d, 'sub', 'ro'), 0o755);
  });

  it('a filter leaves entries of a tree out, and a directory left out is not entered', async () => {
    const src = join(dir, 'filtered');
    await mkdir(join(src, '.git'), { recursive: true });
    await writeFile(join(src, '.git', 'HEAD'), 'ref');
    await writeFile(join(src, 'keep.txt'), 'kept');
    await writeFile(join(src, 'skip.log'), 'skipped');
    const filter = (rel: string) => rel !== '.git' && !rel.endsWith('.log');
    await upload(p.c, src, join(dir, 'filtered.up'), { filter });
    assert.deepEqual(await readdir(join(dir, 'filtered.up')), ['keep.txt']);
    await download(p.c, src, join(dir, 'filtered.down'), { filter });
    assert.deepEqual(await readdir(join(dir, 'filtered.down')), ['keep.txt']);
  });

  it('a missing path fails with ENOENT naming it, on either end', async () => {
    const missing = join(dir, 'no-such-file');
    await assert.rejects(upload(p.c, missing, join(dir, 'x')), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.path, missing);
      assert.match(e.message, new RegExp(`^upload .* failed: cannot read ${missing}: ENOENT`));
      return true;
    });
    await assert.rejects(download(p.c, missing, join(dir, 'x')), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, new RegExp(`cannot read ${missing} on the remote end: ENOENT`));
      return true;
    });
    await assert.rejects(download(p.c, join(dir, 'one.bin'), join(dir, 'no-dir', 'x')), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /cannot write .*no-dir\/x: ENOENT/);
      return true;
    });
  });

  it('a target that cannot be written fails with the reason naming the final path, and leaves no file', async () => {
    const source = join(dir, 'small.txt');
    await writeFile(source, 'small');
    // A path under a regular file: ENOTDIR, whoever runs the test.
    const underFile = join(source, 'child');
    await assert.rejects(upload(p.c, source, underFile), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOTDIR');
      assert.match(e.message, new RegExp(`cannot write ${underFile} on the remote end: ENOTDIR`));
      return true;
    });
    await assert.rejects(download(p.c, source, underFile), { code: 'ENOTDIR' });
    const denied = await unwritable(dir);
    assert.ok(denied, 'this platform offers no path that refuses a file to this user');
    await assert.rejects(upload(p.c, source, denied.path), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, denied.code);
      assert.match(e.message, new RegExp(`cannot write ${denied.path} on the remote end: ${denied.code}`));
      return true;
    });
    await assert.rejects(download(p.c, source, denied.path), { code: denied.code });
    await assert.rejects(lstat(denied.path), { code: 'ENOENT' });
    assert.deepEqual(await partFiles(dir), []);
  });

  it('a chunk altered on its way fails the checksum (ECHECKSUM) and leaves no file', async () => {
    const data = randomBytes(200_000);
    const source = join(dir, 'checked.bin');
    await writeFile(source, data);
    for (const direction of ['send', 'receive'] as const) {
      const bad = await classicPair((c) => new CorruptingChannel(c, direction));
      try {
        const target = join(dir, `checked.${direction}`);
        const copy = direction === 'send' ? upload(bad.c, source, target) : download(bad.c, source, target);
        await assert.rejects(copy, (e: NodeJS.ErrnoException) => {
          assert.equal(e.code, 'ECHECKSUM', e.message);
          assert.match(e.message, /checksum mismatch: sha256 [0-9a-f]{64} .*, [0-9a-f]{64}/);
          return true;
        });
        await assert.rejects(lstat(target), { code: 'ENOENT' });
      } finally {
        await bad.close();
      }
    }
    assert.deepEqual(await partFiles(dir), []);
  });

  it('a connection that closes midway fails the copy with ConnectionClosedError and leaves no final file', async () => {
    const source = join(dir, 'large.bin');
    await writeFile(source, randomBytes(4 * 1024 * 1024));
    for (const direction of ['upload', 'download'] as const) {
      const doomed = await classicPair();
      const target = join(dir, `large.${direction}`);
      const onProgress = (x: TransferProgress) => {
        if (x.bytes >= 512 * 1024) void doomed.server.close();
      };
      const copy =
        direction === 'upload'
          ? upload(doomed.c, source, target, { chunkSize: 64 * 1024, onProgress })
          : download(doomed.c, source, target, { chunkSize: 64 * 1024, onProgress });
      await assert.rejects(copy, (e: Error) => {
        assert.ok(e instanceof ConnectionClosedError, `${e.name}: ${e.message}`);
        assert.match(e.message, new RegExp(`^${direction} .* failed at `));
        return true;
      });
      await doomed.close();
      await assert.rejects(lstat(target), { code: 'ENOENT' });
      // The local temporary file of a download is removed; the remote one of an upload waits for the remote
      // end's idle timeout (this test's remote end is this process: remove it here).
      const left = await partFiles(dir);
      assert.deepEqual(
        left.filter((f) => direction === 'download' || !f.includes('large.upload')),
        [],
      );
      for (const f of left) await rm(join(dir, f));
    }
  });

  it('refuses, with a TypeError, a peer that is no classic end', async () => {
    const [ca, cb] = channelPair();
    const [server, c] = await Promise.all([
      connectChannel(ca, { service: class extends Service {} }),
      connectChannel(cb),
    ]);
    try {
      await assert.rejects(upload(c, join(dir, 'one.bin'), join(dir, 'nope')), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /^upload\(\) needs a classic connection/);
        return true;
      });
    } finally {
      await Promise.all([c.close(), server.close()]);
    }
  });

  it('uploadModule makes a local package importable on the remote end, leaving .git out', async () => {
    const pkg = join(dir, 'my-pkg');
    await mkdir(join(pkg, '.git'), { recursive: true });
    await writeFile(join(pkg, '.git', 'HEAD'), 'ref: refs/heads/main');
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'my-pkg', main: 'lib/index.js' }));
    await mkdir(join(pkg, 'lib'));
    await writeFile(
      join(pkg, 'lib', 'index.js'),
      "const { twice } = require('./twice.js');\nexports.run = (x) => twice(x) + 1;\n",
    );
    await writeFile(join(pkg, 'lib', 'twice.js'), 'exports.twice = (x) => 2 * x;\n');
    const uploaded = await uploadModule(p.c, pkg);
    try {
      assert.equal(await uploaded.module.run(20), 41);
      assert.match(uploaded.path, /netref-module-[^/]+\/my-pkg$/);
      assert.deepEqual((await readdir(uploaded.path)).sort(), ['lib', 'package.json']);
      assert.equal(await p.c.modules[uploaded.path].run(1), 3);
    } finally {
      await rm(join(uploaded.path, '..'), { recursive: true, force: true });
    }
  });
});
