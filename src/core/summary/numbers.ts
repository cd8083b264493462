/** Numbers in a summary, formatted by hand (no toLocaleString): the same bytes on every machine, in every locale. */
export function int(n: number): string {
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? `-${s}` : s;
}

export function usd(v: number): string {
  if (v === 0) return '$0.00';
  if (Math.abs(v) < 0.01) return `$${v.toFixed(4)}`;
  const [whole, frac] = Math.abs(v).toFixed(2).split('.');
  return `${v < 0 ? '-' : ''}$${int(Number(whole))}.${frac}`;
}
