// Headless Firefox for the live view's tests: Debian's `firefox-esr` (which .ci/run installs),
// driven over WebDriver BiDi, the W3C protocol Firefox speaks natively
// (https://w3c.github.io/webdriver-bidi/). playwright-core drives only its own patched Firefox
// builds (its BiDi channel needs commands Firefox ESR lacks), so this is a small client of the
// few commands the test needs: session.new, browsingContext.getTree/navigate/captureScreenshot,
// script.evaluate and browser.close. Resolves with the browser, or with the reason it cannot
// run (the test then skips and says so).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const FIREFOX = process.env.NVMEMU_FIREFOX ?? '/usr/bin/firefox-esr';

interface BidiReply {
  id?: number;
  type?: 'success' | 'error' | 'event';
  result?: unknown;
  error?: string;
  message?: string;
}

/** A remote value of script.evaluate (only the primitive kinds the test reads). */
interface RemoteValue {
  type: string;
  value?: unknown;
}

export class Firefox {
  private next = 0;
  private readonly pending = new Map<number, (r: BidiReply) => void>();

  /** The browser's version (session.new's capabilities). */
  version = '';
  private context = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    // BiDi messages are text frames.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const r = JSON.parse(data.toString('utf8')) as BidiReply;
      if (r.id === undefined) return;
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
  }

  static async open(timeoutMs = 60_000): Promise<Firefox | string> {
    if (!existsSync(FIREFOX)) {
      return `no Firefox at ${FIREFOX} (apt-get install firefox-esr; .ci/run installs it)`;
    }
    const profile = mkdtempSync(join(tmpdir(), 'nvmemu-firefox-'));
    const child = spawn(
      FIREFOX,
      ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const fail = (why: string): string => {
      child.kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true });
      return `Firefox did not start: ${why}`;
    };
    // Firefox names its WebDriver BiDi endpoint on stderr once it listens.
    const url = await new Promise<string>((resolve) => {
      let text = '';
      const timer = setTimeout(() => resolve(''), timeoutMs);
      child.once('error', () => resolve(''));
      child.once('exit', () => resolve(''));
      child.stderr.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(text);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    if (url === '') return fail('no WebDriver BiDi endpoint announced');
    const ws = new WebSocket(`${url}/session`);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
    });
    if (!opened) return fail(`cannot reach ${url}/session`);
    const ff = new Firefox(child, ws, profile);
    try {
      const session = (await ff.send('session.new', { capabilities: {} })) as {
        capabilities: { browserVersion: string };
      };
      const tree = (await ff.send('browsingContext.getTree', {})) as {
        contexts: { context: string }[];
      };
      ff.version = session.capabilities.browserVersion;
      ff.context = tree.contexts[0]!.context;
      return ff;
    } catch (e) {
      ws.close();
      return fail((e as Error).message);
    }
  }

  private send(method: string, params: object): Promise<unknown> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) =>
        r.type === 'error'
          ? reject(new Error(`${method}: ${r.error}: ${r.message}`))
          : resolve(r.result),
      );
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Loads `url` in the browser's tab and waits for its load event. */
  async goto(url: string): Promise<void> {
    await this.send('browsingContext.navigate', { context: this.context, url, wait: 'complete' });
  }

  /** Evaluates an expression in the page (a promise is awaited) and returns its value as JSON. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('script.evaluate', {
      expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context: this.context },
      awaitPromise: true,
    })) as { type: string; result?: RemoteValue; exceptionDetails?: { text: string } };
    if (r.type !== 'success') throw new Error(`in the page: ${r.exceptionDetails?.text ?? r.type}`);
    return JSON.parse(String(r.result?.value)) as T;
  }

  /** Polls `expression` until it is truthy; returns its last value. */
  async waitFor<T>(expression: string, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(expression);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG of the page's viewport. */
  async screenshot(): Promise<Buffer> {
    const r = (await this.send('browsingContext.captureScreenshot', {
      context: this.context,
    })) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  async close(): Promise<void> {
    await this.send('browser.close', {}).catch(() => undefined);
    this.ws.close();
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve();
        }, 10_000);
        this.child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}
