// Vitest runs server modules directly; the real `server-only` package throws outside a React Server
// Components bundle. The guard it provides is a build-time one, enforced by `next build`.
export {};
