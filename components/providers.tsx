"use client";

import { useEffect, useState } from "react";
import { MantineProvider, createTheme } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { makeQueryClient } from "@/components/query-client";

const theme = createTheme({
  primaryColor: "indigo",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  defaultRadius: "sm",
});

export function Providers({ children, nonce }: { children: React.ReactNode; nonce?: string }) {
  // One client per browser session; a fresh one per server render (see makeQueryClient).
  const [queryClient] = useState(makeQueryClient);
  useEffect(() => {
    // End-to-end tests wait for this before clicking: a click before hydration is silently lost.
    document.documentElement.dataset.hydrated = "true";
  }, []);
  return (
    <MantineProvider theme={theme} defaultColorScheme="light" getStyleNonce={() => nonce ?? ""}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </MantineProvider>
  );
}
