/** Links into the Audit page's search (client-safe). Target types are the ones the writers use. */

export function auditTargetHref(targetType: string, targetId: string): string {
  return `/audit?${new URLSearchParams({ targetType, targetId }).toString()}`;
}

/** Events whose target is the wallet itself (events on its addresses and share records are listed on its page). */
export const walletAuditHref = (walletId: string) => auditTargetHref("wallet", walletId);
export const keyAuditHref = (keyName: string) => auditTargetHref("transit_key", keyName);
export const campaignAuditHref = (campaignId: string) => auditTargetHref("campaign", campaignId);
