/** Simple accessible SVG charts (no chart library): grouped bars and a funnel. */
export interface Series {
  label: string;
  color: string;
  values: number[];
}

export function BarChart({ title, labels, series, height = 220 }: { title: string; labels: string[]; series: Series[]; height?: number }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const groupW = 100 / Math.max(1, labels.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 100 ${height / 4}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${title}: ${labels.map((l, i) => `${l} ${series.map((s) => `${s.label} ${s.values[i] ?? 0}`).join(', ')}`).join('; ')}`}
      >
        {labels.map((l, i) =>
          series.map((s, j) => {
            const v = s.values[i] ?? 0;
            const h = (v / max) * (height / 4 - 2);
            return (
              <rect key={`${l}-${s.label}`} x={i * groupW + groupW * 0.1 + j * barW} y={height / 4 - h} width={barW * 0.95} height={h} fill={s.color}>
                <title>{`${l} · ${s.label}: ${v}`}</title>
              </rect>
            );
          }),
        )}
      </svg>
      <figcaption>
        <strong>{title}</strong>
        <span className="legend">
          {series.map((s) => (
            <span key={s.label}>
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label}
            </span>
          ))}
        </span>
        <span className="axis">
          {labels.length > 0 && `${labels[0]} … ${labels[labels.length - 1]}`} · max {max}
        </span>
      </figcaption>
    </figure>
  );
}

export function Funnel({ steps }: { steps: { label: string; value: number }[] }) {
  const max = Math.max(1, ...steps.map((s) => s.value));
  return (
    <ol className="funnel" aria-label="Funnel">
      {steps.map((s, i) => {
        const prev = i > 0 ? steps[i - 1]!.value : undefined;
        const rate = prev ? ` (${Math.round((s.value / prev) * 100)}% of ${steps[i - 1]!.label.toLowerCase()})` : '';
        return (
          <li key={s.label}>
            <span className="funnel-label">
              {s.label}: <strong>{s.value}</strong>
              {rate}
            </span>
            <span className="funnel-bar" style={{ width: `${Math.max(2, (s.value / max) * 100)}%` }} aria-hidden="true" />
          </li>
        );
      })}
    </ol>
  );
}

/**
 * ROMI per channel as horizontal bars around a zero line: a channel that lost money reaches left.
 * Each bar carries its value as text, and the figure's label reads them all out.
 */
export function RomiChart({ rows }: { rows: { label: string; romi: number }[] }) {
  if (rows.length === 0) return null;
  const extent = Math.max(0.01, ...rows.map((r) => Math.abs(r.romi)));
  const hasLoss = rows.some((r) => r.romi < 0);
  const zero = hasLoss ? 50 : 0;
  const span = hasLoss ? 50 : 100;
  const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;
  return (
    <figure className="chart romi-chart">
      <div role="img" aria-label={`ROMI by channel: ${rows.map((r) => `${r.label} ${pct(r.romi)}`).join('; ')}`}>
        {rows.map((r) => {
          const width = (Math.abs(r.romi) / extent) * span;
          return (
            <div key={r.label} className="romi-row" aria-hidden="true">
              <span className="romi-label">{r.label}</span>
              <span className="romi-track">
                <span
                  className={r.romi < 0 ? 'romi-bar loss' : 'romi-bar'}
                  style={{ left: `${r.romi < 0 ? zero - width : zero}%`, width: `${Math.max(width, 0.5)}%` }}
                />
              </span>
              <span className="romi-value">{pct(r.romi)}</span>
            </div>
          );
        })}
      </div>
      <figcaption>
        <strong>ROMI by channel</strong> (revenue − cost) / cost
      </figcaption>
    </figure>
  );
}
