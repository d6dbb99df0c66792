/**
 * A config file is the operator's, but what its name points at may not be: a watched config
 * replaced by a symlink to a file of secrets (or `/etc/shadow`) must not have its lines logged; a
 * 50 MB file must be refused before it is read whole; a YAML alias bomb is an invalid config, not
 * an internal error. A real `zg-gateway serve` process watches the file; its whole output (JSON
 * logs on stdout, stderr) is searched for every secret.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, runCli, startCliServer, type CliServer } from '../helpers/cli-process.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

const SECRETS = ['hunter2-alpha', 'hunter2-bravo', 'SECRET_LINE_1', 'SECRET_LINE_2', 'S3cr3tHashOfRoot', 'daemonHashXYZ', 'root:$6$abc'];
const SECRETS_FILE = ['SECRET_LINE_1: hunter2-alpha', 'SECRET_LINE_2: hunter2-bravo', 'SECRET_LINE_3: {nested: hunter2-alpha}', ''].join('\n');
const SHADOW_FILE = ['root:$6$abc$S3cr3tHashOfRoot:19000:0:99999:7:::', 'daemon:$6$xyz$daemonHashXYZ:19000:0:99999:7:::', ''].join('\n');
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  '',
].join('\n');

/** Points `path` at `target` in one step (a symlink renamed over the file, as a swap would). */
function swapToSymlink(path: string, target: string): void {
  symlinkSync(target, `${path}.link`);
  renameSync(`${path}.link`, path);
}

/** Peak resident memory of a process so far, MB (Linux `VmHWM`). */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function leaked(output: string): string[] {
  return SECRETS.filter((secret) => output.includes(secret));
}

describe('config files that are not what they seem', () => {
  let folder: string;
  let upstream: HostileUpstream;
  let server: CliServer | undefined;
  let configYaml: string;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'zg-config-files-'));
    upstream = await startHostileUpstream('up');
    configYaml = `openAICompatibleProviders:\n  - name: up\n    baseUrl: "${upstream.baseUrl}"\n    model: m\n`;
    writeFileSync(join(folder, 'secrets.yaml'), SECRETS_FILE);
    writeFileSync(join(folder, 'shadow'), SHADOW_FILE);
    writeFileSync(join(folder, 'bomb.yaml'), ALIAS_BOMB);
    // 50 MB: one option whose value is a 50 MB string (what stalled the gateway 9 s and took 2 GB).
    writeFileSync(join(folder, 'huge.yaml'), `defaultModel: "${'a'.repeat(50 * 1024 * 1024)}"\n`);
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a watched config swapped for secrets, a shadow-like file, an alias bomb and 50 MB: each refused, nothing of them logged', async () => {
    const config = join(folder, 'gateway.yaml');
    writeFileSync(config, configYaml);
    server = await startCliServer(['serve', '--config', config, '--port', '0', '--log-format', 'json']);
    const running = server;
    const rejections = (): Array<Record<string, unknown>> => running.logs().filter((record) => record.event === 'config_rejected');
    const chat = async (): Promise<number> =>
      (await fetch(`${running.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) })).status;

    swapToSymlink(config, join(folder, 'secrets.yaml'));
    assert.ok(await eventually(() => rejections().length >= 1), `the secrets file is rejected:\n${running.stdout().slice(-2000)}`);
    const secretsRejection = rejections()[0];
    console.log(`secrets file: ${JSON.stringify(secretsRejection?.reason)}`);
    assert.equal(secretsRejection?.code, 'invalid_config');
    assert.match(String(secretsRejection?.reason), /an unknown key.*\(at line 1 of /);

    swapToSymlink(config, join(folder, 'shadow'));
    assert.ok(await eventually(() => rejections().length >= 2), 'the shadow-like file is rejected');
    console.log(`shadow-like file: ${JSON.stringify(rejections()[1]?.reason)}`);
    assert.match(String(rejections()[1]?.reason), /an unknown key.*\(at line 1 of /);

    swapToSymlink(config, join(folder, 'bomb.yaml'));
    assert.ok(await eventually(() => rejections().length >= 3), 'the alias bomb is rejected');
    const bomb = rejections()[2];
    console.log(`alias bomb: ${JSON.stringify(bomb?.reason)}`);
    assert.equal(bomb?.code, 'invalid_config');
    assert.match(String(bomb?.reason), /alias/);
    assert.doesNotMatch(running.stdout(), /Internal gateway error|internal_error/);

    const peakBefore = peakRssMb(running.child.pid ?? 0);
    swapToSymlink(config, join(folder, 'huge.yaml'));
    assert.ok(await eventually(() => rejections().length >= 4), 'the 50 MB file is rejected');
    const huge = rejections()[3];
    const peakAfter = peakRssMb(running.child.pid ?? 0);
    console.log(`50 MB file: ${JSON.stringify(huge?.reason)}; peak RSS ${peakBefore.toFixed(1)} MB -> ${peakAfter.toFixed(1)} MB (growth ${(peakAfter - peakBefore).toFixed(1)} MB)`);
    assert.equal(huge?.code, 'invalid_config');
    assert.match(String(huge?.reason), /larger than 1048576 bytes/);
    assert.ok(peakAfter - peakBefore < 20, `peak RSS grew by ${(peakAfter - peakBefore).toFixed(1)} MB reading a refused 50 MB file`);
    // Polled again (every 5 s) and re-signalled: the same refusal is not logged again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(rejections().length, 4, 'a refused file is logged once');

    assert.equal(await chat(), 200, 'the running configuration still serves');
    const output = running.stdout() + running.stderr();
    assert.deepEqual(leaked(output), [], 'no secret appears anywhere in the output');
    assert.doesNotMatch(output, /Unrecognized key/);
  });

  test('at start: a config that is a file of secrets, an alias bomb or 50 MB stops the CLI with invalid_config, quoting none of it', async () => {
    const link = join(folder, 'start.yaml');
    for (const [target, expected] of [
      ['secrets.yaml', /an unknown key.*\(at line 1 of /],
      ['shadow', /an unknown key.*\(at line 1 of /],
      ['bomb.yaml', /alias/],
      ['huge.yaml', /larger than 1048576 bytes/],
    ] as const) {
      rmSync(link, { force: true });
      symlinkSync(join(folder, target), link);
      const result = await runCli(['serve', '--config', link, '--port', '0', '--log-format', 'json']);
      console.log(`start with ${target}: exit ${String(result.code)}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, expected);
      assert.match(result.stderr, /invalid_config/);
      assert.deepEqual(leaked(result.stdout + result.stderr), [], `no secret in the output of a start with ${target}`);
    }
  });
});
