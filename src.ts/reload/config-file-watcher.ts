import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { locateConfigError, MAX_CONFIG_FILE_BYTES, parseConfigText, readConfigFileText, type GatewayOptions } from '../config/index.js';
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
  /** A file larger than this is refused without being read whole, bytes. Default `MAX_CONFIG_FILE_BYTES` (1 MiB). */
  maxFileBytes?: number;
}

/** A running watch. */
export interface ConfigFileWatcher {
  /** Stops watching (a change being applied completes). */
  close(): void;
  /** Resolves once no change is waiting or being applied (for tests and scripts). */
  idle(): Promise<void>;
}

/** Marks `lastText` when the file was refused unread (the marker cannot be a file's text). */
const REFUSED = '\u0000refused:';

function isMissing(error: unknown): boolean {
  // readConfigFileText wraps the system error (its `cause`).
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Watches a config file and applies each valid change. It watches the file's directory, so a file
 * replaced by a rename (editors, `mv`, Kubernetes ConfigMaps) is followed like one written in place;
 * changes are debounced; a file briefly missing is waited for (its absence is logged after
 * `missingGraceMs`, and the running configuration stays); a file whose text did not change is not
 * applied again. An invalid file is logged (`config_rejected`, naming the field and its line, never
 * quoting the file: it may have been replaced by a symlink to a file of secrets) and the running
 * configuration stays; a file over `maxFileBytes` is refused without being read whole (logged once
 * per size). Nothing here keeps the process alive.
 */
export function watchConfigFile(options: ConfigFileWatcherOptions): ConfigFileWatcher {
  const path = resolve(options.path);
  const { logger } = options;
  const debounceMs = options.debounceMs ?? 200;
  const missingGraceMs = options.missingGraceMs ?? 5000;
  const maxFileBytes = options.maxFileBytes ?? MAX_CONFIG_FILE_BYTES;
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
      text = await readConfigFileText(path, maxFileBytes);
    } catch (error) {
      if (!isMissing(error)) {
        // Too large, not a file, unreadable: logged once until it changes (the file is polled).
        const message = error instanceof Error ? error.message : String(error);
        if (lastText === REFUSED + message) return;
        lastText = REFUSED + message;
        missingSince = undefined;
        throw error;
      }
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
      const error = toGatewayError(locateConfigError(thrown, text, path));
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
      .catch((thrown: unknown) => {
        const error = toGatewayError(thrown);
        logger.error({ event: 'config_rejected', path, code: error.code, param: error.param, reason: error.message }, 'config file refused; keeping the running configuration');
      })
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
  const first = readConfigFileText(path, maxFileBytes).then(
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
