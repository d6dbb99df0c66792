/** `zg-gateway --help` and each command's `--help`: what a newcomer needs, with examples. */
import { STRATEGY_NAMES } from '../strategies/index.js';

const SERVE_FLAGS = `  -c, --config FILE         YAML or JSON config file (see "Config file reference" in the README).
                            It is watched: valid changes apply without a restart.
      --port N              listening port (0 = any free port)        [env PORT, default 3000]
      --host ADDRESS        listening address                          [env HOST, default 127.0.0.1]
      --strategy NAME       ${[...STRATEGY_NAMES, 'cache-aware'].join(', ').replace(/(.{1,62})(, |$)/g, '$1,\n                            ').replace(/,\n\s*$/, '')}
                                                                       [env STRATEGY, round-robin]
      --log-level LEVEL     fatal, error, warn, info, debug, trace, silent   [env LOG_LEVEL, info]
      --log-format FORMAT   pretty or json   [default: pretty on a terminal, json otherwise]
      --provider ADDRESS    a 0G provider (repeatable; replaces the file's list) [env ZG_PROVIDERS]
      --upstream NAME=URL   an OpenAI-compatible upstream, e.g. local=http://127.0.0.1:8000/v1
                            (repeatable; replaces the file's list)
      --rpc URL             0G chain JSON-RPC URL                       [env RPC_ENDPOINT]
      --redis URL           keep state in Redis: store: { type: redis, url } [env REDIS_URL]
      --keys-file FILE      client keys file (JSON)
      --allow-unauthenticated  serve a non-loopback host without client keys
      --set PATH=VALUE      any other option, e.g. --set timeouts.firstByte=5000
                            --set 'modelAliases={"gpt-4o":"qwen-2.5-7b"}' (repeatable; the value is
                            JSON when it parses as JSON, else a string)
      --ready-file FILE     once listening, write {"url", "pid"} as JSON to FILE
      --no-watch            do not watch the config file
  -h, --help                this help

  The wallet key is read from env ZG_PRIVATE_KEY (or the file's "key"), never from a flag.
  Precedence: the file < environment variables < flags < --set.`;

export const MAIN_HELP = `zg-gateway: one OpenAI-compatible URL in front of many 0G compute providers.

Usage: zg-gateway <command> [options]

Commands:
  serve       run the gateway (from a config file, flags and environment variables)
  devnet      start a local 0G devnet (and, with --serve, the gateway in front of it)
  providers   list the inference services registered on a 0G chain (read-only, no key)
  keys        create, list and revoke client keys kept in Redis
  usage       requests, tokens, spend and latency from a running gateway's request log

Run 'zg-gateway <command> --help' for a command's options and examples.

Examples:
  zg-gateway devnet --serve                       # try it: local chain, 3 providers, gateway on :3000
  zg-gateway serve --config gateway.yaml
  ZG_PRIVATE_KEY=0x... zg-gateway serve --rpc https://evmrpc-testnet.0g.ai --provider 0xf072...
  zg-gateway providers --rpc https://evmrpc-testnet.0g.ai
  REDIS_URL=redis://127.0.0.1:6379 zg-gateway keys create alice --rpm 60

Exit codes: 0 done, 1 failed while running, 2 wrong command line or invalid configuration.
`;

export const SERVE_HELP = `Usage: zg-gateway serve [--config FILE] [options]

Runs the gateway until Ctrl-C or SIGTERM (in-flight requests finish first, up to
shutdownGracePeriod). Without --config, options come from environment variables as for
'npm start': ZG_PROVIDERS, ZG_PRIVATE_KEY, RPC_ENDPOINT, REDIS_URL, PORT, HOST, STRATEGY,
LOG_LEVEL, ADMIN_TOKEN, ADMIN_TOKEN_FILE, METRICS_TOKEN, ALLOW_UNAUTHENTICATED.

Options:
${SERVE_FLAGS}

Live reload: when the config file changes, providers (added, or removed after their requests
finish), weights and other provider options, strategy, model aliases, fallbacks, defaultModel,
client keys and logLevel apply at once. Options read only at start (port, host, store, key, rpc,
timeouts, ...) are logged as needing a restart. An invalid file is logged and ignored.

Examples:
  zg-gateway serve --config gateway.yaml
  zg-gateway serve -c gateway.yaml --port 8080 --log-level debug
  zg-gateway serve --upstream local=http://127.0.0.1:8000/v1 --set 'openAICompatibleProviders.0.model="qwen"'
  ZG_PRIVATE_KEY=0x... zg-gateway serve --rpc https://evmrpc-testnet.0g.ai --provider 0xf07240Efa67755B5311bc75784a061eDB47165Dd

A minimal gateway.yaml:
  strategy: least-connections
  openAICompatibleProviders:
    - { name: gpu-1, baseUrl: "http://10.0.0.1:8000/v1", model: qwen-2.5-7b, weight: 2 }
    - { name: gpu-2, baseUrl: "http://10.0.0.2:8000/v1", model: qwen-2.5-7b }
`;

