/**
 * Oversold units by root cause over time: a stacked bar per day or week (SVG, no chart library),
 * with a legend and each bar's total as its title. Colors follow the cause badges.
 */
import { BlockStack, InlineStack, Text } from "@shopify/polaris";
import { rootCauseLabel } from "./format";

export const CAUSE_COLOR: Record<string, string> = {
  sync_delay: "#e3a008",
  simultaneous_channels: "#8a5cd1",
  low_buffer: "#2c6ecb",
  allocation_error: "#0f8a6a",
  integration_failure: "#d72c0d",
  unknown: "#8c9196",
};

const CAUSES = Object.keys(CAUSE_COLOR);

export function IncidentChart(props: {
  bucket: "day" | "week";
  periods: { period: string; units: Record<string, number>; total: number }[];
}) {
  const { periods } = props;
  const width = 720;
  const height = 180;
  const pad = { left: 32, bottom: 22, top: 8 };
  const max = Math.max(1, ...periods.map((p) => p.total));
  const slot = periods.length > 0 ? (width - pad.left) / periods.length : 0;
  const bar = Math.max(2, slot * 0.7);
  const y = (units: number) => ((height - pad.bottom - pad.top) * units) / max;
  const label = (iso: string) => iso.slice(5, 10);
  const used = CAUSES.filter((c) => periods.some((p) => (p.units[c] ?? 0) > 0));
  return (
    <BlockStack gap="200">
      <svg
        role="img"
        aria-label={`Oversold units by root cause per ${props.bucket}`}
        data-testid="incident-chart"
        viewBox={`0 0 ${width} ${height}`}
        style={{ width: "100%", height: "auto", maxHeight: 240 }}
      >
        <line
          x1={pad.left}
          x2={width}
          y1={height - pad.bottom}
          y2={height - pad.bottom}
          stroke="#c9cccf"
        />
        <text x={pad.left - 6} y={pad.top + 8} fontSize="10" textAnchor="end" fill="#6d7175">
          {max}
        </text>
        <text
          x={pad.left - 6}
          y={height - pad.bottom}
          fontSize="10"
          textAnchor="end"
          fill="#6d7175"
        >
          0
        </text>
        {periods.map((p, i) => {
          const x = pad.left + i * slot + (slot - bar) / 2;
          let top = height - pad.bottom;
          return (
            <g key={p.period} data-period={p.period} data-total={p.total}>
              <title>{`${p.period.slice(0, 10)}: ${p.total} unit${p.total === 1 ? "" : "s"} oversold`}</title>
              {CAUSES.map((c) => {
                const units = p.units[c] ?? 0;
                if (units === 0) return null;
                const h = y(units);
                top -= h;
                return (
                  <rect
                    key={c}
                    data-cause={c}
                    data-units={units}
                    x={x}
                    y={top}
                    width={bar}
                    height={h}
                    fill={CAUSE_COLOR[c]}
                  />
                );
              })}
              {(i % Math.ceil(periods.length / 10) === 0 || i === periods.length - 1) && (
                <text
                  x={x + bar / 2}
                  y={height - 6}
                  fontSize="10"
                  textAnchor="middle"
                  fill="#6d7175"
                >
                  {label(p.period)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <InlineStack gap="300" wrap>
        {(used.length > 0 ? used : CAUSES).map((c) => (
          <InlineStack key={c} gap="100" blockAlign="center">
            <span
              style={{ display: "inline-block", width: 10, height: 10, background: CAUSE_COLOR[c] }}
            />
            <Text as="span" variant="bodySm">
              {rootCauseLabel(c)}
            </Text>
          </InlineStack>
        ))}
      </InlineStack>
    </BlockStack>
  );
}
