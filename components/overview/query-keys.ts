/** TanStack Query keys of the Overview (STYLE §11). */
export const overviewQueryKeys = {
  all: ["overview"] as const,
  figures: () => [...overviewQueryKeys.all, "figures"] as const,
};

export const OVERVIEW_REFRESH_MS = 15_000;
