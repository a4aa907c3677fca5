"use client";

import { useState, useTransition } from "react";
import { usePathname, useRouter } from "next/navigation";
import { Button, Checkbox, Group, Loader, NativeSelect, NumberInput, TextInput } from "@mantine/core";
import { BACKUP_LABELS, FILTER_FLAG_LABELS } from "./format";

/**
 * Filter, search and sort controls. The URL is the state: every change pushes a new URL (without a cursor —
 * a new view starts at its first page) and the server component re-renders the table. Values shown here
 * come from the server's parsed query, so what is on screen is what was applied.
 */

export interface WalletFilterValues {
  q?: string;
  chain?: string;
  scheme?: string;
  env?: string;
  key?: string;
  version?: number;
  behind?: boolean;
  layout?: string;
  backup?: string;
  access?: string;
  days?: number;
  flag?: string;
  sort: string;
  dir: string;
  limit: number;
}

export interface WalletFilterOptions {
  chains: string[];
  environments: string[];
  keys: string[];
}

const ANY = "";

function opts(values: string[], labels?: Record<string, string>) {
  return [{ value: ANY, label: "Any" }, ...values.map((v) => ({ value: v, label: labels?.[v] ?? v }))];
}

export function WalletFilters({ values, options }: { values: WalletFilterValues; options: WalletFilterOptions }) {
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
  const [search, setSearch] = useState(values.q ?? "");

  function apply(patch: Partial<Record<keyof WalletFilterValues, string | number | boolean | undefined>>) {
    const next: Record<string, string | number | boolean | undefined> = { ...values, ...patch };
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) {
      if (v === undefined || v === "" || v === false) continue;
      if (k === "sort" && v === "created") continue;
      if (k === "dir" && v === "desc") continue;
      if (k === "limit" && String(v) === "50") continue;
      if (k === "days" && next.access !== "older") continue;
      params.set(k, v === true ? "1" : String(v));
    }
    const qs = params.toString();
    startTransition(() => router.push(qs ? `${pathname}?${qs}` : pathname));
  }

  const select = (name: keyof WalletFilterValues, label: string, data: { value: string; label: string }[]) => (
    <NativeSelect
      label={label}
      data={data}
      value={String(values[name] ?? ANY)}
      onChange={(e) => apply({ [name]: e.currentTarget.value || undefined })}
      data-testid={`filter-${name}`}
      size="xs"
    />
  );

  return (
    <Group align="flex-end" gap="sm" data-testid="wallet-filters">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          apply({ q: search.trim() || undefined });
        }}
      >
        <Group align="flex-end" gap={4}>
          <TextInput
            label="Address prefix or wallet id"
            placeholder="0xAbC… / wallet id"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            data-testid="filter-q"
            size="xs"
            w={240}
          />
          <Button type="submit" size="xs" variant="default" data-testid="filter-search">
            Search
          </Button>
        </Group>
      </form>
      {select("chain", "Chain", opts(options.chains))}
      {select("scheme", "Threshold", opts(["TWO_OF_TWO", "TWO_OF_THREE"], { TWO_OF_TWO: "2-of-2", TWO_OF_THREE: "2-of-3" }))}
      {select("env", "Environment", opts(options.environments))}
      {select("key", "Transit key", opts(options.keys))}
      <NumberInput
        label="Key version"
        value={values.version ?? ""}
        min={1}
        allowDecimal={false}
        allowNegative={false}
        onBlur={(e) => {
          const v = e.currentTarget.value.trim();
          if (v !== String(values.version ?? "")) apply({ version: v || undefined });
        }}
        data-testid="filter-version"
        size="xs"
        w={90}
      />
      <Checkbox
        label="Behind latest"
        checked={values.behind ?? false}
        onChange={(e) => apply({ behind: e.currentTarget.checked })}
        data-testid="filter-behind"
        size="xs"
        mb={6}
      />
      {select("layout", "Layout", opts(["direct", "envelope"]))}
      {select("backup", "Backup", opts(Object.keys(BACKUP_LABELS), BACKUP_LABELS))}
      {select("access", "Last access", opts(["never", "older"], { never: "Never", older: "Older than N days" }))}
      {values.access === "older" ? (
        <NumberInput
          label="Days"
          defaultValue={values.days ?? 90}
          min={1}
          allowDecimal={false}
          onBlur={(e) => apply({ days: e.currentTarget.value || undefined })}
          data-testid="filter-days"
          size="xs"
          w={80}
        />
      ) : null}
      {select("flag", "Integrity", opts(Object.keys(FILTER_FLAG_LABELS), FILTER_FLAG_LABELS))}
      {select("sort", "Sort", [
        { value: "created", label: "Created" },
        { value: "accessed", label: "Last accessed" },
        { value: "wrapped", label: "Wrapped (wrap age)" },
      ])}
      {select("dir", "Order", [
        { value: "desc", label: "Newest first" },
        { value: "asc", label: "Oldest first" },
      ])}
      {select("limit", "Per page", ["25", "50", "100", "200"].map((v) => ({ value: v, label: v })))}
      {pending ? <Loader size="xs" mb={8} data-testid="filters-pending" /> : null}
    </Group>
  );
}
