import { requireUser, signOutAction } from "@/lib/auth";
import { ConsoleShell } from "@/components/shell/console-shell";

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  // A layout check only decides what to render; every page, action and route handler authorises itself.
  const user = await requireUser();
  return (
    <ConsoleShell user={{ name: user.name, email: user.email, role: user.role }} signOut={signOutAction}>
      {children}
    </ConsoleShell>
  );
}
