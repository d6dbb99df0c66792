import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseConfigText, type GatewayOptions } from '../config/index.js';
import { toGatewayError } from '../errors/index.js';
import type { ReloadReport } from './apply-config-change.js';

/** Options for {@link watchConfigFile}. */
export interface ConfigFileWatcherOptions {
  /** The YAML or JSON file. */
  path: string;
  /** Applies a new configuration, e.g. `handle.reconfigure`. */
  apply: (options: GatewayOptions) => Promise<ReloadReport>;
  /** Turns the file's options into the whole configuration (e.g. command-line flags over them). Default: as they are. */
  toOptions?: (fileOptions: Partial<GatewayOptions>) => GatewayOptions;
  logger: Logger;
  /** Quiet time after the last change before the file is read (editors write in bursts), ms. Default 200. */
  debounceMs?: number;
  /** How long the file may be missing (being replaced) before that is logged, ms. Default 5000. */
  missingGraceMs?: number;
  /** The text the running configuration was read from (so a change made since is applied). Default: the file's text when watching starts. */
  initialText?: string;
  /** The file is also read this often, for file systems whose changes are not signalled, ms. Default 5000. */
  pollIntervalMs?: number;
}

/** A running watch. */
export interface ConfigFileWatcher {
  /** Stops watching (a change being applied completes). */
  close(): void;
  /** Resolves once no change is waiting or being applied (for tests and scripts). */
  idle(): Promise<void>;
}

function isMissing(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Watches a config file and applies each valid change. It watches the file's directory, so a file
 * replaced by a rename (editors, `mv`, Kubernetes ConfigMaps) is followed like one written in place;
 * changes are debounced; a file briefly missing is waited for (its absence is logged after
 * `missingGraceMs`, and the running configuration stays); a file whose text did not change is not
 * applied again. An invalid file is logged (`config_rejected`, naming the field) and the running
 * configuration stays. Nothing here keeps the process alive.
 */
export function watchConfigFile(options: ConfigFileWatcherOptions): ConfigFileWatcher {
  const path = resolve(options.path);
  const { logger } = options;
  const debounceMs = options.debounceMs ?? 200;
  const missingGraceMs = options.missingGraceMs ?? 5000;
  let lastText: string | undefined = options.initialText;
  let missingSince: number | undefined;
  let missingLogged = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const schedule = (delayMs = debounceMs): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, delayMs);
    timer.unref();
  };

  const readAndApply = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
      missingSince ??= Date.now();
      if (Date.now() - missingSince < missingGraceMs) return schedule(Math.max(debounceMs, 100));
      if (!missingLogged) logger.warn({ event: 'config_file_missing', path }, 'the config file is missing; keeping the running configuration');
      missingLogged = true;
      return;
    }
    if (missingLogged) logger.info({ event: 'config_file_back', path }, 'the config file is back');
    missingSince = undefined;
    missingLogged = false;
    if (text === lastText) return;
    lastText = text;
    try {
      const fileOptions = parseConfigText(text, path);
      await options.apply(options.toOptions ? options.toOptions(fileOptions) : (fileOptions as GatewayOptions));
    } catch (thrown) {
      const error = toGatewayError(thrown);
      logger.error({ event: 'config_rejected', path, code: error.code, param: error.param, reason: error.message }, 'config file rejected; keeping the running configuration');
    }
  };

  const check = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return running;
    }
    running = readAndApply()
      .catch((error: unknown) => logger.error({ event: 'config_watch_failed', path, err: error }, 'the config file could not be read'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          schedule();
        }
      });
    return running;
  };

  // The text running now, so the first event does not apply it again.
  const first = readFile(path, 'utf8').then(
    (text) => void (lastText ??= text),
    () => undefined,
  );
  let watcher: FSWatcher | undefined;
  try {
    // Any entry of the directory: a rename of a temporary file or a symlink swap names another file
    // (the text is compared before anything is applied).
    watcher = watch(dirname(path), { persistent: false }, () => schedule());
    watcher.on('error', (error) => logger.warn({ event: 'config_watch_failed', path, err: error }, 'watching the config file failed; it is still read every poll interval'));
  } catch (error) {
    logger.warn({ event: 'config_watch_failed', path, err: error }, 'cannot watch the config directory; the file is read every poll interval');
  }
  const poll = setInterval(() => void check(), options.pollIntervalMs ?? 5000);
  poll.unref();

  return {
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
    idle: async () => {
      await first;
      while (timer || running) {
        await (running ?? new Promise((resolveWait) => setTimeout(resolveWait, debounceMs)));
      }
    },
  };
}
