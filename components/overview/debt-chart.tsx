"use client";

import { BarChart } from "@mantine/charts";
import { Text } from "@mantine/core";
import type { DebtBar } from "@/lib/overview/types";

/**
 * Records per (key, version), one horizontal bar each: orange when behind the key's latest version (re-wrap
 * debt), teal when on it. Two stacked series with one of them 0 per row, so each bar gets one colour.
 */
export function DebtChart({ bars }: { bars: readonly DebtBar[] }) {
  if (bars.length === 0) return <Text c="dimmed">No share records yet.</Text>;
  const data = bars.map((b) => ({
    label: `${b.keyName} ${b.version === null ? "v?" : `v${b.version}`}`,
    behind: b.behind ? b.records : 0,
    current: b.behind ? 0 : b.records,
  }));
  return (
    <div data-testid="debt-chart">
      <BarChart
        h={Math.max(160, 28 * data.length + 40)}
        data={data}
        dataKey="label"
        orientation="vertical"
        type="stacked"
        yAxisProps={{ width: 190 }}
        withLegend
        series={[
          { name: "behind", label: "Behind latest version", color: "orange.6" },
          { name: "current", label: "On latest (or unknown)", color: "teal.6" },
        ]}
      />
    </div>
  );
}
