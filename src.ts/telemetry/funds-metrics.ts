import { Gauge, type Registry } from 'prom-client';

/** Where {@link FundsMetrics} reads from at scrape time (in-memory state only: a scrape never reads the chain). */
export interface FundsSource {
  /** The funding keeper's last reading (`ledger`, `ledgerFloor`, `belowFloor`, `subAccounts`), or undefined without a 0G wallet. */
  funding(): object | undefined;
  /** The providers billing flagged `overcharging`; undefined without billing. */
  overcharging(): readonly string[] | undefined;
  /** The providers in the fleet now (ids). */
  providers(): readonly string[];
  /** The bounded label of a provider id. */
  label(id: string): string;
}

interface FundingReading {
  ledger: { available: string; total: string } | null;
  ledgerFloor: string;
  belowFloor: boolean;
  subAccounts: Record<string, { balance: string }>;
}

/** The funding summary's fields, when it has the expected shape (it is typed `object` where the fleet exposes it). */
function readingOf(value: object | undefined): FundingReading | undefined {
  if (value === undefined || !('ledgerFloor' in value) || !('subAccounts' in value)) return undefined;
  return value as FundingReading;
}

/** A neuron amount as a float (exact below 2^53; a gauge needs no more). */
const amount = (text: string): number => Number(text);

/**
 * The wallet's funds and billing's verdicts as gauges, for alerting: the ledger's available balance
 * and its floor (`zg_gateway_ledger_*`), each provider's sub-account balance, and whether billing
 * flagged a provider as overcharging. Series exist only where they apply: no ledger series without a
 * 0G wallet.
 */
export class FundsMetrics {
  constructor(registry: Registry, source: FundsSource) {
    const registers = [registry];
    new Gauge({
      name: 'zg_gateway_ledger_available_neuron',
      help: "The wallet's ledger balance available for sub-account top-ups, neuron, as last read (absent before the first read or without a 0G wallet).",
      registers,
      collect() {
        this.reset();
        const ledger = readingOf(source.funding())?.ledger;
        if (ledger) this.set(amount(ledger.available));
      },
    });
    new Gauge({
      name: 'zg_gateway_ledger_floor_neuron',
      help: 'The ledger balance under which the gateway warns (`ledgerFloor`), neuron.',
      registers,
      collect() {
        this.reset();
        const reading = readingOf(source.funding());
        if (reading) this.set(amount(reading.ledgerFloor));
      },
    });
    new Gauge({
      name: 'zg_gateway_ledger_below_floor',
      help: '1 when the ledger balance last read is below the floor, else 0.',
      registers,
      collect() {
        this.reset();
        const reading = readingOf(source.funding());
        if (reading) this.set(reading.belowFloor ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zg_gateway_sub_account_balance_neuron',
      help: "Each 0G provider's sub-account balance, neuron, as last read.",
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        const reading = readingOf(source.funding());
        for (const [provider, account] of Object.entries(reading?.subAccounts ?? {})) this.set({ provider: source.label(provider) }, amount(account.balance));
      },
    });
    new Gauge({
      name: 'zg_gateway_provider_overcharging',
      help: '1 while billing flags the provider as overcharging (settled more than it served beyond the tolerance), else 0.',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        const flagged = source.overcharging();
        if (flagged === undefined) return;
        const set = new Set(flagged);
        for (const id of new Set([...source.providers(), ...flagged])) this.set({ provider: source.label(id) }, set.has(id) ? 1 : 0);
      },
    });
  }
}
