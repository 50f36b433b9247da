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
