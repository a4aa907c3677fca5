import { Badge, Group, Tooltip } from "@mantine/core";
import type { KeyFlag, RotationStatus } from "@/lib/keys/types";

const STATUS: Record<RotationStatus, { color: string; label: string }> = {
  ok: { color: "green", label: "ok" },
  due: { color: "yellow", label: "due soon" },
  overdue: { color: "red", label: "overdue" },
  unknown: { color: "gray", label: "unknown" },
};

export function RotationStatusBadge({ status }: { status: RotationStatus }) {
  const s = STATUS[status];
  return (
    <Badge color={s.color} variant="light" data-testid="rotation-status" data-status={status}>
      {s.label}
    </Badge>
  );
}

const FLAGS: Record<KeyFlag, { color: string; label: string; hint: string }> = {
  "missing-in-vault": { color: "red", label: "not in Vault", hint: "Records use this key name but Vault has no such key: they cannot be decrypted or re-wrapped." },
  "records-below-min-decryption": { color: "red", label: "below min decryption", hint: "Records on versions Vault will no longer decrypt." },
  "records-above-latest": { color: "red", label: "version > latest", hint: "Records claim a version newer than Vault's latest: wrong key or a restored Vault." },
  "unparsable-records": { color: "orange", label: "unparsable", hint: "Stored bytes that are not a Transit ciphertext of either layout." },
  exportable: { color: "orange", label: "exportable", hint: "Key material can be exported from Vault." },
  "plaintext-backup": { color: "orange", label: "plaintext backup", hint: "allow_plaintext_backup is on: the key can be backed up in plaintext." },
  "deletion-allowed": { color: "yellow", label: "deletion allowed", hint: "The key can be deleted, making every record under it undecryptable." },
  "multi-environment": { color: "yellow", label: "several environments", hint: "Records of more than one environment share this key; use one key per environment." },
  overdue: { color: "red", label: "rotation overdue", hint: "The latest version is older than the policy maximum age." },
  due: { color: "yellow", label: "rotation due", hint: "The policy maximum age is reached within 14 days." },
};

/** Risk flags other than the rotation status (shown by its own badge). */
export function KeyFlags({ flags }: { flags: readonly KeyFlag[] }) {
  const shown = flags.filter((f) => f !== "overdue" && f !== "due");
  if (shown.length === 0) return null;
  return (
    <Group gap={4}>
      {shown.map((f) => (
        <Tooltip key={f} label={FLAGS[f].hint} multiline w={260} withArrow>
          <Badge color={FLAGS[f].color} variant="outline" size="sm" data-testid={`flag-${f}`}>
            {FLAGS[f].label}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}
