"use client";

import { useTransition } from "react";
import { usePathname, useRouter } from "next/navigation";
import { Button, Group, Loader, NativeSelect, TextInput } from "@mantine/core";
import { AUDIT_ACTION_GROUPS, AUDIT_ACTION_GROUP_LABELS } from "@/lib/audit/action-groups";

/**
 * The Audit page's filters. The URL is the state: Apply pushes a new URL with the non-empty fields (no
 * cursor: a new search starts at its newest page) and the server component re-renders. Without JavaScript
 * it is a plain GET form to the same URL. Values shown come from the server's parsed search, or from the raw
 * URL when it was refused, so the user can correct what they typed.
 */

export interface AuditFilterValues {
  actor?: string;
  group?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  from?: string;
  to?: string;
  requestId?: string;
  vaultRequestId?: string;
  limit?: string;
}

const FIELDS: (keyof AuditFilterValues)[] = ["actor", "group", "action", "targetType", "targetId", "outcome", "from", "to", "requestId", "vaultRequestId", "limit"];

export function AuditFilters({ values }: { values: AuditFilterValues }) {
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();

  const text = (name: keyof AuditFilterValues, label: string, placeholder: string, w = 180) => (
    <TextInput name={name} label={label} placeholder={placeholder} defaultValue={values[name] ?? ""} data-testid={`audit-filter-${name}`} size="xs" w={w} />
  );

  return (
    <form
      method="get"
      action={pathname}
      // A new key per applied search, so the uncontrolled inputs show what the server applied.
      key={JSON.stringify(values)}
      data-testid="audit-filters"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const params = new URLSearchParams();
        for (const k of FIELDS) {
          const v = String(form.get(k) ?? "").trim();
          if (v !== "" && !(k === "limit" && v === "50")) params.set(k, v);
        }
        const qs = params.toString();
        startTransition(() => router.push(qs ? `${pathname}?${qs}` : pathname));
      }}
    >
      <Group align="flex-end" gap="sm">
        {text("actor", "Actor", "e-mail or user id", 200)}
        <NativeSelect
          name="group"
          label="Action group"
          defaultValue={values.group ?? ""}
          data={[{ value: "", label: "Any" }, ...AUDIT_ACTION_GROUPS.map((g) => ({ value: g, label: AUDIT_ACTION_GROUP_LABELS[g] }))]}
          data-testid="audit-filter-group"
          size="xs"
        />
        {text("action", "Action", "e.g. auth.login", 150)}
        {text("targetType", "Target type", "wallet, campaign…", 130)}
        {text("targetId", "Target id", "id", 180)}
        <NativeSelect
          name="outcome"
          label="Outcome"
          defaultValue={values.outcome ?? ""}
          data={[
            { value: "", label: "Any" },
            { value: "success", label: "Success" },
            { value: "failure", label: "Failure" },
            { value: "denied", label: "Denied" },
          ]}
          data-testid="audit-filter-outcome"
          size="xs"
        />
        {text("from", "From (UTC)", "2026-01-31 or 2026-01-31T12:00Z", 200)}
        {text("to", "To (UTC, exclusive)", "2026-02-01", 200)}
        {text("requestId", "Request id", "x-request-id", 200)}
        {text("vaultRequestId", "Vault request id", "Vault's request_id", 200)}
        <NativeSelect
          name="limit"
          label="Per page"
          defaultValue={values.limit ?? "50"}
          data={["25", "50", "100", "200"]}
          data-testid="audit-filter-limit"
          size="xs"
        />
        <Button type="submit" size="xs" data-testid="audit-apply">
          Apply
        </Button>
        {pending ? <Loader size="xs" mb={8} data-testid="audit-filters-pending" /> : null}
      </Group>
    </form>
  );
}
