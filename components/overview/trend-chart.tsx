"use client";

import { LineChart } from "@mantine/charts";
import { Text } from "@mantine/core";
import type { TrendPoint } from "@/lib/overview/types";

/** Records behind latest per day, from the daily snapshots (one point per UTC day the Overview was opened). */
export function TrendChart({ points }: { points: readonly TrendPoint[] }) {
  const data = points.filter((p) => p.recordsBehind !== null).map((p) => ({ day: p.day, behind: p.recordsBehind, records: p.records }));
  if (data.length < 2) {
    return (
      <Text c="dimmed" size="sm" data-testid="trend-empty">
        The trend starts with the daily snapshots: {data.length === 1 ? `one so far (${data[0]!.day})` : "none yet"}. A point is
        added the first time the Overview is opened on a UTC day.
      </Text>
    );
  }
  return (
    <div data-testid="trend-chart">
      <LineChart
        h={200}
        data={data}
        dataKey="day"
        withLegend
        series={[
          { name: "behind", label: "Records behind latest", color: "orange.6" },
          { name: "records", label: "All records", color: "gray.5" },
        ]}
      />
    </div>
  );
}
