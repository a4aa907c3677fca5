import "@mantine/core/styles.css";
import "@mantine/charts/styles.css";
import type { Metadata } from "next";
import { headers } from "next/headers";
import { ColorSchemeScript, mantineHtmlProps } from "@mantine/core";
import { getConfig } from "@/lib/config/env";
import { Providers } from "@/components/providers";
import { DevModeBanner } from "@/components/shell/dev-mode-banner";

export const metadata: Metadata = {
  title: "Keyshare Console",
  description: "MPC server-wallet key shares: inventory, key ages, rotation and audited re-wrap",
  robots: { index: false, follow: false },
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // proxy.ts puts a fresh nonce on every request; Mantine's inline <style> tags must carry it for the CSP.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  const { devMode } = getConfig();
  return (
    <html lang="en" {...mantineHtmlProps}>
      <head>
        <ColorSchemeScript nonce={nonce} defaultColorScheme="light" />
      </head>
      <body>
        <Providers nonce={nonce}>
          {devMode ? <DevModeBanner /> : null}
          {children}
        </Providers>
      </body>
    </html>
  );
}
