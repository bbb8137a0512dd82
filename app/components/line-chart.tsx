/**
 * A small line chart drawn as SVG (no chart library, nothing to download): one line per series
 * over evenly spaced points, gaps where a value is missing, a y-axis maximum and the first and
 * last x labels, a legend, and the numbers as a visually hidden table for screen readers.
 */
import { BlockStack, InlineStack, Text } from "@shopify/polaris";

const COLORS = ["#2c6ecb", "#e4770b", "#29845a", "#8051ff", "#c7336e", "#616161"];
const W = 640;
const H = 180;
const PAD = { top: 10, right: 10, bottom: 4, left: 4 };

export type ChartSeries = {
  name: string;
  values: (number | null)[];
  dashed?: boolean;
  /** Its colour (default: series pair by pair, e.g. p50 and p95 of one channel, share one). */
  color?: number;
};

const colorOf = (s: ChartSeries, i: number) =>
  COLORS[(s.color ?? Math.floor(i / 2)) % COLORS.length];

export function LineChart(props: {
  title: string;
  series: ChartSeries[];
  /** One label per point (only the first and last are drawn). */
  labels: string[];
  format: (value: number) => string;
  testId?: string;
}) {
  const n = props.labels.length;
  const max = Math.max(1, ...props.series.flatMap((s) => s.values.filter((v) => v !== null)));
  const x = (i: number) => PAD.left + (n <= 1 ? 0 : (i / (n - 1)) * (W - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + (1 - v / max) * (H - PAD.top - PAD.bottom);
  const path = (values: (number | null)[]) => {
    let d = "";
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  return (
    <BlockStack gap="200">
      <InlineStack align="space-between">
        <Text as="span" variant="bodySm" tone="subdued">
          {props.format(max)}
        </Text>
      </InlineStack>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label={props.title}
        data-testid={props.testId ?? "line-chart"}
        style={{ display: "block", overflow: "visible" }}
      >
        {[0, 0.5, 1].map((f) => (
          <line
            key={f}
            x1={PAD.left}
            x2={W - PAD.right}
            y1={y(max * f)}
            y2={y(max * f)}
            stroke="#e3e3e3"
            strokeWidth={1}
          />
        ))}
        {props.series.map((s, i) => (
          <path
            key={s.name}
            d={path(s.values)}
            fill="none"
            stroke={colorOf(s, i)}
            strokeWidth={2}
            strokeDasharray={s.dashed ? "5 4" : undefined}
            data-series={s.name}
          />
        ))}
        {props.series.map((s, i) =>
          s.values.map((v, j) =>
            v !== null &&
            (s.values[j - 1] ?? null) === null &&
            (s.values[j + 1] ?? null) === null ? (
              <circle key={`${s.name}-${j}`} cx={x(j)} cy={y(v)} r={3} fill={colorOf(s, i)} />
            ) : null,
          ),
        )}
      </svg>
      <InlineStack align="space-between">
        <Text as="span" variant="bodySm" tone="subdued">
          {props.labels[0]}
        </Text>
        <Text as="span" variant="bodySm" tone="subdued">
          {props.labels[n - 1]}
        </Text>
      </InlineStack>
      <InlineStack gap="300" wrap>
        {props.series.map((s, i) => (
          <InlineStack key={s.name} gap="100" blockAlign="center" wrap={false}>
            <svg width="18" height="6" aria-hidden="true">
              <line
                x1="0"
                x2="18"
                y1="3"
                y2="3"
                stroke={colorOf(s, i)}
                strokeWidth={2}
                strokeDasharray={s.dashed ? "5 4" : undefined}
              />
            </svg>
            <Text as="span" variant="bodySm">
              {s.name}
            </Text>
          </InlineStack>
        ))}
      </InlineStack>
      <table className="Polaris-Text--visuallyHidden">
        <caption>{props.title}</caption>
        <tbody>
          {props.series.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              {s.values.map((v, i) => (
                <td key={i}>{v === null ? "—" : props.format(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </BlockStack>
  );
}
