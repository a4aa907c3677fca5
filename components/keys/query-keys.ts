/** TanStack Query keys of the Keys feature (STYLE §11): one factory, so invalidation can target it. */
export const keysQueryKeys = {
  all: ["keys"] as const,
  list: () => [...keysQueryKeys.all, "list"] as const,
  detail: (name: string) => [...keysQueryKeys.all, "detail", name] as const,
};

export const KEYS_REFRESH_MS = 15_000;
