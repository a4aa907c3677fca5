import { QueryClient } from "@tanstack/react-query";

/** The one TanStack Query client factory (STYLE §11). Figures are cheap to refetch and go stale quickly. */
export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 10_000, refetchOnWindowFocus: true, retry: 1 },
    },
  });
}
