/**
 * Units people read, for the status page. These functions run in the browser too: the page's
 * script embeds their source (`Function.prototype.toString`), so each is self-contained (no
 * import, no outside name) and plain ES2020.
 */

/**
 * An amount of neuron as 0G (1 0G = 10^18 neuron) with sensible precision: at least 1 0G, up to
 * 4 decimals with thousands separators (`1,234.5 0G`); below, 3 significant digits
 * (`0.00031 0G`, `0.000000310 0G` is shown `0.00000031 0G`); exact 0 is `0 0G`. Negative
 * amounts keep their sign. Takes the decimal string the API sends.
 */
export function formatZeroG(neuron: string): string {
  let value = BigInt(neuron);
  const negative = value < 0n;
  if (negative) value = -value;
  const unit = 10n ** 18n;
  const whole = value / unit;
  const fraction = (value % unit).toString().padStart(18, '0');
  let text: string;
  if (value === 0n) text = '0';
  else if (whole > 0n) {
    // Rounded to 4 decimals (half up).
    const scaled = (value * 10000n + unit / 2n) / unit;
    const integer = (scaled / 10000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const decimals = (scaled % 10000n).toString().padStart(4, '0').replace(/0+$/, '');
    text = decimals === '' ? integer : `${integer}.${decimals}`;
  } else {
    // 3 significant digits, rounded half up, without trailing zeros.
    const zeros = fraction.length - fraction.replace(/^0+/, '').length;
    const digits = BigInt(fraction.slice(zeros, zeros + 4).padEnd(4, '0'));
    let significant = (digits + 5n) / 10n;
    let leading = zeros;
    if (significant >= 1000n) {
      significant /= 10n;
      leading -= 1;
    }
    const shown = significant.toString().replace(/0+$/, '');
    text = leading < 0 ? '1' : `0.${'0'.repeat(leading)}${shown}`;
  }
  return `${negative ? '-' : ''}${text} 0G`;
}

/** A duration for people: `45 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** Milliseconds for people: `0.8 ms`, `42 ms`, `1.35 s`; `-` for none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
