"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { AppShell, Badge, Burger, Group, Menu, NavLink, Text, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";

export interface ShellUser {
  name: string;
  email: string;
  role: string;
}

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/wallets", label: "Wallets" },
  { href: "/keys", label: "Keys" },
  { href: "/rotations", label: "Rotations" },
  { href: "/audit", label: "Audit" },
  { href: "/settings", label: "Settings" },
] as const;

export function ConsoleShell({
  user,
  signOut,
  children,
}: {
  user: ShellUser;
  signOut: () => Promise<void>;
  children: React.ReactNode;
}) {
  const pathname = usePathname();
  const [opened, { toggle }] = useDisclosure();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text fw={700}>Keyshare Console</Text>
          </Group>
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <UnstyledButton data-testid="user-menu" aria-label="User menu">
                <Group gap="xs">
                  <Text size="sm" data-testid="user-name">
                    {user.name}
                  </Text>
                  <Badge variant="light" data-testid="user-role">
                    {user.role}
                  </Badge>
                </Group>
              </UnstyledButton>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>{user.email}</Menu.Label>
              <form action={signOut}>
                <Menu.Item component="button" type="submit" data-testid="sign-out">
                  Sign out
                </Menu.Item>
              </form>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {NAV.map((item) => {
          const active = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
          return (
            <NavLink key={item.href} component={Link} href={item.href} label={item.label} active={active} />
          );
        })}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