export const DEVNET_HELP = `Usage: zg-gateway devnet [--providers N] [--serve [serve options]]

Starts a local 0G devnet: anvil, the real 0G serving contracts and N simulated providers, all on
127.0.0.1. Needs the zg-devnet package (a development dependency of zg-gateway: 'npm install' in
a clone of the project). Ctrl-C stops everything.

Options:
      --providers N         simulated providers, 1 to 50                [default 3]
      --serve               also run the gateway in front of the devnet (like 'npm start'),
                            with the devnet's throw-away funded key; the serve options below apply
${SERVE_FLAGS}

The devnet's private key is never printed; 'zg-devnet' (npm run devnet) prints it for experiments.

Examples:
  zg-gateway devnet --serve                      # gateway on http://127.0.0.1:3000
  zg-gateway devnet --providers 5 --serve --strategy least-connections --port 8080
  zg-gateway devnet                              # just the chain; then: zg-gateway providers --rpc <url> --contract <inference>
`;

export const PROVIDERS_HELP = `Usage: zg-gateway providers --rpc URL [--contract ADDRESS] [--json]

Lists the inference services registered on a 0G chain: provider, model, prices (neuron per token,
and 0G per million tokens), verifiability, TEE signer and whether it is acknowledged, and URL.
Read-only: no wallet, no private key, no transaction. Multi-model providers are asked for their
catalog (/v1/models).

Options:
      --rpc URL             0G chain JSON-RPC URL                       [env RPC_ENDPOINT]
      --contract ADDRESS    the inference contract   [default: the SDK's for the chain's id]
      --chain-id N          skip asking the RPC for the chain id
      --json                one JSON document (prices as decimal strings of neuron)
  -h, --help                this help

Examples:
  zg-gateway providers --rpc https://evmrpc-testnet.0g.ai
  zg-gateway providers --rpc http://127.0.0.1:8545 --contract 0x5FbDB2315678afecb367f032d93F642f64180aa3 --json
`;

export const KEYS_HELP = `Usage: zg-gateway keys <create|list|revoke> [options]

Client keys kept in Redis, shared by every gateway using the same Redis and prefix. Only a hash of
each key is stored. Gateways with that store accept these keys (beside apiKeys and keysFile) and
notice new and revoked keys within about 2 seconds.

  keys create ID [limits]   makes a key; prints it once (it cannot be shown again)
  keys list                 id, fingerprint, limits, creation time (never a key or its hash)
  keys revoke ID            removes the key; running gateways refuse it within ~2 s

Where the keys are:
      --redis URL           redis://[[user]:password@]host[:port][/db]   [env REDIS_URL]
      --prefix PREFIX       key prefix, as the gateways' store.prefix    [default zgw]
  -c, --config FILE         take store.url and store.prefix from a gateway config file

Limits (create):
      --rpm N               requests per minute
      --tpm N               tokens per minute
      --max-concurrent N    requests in flight at once (per gateway instance)
      --max-priority N      highest admission priority 0-10 (X-Priority above it is lowered; default: the queue's defaultPriority)
      --budget NEURON       spending limit in neuron (1 0G = 10^18 neuron), with --budget-period
      --budget-period P     minute, hour, day, week, month or total      [default day]
      --models A,B          models the key may use                        [default: all]
      --expires-at DATE     ISO 8601 date or date-time when it stops working
      --json                machine-readable output
  -h, --help                this help

Examples:
  export REDIS_URL=redis://127.0.0.1:6379
  zg-gateway keys create alice --rpm 60 --budget 1000000000000000000 --budget-period month
  zg-gateway keys list
  zg-gateway keys revoke alice
`;

export const USAGE_HELP = `Usage: zg-gateway usage [requests] [options]

Reads the request log of a running gateway (its requestLog option) through its admin API.

  usage                     requests, errors, tokens, spend and p50/p95 latency per group and bucket
  usage requests            the requests themselves, newest first, a page at a time

Where the gateway is:
      --url URL             the gateway's base URL               [env ZG_GATEWAY_URL, default http://127.0.0.1:3000]
      --token-file FILE     file holding the admin token         [env ADMIN_TOKEN_FILE; or env ADMIN_TOKEN]

What to show:
      --group-by G          key, model or provider (usage)       [default model]
      --interval I          hour or day, UTC (usage)             [default day]
      --key ID              only this client key
      --model M             only this served model
      --provider P          only this provider
      --outcome O           only ok, error, stream_error or client_closed
      --from T, --to T      time range: ISO 8601 or epoch ms     [usage default: the last day (hour) or 30 days (day)]
      --limit N             requests per page, 1-1000 (requests) [default 100]
      --cursor C            the next page, as printed after a page (requests)
      --json                the admin API's JSON (exact neuron)
      --csv                 CSV (exact neuron)
  -h, --help                this help

Spend is shown in 0G (1 0G = 10^18 neuron), rounded down to 6 decimals; --json and --csv keep exact neuron.

Examples:
  export ADMIN_TOKEN_FILE=~/.zg-gateway/admin-token
  zg-gateway usage --group-by key --interval day
  zg-gateway usage --group-by provider --interval hour --from 2026-01-05T00:00:00Z
  zg-gateway usage requests --key alice --outcome error --limit 20
`;
