/**
 * The JavaScript the file, stdio and shell helpers evaluate once per connection on a classic end (with its
 * `eval`): one expression, resolving to a plain object of functions (which cross as netrefs) and a few values.
 *
 * It is a string, not a function of this file turned into text, because the code that runs this file may be
 * transpiled (tsx, tsc) and a transpiler is free to add references to its own helpers, which the remote end lacks.
 * It only uses what every Node >= 20 has, imported with `import()`: classic code has no `require`.
 */
export const AGENT_SOURCE = String.raw`(async () => {
  const fs = await import('node:fs');
  const fsp = fs.promises;
  const { createHash } = await import('node:crypto');
  const { sep } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { inspect } = await import('node:util');

  // A transfer nobody talks to any more (its connection broke) removes its temporary file after this long.
  const IDLE_MS = 120000;

  const kind = (st) =>
    st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';

  // Runs steps one after another in the order they were asked for; after a failure every later step fails too,
  // so a chunk is never written after a gap.
  class Serial {
    constructor(idle) {
      this.tail = Promise.resolve();
      this.failure = undefined;
      this.idle = idle;
      this.timer = undefined;
      this.touch();
    }
    touch() {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.idle(), IDLE_MS);
      this.timer.unref?.();
    }
    run(step) {
      this.touch();
      const p = this.tail.then(() => {
        if (this.failure) throw this.failure;
        return step();
      });
      this.tail = p.catch((e) => {
        this.failure ??= e;
      });
      return p;
    }
    stop() {
      if (this.timer) clearTimeout(this.timer);
    }
  }

  class Upload {
    constructor(handle, tmp, final, mode) {
      this.handle = handle;
      this.tmp = tmp;
      this.final = final;
      this.mode = mode;
      this.offset = 0;
      this.hash = createHash('sha256');
      this.serial = new Serial(() => this.abort());
    }
    write(chunk, position) {
      return this.serial.run(async () => {
        if (position !== this.offset) throw new Error('chunk at ' + position + ' arrived while expecting ' + this.offset);
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        let done = 0;
        while (done < buf.length) {
          const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, position + done);
          done += bytesWritten;
        }
        this.hash.update(buf);
        this.offset += buf.length;
        return this.offset;
      });
    }
    // Checks the size and the checksum of what was written, then gives the file its mode and its final name.
    finish(size, digest) {
      return this.serial.run(async () => {
        this.serial.stop();
        try {
          const mine = this.hash.digest('hex');
          if (this.offset !== size) throw new Error('received ' + this.offset + ' bytes of ' + size);
          if (mine !== digest) {
            throw Object.assign(new Error('checksum mismatch: sha256 ' + mine + ' here, ' + digest + ' sent'), {
              code: 'ECHECKSUM',
            });
          }
          await this.handle.datasync();
          await this.handle.chmod(this.mode);
          await this.handle.close();
          this.handle = undefined;
          await fsp.rename(this.tmp, this.final);
          return mine;
        } catch (e) {
          await this.abort();
          throw e;
        }
      });
    }
    async abort() {
      this.serial.stop();
      const handle = this.handle;
      this.handle = undefined;
      await handle?.close().catch(() => {});
      await fsp.unlink(this.tmp).catch(() => {});
    }
  }

  class Download {
    constructor(handle, size) {
      this.handle = handle;
      this.size = size;
      this.offset = 0;
      this.hash = createHash('sha256');
      this.serial = new Serial(() => this.close());
    }
    read(length) {
      return this.serial.run(async () => {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, this.size - this.offset)));
        let done = 0;
        while (done < buf.length) {
          const { bytesRead } = await this.handle.read(buf, done, buf.length - done, this.offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        const chunk = done === buf.length ? buf : buf.subarray(0, done);
        this.hash.update(chunk);
        this.offset += chunk.length;
        return chunk;
      });
    }
    // The checksum of every byte read, in order.
    finish() {
      return this.serial.run(async () => {
        await this.close();
        return this.hash.digest('hex');
      });
    }
    async close() {
      this.serial.stop();
      const handle = this.handle;
      this.handle = undefined;
      await handle?.close().catch(() => {});
    }
  }

  async function walk(root, rel, out) {
    const names = (await fsp.readdir(root + sep + rel.join(sep))).sort();
    for (const name of names) {
      const parts = [...rel, name];
      const full = root + sep + parts.join(sep);
      const st = await fsp.lstat(full);
      const entry = { rel: parts, type: kind(st), size: st.isFile() ? st.size : 0, mode: st.mode & 0o7777 };
      if (entry.type === 'symlink') entry.target = await fsp.readlink(full);
      out.push(entry);
      if (entry.type === 'dir') await walk(root, parts, out);
    }
    return out;
  }

  // Redirections of process.stdout/stderr: each wrapper forwards writes to its sink while active.
  let teeing = null;
  function tee(stream, sink) {
    const original = stream.write;
    let active = true;
    const stop = () => {
      if (!active) return;
      active = false;
      // Someone wrapped the stream after us: stay in place, passing writes through.
      if (stream.write === wrapper) stream.write = original;
    };
    const wrapper = function (chunk, encoding, callback) {
      // A write that one stream passes on to the other (a stdio server sends stdout to stderr) is forwarded once,
      // as a write of the first; nested redirections of the same stream each forward it.
      if (active && (teeing === null || teeing === stream)) {
        try {
          // Bytes stay bytes (a character split across two writes must not be garbled); a copy, as the writer
          // may reuse its buffer.
          const data =
            typeof chunk === 'string'
              ? typeof encoding === 'string' && !/^utf-?8$/i.test(encoding)
                ? Buffer.from(chunk, encoding)
                : chunk
              : Buffer.from(chunk);
          // The reply is not awaited; a failure (the connection is gone) ends the redirection.
          Promise.resolve(sink(data)).then(undefined, stop);
        } catch {
          stop();
        }
      }
      const outer = teeing === null;
      if (outer) teeing = stream;
      try {
        return original.apply(this, arguments);
      } finally {
        if (outer) teeing = null;
      }
    };
    stream.write = wrapper;
    return stop;
  }

  class Holder {
    constructor(value) {
      this.value = value;
    }
  }

  return {
    sep,
    builtinModules: (await import('node:module')).builtinModules,
    async stat(path) {
      const st = await fsp.stat(path);
      return { type: kind(st), size: st.isFile() ? st.size : 0, mode: st.mode & 0o7777 };
    },
    walk: (root) => walk(root, [], []),
    async mkdir(path) {
      await fsp.mkdir(path, { recursive: true });
      const st = await fsp.stat(path);
      if (!st.isDirectory()) {
        throw Object.assign(new Error('EEXIST: file already exists and is not a directory'), { code: 'EEXIST' });
      }
    },
    chmod: (path, mode) => fsp.chmod(path, mode),
    async symlink(target, tmp, final) {
      await fsp.symlink(target, tmp);
      try {
        await fsp.rename(tmp, final);
      } catch (e) {
        await fsp.unlink(tmp).catch(() => {});
        throw e;
      }
    },
    mkdtemp: (prefix) => fsp.mkdtemp(tmpdir() + sep + prefix),
    async upload(tmp, final, mode) {
      // 0o600 until finished: nobody else should open a file that is still being written.
      return new Upload(await fsp.open(tmp, 'wx', 0o600), tmp, final, mode);
    },
    async download(path) {
      const handle = await fsp.open(path, 'r');
      try {
        const st = await handle.stat();
        if (!st.isFile()) {
          throw Object.assign(new Error('EISDIR: not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
        }
        return { reader: new Download(handle, st.size), size: st.size, mode: st.mode & 0o7777 };
      } catch (e) {
        await handle.close().catch(() => {});
        throw e;
      }
    },
    redirect(stdoutSink, stderrSink) {
      const stops = [tee(process.stdout, stdoutSink), tee(process.stderr, stderrSink)];
      return () => stops.forEach((stop) => stop());
    },
    // Runs shell input with the service's execute and prints the value here, as this end would print it.
    async run(service, code, options) {
      return inspect(await service.execute(code), options);
    },
    // The REPL's let/const/class bindings of the global scope, which are no properties of globalThis.
    async lexicalNames() {
      try {
        const { Session } = await import('node:inspector');
        const session = new Session();
        session.connect();
        try {
          return await new Promise((resolve) =>
            session.post('Runtime.globalLexicalScopeNames', (error, result) => resolve(error ? [] : result.names)),
          );
        } finally {
          session.disconnect();
        }
      } catch {
        return []; // no inspector in this runtime
      }
    },
    // What an expression evaluates to in the global scope, held by reference (for describe).
    hold(expression) {
      return new Holder((0, eval)('(' + expression + '\n)'));
    },
    // Makes the classic service's modules a global of the shell's scope, unless the name is taken.
    installModules(modules) {
      if (!('modules' in globalThis)) globalThis.modules = modules;
      return globalThis.modules === modules;
    },
    // Own and inherited property names of what an expression evaluates to, for completion.
    memberNames(expression) {
      const value = (0, eval)('(' + expression + '\n)');
      if (value === null || value === undefined) return [];
      const names = new Set();
      for (let o = Object(value); o; o = Object.getPrototypeOf(o)) {
        for (const n of Object.getOwnPropertyNames(o)) names.add(n);
      }
      return [...names];
    },
  };
})()`;
